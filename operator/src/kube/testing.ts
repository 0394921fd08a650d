// Objects as the API server serves them, for tests of kube/ and of the code that reads its caches.
// Pure data; imported by *.test.ts only.

/** A pod as kube-apiserver v1.36 serves it to the operator's informer (abridged where repetitive). */
export const servedPod = () => ({
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
    initContainerStatuses: [
      {
        name: "proxy",
        ready: true,
        restartCount: 0,
        image: "registry/proxy:1",
        imageID: "sha256:…",
        containerID: "containerd://…",
        started: true,
        state: { running: { startedAt: "2026-11-30T07:00:02Z" } },
      },
    ],
  },
});
