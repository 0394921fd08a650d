// The read-only view of one decision's inputs plus the draft it builds. Helpers here answer the
// questions every step asks: how many Ready (and warm) pods a revision has, what its verdict is.

import type { HistoryOutcome } from "../api/status.ts";
import { toMs, toRfc3339 } from "../lib/time.ts";
import type {
  HistoryEntry,
  PlannedStep,
  RevisionObservation,
  RevisionVerdict,
  RolloutEvent,
  RolloutInput,
  RolloutState,
} from "./types.ts";

/** What the canary (or first deployment) is waiting for at the end of this decision. */
export interface Waiting {
  /** For the status message, e.g. "canary 1/2 ready". */
  what: string;
  /** Counts toward the progress deadline (readiness, analysis); pauses do not. */
  deadline: boolean;
  /** A pause (or shadow) step: its length (undefined = until promoted) and time already spent. */
  pause?: { durationMs?: number; elapsedMs: number; shadow?: boolean };
}

export interface Draft {
  state: RolloutState;
  events: RolloutEvent[];
  waiting?: Waiting;
  /** Manual requests still to act on in this decision (cleared when acted on). */
  promote: boolean;
  promoteFull: boolean;
  abort: boolean;
}

export interface Ctx {
  input: RolloutInput;
  now: number;
  nowTime: string;
  total: number;
  steps: readonly PlannedStep[];
  observation(revision: string | undefined): RevisionObservation | undefined;
  /** Ready pods that may carry traffic: 0 while the prober says the revision is not warm yet. */
  ready(revision: string | undefined): number;
  health(revision: string | undefined): RevisionVerdict | undefined;
  /** The verdict an analysis step judges by: under that step's thresholds when it overrides them. */
  healthAt(revision: string | undefined, stepIndex: number): RevisionVerdict | undefined;
  /** A pod still loading its model: how much of its startup budget is left (≤ 0: spent). */
  loading(revision: string | undefined): Loading | undefined;
}

export interface Loading {
  pod: string;
  leftMs: number;
}

export function makeContext(input: RolloutInput): Ctx {
  const byRevision = new Map(input.observed.map((o) => [o.revision, o]));
  const observation = (revision: string | undefined) =>
    revision === undefined ? undefined : byRevision.get(revision);
  const health = (revision: string | undefined) =>
    revision === undefined ? undefined : input.health[revision];
  const healthAt = (revision: string | undefined, stepIndex: number) => {
    const h = health(revision);
    return h?.atStep?.[stepIndex] ?? h;
  };
  return {
    input,
    now: input.now,
    nowTime: toRfc3339(input.now),
    total: Math.max(0, Math.floor(input.totalReplicas)),
    steps: input.rollout.steps,
    observation,
    health,
    healthAt,
    loading: (revision) => {
      const l = observation(revision)?.loading;
      if (l === undefined) return undefined;
      return { pod: l.pod, leftMs: input.rollout.startupBudgetMs - (input.now - toMs(l.since, input.now)) };
    },
    ready: (revision) => {
      if (health(revision)?.warmedUp === false) return 0;
      return observation(revision)?.readyReplicas ?? 0;
    },
  };
}

/** First characters of a revision hash, for messages. */
export function short(revision: string | undefined): string {
  return revision === undefined ? "-" : revision.slice(0, 7);
}

export function recordHistory(
  ctx: Ctx,
  draft: Draft,
  entry: {
    revision: string;
    modelVersion?: string;
    image?: string;
    outcome: HistoryOutcome;
    reason: string;
    message: string;
  },
): void {
  const limit = Math.max(0, ctx.input.rollout.historyLimit ?? 10);
  const full: HistoryEntry = { ...entry, time: ctx.nowTime };
  // Drop undefined keys so the state stays plain, comparable JSON.
  if (full.modelVersion === undefined) delete full.modelVersion;
  if (full.image === undefined) delete full.image;
  draft.state.history = [full, ...draft.state.history].slice(0, limit);
}

export function emit(
  draft: Draft,
  type: RolloutEvent["type"],
  reason: RolloutEvent["reason"],
  message: string,
  fields?: RolloutEvent["fields"],
): void {
  draft.events.push(fields === undefined ? { type, reason, message } : { type, reason, message, fields });
}
