// spec.rollout.traffic.gatewayAPI → an HTTPRoute whose two weighted backendRefs follow the rollout.
// A header route in force (a headerRoute step) comes first as its own rule to the canary Service:
// with the same path, Gateway API prefers the rule with more header matches, so matching requests
// never reach the weighted rule. A mirror in force (a shadow step) is the weighted rule's standard
// RequestMirror filter: `percent` of the requests it takes are copied to the canary Service, whose
// answers the gateway discards. Not every implementation supports it (Traefik's Gateway provider
// does not; Envoy-based ones do): the route carries it either way, and what the gateway does with it
// is the implementation's.
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
  shadowPercent?: number,
): ApplyObject {
  const port = resolveRuntimeEndpoints(spec.runtime).port;
  const ref = (role: "stable" | "canary") => ({
    group: "",
    kind: "Service",
    name: serviceName(owner.name, role),
    port,
  });
  const backend = (role: "stable" | "canary", weight: number) => ({ ...ref(role), weight });
  const mirror =
    shadowPercent !== undefined && shadowPercent > 0
      ? {
          filters: [
            { type: "RequestMirror", requestMirror: { backendRef: ref("canary"), percent: shadowPercent } },
          ],
        }
      : {};
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
        { ...mirror, backendRefs: [backend("stable", weights.stable), backend("canary", weights.canary)] },
      ],
    },
  };
}
