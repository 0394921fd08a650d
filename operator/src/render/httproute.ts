// spec.rollout.traffic.gatewayAPI → an HTTPRoute whose two weighted backendRefs follow the rollout.
import type { GatewayApiTraffic, ModelDeploymentSpec } from "../api/index.ts";
import { resolveRuntimeEndpoints } from "../api/index.ts";
import { commonLabels } from "./labels.ts";
import { serviceName } from "./names.ts";
import { ownerReference } from "./owner.ts";
import type { ApplyObject, Owner } from "./types.ts";

export const GATEWAY_API_VERSION = "gateway.networking.k8s.io/v1";

export function routeName(owner: Owner, gw: GatewayApiTraffic): string {
  return gw.routeName ?? owner.name;
}

export function renderHttpRoute(
  owner: Owner,
  spec: ModelDeploymentSpec,
  gw: GatewayApiTraffic,
  weights: { stable: number; canary: number },
): ApplyObject {
  const port = resolveRuntimeEndpoints(spec.runtime).port;
  return {
    apiVersion: GATEWAY_API_VERSION,
    kind: "HTTPRoute",
    metadata: {
      name: routeName(owner, gw),
      namespace: owner.namespace,
      labels: commonLabels(owner.name, spec.model.name),
      ownerReferences: [ownerReference(owner)],
    },
    spec: {
      parentRefs: gw.parentRefs.map((p) => ({
        group: "gateway.networking.k8s.io",
        kind: "Gateway",
        name: p.name,
        ...(p.namespace ? { namespace: p.namespace } : {}),
        ...(p.sectionName ? { sectionName: p.sectionName } : {}),
        ...(p.port ? { port: p.port } : {}),
      })),
      ...(gw.hostnames ? { hostnames: gw.hostnames } : {}),
      rules: [
        {
          backendRefs: [
            {
              group: "",
              kind: "Service",
              name: serviceName(owner.name, "stable"),
              port,
              weight: weights.stable,
            },
            {
              group: "",
              kind: "Service",
              name: serviceName(owner.name, "canary"),
              port,
              weight: weights.canary,
            },
          ],
        },
      ],
    },
  };
}
