import { describe, expect, it } from "vitest";
import { type ObservedPod, observeRevisions } from "../controller/observe.ts";
import { dropManagedFields, trimPod } from "./trim.ts";

// A pod as kube-apiserver v1.36 serves it to the operator's informer (abridged where repetitive).
const pod = () => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: "shop-abc-1",
    namespace: "team",
    uid: "u1",
    resourceVersion: "42",
    creationTimestamp: "2026-11-30T07:00:00Z",
    labels: { "modelship.dev/deployment": "shop", "modelship.dev/revision": "abc" },
    annotations: { "modelship.dev/kwok-fault": "CrashLoopBackOff" },
    ownerReferences: [
      { apiVersion: "apps/v1", kind: "ReplicaSet", name: "shop-abc", uid: "rs", controller: true },
    ],
    managedFields: [{ manager: "kube-controller-manager", operation: "Update", fieldsV1: { "f:spec": {} } }],
  },
  spec: { containers: [{ name: "model", image: "registry/x:1", env: [{ name: "A", value: "b" }] }] },
  status: {
    phase: "Running",
    podIP: "10.240.0.7",
    hostIP: "10.247.0.1",
    startTime: "2026-11-30T07:00:01Z",
    conditions: [{ type: "Ready", status: "True" }],
    containerStatuses: [
      {
        name: "model",
        ready: false,
        restartCount: 3,
        image: "registry/x:1",
        imageID: "sha256:…",
        containerID: "containerd://…",
        lastState: { terminated: { exitCode: 1 } },
        state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 40s" } },
      },
    ],
  },
});

describe("trimPod", () => {
  it("keeps exactly what the observation reads, so it observes the same thing", () => {
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
    const deployment = {
      metadata: { name: "shop-abc", labels: { "modelship.dev/revision": "abc" } },
      spec: { replicas: 1 },
      status: { replicas: 1, readyReplicas: 0, updatedReplicas: 1, availableReplicas: 0 },
    };
    expect(observeRevisions([deployment], [trimmed as ObservedPod])).toEqual(
      observeRevisions([deployment], [full as ObservedPod]),
    );
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
