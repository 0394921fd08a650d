// spec.disruption → a policy/v1 PodDisruptionBudget over every pod of the ModelDeployment. It selects
// by the owner label alone, not the revision: during a canary the stable and canary pods count
// together, and the budget's percentages follow the total the Deployments ask for.
import type { ModelDeploymentSpec } from "../api/index.ts";
import { commonLabels, deploymentSelector } from "./labels.ts";
import { pdbName } from "./names.ts";
import { ownerReference } from "./owner.ts";
import type { ApplyObject, Owner } from "./types.ts";

export function renderPdb(owner: Owner, spec: ModelDeploymentSpec): ApplyObject | undefined {
  const d = spec.disruption;
  if (!d) return undefined;
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: {
      name: pdbName(owner.name),
      namespace: owner.namespace,
      labels: commonLabels(owner.name, spec.model.name),
      ownerReferences: [ownerReference(owner)],
    },
    spec: {
      selector: { matchLabels: deploymentSelector(owner.name) },
      ...(d.minAvailable !== undefined ? { minAvailable: d.minAvailable } : {}),
      ...(d.maxUnavailable !== undefined ? { maxUnavailable: d.maxUnavailable } : {}),
    },
  };
}
