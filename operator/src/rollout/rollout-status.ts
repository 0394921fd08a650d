// Phase, one-line message and conditions, from the decided state: what a person (and Argo CD's
// health script) reads. Paused means a person must act; a timed pause is still Progressing.

import { PhaseReason, WorkloadReason } from "../api/reasons.ts";
import { formatDuration } from "../lib/time.ts";
import { describeLoading, stuck } from "./canary-checks.ts";
import type { Ctx, Draft } from "./rollout-context.ts";
import { short } from "./rollout-context.ts";
import { stepLabel } from "./step-progress.ts";
import { describeHeaderRoute } from "./steps.ts";
import type { DesiredCondition, RolloutPhase, TrafficDecision } from "./types.ts";

interface Summary {
  phase: RolloutPhase;
  reason: string;
  message: string;
}

export interface RolloutStatusView {
  phase: RolloutPhase;
  message: string;
  conditions: DesiredCondition[];
}

function summarize(ctx: Ctx, draft: Draft): Summary {
  const s = draft.state;
  const desired = ctx.input.desiredRevision;
  const total = ctx.total;
  const waiting = draft.waiting?.what;
  const w = s.withdrawal;
  if (w !== undefined && w.cause === "Abort") {
    return {
      phase: "Degraded",
      reason: w.reason,
      message: `rolling back canary ${short(w.revision)} (${w.reason}: ${w.message}); waiting for ${waiting ?? "traffic to move"}`,
    };
  }
  if (w !== undefined) {
    return {
      phase: "Progressing",
      reason: w.cause === "Revert" ? PhaseReason.SpecReverted : PhaseReason.Superseded,
      message: `withdrawing canary ${short(w.revision)} (${w.message}); waiting for ${waiting ?? "traffic to move"}`,
    };
  }
  if (s.rejected !== undefined && s.rejected.revision === desired && s.canaryRevision === undefined) {
    return {
      phase: "Degraded",
      reason: s.rejected.reason,
      message: `revision ${short(desired)} rejected (${s.rejected.reason}: ${s.rejected.message}); stable ${short(s.stableRevision)} serves all traffic; change the spec or request a retry`,
    };
  }
  const canary = s.canaryRevision;
  if (canary !== undefined && s.stableRevision === undefined) {
    const failure = ctx.observation(canary)?.failure;
    // Nothing to roll back to: being stuck only makes it Degraded (it keeps trying).
    const late = draft.waiting?.deadline === true ? stuck(ctx, draft, canary) : null;
    const progress = `deploying first revision ${short(canary)}: ${ctx.ready(canary)}/${total} ready`;
    if (failure !== undefined && (late !== null || failure.reason !== WorkloadReason.Unschedulable)) {
      return {
        phase: "Degraded",
        reason: failure.reason,
        message: `${progress}; ${failure.reason}: ${failure.message}`,
      };
    }
    if (late !== null) {
      return { phase: "Degraded", reason: late.reason, message: `${progress}; ${late.message}` };
    }
    return {
      phase: "Progressing",
      reason: PhaseReason.FirstDeployment,
      message: `${waiting === undefined ? progress : `${progress}; waiting for ${waiting}`}${describeLoading(ctx, canary)}`,
    };
  }
  if (canary !== undefined) {
    const headers =
      s.headerRoute === undefined ? "" : ` (and requests with ${describeHeaderRoute(s.headerRoute)})`;
    const mirror = s.shadow === undefined ? "" : `, mirroring ${s.shadow.percent}%`;
    const head = `canary ${short(canary)} at ${s.canaryWeight}%${headers}${mirror}, ${
      s.stepIndex >= ctx.steps.length ? "promoting" : stepLabel(ctx, s.stepIndex)
    }`;
    const failure = ctx.observation(canary)?.failure;
    const trouble = failure === undefined ? "" : `; ${failure.reason}: ${failure.message}`;
    if (ctx.input.requests.paused)
      return {
        phase: "Paused",
        reason: PhaseReason.ManualPause,
        message: `${head}, paused by request${trouble}`,
      };
    const pause = draft.waiting?.pause;
    if (pause !== undefined && pause.durationMs === undefined) {
      return {
        phase: "Paused",
        reason: PhaseReason.CanaryPauseStep,
        message: `${head}, waiting for promotion${trouble}`,
      };
    }
    if (pause?.durationMs !== undefined) {
      return {
        phase: "Progressing",
        reason: PhaseReason.CanaryPauseStep,
        message: `${head}, ${pause.shadow ? "shadowing" : "paused"} ${formatDuration(pause.elapsedMs)} of ${formatDuration(pause.durationMs)}${trouble}`,
      };
    }
    return {
      phase: "Progressing",
      reason: PhaseReason.CanaryProgressing,
      message: `${head}${waiting === undefined ? "" : `, waiting for ${waiting}`}${describeLoading(ctx, canary)}${trouble}`,
    };
  }
  const stable = s.stableRevision;
  const ready = ctx.ready(stable);
  const model = s.stableModelVersion === undefined ? "" : ` (model ${s.stableModelVersion})`;
  const draining =
    s.pendingScaleDowns.length === 0
      ? ""
      : `; draining ${s.pendingScaleDowns.map((p) => short(p.revision)).join(", ")}`;
  const failure = ctx.observation(stable)?.failure;
  if (failure !== undefined && ready < total) {
    return {
      phase: "Degraded",
      reason: failure.reason,
      message: `stable ${short(stable)}${model}: ${ready}/${total} ready; ${failure.reason}: ${failure.message}`,
    };
  }
  if (ctx.health(stable)?.verdict === "Fail") {
    return {
      phase: "Degraded",
      reason: PhaseReason.StableUnhealthy,
      message: `stable ${short(stable)}${model} fails its health checks: ${ctx.health(stable)?.message}`,
    };
  }
  if (ready < total) {
    return {
      phase: "Progressing",
      reason: PhaseReason.ScalingUp,
      message: `stable ${short(stable)}${model}: ${ready}/${total} ready${draining}`,
    };
  }
  return {
    phase: "Healthy",
    reason: PhaseReason.RolloutComplete,
    message: `stable ${short(stable)}${model} serving: ${ready}/${total} ready${draining}`,
  };
}

/** Ready pods of the revisions that get traffic under this decision. */
function servingReady(ctx: Ctx, traffic: TrafficDecision, draft: Draft): number {
  const s = draft.state;
  const other = s.canaryRevision ?? s.withdrawal?.revision;
  if (traffic.mode === "replicaRatio") {
    if (traffic.serviceSelector.revision !== undefined) return ctx.ready(traffic.serviceSelector.revision);
    return ctx.ready(s.stableRevision) + ctx.ready(other);
  }
  return (
    (traffic.weights.stable > 0 ? ctx.ready(traffic.stableRevision) : 0) +
    (traffic.weights.canary > 0 ? ctx.ready(traffic.canaryRevision) : 0)
  );
}

export function describeStatus(ctx: Ctx, draft: Draft, traffic: TrafficDecision): RolloutStatusView {
  const summary = summarize(ctx, draft);
  const g = ctx.input.generation;
  const cond = (
    type: DesiredCondition["type"],
    on: boolean,
    reason: string,
    message: string,
  ): DesiredCondition => ({ type, status: on ? "True" : "False", reason, message, observedGeneration: g });
  const ready = servingReady(ctx, traffic, draft);
  const { phase, reason, message } = summary;
  const s = draft.state;
  const rejectedDone =
    s.rejected?.revision === ctx.input.desiredRevision &&
    s.canaryRevision === undefined &&
    s.withdrawal === undefined;
  return {
    phase,
    message,
    conditions: [
      phase === "Healthy"
        ? cond("Progressing", false, reason, message)
        : rejectedDone
          ? cond("Progressing", false, PhaseReason.RolloutAborted, message)
          : cond("Progressing", true, reason, message),
      cond(
        "Paused",
        phase === "Paused",
        phase === "Paused" ? reason : PhaseReason.NotPaused,
        phase === "Paused" ? message : "",
      ),
      cond(
        "Degraded",
        phase === "Degraded",
        phase === "Degraded" ? reason : PhaseReason.AsExpected,
        phase === "Degraded" ? message : "",
      ),
      cond(
        "Available",
        ready >= ctx.total,
        ready >= ctx.total ? PhaseReason.MinimumReplicasAvailable : PhaseReason.ReplicasUnavailable,
        `${ready}/${ctx.total} ready pods behind the traffic`,
      ),
    ],
  };
}
