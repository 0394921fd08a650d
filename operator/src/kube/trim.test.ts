import { describe, expect, it } from "vitest";
import { servedPod as pod } from "./testing.ts";
import { dropManagedFields, trimPod } from "./trim.ts";

describe("trimPod", () => {
  it("keeps exactly what the observation reads (controller/observe.test.ts checks it observes the same)", () => {
    const full = pod();
    const trimmed = pod();
    trimPod(trimmed);
    expect(trimmed).toEqual({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "shop-abc-1",
        namespace: "team",
        uid: "u1",
        resourceVersion: "42",
        creationTimestamp: "2026-11-30T07:00:00Z",
        labels: full.metadata.labels,
        ownerReferences: full.metadata.ownerReferences,
      },
      status: {
        phase: "Running",
        podIP: "10.240.0.7",
        conditions: [{ type: "Ready", status: "True" }],
        containerStatuses: [
          {
            name: "model",
            ready: false,
            restartCount: 3,
            state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 40s" } },
          },
        ],
      },
    });
  });

  it("keeps deletionTimestamp and copes with a pod that has no status yet", () => {
    const p: Record<string, unknown> = {
      metadata: { name: "p", deletionTimestamp: "2026-11-30T07:00:00Z", managedFields: [] },
      spec: {},
    };
    trimPod(p);
    expect(p).toEqual({ metadata: { name: "p", deletionTimestamp: "2026-11-30T07:00:00Z" } });
  });
});

describe("dropManagedFields", () => {
  it("removes managedFields and nothing else", () => {
    const d = {
      metadata: { name: "x", labels: { a: "b" }, managedFields: [{ manager: "m" }] },
      spec: { replicas: 2 },
    };
    dropManagedFields(d);
    expect(d).toEqual({ metadata: { name: "x", labels: { a: "b" } }, spec: { replicas: 2 } });
    dropManagedFields({});
  });
});
