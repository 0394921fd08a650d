// spec.rollout.traffic.gatewayAPI → an HTTPRoute whose two weighted backendRefs follow the rollout.
// A header route in force (a headerRoute step) comes first as its own rule to the canary Service:
// with the same path, Gateway API prefers the rule with more header matches, so matching requests
// never reach the weighted rule.
import type { GatewayApiTraffic, HeaderRoute, ModelDeploymentSpec } from "../api/index.ts";
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
  headerRoute?: HeaderRoute,
): ApplyObject {
  const port = resolveRuntimeEndpoints(spec.runtime).port;
  const backend = (role: "stable" | "canary", weight: number) => ({
    group: "",
    kind: "Service",
    name: serviceName(owner.name, role),
    port,
    weight,
  });
  // Written out in full (path, type) as the API server would default them: no drift on read-back.
  const headerRule = headerRoute?.matches.length
    ? [
        {
          matches: headerRoute.matches.map((m) => ({
            path: { type: "PathPrefix", value: "/" },
            headers: m.headers.map((h) => ({ type: h.type, name: h.name, value: h.value })),
          })),
          backendRefs: [backend("canary", 1)],
        },
      ]
    : [];
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
        ...headerRule,
        { backendRefs: [backend("stable", weights.stable), backend("canary", weights.canary)] },
      ],
    },
  };
}
