// Which pods belong to a ModelDeployment: those whose controller is a ReplicaSet whose controller is
// one of its Deployments (by uid), and which carry that Deployment's revision. Labels alone prove
// nothing: anyone who may create a pod in the namespace can copy them, and the prober must not
// judge a revision by (or dial) a pod that is not of its making. Pure: cached objects in, pods out.

import { controllerUidOf } from "../kube/informer.ts";
import { LABEL_REVISION } from "../render/labels.ts";
import type { Owned } from "./snapshot.ts";

/**
 * The pods of `pods` owned through a ReplicaSet by one of `deployments` (already known to be ours),
 * with the revision label of that Deployment.
 */
export function ownedPods<P extends Owned>(
  deployments: readonly Owned[],
  replicaSets: readonly Owned[],
  pods: readonly P[],
): P[] {
  const revisionOf = new Map<string, string | undefined>();
  for (const d of deployments) {
    const uid = d.metadata?.uid;
    if (uid !== undefined) revisionOf.set(uid, d.metadata?.labels?.[LABEL_REVISION]);
  }
  /** ReplicaSet uid → the revision of the Deployment that controls it. */
  const rsRevision = new Map<string, string | undefined>();
  for (const rs of replicaSets) {
    const uid = rs.metadata?.uid;
    const owner = controllerUidOf(rs);
    if (uid !== undefined && owner !== undefined && revisionOf.has(owner))
      rsRevision.set(uid, revisionOf.get(owner));
  }
  return pods.filter((p) => {
    const rs = controllerUidOf(p);
    if (rs === undefined || !rsRevision.has(rs)) return false;
    const revision = rsRevision.get(rs);
    return revision !== undefined && p.metadata?.labels?.[LABEL_REVISION] === revision;
  });
}
