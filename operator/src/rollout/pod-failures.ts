// One classification of what can be wrong with a revision's pods: which container waiting reasons
// are reported at all, and which of them abort a canary at once instead of at the progress deadline.
// controller/observe.ts reports with it; rollout/canary-checks.ts decides with it.
import { WorkloadReason } from "../api/reasons.ts";

export interface PodFailureRule {
  /** What status and events say (ErrImagePull is folded into ImagePullBackOff). */
  reason: WorkloadReason;
  /** Abort the canary as soon as it is seen; otherwise only at the progress deadline. */
  fatal: boolean;
}

/** Container `state.waiting.reason` values worth reporting, each with why it is (or is not) fatal. */
export const WAITING_REASONS: Readonly<Record<string, PodFailureRule>> = {
  // Restarting over and over: the image or the model fails at start; waiting does not fix it.
  CrashLoopBackOff: { reason: WorkloadReason.CrashLoopBackOff, fatal: true },
  // The image cannot be pulled (wrong tag, no credentials). The kubelet retries, but a tag that does
  // not exist will not appear by itself; a new spec is the fix.
  ImagePullBackOff: { reason: WorkloadReason.ImagePullBackOff, fatal: true },
  ErrImagePull: { reason: WorkloadReason.ImagePullBackOff, fatal: true },
  // The image reference cannot even be parsed.
  InvalidImageName: { reason: WorkloadReason.InvalidImageName, fatal: true },
  // A referenced ConfigMap/Secret (or key) is missing. Fatal: the spec names it, and the canary would
  // otherwise sit at the deadline; a person fixes the reference and the new spec is a new revision.
  CreateContainerConfigError: { reason: WorkloadReason.CreateContainerConfigError, fatal: true },
  // The runtime failed to create or start the container. Often transient on a busy node (a volume
  // still attaching, a runtime hiccup) and retried by the kubelet: reported, aborts only at the
  // progress deadline.
  CreateContainerError: { reason: WorkloadReason.CreateContainerError, fatal: false },
  RunContainerError: { reason: WorkloadReason.RunContainerError, fatal: false },
};

/** Failures that come from the Deployment or the scheduler rather than a container. */
export const WORKLOAD_RULES: Readonly<Partial<Record<WorkloadReason, PodFailureRule>>> = {
  // The resource quota refuses the pods: nothing changes until someone raises the quota.
  QuotaExceeded: { reason: WorkloadReason.QuotaExceeded, fatal: true },
  // Other ReplicaFailure causes (FailedCreate from an admission webhook, a limit range, a name
  // clash): often fixed by someone else in the namespace without a new spec, so wait for the deadline.
  ReplicaFailure: { reason: WorkloadReason.ReplicaFailure, fatal: false },
  // The Deployment gave up by its own progressDeadlineSeconds (600 s): it has waited long enough.
  ProgressDeadlineExceeded: { reason: WorkloadReason.ProgressDeadlineExceeded, fatal: true },
  // A cluster autoscaler may add a node (GPU nodes take minutes): abort only at our progress
  // deadline, with Unschedulable as the reason.
  Unschedulable: { reason: WorkloadReason.Unschedulable, fatal: false },
};

const FATAL: ReadonlySet<string> = new Set(
  [...Object.values(WAITING_REASONS), ...Object.values(WORKLOAD_RULES)]
    .filter((r) => r?.fatal)
    .map((r) => r?.reason),
);

/** Whether a reported failure aborts a canary at once. Unknown reasons never do. */
export function isFatal(reason: string): boolean {
  return FATAL.has(reason);
}
