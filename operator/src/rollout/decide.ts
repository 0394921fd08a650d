// The rollout state machine: (spec, persisted state, observed children, verdicts, manual requests,
// now) → next persisted state, desired children, traffic, status and events. Pure and deterministic:
// every bit of progress is in the returned state, so a restarted operator continues where it was.
//
// Choices (see the tests for each):
// - Times in state are RFC 3339 UTC with milliseconds; `now` is the only clock.
// - setWeight 0 = dark canary: 1 pod the prober can judge and warm, no user traffic.
// - A manual pause holds the step and the weight; its time counts neither for a timed pause nor
//   for the progress deadline (stepStartedAt is shifted on resume). Failures still abort. It does
//   not hold a first deployment (nothing to protect). promote/promoteFull still move the step.
// - Timed pauses are Progressing; only a pause waiting for a person is Paused (Argo CD: Suspended).
// - Unschedulable aborts at the progress deadline (a node may be added), other pod failures at once.
// - A request id with nothing to act on is consumed with a RequestIgnored event.
// - A canary leaves (abort, new spec, revert) only after stable is Ready at full size; the next
//   canary starts after that, and in replica-ratio mode takes traffic only once drained revisions
//   are gone (one Service cannot exclude them).

import { EventReason, PhaseReason, PromotionReason } from "../api/reasons.ts";
import { toMs, toRfc3339 } from "../lib/time.ts";
import {
  type AbortCause,
  analysisFailed,
  manualAbort,
  progressDeadlinePassed,
  progressSince,
  workloadFailed,
} from "./canary-checks.ts";
import { desiredRevisions, desiredTraffic } from "./desired-children.ts";
import { type Ctx, type Draft, emit, makeContext, recordHistory, short } from "./rollout-context.ts";
import { describeStatus } from "./rollout-status.ts";
import { progressCanary, promoteCanary } from "./step-progress.ts";
import { describeStep } from "./steps.ts";
import type { HandledRequests, RolloutDecision, RolloutInput, RolloutState } from "./types.ts";
import { clearCanary, startWithdrawal, tryCompleteWithdrawal } from "./withdrawal.ts";

/** Pause between a gateway weight cut and the canary shrinking to match (the route applies first). */
const SHRINK_AFTER_WEIGHT_CUT_MS = 1_000;

export function emptyRolloutState(): RolloutState {
  return { stepIndex: 0, canaryWeight: 0, pendingScaleDowns: [], handledRequests: {}, history: [] };
}

function normalizeState(state: Partial<RolloutState>): RolloutState {
  const copy = structuredClone(state);
  return {
    ...emptyRolloutState(),
    ...copy,
    stepIndex: Math.max(0, Math.floor(copy.stepIndex ?? 0)),
    canaryWeight: Math.max(0, Math.min(100, copy.canaryWeight ?? 0)),
    pendingScaleDowns: copy.pendingScaleDowns ?? [],
    handledRequests: copy.handledRequests ?? {},
    history: copy.history ?? [],
  };
}

export function decideRollout(input: RolloutInput): RolloutDecision {
  const ctx = makeContext(input);
  const state = normalizeState(input.state);
  const previousWeight = state.canaryWeight;
  const draft: Draft = { state, events: [], promote: false, promoteFull: false, abort: false };

  takeRequests(ctx, draft);
  expireScaleDowns(ctx, draft);
  trackManualPause(ctx, draft);
  forgetStaleRejection(ctx, draft);
  decideRevisions(ctx, draft);
  reportUnusedRequests(ctx, draft);

  const traffic = desiredTraffic(ctx, draft);
  const revisions = desiredRevisions(ctx, draft, previousWeight);
  const status = describeStatus(ctx, draft, traffic);
  const decision: RolloutDecision = {
    // A JSON round trip drops undefined keys: the state equals what status reads back.
    state: JSON.parse(JSON.stringify(draft.state)) as RolloutState,
    revisions,
    traffic,
    phase: status.phase,
    message: status.message,
    canaryWeight: draft.state.canaryWeight,
    currentStepIndex: draft.state.stepIndex,
    conditions: status.conditions,
    events: draft.events,
  };
  const requeue = requeueAfter(ctx, draft, previousWeight);
  if (requeue !== undefined) decision.requeueAfterMs = requeue;
  return decision;
}

/** Each request id is acted on once: remember it now, act on it below. */
function takeRequests(ctx: Ctx, draft: Draft): void {
  const s = draft.state;
  const requests = ctx.input.requests;
  const fresh = (key: keyof HandledRequests): boolean => {
    const id = requests[key];
    if (id === undefined || id === s.handledRequests[key]) return false;
    s.handledRequests = { ...s.handledRequests, [key]: id };
    return true;
  };
  draft.promote = fresh("promote");
  draft.promoteFull = fresh("promoteFull");
  draft.abort = fresh("abort");
  if (!fresh("retry")) return;
  const rejected = s.rejected;
  if (rejected !== undefined && rejected.revision === ctx.input.desiredRevision) {
    emit(
      draft,
      "Normal",
      EventReason.Retry,
      `retry (id ${requests.retry}): ${short(rejected.revision)} (rejected for ${rejected.reason}) starts again`,
    );
    s.rejected = undefined;
  } else {
    emit(
      draft,
      "Normal",
      EventReason.RequestIgnored,
      `retry (id ${requests.retry}): no rejected revision to retry`,
    );
  }
}

function expireScaleDowns(ctx: Ctx, draft: Draft): void {
  const s = draft.state;
  const keep = s.pendingScaleDowns.filter((p) => {
    if (p.revision === s.stableRevision || p.revision === s.canaryRevision) return false;
    if (toMs(p.at, ctx.now) > ctx.now) return true;
    emit(draft, "Normal", EventReason.ScaledDown, `${short(p.revision)} removed after its drain delay`);
    return false;
  });
  s.pendingScaleDowns = keep;
}

/** The pause timer and the progress deadline do not run while a person holds the rollout. */
function trackManualPause(ctx: Ctx, draft: Draft): void {
  const s = draft.state;
  const inCanary = s.canaryRevision !== undefined && s.stableRevision !== undefined;
  if (ctx.input.requests.paused && s.pausedAt === undefined) {
    s.pausedAt = ctx.nowTime;
    if (inCanary)
      emit(
        draft,
        "Normal",
        EventReason.Paused,
        `canary ${short(s.canaryRevision)} held at step ${s.stepIndex + 1} by request`,
      );
  } else if (!ctx.input.requests.paused && s.pausedAt !== undefined) {
    if (s.stepStartedAt !== undefined) {
      const started = toMs(s.stepStartedAt, ctx.now);
      const held = ctx.now - Math.max(toMs(s.pausedAt, ctx.now), started);
      s.stepStartedAt = toRfc3339(started + Math.max(0, held));
    }
    s.pausedAt = undefined;
    if (inCanary)
      emit(
        draft,
        "Normal",
        EventReason.Resumed,
        `canary ${short(s.canaryRevision)} resumed at step ${s.stepIndex + 1}`,
      );
  }
}

/** A rejection holds only while the spec still asks for that revision. */
function forgetStaleRejection(ctx: Ctx, draft: Draft): void {
  const rejected = draft.state.rejected;
  if (rejected === undefined || rejected.revision === ctx.input.desiredRevision) return;
  draft.state.rejected = undefined;
}

function decideRevisions(ctx: Ctx, draft: Draft): void {
  const s = draft.state;
  const desired = ctx.input.desiredRevision;
  if (s.withdrawal !== undefined) tryCompleteWithdrawal(ctx, draft);

  if (s.canaryRevision !== undefined && s.canaryRevision !== desired) {
    if (s.stableRevision === undefined) {
      replaceFirstDeployment(ctx, draft);
    } else if (s.withdrawal === undefined) {
      const revert = desired === s.stableRevision;
      startWithdrawal(ctx, draft, revert ? "Revert" : "Supersede", {
        reason: revert ? PhaseReason.SpecReverted : PhaseReason.Superseded,
        message: revert
          ? `spec reverted to stable ${short(desired)}; canary ${short(s.canaryRevision)} dropped`
          : `canary ${short(s.canaryRevision)} superseded by ${short(desired)}`,
      });
      tryCompleteWithdrawal(ctx, draft);
    }
  }

  if (
    s.canaryRevision === undefined &&
    s.withdrawal === undefined &&
    desired !== s.stableRevision &&
    s.rejected?.revision !== desired
  ) {
    startCanary(ctx, draft);
  }

  if (s.canaryRevision === undefined || s.withdrawal !== undefined) return;
  if (s.stableRevision === undefined) progressFirstDeployment(ctx, draft);
  else runCanary(ctx, draft);
}

function startCanary(ctx: Ctx, draft: Draft): void {
  const s = draft.state;
  const input = ctx.input;
  // A revision still draining (e.g. a fast rollback to the previous stable) reuses its Deployment.
  s.pendingScaleDowns = s.pendingScaleDowns.filter((p) => p.revision !== input.desiredRevision);
  s.canaryRevision = input.desiredRevision;
  s.canaryModelVersion = input.desiredModelVersion;
  s.canaryImage = input.desiredImage;
  s.stepIndex = 0;
  s.stepStartedAt = ctx.nowTime;
  s.canaryStartedAt = ctx.nowTime;
  s.canaryWeight = 0;
  const what = `${short(input.desiredRevision)}${input.desiredModelVersion === undefined ? "" : ` (model ${input.desiredModelVersion})`}${input.desiredImage === undefined ? "" : ` image ${input.desiredImage}`}`;
  if (s.stableRevision === undefined) {
    emit(draft, "Normal", EventReason.FirstDeployment, `deploying ${what} at ${ctx.total} replicas`);
  } else {
    const plan =
      ctx.steps.length === 0 ? "all at once, health-gated" : ctx.steps.map(describeStep).join(", ");
    emit(
      draft,
      "Normal",
      EventReason.CanaryStarted,
      `canary ${what} beside stable ${short(s.stableRevision)}: ${plan}`,
    );
  }
}

/** Nothing serves yet, so the replaced revision goes at once. */
function replaceFirstDeployment(ctx: Ctx, draft: Draft): void {
  const s = draft.state;
  const old = s.canaryRevision;
  if (old === undefined) return;
  const message = `first deployment ${short(old)} superseded by ${short(ctx.input.desiredRevision)} before it became Ready`;
  recordHistory(ctx, draft, {
    revision: old,
    modelVersion: s.canaryModelVersion,
    image: s.canaryImage,
    outcome: "Superseded",
    reason: PhaseReason.Superseded,
    message,
  });
  emit(draft, "Normal", EventReason.Superseded, message);
  clearCanary(draft);
}

/**
 * No stable yet: the revision comes up at full size and becomes stable once Ready and not failing
 * health. There is nothing to roll back to, so failures and the deadline only make it Degraded;
 * manual pause does not hold it (nothing to protect).
 */
function progressFirstDeployment(ctx: Ctx, draft: Draft): void {
  const s = draft.state;
  const revision = s.canaryRevision;
  const ready = ctx.ready(revision);
  const health = ctx.health(revision);
  if (ready >= ctx.total && health?.verdict !== "Fail") {
    promoteCanary(
      ctx,
      draft,
      PromotionReason.FirstDeployment,
      health === undefined ? "no verdict yet" : health.message,
    );
    return;
  }
  draft.waiting = {
    what: ready < ctx.total ? `${ready}/${ctx.total} ready` : `health (${health?.message ?? "no verdict"})`,
    deadline: true,
  };
}

function runCanary(ctx: Ctx, draft: Draft): void {
  const s = draft.state;
  const revision = s.canaryRevision;
  if (revision === undefined) return;
  const atAnalysis = () => {
    const step = ctx.steps[s.stepIndex];
    return step !== undefined && "analysis" in step ? s.stepIndex : undefined;
  };
  const early =
    manualAbort(ctx, draft) ?? workloadFailed(ctx, revision) ?? analysisFailed(ctx, revision, atAnalysis());
  if (early !== null) {
    abort(ctx, draft, early);
    return;
  }
  progressCanary(ctx, draft);
  if (s.canaryRevision !== revision) return;
  const late = analysisFailed(ctx, revision, atAnalysis()) ?? progressDeadlinePassed(ctx, draft, revision);
  if (late !== null) abort(ctx, draft, late);
}

function abort(ctx: Ctx, draft: Draft, cause: AbortCause): void {
  draft.abort = false;
  startWithdrawal(ctx, draft, "Abort", cause);
  tryCompleteWithdrawal(ctx, draft);
}

function reportUnusedRequests(ctx: Ctx, draft: Draft): void {
  const requests = ctx.input.requests;
  const unused: [boolean, string, string | undefined][] = [
    [draft.promote, "promote", requests.promote],
    [draft.promoteFull, "promoteFull", requests.promoteFull],
    [draft.abort, "abort", requests.abort],
  ];
  for (const [pending, name, id] of unused) {
    if (pending)
      emit(draft, "Normal", EventReason.RequestIgnored, `${name} (id ${id}): no canary in progress`);
  }
}

/** The earliest moment something changes by time alone (pause end, drain end, deadline). */
function requeueAfter(ctx: Ctx, draft: Draft, previousWeight: number): number | undefined {
  const s = draft.state;
  const candidates: number[] = s.pendingScaleDowns.map((p) => toMs(p.at, ctx.now) - ctx.now);
  const waiting = draft.waiting;
  const held = ctx.input.requests.paused && s.stableRevision !== undefined;
  if (waiting !== undefined && !held) {
    const elapsed = ctx.now - progressSince(ctx, draft, s.canaryRevision);
    if (waiting.pause?.durationMs !== undefined)
      candidates.push(waiting.pause.durationMs - waiting.pause.elapsedMs);
    if (waiting.deadline) {
      // A loading pod moves the deadline to the end of its startup budget.
      const loading = ctx.loading(s.canaryRevision);
      candidates.push(loading?.leftMs ?? ctx.input.rollout.progressDeadlineMs - elapsed);
    }
  }
  if (
    ctx.input.rollout.traffic !== "replicaRatio" &&
    s.canaryRevision !== undefined &&
    s.canaryWeight < previousWeight
  ) {
    candidates.push(SHRINK_AFTER_WEIGHT_CUT_MS);
  }
  const positive = candidates.filter((c) => c > 0);
  return positive.length === 0 ? undefined : Math.ceil(Math.min(...positive));
}
