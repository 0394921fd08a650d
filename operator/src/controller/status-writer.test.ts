import pino from "pino";
import { describe, expect, it } from "vitest";
import { makeApiError } from "../kube/api-client.ts";
import type { OwnedStatus } from "./compose-status.ts";
import { StatusWriter } from "./status-writer.ts";

const log = pino({ level: "silent" });
const owner = { name: "rec", namespace: "shop", uid: "u" };
const KEY = "shop/rec";

/**
 * One ModelDeployment's status on a fake API server that checks the resourceVersion precondition
 * like the real one (409 when the object is no longer at that version), and the writes it took.
 * Like server-side apply, an apply replaces what the writer sent before and leaves `foreign` fields
 * (other managers') in place, merging revisionSpecs by key.
 */
function apiServer(start: { resourceVersion: number; foreign?: Record<string, unknown> }) {
  const foreign: Record<string, unknown> = { ...start.foreign };
  const server = { rv: start.resourceVersion, status: { ...foreign } };
  const writes: { verb: string; onto: string | undefined }[] = [];
  const precondition = (onto: string | undefined) => {
    if (onto !== undefined && onto !== String(server.rv)) {
      throw makeApiError(409, {
        message:
          "the object has been modified; please apply your changes to the latest version and try again",
      });
    }
  };
  const client = {
    async applyStatus(_ref: unknown, status: unknown, o: { resourceVersion?: string } = {}) {
      writes.push({ verb: "apply", onto: o.resourceVersion });
      precondition(o.resourceVersion);
      const applied = status as Record<string, unknown>;
      server.status = { ...foreign, ...applied };
      if (foreign.revisionSpecs || applied.revisionSpecs) {
        server.status.revisionSpecs = {
          ...(foreign.revisionSpecs as object),
          ...(applied.revisionSpecs as object),
        };
      }
      server.rv += 1;
      return { metadata: { resourceVersion: String(server.rv) }, status: server.status };
    },
    async removeStatusFields(
      _ref: unknown,
      fields: Record<string, unknown>,
      o: { resourceVersion?: string } = {},
    ) {
      writes.push({ verb: "remove", onto: o.resourceVersion });
      precondition(o.resourceVersion);
      for (const k of Object.keys(fields)) {
        delete foreign[k];
        delete server.status[k];
      }
      server.rv += 1;
      return { metadata: { resourceVersion: String(server.rv) }, status: server.status };
    },
  };
  /** Someone else (a person, the prober, another process) writes the object. */
  const touch = () => {
    server.rv += 1;
  };
  return { server, writes, client, touch };
}

const cachedAt = (rv: number | string, status: OwnedStatus & Record<string, unknown>) => ({
  metadata: { resourceVersion: String(rv) },
  status,
});

describe("StatusWriter", () => {
  it("writes onto the version it read, and lays what it wrote over a stale cache: a field it dropped stays dropped; the prober's part comes from the cache", async () => {
    const api = apiServer({ resourceVersion: 1 });
    const w = new StatusWriter(api.client, () => 0);
    const stale = cachedAt(1, {
      phase: "Progressing",
      rolloutState: { stepIndex: 3 },
      health: { stable: { revision: "a" } },
    });
    expect(
      await w.write(owner, { status: stale.status, resourceVersion: "1" }, { phase: "Healthy" }, log),
    ).toBe("written");
    expect(api.writes).toEqual([{ verb: "apply", onto: "1" }]);
    const seen = w.overlay(KEY, stale);
    expect(seen?.status).toEqual({ phase: "Healthy", health: { stable: { revision: "a" } }, conditions: [] });
    // The next write goes onto the version our write made, which the cache does not show yet.
    expect(seen?.metadata.resourceVersion).toBe("2");
    // Once the cache shows our write (or anything newer), the cache is the truth again.
    const caughtUp = cachedAt(2, { phase: "Healthy" });
    expect(w.overlay(KEY, caughtUp)).toBe(caughtUp);
    expect(w.overlay(KEY, stale)).toBe(stale);
  });

  it("keeps overlaying while the cache lags behind several writes in a row", async () => {
    const api = apiServer({ resourceVersion: 1 });
    const w = new StatusWriter(api.client, () => 0);
    const stale = cachedAt(1, { phase: "Progressing" });
    await w.write(
      owner,
      { status: stale.status, resourceVersion: "1" },
      { phase: "Progressing", currentStepIndex: 1 },
      log,
    );
    const first = w.overlay(KEY, stale);
    await w.write(
      owner,
      { status: first?.status, resourceVersion: first?.metadata.resourceVersion },
      { phase: "Healthy" },
      log,
    );
    expect(api.writes.map((x) => x.onto)).toEqual(["1", "2"]);
    // The cache shows the first write only: still behind the second.
    expect(w.overlay(KEY, cachedAt(2, { phase: "Progressing", currentStepIndex: 1 }))?.status?.phase).toBe(
      "Healthy",
    );
    expect(w.overlay(KEY, stale)?.metadata.resourceVersion).toBe("3");
  });

  it("on 409 Conflict records nothing, does not retry, and waits for a cache newer than the refused version", async () => {
    let now = 0;
    const api = apiServer({ resourceVersion: 5 });
    const w = new StatusWriter(api.client, () => now);
    const read = cachedAt(5, { phase: "Progressing", currentStepIndex: 1 });
    // A person promotes (or the prober writes health) between the read and the write.
    api.touch();
    expect(
      await w.write(owner, { status: read.status, resourceVersion: "5" }, { phase: "Healthy" }, log),
    ).toBe("conflict");
    expect(api.writes).toEqual([{ verb: "apply", onto: "5" }]);
    expect(api.server.status).toEqual({});
    // The cache still shows the refused version: no decision from it, nor from anything we wrote.
    expect(w.overlay(KEY, read)).toBeUndefined();
    const fresh = cachedAt(6, { phase: "Progressing", currentStepIndex: 1 });
    expect(w.overlay(KEY, fresh)).toBe(fresh);
    // A stalled watch does not stall the ModelDeployment for ever: the precondition still guards.
    api.touch();
    await w.write(owner, { status: fresh.status, resourceVersion: "6" }, { phase: "Healthy" }, log);
    expect(w.overlay(KEY, fresh)).toBeUndefined();
    now = 31_000;
    expect(w.overlay(KEY, fresh)).toBe(fresh);
  });

  it("after a conflict drops its own earlier write from the view: a cache showing that write is behind too", async () => {
    const api = apiServer({ resourceVersion: 1 });
    const w = new StatusWriter(api.client, () => 0);
    const stale = cachedAt(1, { phase: "Progressing" });
    await w.write(
      owner,
      { status: stale.status, resourceVersion: "1" },
      { phase: "Progressing", currentStepIndex: 2 },
      log,
    );
    api.touch(); // version 3, by someone else
    const view = w.overlay(KEY, stale);
    expect(
      await w.write(
        owner,
        { status: view?.status, resourceVersion: view?.metadata.resourceVersion },
        { phase: "Healthy" },
        log,
      ),
    ).toBe("conflict");
    expect(w.overlay(KEY, stale)).toBeUndefined();
    expect(w.overlay(KEY, cachedAt(2, { phase: "Progressing", currentStepIndex: 2 }))).toBeUndefined();
    const latest = cachedAt(3, { phase: "Progressing", currentStepIndex: 2 });
    expect(w.overlay(KEY, latest)).toBe(latest);
  });

  it("refuses to write a status without the version it was read at", async () => {
    const api = apiServer({ resourceVersion: 1 });
    const w = new StatusWriter(api.client, () => 0);
    await expect(
      w.write(owner, { status: undefined, resourceVersion: undefined }, { phase: "Healthy" }, log),
    ).rejects.toThrow(/no resourceVersion/);
    expect(api.writes).toEqual([]);
  });

  it("writes nothing when the owned status is unchanged", async () => {
    const api = apiServer({ resourceVersion: 1 });
    const w = new StatusWriter(api.client, () => 0);
    // status.health is the prober's: it is not part of what this writer compares.
    const current = { phase: "Healthy" as const, health: { stable: { revision: "a" } } };
    expect(
      await w.write(
        owner,
        { status: current, resourceVersion: "1" },
        { phase: "Healthy", conditions: [] },
        log,
      ),
    ).toBe("unchanged");
    expect(api.writes).toEqual([]);
  });

  it("removes fields it owns that someone else wrote, onto the version its apply made", async () => {
    // The API server's answer to the apply: another manager's canaryRevision and planted snapshot remain.
    const api = apiServer({
      resourceVersion: 2,
      foreign: { canaryRevision: "evil", revisionSpecs: { good: {}, evil: {} }, health: {} },
    });
    const removed: Record<string, unknown>[] = [];
    const remove = api.client.removeStatusFields;
    api.client.removeStatusFields = async (ref, fields, o) => {
      removed.push(fields);
      return remove(ref, fields, o);
    };
    const w = new StatusWriter(api.client, () => 0);
    await w.write(
      owner,
      { status: undefined, resourceVersion: "2" },
      { phase: "Healthy", revisionSpecs: { good: {} } },
      log,
    );
    expect(removed).toEqual([{ canaryRevision: null, revisionSpecs: { evil: null } }]);
    expect(api.writes).toEqual([
      { verb: "apply", onto: "2" },
      { verb: "remove", onto: "3" },
    ]);
    // Both our versions are behind what we know.
    expect(w.overlay(KEY, cachedAt(3, {}))?.metadata.resourceVersion).toBe("4");
  });
});
