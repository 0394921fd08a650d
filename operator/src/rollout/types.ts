// Plain input and output shapes of the rollout state machine. The vocabulary shared with status
// (verdicts, history, the persisted bookkeeping) comes from api/; the shapes only the engine uses
// live here. controller/rollout-input.ts maps the parsed ModelDeployment, its children and the
// prober's verdicts into these; controller/compose-status.ts maps the decision back into status.

import type { HeaderRoute } from "../api/header-route.ts";
import type { EventReason, WorkloadReason } from "../api/reasons.ts";
import type {
  HandledRequests,
  HistoryEntry,
  ManualAdvance,
  PendingScaleDown,
  Phase,
  Rejection,
  Verdict,
  Withdrawal,
} from "../api/status.ts";
import type { Rfc3339 } from "../lib/time.ts";

export type { HandledRequests, HistoryEntry, PendingScaleDown, Rejection, Rfc3339, Withdrawal };

/**
 * How traffic is split: by ready-pod ratio behind one Service, or by weights (HTTPRoute backend
 * weights, or a Traefik `weighted` TraefikService). The weighted modes can also mirror.
 */
export type TrafficMode = "replicaRatio" | "gatewayAPI" | "traefik";

/**
 * One rollout step as the engine runs it (spec.rollout.steps[] with durations in ms; exactly one
 * key). setWeight 0 is a "dark" canary: one pod, probed directly by the prober, no user traffic. A
 * pause without durationMs waits for a promote request.
 */
export type PlannedStep =
  | { setWeight: number }
  | { pause: { durationMs?: number } }
  // Thresholds live in the prober; the state machine only reads the verdict.
  | { analysis: Record<string, unknown> }
  // Requests matching go to the canary whatever the weight; no matches removes the route.
  | { headerRoute: HeaderRoute }
  // A pause that mirrors `percent` of live requests to the canary (answers discarded).
  | { shadow: { percent: number; durationMs?: number } };

export interface RolloutConfig {
  steps: readonly PlannedStep[];
  /** A step waiting on readiness or analysis for this long aborts the canary. */
  progressDeadlineMs: number;
  /**
   * How long a started model server may take to become Ready (runtime.startupTimeoutSeconds). While
   * a pod is within it the revision is loading, not stuck: the progress deadline does not run.
   */
  startupBudgetMs: number;
  /** How long a revision that lost its traffic keeps its pods so in-flight requests drain. */
  scaleDownDelayMs: number;
  /** Same, after an abort. Absent: scaleDownDelayMs. 0: remove at once. */
  abortScaleDownDelayMs?: number;
  traffic: TrafficMode;
  /** Background analysis: a Fail verdict for the canary aborts it at any step. */
  analysisConfigured: boolean;
  /** Bound of state.history. Absent: 10. */
  historyLimit?: number;
}

/** What the revision's Deployment and pods look like now (from the informer caches). */
export interface RevisionObservation {
  revision: string;
  specReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  updatedReplicas: number;
  /** The worst thing wrong with its pods, if anything (crash loop, image pull, scheduling, quota). */
  failure?: WorkloadFailure;
  /** The not-yet-Ready pod whose server started first (it runs out of startup budget first). */
  loading?: { pod: string; since: Rfc3339 };
  /** When a pod of the revision last became Ready: progress, so the progress deadline counts from it. */
  lastReadyAt?: Rfc3339;
}

export interface WorkloadFailure {
  reason: WorkloadReason;
  message: string;
}

/** Same shape as the prober's Evidence, so its judgement can be passed through unchanged. */
export interface VerdictEvidence {
  metric: string;
  value: number;
  threshold: number;
  samples: number;
  ok: boolean;
}

/**
 * The analysis gate's answer for one revision. Without the prober, the reconciler passes `Pass` for a
 * Ready revision. `warmedUp: false` means "Ready but not warm": such pods are not counted as capacity
 * and get no traffic moved to them. Absent = Inconclusive.
 */
export interface RevisionVerdict {
  verdict: Verdict;
  message: string;
  evidence?: readonly VerdictEvidence[];
  warmedUp?: boolean;
  /**
   * The verdict under an analysis step's own thresholds, by step index, for steps that override
   * spec.rollout.analysis; the fields above are judged with spec.rollout.analysis. A step walked in
   * the same decision as the step before it is judged with its own thresholds, not the last written.
   */
  atStep?: Readonly<Record<number, Omit<RevisionVerdict, "atStep" | "warmedUp">>>;
}

/**
 * Manual operations, from annotations: each value is an id (e.g. a timestamp). A request is acted on
 * once, when its id differs from the one in state.handledRequests. `paused` is level-triggered.
 */
export interface ManualRequests {
  promote?: string;
  promoteFull?: string;
  abort?: string;
  retry?: string;
  paused: boolean;
}

/**
 * Everything the rollout remembers between reconciles (goes into status, so it is plain JSON).
 * A restarted operator continues from it exactly.
 */
export interface RolloutState {
  stableRevision?: string;
  stableModelVersion?: string;
  stableImage?: string;
  /** The revision the steps apply to; with no stableRevision it is the first deployment. */
  canaryRevision?: string;
  canaryModelVersion?: string;
  canaryImage?: string;
  /** Index of the step in progress; steps.length = all steps done, promoting. */
  stepIndex: number;
  /** When the current step began (shifted forward by manual-pause time, so pauses don't count). */
  stepStartedAt?: Rfc3339;
  canaryStartedAt?: Rfc3339;
  /** Traffic percentage actually moved to the canary (or to the revision being withdrawn). */
  canaryWeight: number;
  /** Requests matching it go to the canary whatever the weight (until promotion or abort). */
  headerRoute?: HeaderRoute;
  /** The mirror in force during a shadow step: this share of live requests is copied to the canary. */
  shadow?: { percent: number };
  /** When the current manual pause began. */
  pausedAt?: Rfc3339;
  withdrawal?: Withdrawal;
  rejected?: Rejection;
  /** A person moved this canary past a step (promote) or past all of them (promoteFull). */
  manualAdvance?: ManualAdvance;
  pendingScaleDowns: PendingScaleDown[];
  handledRequests: HandledRequests;
  /** Newest first, bounded by rollout.historyLimit. */
  history: HistoryEntry[];
}

export interface RolloutInput {
  /** Hash of what changes the pods in the current spec. */
  desiredRevision: string;
  desiredModelVersion?: string;
  desiredImage?: string;
  generation: number;
  rollout: RolloutConfig;
  /** spec.replicas, or the HPA's current choice through the scale subresource. */
  totalReplicas: number;
  /** Persisted state; `{}` for a new resource. */
  state: Partial<RolloutState>;
  observed: readonly RevisionObservation[];
  /** Verdicts by revision. */
  health: Readonly<Record<string, RevisionVerdict>>;
  requests: ManualRequests;
  /** Milliseconds since the epoch. */
  now: number;
}

export type RevisionRole = "stable" | "canary" | "draining";

/** A revision that must exist with this many replicas. Revisions not listed are deleted. */
export interface DesiredRevision {
  revision: string;
  replicas: number;
  role: RevisionRole;
}

/**
 * replicaRatio: one Service; `revision` pins it to one revision, undefined selects every live
 * revision (traffic follows the ready-pod ratio). gatewayAPI / traefik: an HTTPRoute or a
 * TraefikService over `-stable` and `-canary` Services pointing at the named revisions.
 */
export type TrafficDecision =
  | { mode: "replicaRatio"; serviceSelector: { revision?: string } }
  | {
      mode: "gatewayAPI" | "traefik";
      stableRevision?: string;
      canaryRevision?: string;
      weights: { stable: number; canary: number };
      /** Requests matching it go to the canary Service only. */
      headerRoute?: HeaderRoute;
      /** Percentage of live requests also copied to the canary Service (answers discarded). */
      shadowPercent?: number;
    };

export type RolloutPhase = Phase;

export interface DesiredCondition {
  type: "Progressing" | "Paused" | "Degraded" | "Available";
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  /** The generation this condition was computed from. */
  observedGeneration: number;
}

/**
 * How a canary became stable, for the promotions metric: `firstDeployment` (nothing to compare
 * with), `analysis` (every step ran on its own), `manual` (a promote skipped a step), `full`
 * (promoteFull skipped the rest).
 */
export type PromotionHow = "firstDeployment" | "analysis" | "manual" | "full";

/** A transition, as an Event on the resource; `fields` carry what metrics count, never parsed from text. */
export interface RolloutEvent {
  type: "Normal" | "Warning";
  reason: EventReason;
  message: string;
  fields?: { how?: PromotionHow; cause?: string };
}

export interface RolloutDecision {
  state: RolloutState;
  revisions: DesiredRevision[];
  traffic: TrafficDecision;
  phase: RolloutPhase;
  message: string;
  canaryWeight: number;
  currentStepIndex: number;
  conditions: DesiredCondition[];
  /** Only for transitions, never for a reconcile that changed nothing. */
  events: RolloutEvent[];
  /** When to look again although nothing may change in the cluster (pause end, drain, deadline). */
  requeueAfterMs?: number;
}
