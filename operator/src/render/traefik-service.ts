// spec.rollout.traffic.traefik → TraefikServices (Traefik's CRD provider), the way Argo Rollouts
// drives Traefik. `<name>` is what the user's IngressRoute or HTTPRoute points at:
//   - normally `weighted` over the -stable and -canary Services with the rollout's weights;
//   - during a shadow step `mirroring`: every request goes to `<name>-weighted` (the same split)
//     and `percent` of them are copied to the -canary Service, whose answers Traefik discards.
// `<name>-weighted` always exists, so switching `<name>` between the two never points it at a
// TraefikService that is not there yet (a missing reference fails requests until it appears).
// A side at 0% is left out of `weighted`: Traefik's CRD provider refuses a whole TraefikService when
// one of its Services has no Ready endpoints (unless --providers.kubernetescrd.allowEmptyServices),
// and a canary at 0% may have none (still loading, or withdrawn).
import type { ModelDeploymentSpec, TraefikTraffic } from "../api/index.ts";
import { resolveRuntimeEndpoints } from "../api/index.ts";
import { commonLabels } from "./labels.ts";
import { serviceName, weightedTraefikServiceName } from "./names.ts";
import { ownerReference } from "./owner.ts";
import type { ApplyObject, Owner } from "./types.ts";

export const TRAEFIK_API_VERSION = "traefik.io/v1alpha1";

export function traefikServiceName(owner: Owner, tr: TraefikTraffic): string {
  return tr.serviceName ?? owner.name;
}

export function renderTraefikServices(
  owner: Owner,
  spec: ModelDeploymentSpec,
  tr: TraefikTraffic,
  weights: { stable: number; canary: number },
  shadowPercent?: number,
): ApplyObject[] {
  const port = resolveRuntimeEndpoints(spec.runtime).port;
  const name = traefikServiceName(owner, tr);
  const weightedName = weightedTraefikServiceName(name);
  // Written out in full (kind) so the read-back compares equal: no drift.
  const weighted = {
    services: (["stable", "canary"] as const)
      .filter((role) => weights[role] > 0)
      .map((role) => ({ kind: "Service", name: serviceName(owner.name, role), port, weight: weights[role] })),
  };
  const object = (objectName: string, body: Record<string, unknown>): ApplyObject => ({
    apiVersion: TRAEFIK_API_VERSION,
    kind: "TraefikService",
    metadata: {
      name: objectName,
      namespace: owner.namespace,
      labels: commonLabels(owner.name, spec.model.name),
      ownerReferences: [ownerReference(owner)],
    },
    spec: body,
  });
  const front =
    shadowPercent !== undefined && shadowPercent > 0
      ? {
          mirroring: {
            kind: "TraefikService",
            name: weightedName,
            mirrors: [
              { kind: "Service", name: serviceName(owner.name, "canary"), port, percent: shadowPercent },
            ],
          },
        }
      : { weighted };
  return [object(weightedName, { weighted }), object(name, front)];
}
