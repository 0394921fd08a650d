// Every reason the operator writes: on conditions, Events and history entries. One place, so a
// person (or an Argo CD script, an alert) can learn the whole vocabulary from one file, and code
// compares constants instead of strings. CamelCase, stable across releases: users match on them.

/** Why a revision's pods do not come up. The pod-failure classification lives in rollout/pod-failures.ts. */
export const WorkloadReason = {
  CrashLoopBackOff: "CrashLoopBackOff",
  /** ErrImagePull is reported as this too: the kubelet alternates the two for the same cause. */
  ImagePullBackOff: "ImagePullBackOff",
  InvalidImageName: "InvalidImageName",
  CreateContainerConfigError: "CreateContainerConfigError",
  CreateContainerError: "CreateContainerError",
  RunContainerError: "RunContainerError",
  Unschedulable: "Unschedulable",
  QuotaExceeded: "QuotaExceeded",
  /** The revision's Deployment reports its own progress deadline (Progressing=False). */
  ProgressDeadlineExceeded: "ProgressDeadlineExceeded",
  /** A ReplicaFailure that is not a quota: the Deployment controller's own reason is kept when it has one. */
  ReplicaFailure: "ReplicaFailure",
} as const;
export type WorkloadReason = (typeof WorkloadReason)[keyof typeof WorkloadReason];

/** Why a canary was aborted (Degraded condition, RolloutAborted event, history entry). */
export const AbortReason = {
  ManualAbort: "ManualAbort",
  AnalysisFailed: "AnalysisFailed",
  ProgressDeadlineExceeded: WorkloadReason.ProgressDeadlineExceeded,
  /** A started model server did not become Ready within runtime.startupTimeoutSeconds. */
  StartupBudgetExceeded: "StartupBudgetExceeded",
  Unschedulable: WorkloadReason.Unschedulable,
} as const;

/** Reasons of the Progressing / Paused / Degraded / Available conditions (the phase's reason). */
export const PhaseReason = {
  FirstDeployment: "FirstDeployment",
  CanaryProgressing: "CanaryProgressing",
  CanaryPauseStep: "CanaryPauseStep",
  ManualPause: "ManualPause",
  ScalingUp: "ScalingUp",
  RolloutComplete: "RolloutComplete",
  RolloutAborted: "RolloutAborted",
  StableUnhealthy: "StableUnhealthy",
  SpecReverted: "SpecReverted",
  Superseded: "Superseded",
  ProgressDeadlineExceeded: WorkloadReason.ProgressDeadlineExceeded,
  StartupBudgetExceeded: "StartupBudgetExceeded",
  /** The False side of Paused and Degraded. */
  NotPaused: "NotPaused",
  AsExpected: "AsExpected",
  MinimumReplicasAvailable: "MinimumReplicasAvailable",
  ReplicasUnavailable: "ReplicasUnavailable",
} as const;

/** What only the operator can catch about a spec: InvalidSpec=True and Degraded, nothing touched. */
export const SpecReason = {
  InvalidSpec: "InvalidSpec",
  ServiceAccountNotAllowed: "ServiceAccountNotAllowed",
  GatewayAPIUnavailable: "GatewayAPIUnavailable",
  /** spec.rollout.traffic.traefik, but the TraefikService kind is not served. */
  TraefikUnavailable: "TraefikUnavailable",
  /** A revision snapshot in status was not trusted (Warning Event only; the snapshot is ignored). */
  UntrustedStatus: "UntrustedStatus",
  /** The False side of InvalidSpec. */
  Valid: "Valid",
} as const;

/** The ReconcileError condition: a child could not be put in place (also the phase's reason then). */
export const ReconcileReason = {
  /** The API server refused the object (e.g. requests above limits, an invalid toleration). */
  ChildRejected: "ChildRejected",
  /** A child's name is taken by an object this ModelDeployment does not control. */
  NameConflict: "NameConflict",
  /** Any other API error (forbidden, unavailable): retried with backoff. */
  ApplyFailed: "ApplyFailed",
  /** The False side: every child is in place. */
  ChildrenApplied: "ChildrenApplied",
} as const;

/** The Healthy condition, written by the prober. */
export const HealthReason = {
  ProbesPassing: "ProbesPassing",
  ProbesFailing: "ProbesFailing",
  TooFewSamples: "TooFewSamples",
} as const;

/** Events of rollout transitions (one per transition, never for a reconcile that changed nothing). */
export const EventReason = {
  FirstDeployment: "FirstDeployment",
  CanaryStarted: "CanaryStarted",
  StepCompleted: "StepCompleted",
  StepPromoted: "StepPromoted",
  PromoteFull: "PromoteFull",
  Promoted: "Promoted",
  RolloutAborted: "RolloutAborted",
  Superseded: "Superseded",
  SpecReverted: "SpecReverted",
  TrafficOnStable: "TrafficOnStable",
  ScaledDown: "ScaledDown",
  Paused: "Paused",
  Resumed: "Resumed",
  Retry: "Retry",
  RequestIgnored: "RequestIgnored",
} as const;
export type EventReason = (typeof EventReason)[keyof typeof EventReason];

/** Why a revision was promoted (history reason of the Promoted entry; the `how` of the metric). */
export const PromotionReason = {
  /** No stable yet: the first revision became Ready and passed its health gate. */
  FirstDeployment: "FirstDeployment",
  /** Every step ran, analysis steps passed. */
  StepsCompleted: "StepsCompleted",
  /** No steps: all at once once the health gate passed. */
  HealthGatePassed: "HealthGatePassed",
} as const;
