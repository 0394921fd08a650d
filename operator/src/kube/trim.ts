// What the informer caches keep of each object. The caches are most of the operator's memory at
// scale, and most of an object is never read: managedFields (often a third of a Deployment or a
// Pod), for pods everything but the few fields the health observation and the prober's target
// choice read (controller/observe.ts ObservedPod), and for ReplicaSets everything but the metadata
// that links a pod to its Deployment (controller/pod-ownership.ts). Trimming happens in place because client-node's ListWatch
// holds the same object in its own cache.

/** Any API object as the informer hands it over (a typed instance from a LIST, plain JSON from a watch). */
export type Trim = (obj: { metadata?: object }) => void;

/** For every cache: drop metadata.managedFields (server-side apply bookkeeping, never read). */
export const dropManagedFields: Trim = (obj) => {
  if (obj.metadata) delete (obj.metadata as { managedFields?: unknown }).managedFields;
};

const POD_METADATA = new Set([
  "name",
  "namespace",
  "uid",
  "resourceVersion",
  "labels",
  "ownerReferences",
  "deletionTimestamp",
  "creationTimestamp",
]);
const POD_STATUS = new Set(["phase", "podIP", "conditions", "containerStatuses", "initContainerStatuses"]);
const CONTAINER_STATUS = new Set(["name", "ready", "restartCount", "state"]);

/** For the pod cache: only what observe.ts reads (readiness, IP, owner, hostNetwork, why a container waits). */
export const trimPod: Trim = (obj) => {
  const pod = obj as {
    metadata?: Record<string, unknown>;
    spec?: Record<string, unknown>;
    status?: Record<string, unknown>;
  };
  keepOnly(pod.metadata, POD_METADATA);
  // Of the spec only hostNetwork: such a pod's IP is its node's, and the prober never dials it.
  if (pod.spec?.hostNetwork === true) pod.spec = { hostNetwork: true };
  else delete pod.spec;
  keepOnly(pod.status, POD_STATUS);
  for (const statuses of [pod.status?.containerStatuses, pod.status?.initContainerStatuses])
    if (Array.isArray(statuses))
      for (const s of statuses) keepOnly(s as Record<string, unknown>, CONTAINER_STATUS);
};

const REPLICA_SET_METADATA = new Set([
  "name",
  "namespace",
  "uid",
  "resourceVersion",
  "labels",
  "ownerReferences",
  "deletionTimestamp",
]);

/** For the ReplicaSet cache: only the metadata that ties a pod to its Deployment. */
export const trimReplicaSet: Trim = (obj) => {
  const rs = obj as { metadata?: Record<string, unknown>; spec?: unknown; status?: unknown };
  keepOnly(rs.metadata, REPLICA_SET_METADATA);
  delete rs.spec;
  delete rs.status;
};

function keepOnly(o: Record<string, unknown> | undefined, keep: Set<string>): void {
  if (!o) return;
  for (const k of Object.keys(o)) if (!keep.has(k)) delete o[k];
}
