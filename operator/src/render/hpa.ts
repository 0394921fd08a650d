// spec.autoscaling → an autoscaling/v2 HPA whose target is the ModelDeployment itself (its scale
// subresource). The HPA moves spec.replicas; the operator shares that total between revisions,
// so the two never fight over a Deployment's replicas.
import { API_VERSION, KIND, type ModelDeploymentSpec } from "../api/index.ts";
import { commonLabels } from "./labels.ts";
import { hpaName } from "./names.ts";
import { ownerReference } from "./owner.ts";
import type { ApplyObject, Owner } from "./types.ts";

const DEFAULT_METRICS = [
  { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } },
];

export function renderHpa(owner: Owner, spec: ModelDeploymentSpec): ApplyObject | undefined {
  const a = spec.autoscaling;
  if (!a) return undefined;
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: {
      name: hpaName(owner.name),
      namespace: owner.namespace,
      labels: commonLabels(owner.name, spec.model.name),
      ownerReferences: [ownerReference(owner)],
    },
    spec: {
      scaleTargetRef: { apiVersion: API_VERSION, kind: KIND, name: owner.name },
      minReplicas: a.minReplicas,
      maxReplicas: a.maxReplicas,
      metrics: a.metrics && a.metrics.length > 0 ? a.metrics : DEFAULT_METRICS,
      ...(a.behavior ? { behavior: a.behavior } : {}),
    },
  };
}
