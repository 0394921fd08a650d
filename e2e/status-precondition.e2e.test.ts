// The status write's optimistic concurrency, against the real API server: a status applied (or a
// field removed) onto a resourceVersion the object has left is refused with 409 Conflict and changes
// nothing; onto the current one it goes through. The operator's StatusWriter relies on exactly this
// (server-side apply honours metadata.resourceVersion in the applied object as a precondition).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GROUP, KIND, PLURAL, VERSION } from "../operator/src/api/index.ts";
import { ApiClient, classifyApiError } from "../operator/src/kube/api-client.ts";
import { kubeConfig, uniqueNamespace } from "./support/cluster.ts";
import { applyMd, core, createNamespace, getMd, installCrd, mdSpec, promote } from "./support/mdep.ts";

const ns = uniqueNamespace("precondition");
const ref = { group: GROUP, version: VERSION, plural: PLURAL, kind: KIND, namespace: ns, name: "shop" };
const client = new ApiClient(kubeConfig());

beforeAll(async () => {
  await installCrd();
  await createNamespace(ns);
  await applyMd(ns, "shop", mdSpec());
}, 60_000);

afterAll(async () => {
  await core.deleteNamespace({ name: ns }).catch(() => {});
});

/** The error a call ended with, as the reconciler classifies it; "ok" when it went through. */
async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "ok";
  } catch (err) {
    return classifyApiError(err);
  }
}

describe("status writes onto a resourceVersion", () => {
  it("are refused once the object has moved on, and change nothing", async () => {
    const read = (await getMd(ns, "shop")).metadata.resourceVersion;
    // A person acts between the read and the write.
    await promote(ns, "shop");
    expect(await outcome(client.applyStatus(ref, { phase: "Degraded" }, { resourceVersion: read }))).toBe(
      "conflict",
    );
    expect(await outcome(client.removeStatusFields(ref, { phase: null }, { resourceVersion: read }))).toBe(
      "conflict",
    );
    expect((await getMd(ns, "shop")).status?.phase).not.toBe("Degraded");

    const current = (await getMd(ns, "shop")).metadata.resourceVersion;
    expect(await outcome(client.applyStatus(ref, { phase: "Degraded" }, { resourceVersion: current }))).toBe(
      "ok",
    );
    expect((await getMd(ns, "shop")).status?.phase).toBe("Degraded");
  });
});
