// Taking a canary away: restore stable to full Ready capacity, only then move all traffic to it,
// then keep the canary's pods until the scale-down delay has passed (requests in flight drain).

import { EventReason } from "../api/reasons.ts";
import { toRfc3339 } from "../lib/time.ts";
import type { AbortCause } from "./canary-checks.ts";
import type { Ctx, Draft } from "./rollout-context.ts";
import { emit, recordHistory, short } from "./rollout-context.ts";
import type { Withdrawal } from "./types.ts";

const OUTCOME = { Abort: "Aborted", Supersede: "Superseded", Revert: "RolledBack" } as const;

export function startWithdrawal(ctx: Ctx, draft: Draft, cause: Withdrawal["cause"], why: AbortCause): void {
  const s = draft.state;
  const revision = s.canaryRevision;
  if (revision === undefined) return;
  const withdrawal: Withdrawal = {
    revision,
    cause,
    reason: why.reason,
    message: why.message,
    since: ctx.nowTime,
    replicas: ctx.observation(revision)?.specReplicas ?? 0,
  };
  recordHistory(ctx, draft, {
    revision,
    modelVersion: s.canaryModelVersion,
    image: s.canaryImage,
    outcome: OUTCOME[cause],
    reason: why.reason,
    message: why.message,
  });
  if (cause === "Abort") {
    s.rejected = { revision, reason: why.reason, message: why.message, at: ctx.nowTime };
    emit(
      draft,
      "Warning",
      EventReason.RolloutAborted,
      `${why.reason}: ${why.message}; rolling back to stable ${short(s.stableRevision)}`,
      { cause: why.reason },
    );
  } else {
    emit(
      draft,
      "Normal",
      cause === "Revert" ? EventReason.SpecReverted : EventReason.Superseded,
      why.message,
    );
  }
  s.withdrawal = withdrawal;
  clearCanary(draft);
  draft.waiting = undefined;
}

/** Completes the withdrawal once stable can carry all traffic (or the canary carried none). */
export function tryCompleteWithdrawal(ctx: Ctx, draft: Draft): void {
  const s = draft.state;
  const w = s.withdrawal;
  if (w === undefined) return;
  const stableReady = ctx.ready(s.stableRevision);
  if (s.canaryWeight > 0 && stableReady < ctx.total) {
    draft.waiting = {
      what: `stable ${short(s.stableRevision)} ${stableReady}/${ctx.total} ready before traffic leaves ${short(w.revision)}`,
      deadline: false,
    };
    return;
  }
  const delay =
    w.cause === "Abort"
      ? (ctx.input.rollout.abortScaleDownDelayMs ?? ctx.input.rollout.scaleDownDelayMs)
      : ctx.input.rollout.scaleDownDelayMs;
  const at = toRfc3339(ctx.now + delay);
  s.pendingScaleDowns = [
    ...s.pendingScaleDowns.filter((p) => p.revision !== w.revision),
    { revision: w.revision, at, replicas: w.replicas },
  ];
  s.canaryWeight = 0;
  s.withdrawal = undefined;
  draft.waiting = undefined;
  emit(
    draft,
    "Normal",
    EventReason.TrafficOnStable,
    `all traffic on stable ${short(s.stableRevision)} (${stableReady}/${ctx.total} ready); ${short(w.revision)} removed at ${at}`,
  );
}

export function clearCanary(draft: Draft): void {
  const s = draft.state;
  s.canaryRevision = undefined;
  s.canaryModelVersion = undefined;
  s.canaryImage = undefined;
  s.stepIndex = 0;
  s.stepStartedAt = undefined;
  s.canaryStartedAt = undefined;
  s.manualAdvance = undefined;
  s.headerRoute = undefined;
  s.shadow = undefined;
}
