// From the decided state to what must exist: replicas per revision and where traffic goes.

import { canaryReplicasFor, splitBothServing } from "./replica-split.ts";
import type { Ctx, Draft } from "./rollout-context.ts";
import type { DesiredRevision, TrafficDecision } from "./types.ts";

/**
 * The weight the canary's replicas are sized for: the current setWeight step's (pre-scaling before
 * traffic moves), 100 once promoting, and the weight in effect while paused or at a pause/analysis step.
 */
function sizingWeight(ctx: Ctx, draft: Draft): number {
  const s = draft.state;
  // Mirrored copies are load like served requests: the canary is sized for the mirrored share too,
  // before the mirror starts (a shadow step) and while it is in force (a manual pause included).
  const held = Math.max(s.canaryWeight, s.shadow?.percent ?? 0);
  if (ctx.input.requests.paused) return held;
  const step = ctx.steps[s.stepIndex];
  if (step === undefined) return 100;
  if ("setWeight" in step) return Math.max(0, Math.min(100, step.setWeight));
  if ("shadow" in step) return Math.max(held, Math.max(0, Math.min(100, step.shadow.percent)));
  return held;
}

/** `previousWeight`: the weight at the start of the decision; a canary shrinks a reconcile after its weight fell. */
export function desiredRevisions(ctx: Ctx, draft: Draft, previousWeight: number): DesiredRevision[] {
  const s = draft.state;
  const total = ctx.total;
  const mode = ctx.input.rollout.traffic;
  const out: DesiredRevision[] = [];
  const stable = s.stableRevision;
  const canary = s.canaryRevision;
  // A canary always keeps one pod (when anything runs at all) so the prober can judge and warm it.
  const floor = total > 0 ? 1 : 0;

  if (canary !== undefined && stable === undefined) {
    out.push({ revision: canary, replicas: total, role: "canary" });
  } else if (canary !== undefined && stable !== undefined) {
    const weight = sizingWeight(ctx, draft);
    if (mode !== "replicaRatio") {
      const replicas = Math.max(
        canaryReplicasFor(weight, total, mode),
        canaryReplicasFor(previousWeight, total, mode),
        canaryReplicasFor(s.canaryWeight, total, mode),
        floor,
      );
      out.push(
        { revision: stable, replicas: total, role: "stable" },
        { revision: canary, replicas, role: "canary" },
      );
    } else if (s.canaryWeight === 0) {
      // Service pinned to stable: stable carries everything, the canary comes up beside it.
      const replicas = Math.max(canaryReplicasFor(weight, total, mode), floor);
      out.push(
        { revision: stable, replicas: total, role: "stable" },
        { revision: canary, replicas, role: "canary" },
      );
    } else {
      const target = canaryReplicasFor(weight, total, mode);
      const split = splitBothServing(
        total,
        {
          target: total - target,
          current: ctx.observation(stable)?.specReplicas ?? 0,
          ready: ctx.ready(stable),
        },
        { target, current: ctx.observation(canary)?.specReplicas ?? 0, ready: ctx.ready(canary) },
      );
      out.push(
        { revision: stable, replicas: split.stable, role: "stable" },
        { revision: canary, replicas: Math.max(split.canary, floor), role: "canary" },
      );
    }
  } else if (stable !== undefined) {
    out.push({ revision: stable, replicas: total, role: "stable" });
    if (s.withdrawal !== undefined) {
      out.push({ revision: s.withdrawal.revision, replicas: s.withdrawal.replicas, role: "canary" });
    }
  }
  for (const p of s.pendingScaleDowns) {
    if (!out.some((r) => r.revision === p.revision))
      out.push({ revision: p.revision, replicas: p.replicas, role: "draining" });
  }
  return out;
}

export function desiredTraffic(ctx: Ctx, draft: Draft): TrafficDecision {
  const s = draft.state;
  const other = s.canaryRevision ?? s.withdrawal?.revision;
  if (ctx.input.rollout.traffic === "replicaRatio") {
    // First deployment: pinned to the only revision. Otherwise pinned to stable until the canary has traffic.
    const pinned = s.stableRevision ?? s.canaryRevision;
    if (s.canaryWeight > 0 || pinned === undefined) return { mode: "replicaRatio", serviceSelector: {} };
    return { mode: "replicaRatio", serviceSelector: { revision: pinned } };
  }
  const traffic: TrafficDecision = {
    mode: ctx.input.rollout.traffic,
    weights:
      s.stableRevision === undefined && s.canaryRevision !== undefined
        ? { stable: 0, canary: 100 }
        : { stable: 100 - s.canaryWeight, canary: s.canaryWeight },
  };
  if (s.stableRevision !== undefined) traffic.stableRevision = s.stableRevision;
  if (other !== undefined) traffic.canaryRevision = other;
  if (s.canaryRevision !== undefined && s.headerRoute !== undefined) traffic.headerRoute = s.headerRoute;
  if (s.canaryRevision !== undefined && s.shadow !== undefined) traffic.shadowPercent = s.shadow.percent;
  return traffic;
}
