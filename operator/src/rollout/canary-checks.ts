// "Should the canary be aborted?" as an ordered chain of small predicates; the first hit wins and
// its reason becomes the Degraded condition, the event and the history entry.
import { AbortReason, WorkloadReason } from "../api/reasons.ts";
import { formatDuration, toMs } from "../lib/time.ts";
import { isFatal } from "./pod-failures.ts";
import type { Ctx, Draft } from "./rollout-context.ts";
import { short } from "./rollout-context.ts";
import type { RevisionVerdict } from "./types.ts";

export interface AbortCause {
  reason: string;
  message: string;
}

export function describeVerdict(health: RevisionVerdict | undefined): string {
  if (health === undefined) return "no verdict yet";
  const evidence = (health.evidence ?? [])
    .map((e) => `${e.metric} ${e.value} (limit ${e.threshold}, ${e.ok ? "ok" : "failed"}, n=${e.samples})`)
    .join("; ");
  return evidence === "" ? health.message : `${health.message} [${evidence}]`;
}

export function manualAbort(ctx: Ctx, draft: Draft): AbortCause | null {
  if (!draft.abort) return null;
  return { reason: AbortReason.ManualAbort, message: `abort requested (id ${ctx.input.requests.abort})` };
}

export function workloadFailed(ctx: Ctx, revision: string): AbortCause | null {
  const failure = ctx.observation(revision)?.failure;
  if (failure === undefined || !isFatal(failure.reason)) return null;
  return { reason: failure.reason, message: `canary ${short(revision)}: ${failure.message}` };
}

/**
 * Background analysis (any step) or an analysis step (`analysisStep`, its index, judged with its
 * own thresholds): a Fail verdict aborts.
 */
export function analysisFailed(
  ctx: Ctx,
  revision: string,
  analysisStep: number | undefined,
): AbortCause | null {
  if (!ctx.input.rollout.analysisConfigured && analysisStep === undefined) return null;
  const health = analysisStep === undefined ? ctx.health(revision) : ctx.healthAt(revision, analysisStep);
  if (health?.verdict !== "Fail") return null;
  return {
    reason: AbortReason.AnalysisFailed,
    message: `canary ${short(revision)} failed analysis: ${describeVerdict(health)}`,
  };
}

/**
 * Checked after the steps ran: only a step that waits on readiness or analysis has a deadline.
 * A pod still loading its model within its startup budget is not stuck, so the progress deadline
 * waits for the budget; a pod that spends the whole budget without becoming Ready is.
 */
export function progressDeadlinePassed(ctx: Ctx, draft: Draft, revision: string): AbortCause | null {
  const waiting = draft.waiting;
  if (waiting === undefined || !waiting.deadline || draft.state.pausedAt !== undefined) return null;
  const cause = stuck(ctx, draft, revision);
  return cause === null ? null : { ...cause, message: `canary ${short(revision)}: ${cause.message}` };
}

/** Why the revision counts as stuck now; the caller decides whether a deadline applies at all. */
export function stuck(ctx: Ctx, draft: Draft, revision: string): AbortCause | null {
  const loading = ctx.loading(revision);
  if (loading !== undefined) {
    if (loading.leftMs > 0) return null;
    const budget = formatDuration(ctx.input.rollout.startupBudgetMs);
    return {
      reason: AbortReason.StartupBudgetExceeded,
      message: `pod ${loading.pod} not Ready after its startup budget of ${budget} (runtime.startupTimeoutSeconds)`,
    };
  }
  const waited = ctx.now - progressSince(ctx, draft, revision);
  if (waited < ctx.input.rollout.progressDeadlineMs) return null;
  const failure = ctx.observation(revision)?.failure;
  const cause = failure === undefined ? "" : `; ${failure.reason}: ${failure.message}`;
  return {
    reason:
      failure?.reason === WorkloadReason.Unschedulable
        ? AbortReason.Unschedulable
        : AbortReason.ProgressDeadlineExceeded,
    message: `no progress for ${formatDuration(waited)}: waiting for ${draft.waiting?.what ?? "readiness"}${cause}`,
  };
}

/**
 * The last sign of progress: the step's start, or a pod of the revision becoming Ready after it (a
 * model that loaded for 12 minutes then gets the whole deadline to warm up and pass its checks).
 */
export function progressSince(ctx: Ctx, draft: Draft, revision: string | undefined): number {
  const started = toMs(draft.state.stepStartedAt, ctx.now);
  const readyAt = ctx.observation(revision)?.lastReadyAt;
  // A clock ahead of ours must not push the deadline into the future.
  return readyAt === undefined ? started : Math.max(started, Math.min(ctx.now, toMs(readyAt, started)));
}

/** "…, loading model, 9m 30s of the startup budget left" for a wait a loading pod explains. */
export function describeLoading(ctx: Ctx, revision: string | undefined): string {
  const loading = ctx.loading(revision);
  if (loading === undefined || loading.leftMs <= 0) return "";
  return `; loading model, ${formatDuration(loading.leftMs)} of the startup budget left`;
}
