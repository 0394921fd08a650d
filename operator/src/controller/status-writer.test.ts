import pino from "pino";
import { describe, expect, it } from "vitest";
import { StatusWriter } from "./status-writer.ts";

const log = pino({ level: "silent" });
const owner = { name: "rec", namespace: "shop", uid: "u" };

describe("StatusWriter", () => {
  it("lays what it wrote over a stale cache: a field it dropped stays dropped; the prober's part comes from the cache", async () => {
    let now = 0;
    const w = new StatusWriter(
      {
        applyStatus: async () => ({ metadata: { resourceVersion: "2" } }),
        removeStatusFields: async () => ({}),
      },
      () => now,
    );
    const stale = {
      metadata: { resourceVersion: "1" },
      status: {
        phase: "Progressing" as const,
        rolloutState: { stepIndex: 3 },
        health: { stable: { revision: "a" } },
      },
    };
    await w.write(owner, stale.status, { phase: "Healthy" }, log);
    const seen = w.overlay("shop/rec", stale).status as Record<string, unknown>;
    expect(seen.phase).toBe("Healthy");
    expect(seen).not.toHaveProperty("rolloutState");
    expect(seen.health).toEqual({ stable: { revision: "a" } });
    // Once the cache shows our write (or after the TTL), the cache is the truth again.
    expect(w.overlay("shop/rec", { ...stale, metadata: { resourceVersion: "2" } })).toEqual({
      ...stale,
      metadata: { resourceVersion: "2" },
    });
    now = 60_000;
    expect(w.overlay("shop/rec", stale)).toBe(stale);
  });

  it("writes nothing when the owned status is unchanged", async () => {
    let calls = 0;
    const w = new StatusWriter(
      {
        applyStatus: async () => {
          calls += 1;
          return {};
        },
        removeStatusFields: async () => ({}),
      },
      () => 0,
    );
    // status.health is the prober's: it is not part of what this writer compares.
    const current = { phase: "Healthy" as const, health: { stable: { revision: "a" } } };
    await w.write(owner, current, { phase: "Healthy", conditions: [] }, log);
    expect(calls).toBe(0);
  });

  it("removes fields it owns that someone else wrote, which apply alone would leave in place", async () => {
    const removed: Record<string, unknown>[] = [];
    const w = new StatusWriter(
      {
        // The API server's answer to the apply: another manager's canaryRevision and planted snapshot remain.
        applyStatus: async () => ({
          metadata: { resourceVersion: "3" },
          status: {
            phase: "Healthy",
            canaryRevision: "evil",
            revisionSpecs: { good: {}, evil: {} },
            health: {},
          },
        }),
        removeStatusFields: async (_ref: unknown, fields: Record<string, unknown>) => {
          removed.push(fields);
          return {};
        },
      },
      () => 0,
    );
    await w.write(owner, undefined, { phase: "Healthy", revisionSpecs: { good: {} } }, log);
    expect(removed).toEqual([{ canaryRevision: null, revisionSpecs: { evil: null } }]);
  });
});
