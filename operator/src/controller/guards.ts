// Step 2 of a reconcile: the preflight checks, as a chain of pure predicates over the context.
// The first that objects stops the reconcile before anything is decided or written to a child:
// the status says why (InvalidSpec=True, Degraded) and what runs keeps running.
import type { ModelDeployment } from "../api/index.ts";
import { SpecReason } from "../api/reasons.ts";
import type { ReconcileContext } from "./snapshot.ts";
import { SA_CACHE_MS } from "./snapshot.ts";

export interface Blocked {
  reason: (typeof SpecReason)[Exclude<keyof typeof SpecReason, "Valid">];
  message: string;
  /** When to look again; absent: only a change to the object can help, so nothing retries. */
  requeueAfterMs?: number;
}

type Guard = (ctx: ReconcileContext) => Blocked | undefined;

const specIsValid: Guard = (ctx) =>
  ctx.spec.ok ? undefined : { reason: SpecReason.InvalidSpec, message: ctx.spec.message };

const serviceAccountAllowed: Guard = (ctx) =>
  ctx.serviceAccountProblem === undefined
    ? undefined
    : {
        reason: SpecReason.ServiceAccountNotAllowed,
        message: ctx.serviceAccountProblem,
        // A namespace admin may label the ServiceAccount at any time; no event tells us.
        requeueAfterMs: SA_CACHE_MS,
      };

const gatewayApiServed: Guard = (ctx) =>
  !ctx.spec.ok || !ctx.spec.md.spec.rollout.traffic?.gatewayAPI || ctx.gatewayApiAvailable
    ? undefined
    : {
        reason: SpecReason.GatewayAPIUnavailable,
        message:
          "spec.rollout.traffic.gatewayAPI is set, but the Gateway API (gateway.networking.k8s.io/v1 HTTPRoute) is not installed in this cluster; install its CRDs or remove the field",
        requeueAfterMs: 60_000,
      };

const traefikServed: Guard = (ctx) =>
  !ctx.spec.ok || !ctx.spec.md.spec.rollout.traffic?.traefik || ctx.traefikAvailable
    ? undefined
    : {
        reason: SpecReason.TraefikUnavailable,
        message:
          "spec.rollout.traffic.traefik is set, but Traefik's CRDs (traefik.io/v1alpha1 TraefikService) are not installed in this cluster; install them (then restart the operator) or remove the field",
        requeueAfterMs: 60_000,
      };

export const GUARDS: readonly Guard[] = [specIsValid, serviceAccountAllowed, gatewayApiServed, traefikServed];

/** The parsed ModelDeployment when every guard passes, else the first objection. */
export function preflight(ctx: ReconcileContext): { md: ModelDeployment } | { blocked: Blocked } {
  for (const guard of GUARDS) {
    const blocked = guard(ctx);
    if (blocked) return { blocked };
  }
  // specIsValid ran first, so the spec parsed.
  return ctx.spec.ok
    ? { md: ctx.spec.md }
    : { blocked: { reason: SpecReason.InvalidSpec, message: ctx.spec.message } };
}
