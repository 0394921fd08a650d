import { describe, expect, it } from "vitest";
import { servedPod as pod } from "./testing.ts";
import { dropManagedFields, trimPod, trimReplicaSet } from "./trim.ts";

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
        initContainerStatuses: [
          {
            name: "proxy",
            ready: true,
            restartCount: 0,
            state: { running: { startedAt: "2026-11-30T07:00:02Z" } },
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

describe("trimPod and hostNetwork", () => {
  it("keeps spec.hostNetwork when true (the prober must know), and nothing else of the spec", () => {
    const p: Record<string, unknown> = {
      metadata: { name: "p" },
      spec: { hostNetwork: true, containers: [{ name: "model" }], nodeName: "n1" },
    };
    trimPod(p);
    expect(p).toEqual({ metadata: { name: "p" }, spec: { hostNetwork: true } });
  });
});

describe("trimReplicaSet", () => {
  it("keeps the metadata that ties a pod to its Deployment, and drops spec and status", () => {
    const rs: Record<string, unknown> = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name: "shop-abc-5d8f",
        namespace: "team",
        uid: "rs-1",
        resourceVersion: "7",
        labels: { "modelship.dev/revision": "abc" },
        annotations: { "deployment.kubernetes.io/revision": "1" },
        ownerReferences: [{ kind: "Deployment", name: "shop-abc", uid: "d-1", controller: true }],
        managedFields: [{ manager: "kube-controller-manager" }],
      },
      spec: { replicas: 3, template: { spec: { containers: [] } } },
      status: { replicas: 3 },
    };
    trimReplicaSet(rs);
    expect(rs).toEqual({
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name: "shop-abc-5d8f",
        namespace: "team",
        uid: "rs-1",
        resourceVersion: "7",
        labels: { "modelship.dev/revision": "abc" },
        ownerReferences: [{ kind: "Deployment", name: "shop-abc", uid: "d-1", controller: true }],
      },
    });
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
