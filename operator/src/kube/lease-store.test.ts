import { ApiException, type V1Lease } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { LeaseConflictError } from "./leader-election.ts";
import { type CoordinationApi, KubeLeaseStore } from "./lease-store.ts";

// Answers like the API server would, as JSON on the wire: what we send is serialised, what we get is parsed.
function fakeApi(answer: (verb: string, wire: unknown) => unknown): {
  api: CoordinationApi;
  sent: unknown[];
} {
  const sent: unknown[] = [];
  const respond = async (verb: string, body?: V1Lease): Promise<V1Lease> => {
    const wire = body === undefined ? undefined : JSON.parse(JSON.stringify(body));
    sent.push(wire);
    return answer(verb, wire) as V1Lease;
  };
  const api = {
    readNamespacedLease: () => respond("read"),
    createNamespacedLease: ({ body }: { body: V1Lease }) => respond("create", body),
    replaceNamespacedLease: ({ body }: { body: V1Lease }) => respond("replace", body),
  } as unknown as CoordinationApi;
  return { api, sent };
}

const spec = {
  holderIdentity: "pod-a",
  leaseDurationSeconds: 15,
  acquireTime: new Date("2026-11-01T10:00:00.123Z"),
  renewTime: new Date("2026-11-01T10:00:05.456Z"),
  leaseTransitions: 2,
};

describe("KubeLeaseStore", () => {
  it("sends MicroTime with six fractional digits and the read resourceVersion", async () => {
    const { api, sent } = fakeApi((_verb, wire) => ({
      ...(wire as object),
      metadata: { resourceVersion: "8" },
    }));
    const store = new KubeLeaseStore(api);

    const written = await store.replace("ns", "lease", spec, "7");

    expect(sent[0]).toMatchObject({
      metadata: { name: "lease", namespace: "ns", resourceVersion: "7" },
      spec: { renewTime: "2026-11-01T10:00:05.456000Z", acquireTime: "2026-11-01T10:00:00.123000Z" },
    });
    expect(written).toEqual({ ...spec, resourceVersion: "8" });
  });

  it("reads a missing Lease as undefined and parses MicroTime strings", async () => {
    const missing = new KubeLeaseStore(
      fakeApi(() => {
        throw new ApiException(404, "not found", "{}", {});
      }).api,
    );
    expect(await missing.get("ns", "lease")).toBeUndefined();

    const present = new KubeLeaseStore(
      fakeApi(() => ({
        metadata: { resourceVersion: "3" },
        spec: { holderIdentity: "", leaseDurationSeconds: 1, renewTime: "2026-11-01T10:00:05.456789Z" },
      })).api,
    );
    expect(await present.get("ns", "lease")).toEqual({
      holderIdentity: undefined,
      leaseDurationSeconds: 1,
      acquireTime: undefined,
      renewTime: new Date("2026-11-01T10:00:05.456Z"),
      leaseTransitions: 0,
      resourceVersion: "3",
    });
  });

  it("turns 409 into LeaseConflictError and other failures into a short error without headers", async () => {
    const conflict = new KubeLeaseStore(
      fakeApi(() => {
        throw new ApiException(409, "conflict", "{}", { authorization: "Bearer secret" });
      }).api,
    );
    await expect(conflict.replace("ns", "lease", spec, "1")).rejects.toBeInstanceOf(LeaseConflictError);
    await expect(conflict.create("ns", "lease", spec)).rejects.toBeInstanceOf(LeaseConflictError);

    const forbidden = new KubeLeaseStore(
      fakeApi(() => {
        throw new ApiException(403, "forbidden", "{}", { authorization: "Bearer secret" });
      }).api,
    );
    const err = await forbidden.get("ns", "lease").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe("read lease ns/lease failed with HTTP 403");
  });
});
