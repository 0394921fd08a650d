// Walking the step list of a canary that has a stable revision beside it. Several steps may finish
// in one decision (a zero pause, a weight already reached); a step that waits leaves draft.waiting.

import type { HeaderRoute } from "../api/header-route.ts";
import { EventReason, PromotionReason } from "../api/reasons.ts";
import { formatDuration, toMs, toRfc3339 } from "../lib/time.ts";
import { describeVerdict } from "./canary-checks.ts";
import { canaryReplicasFor } from "./replica-split.ts";
import type { Ctx, Draft } from "./rollout-context.ts";
import { emit, recordHistory, short } from "./rollout-context.ts";
import { describeHeaderRoute, describeStep } from "./steps.ts";
import type { PlannedStep, PromotionHow } from "./types.ts";
import { clearCanary } from "./withdrawal.ts";

export function stepLabel(ctx: Ctx, index: number): string {
  return `step ${Math.min(index + 1, ctx.steps.length)}/${ctx.steps.length}`;
}

export function progressCanary(ctx: Ctx, draft: Draft): void {
  const s = draft.state;
  const paused = ctx.input.requests.paused;
  for (let guard = 0; guard <= ctx.steps.length + 1; guard++) {
    if (draft.promoteFull) {
      draft.promoteFull = false;
      emit(
        draft,
        "Normal",
        EventReason.PromoteFull,
        `promoteFull (id ${ctx.input.requests.promoteFull}): remaining steps of ${short(s.canaryRevision)} skipped`,
      );
      s.stepIndex = ctx.steps.length;
      s.stepStartedAt = ctx.nowTime;
      s.manualAdvance = "promoteFull";
      s.shadow = undefined;
    }
    const step = ctx.steps[s.stepIndex];
    if (step === undefined) {
      tryPromote(ctx, draft);
      return;
    }
    if (draft.promote) {
      draft.promote = false;
      emit(
        draft,
        "Normal",
        EventReason.StepPromoted,
        `promote (id ${ctx.input.requests.promote}): ${stepLabel(ctx, s.stepIndex)} (${describeStep(step)}) skipped`,
      );
      if (s.manualAdvance === undefined) s.manualAdvance = "promote";
      advance(ctx, draft);
      continue;
    }
    if (paused) {
      draft.waiting = { what: "resume (paused by request)", deadline: false };
      return;
    }
    const evidence = runStep(ctx, draft, step);
    if (evidence === undefined) return;
    emit(
      draft,
      "Normal",
      EventReason.StepCompleted,
      `${stepLabel(ctx, s.stepIndex)} (${describeStep(step)}) done: ${evidence}`,
    );
    advance(ctx, draft);
  }
}

function advance(ctx: Ctx, draft: Draft): void {
  // A mirror lasts as long as its shadow step (a following shadow step sets its own).
  draft.state.shadow = undefined;
  draft.state.stepIndex = Math.min(draft.state.stepIndex + 1, ctx.steps.length);
  draft.state.stepStartedAt = ctx.nowTime;
}

/** Evidence text when the step is done, undefined while it waits (draft.waiting says on what). */
function runStep(ctx: Ctx, draft: Draft, step: PlannedStep): string | undefined {
  const s = draft.state;
  if ("setWeight" in step) return applyWeight(ctx, draft, Math.max(0, Math.min(100, step.setWeight)));
  if ("pause" in step) {
    const elapsedMs = ctx.now - toMs(s.stepStartedAt, ctx.now);
    const durationMs = step.pause.durationMs;
    if (durationMs !== undefined && elapsedMs >= durationMs) return `paused ${formatDuration(elapsedMs)}`;
    draft.waiting = {
      what:
        durationMs === undefined
          ? "promotion"
          : `pause ${formatDuration(elapsedMs)} of ${formatDuration(durationMs)}`,
      deadline: false,
      pause: durationMs === undefined ? { elapsedMs } : { durationMs, elapsedMs },
    };
    return undefined;
  }
  if ("headerRoute" in step) return applyHeaderRoute(ctx, draft, step.headerRoute);
  if ("shadow" in step) return runShadow(ctx, draft, step.shadow);
  const health = ctx.healthAt(s.canaryRevision, s.stepIndex);
  if (health?.verdict === "Pass") return `analysis passed: ${describeVerdict(health)}`;
  draft.waiting = { what: `analysis of canary (${describeVerdict(health)})`, deadline: true };
  return undefined;
}

/** Header-matched requests go to the canary once it has a Ready pod to answer them. */
function applyHeaderRoute(ctx: Ctx, draft: Draft, route: HeaderRoute): string | undefined {
  const s = draft.state;
  if (route.matches.length === 0) {
    s.headerRoute = undefined;
    return "header route removed";
  }
  if (ctx.ready(s.canaryRevision) < 1) {
    draft.waiting = { what: `a Ready canary pod for the header route`, deadline: true };
    return undefined;
  }
  s.headerRoute = route;
  return `requests with ${describeHeaderRoute(route)} go to canary ${short(s.canaryRevision)}`;
}

/**
 * Mirrors `percent` of live requests to the canary once it has the Ready pods for that share (as a
 * weight of that size would need), then holds like a pause. The duration counts from when the mirror
 * started, so waiting for pods does not eat into it.
 */
function runShadow(
  ctx: Ctx,
  draft: Draft,
  shadow: { percent: number; durationMs?: number },
): string | undefined {
  const s = draft.state;
  const percent = Math.max(1, Math.min(100, shadow.percent));
  if (s.shadow?.percent !== percent) {
    const need = canaryReplicasFor(percent, ctx.total, ctx.input.rollout.traffic);
    const ready = ctx.ready(s.canaryRevision);
    if (ready < need) {
      draft.waiting = { what: `canary ${ready}/${need} ready to mirror ${percent}%`, deadline: true };
      return undefined;
    }
    s.shadow = { percent };
    s.stepStartedAt = ctx.nowTime;
  }
  const elapsedMs = ctx.now - toMs(s.stepStartedAt, ctx.now);
  const durationMs = shadow.durationMs;
  if (durationMs !== undefined && elapsedMs >= durationMs)
    return `mirrored ${percent}% of live requests to canary ${short(s.canaryRevision)} for ${formatDuration(elapsedMs)}`;
  draft.waiting = {
    what:
      durationMs === undefined
        ? `promotion (mirroring ${percent}%)`
        : `shadow ${formatDuration(elapsedMs)} of ${formatDuration(durationMs)} (mirroring ${percent}%)`,
    deadline: false,
    pause: durationMs === undefined ? { elapsedMs, shadow: true } : { durationMs, elapsedMs, shadow: true },
  };
  return undefined;
}

/**
 * Moves the traffic weight to `weight` once the side that gains traffic has the Ready pods for it.
 * replicaRatio: the Service selects every revision once the canary has traffic, so the weight is
 * reached when both sides have their share Ready.
 */
function applyWeight(ctx: Ctx, draft: Draft, weight: number): string | undefined {
  const s = draft.state;
  const canaryReady = ctx.ready(s.canaryRevision);
  const stableReady = ctx.ready(s.stableRevision);
  const mode = ctx.input.rollout.traffic;
  const need = canaryReplicasFor(weight, ctx.total, mode);
  const done = () => {
    s.canaryWeight = weight;
    return `${weight}% of traffic on canary ${short(s.canaryRevision)} (${canaryReady} ready), stable ${stableReady} ready`;
  };
  if (mode !== "replicaRatio") {
    // Stable normally has full capacity, but a lowering still waits for its share to be Ready.
    const stableNeed = canaryReplicasFor(100 - weight, ctx.total, mode);
    if (weight === s.canaryWeight) return done();
    if (weight < s.canaryWeight && stableReady >= stableNeed) return done();
    if (weight > s.canaryWeight && canaryReady >= need) return done();
    draft.waiting = {
      what:
        weight < s.canaryWeight
          ? `stable ${stableReady}/${stableNeed} ready for ${100 - weight}%`
          : `canary ${canaryReady}/${need} ready for ${weight}%`,
      deadline: true,
    };
    return undefined;
  }
  if (weight === 0) {
    if (s.canaryWeight === 0 || stableReady >= ctx.total) return done();
    draft.waiting = {
      what: `stable ${stableReady}/${ctx.total} ready before traffic leaves the canary`,
      deadline: true,
    };
    return undefined;
  }
  // The Service cannot exclude a draining revision, so the canary takes traffic only once they are gone.
  if (s.canaryWeight === 0 && s.pendingScaleDowns.length > 0) {
    const names = s.pendingScaleDowns.map((p) => `${short(p.revision)} until ${p.at}`).join(", ");
    draft.waiting = { what: `old revisions to drain (${names})`, deadline: false };
    return undefined;
  }
  if (canaryReady >= need && stableReady >= ctx.total - need) return done();
  draft.waiting = {
    what:
      canaryReady < need
        ? `canary ${canaryReady}/${need} ready for ${weight}%`
        : `stable ${stableReady}/${ctx.total - need} ready for ${100 - weight}%`,
    deadline: true,
  };
  return undefined;
}

/** After the last step: canary at full size and Ready, then it becomes stable. */
function tryPromote(ctx: Ctx, draft: Draft): void {
  const s = draft.state;
  if (ctx.input.requests.paused) {
    draft.waiting = { what: "resume (paused by request)", deadline: false };
    return;
  }
  const canaryReady = ctx.ready(s.canaryRevision);
  if (canaryReady < ctx.total) {
    draft.waiting = { what: `canary ${canaryReady}/${ctx.total} ready for promotion`, deadline: true };
    return;
  }
  // With no steps the verdict is the only gate, so it must be a Pass; otherwise steps already judged.
  const health = ctx.health(s.canaryRevision);
  const gated = ctx.steps.length === 0 && ctx.input.rollout.analysisConfigured;
  if (gated ? health?.verdict !== "Pass" : health?.verdict === "Fail") {
    draft.waiting = { what: `analysis before promotion (${describeVerdict(health)})`, deadline: true };
    return;
  }
  promoteCanary(
    ctx,
    draft,
    ctx.steps.length === 0 ? PromotionReason.HealthGatePassed : PromotionReason.StepsCompleted,
    describeVerdict(health),
  );
}

/** The canary becomes stable: same Deployment, no restart; the old stable drains, then goes. */
export function promoteCanary(ctx: Ctx, draft: Draft, reason: string, evidence: string): void {
  const s = draft.state;
  const revision = s.canaryRevision;
  if (revision === undefined) return;
  const old = s.stableRevision;
  let drain = "";
  if (old !== undefined && old !== revision) {
    const at = toRfc3339(ctx.now + ctx.input.rollout.scaleDownDelayMs);
    s.pendingScaleDowns = [
      ...s.pendingScaleDowns.filter((p) => p.revision !== old),
      { revision: old, at, replicas: ctx.observation(old)?.specReplicas ?? 0 },
    ];
    drain = `; previous stable ${short(old)} removed at ${at}`;
    recordHistory(ctx, draft, {
      revision: old,
      modelVersion: s.stableModelVersion,
      image: s.stableImage,
      outcome: "Superseded",
      reason: EventReason.Promoted,
      message: `replaced by ${short(revision)}`,
    });
  }
  const message = `${short(revision)} promoted to stable (${ctx.ready(revision)}/${ctx.total} ready; ${evidence})${drain}`;
  recordHistory(ctx, draft, {
    revision,
    modelVersion: s.canaryModelVersion,
    image: s.canaryImage,
    outcome: "Promoted",
    reason,
    message,
  });
  emit(draft, "Normal", EventReason.Promoted, message, { how: promotionHow(s) });
  s.stableRevision = revision;
  s.stableModelVersion = s.canaryModelVersion;
  s.stableImage = s.canaryImage;
  s.canaryWeight = 0;
  clearCanary(draft);
  draft.waiting = undefined;
}

/** How the canary got here, for the promotions metric (read before the canary is cleared). */
function promotionHow(s: Draft["state"]): PromotionHow {
  if (s.stableRevision === undefined) return "firstDeployment";
  if (s.manualAdvance === "promoteFull") return "full";
  if (s.manualAdvance === "promote") return "manual";
  return "analysis";
}
