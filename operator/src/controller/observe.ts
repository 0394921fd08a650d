// What the children say, per revision: replica counts from the Deployments, and the reasons a
// person needs (crash loop, image pull, unschedulable, quota, progress deadline) from the
// Deployments' conditions and their pods' statuses. Pure: takes cached objects, returns values.
import { WorkloadReason } from "../api/reasons.ts";
import { type DeploymentMarks, DOWNLOADER_CONTAINER } from "../render/features.ts";
import { LABEL_REVISION } from "../render/labels.ts";
import { WAITING_REASONS } from "../rollout/pod-failures.ts";
import type { RevisionObservation, WorkloadFailure } from "../rollout/types.ts";

export interface ObservedDeployment {
  metadata?: {
    name?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    generation?: number;
    deletionTimestamp?: unknown;
  };
  /** The pod template as far as render/features.ts reads it (what the revision was made with). */
  spec?: { replicas?: number; template?: NonNullable<DeploymentMarks["spec"]>["template"] };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    updatedReplicas?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

export interface ObservedPod {
  metadata?: { name?: string; labels?: Record<string, string>; deletionTimestamp?: unknown };
  /** A hostNetwork pod's IP is its node's: never a probe target. */
  spec?: { hostNetwork?: boolean };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: {
      type: string;
      status: string;
      reason?: string;
      message?: string;
      lastTransitionTime?: string | Date;
    }[];
    containerStatuses?: ContainerStatus[];
    /** The model download container's (render/model-artifacts.ts): a failed download shows here. */
    initContainerStatuses?: ContainerStatus[];
  };
}

interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  // A LIST hands over Dates, a watch strings.
  state?: { waiting?: { reason?: string; message?: string }; running?: { startedAt?: string | Date } };
}

/** What the rollout engine reads of a revision, plus what the reconciler and the prober need. */
export interface ObservedRevision extends RevisionObservation {
  deploymentName: string;
  replicas: number;
  /** The Deployment controller has seen our latest write (its status counts are current). */
  settled: boolean;
  /** Ready pods the prober may probe: with a pod IP of their own (never hostNetwork). */
  readyPods: { name: string; ip: string }[];
}

function podFailure(pods: ObservedPod[]): WorkloadFailure | undefined {
  for (const p of pods) {
    if (p.metadata?.deletionTimestamp) continue;
    const containers = [
      ...(p.status?.initContainerStatuses ?? []).map((c) => ({ c, what: `init container ${c.name}: ` })),
      ...(p.status?.containerStatuses ?? []).map((c) => ({ c, what: "" })),
    ];
    for (const { c, what } of containers) {
      const w = c.state?.waiting;
      const rule = w?.reason === undefined ? undefined : WAITING_REASONS[w.reason];
      if (w !== undefined && rule !== undefined) {
        return {
          reason: rule.reason,
          message: `pod ${p.metadata?.name}: ${what}${w.reason}${w.message ? `: ${w.message}` : ""}`,
        };
      }
    }
    const sched = p.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False");
    if (sched?.reason === "Unschedulable") {
      return {
        reason: WorkloadReason.Unschedulable,
        message: `pod ${p.metadata?.name}: ${sched.message ?? "unschedulable"}`,
      };
    }
  }
  return undefined;
}

function deploymentFailure(d: ObservedDeployment): WorkloadFailure | undefined {
  for (const c of d.status?.conditions ?? []) {
    if (c.type === "Progressing" && c.status === "False" && c.reason === "ProgressDeadlineExceeded") {
      return {
        reason: WorkloadReason.ProgressDeadlineExceeded,
        message: c.message ?? "progress deadline exceeded",
      };
    }
    if (c.type === "ReplicaFailure" && c.status === "True") {
      const quota = /quota/i.test(c.message ?? "");
      // The Deployment controller's own reason (e.g. FailedCreate) stays in the message.
      const detail = c.reason === undefined ? "" : `${c.reason}: `;
      return {
        reason: quota ? WorkloadReason.QuotaExceeded : WorkloadReason.ReplicaFailure,
        message: `${detail}${c.message ?? "cannot create pods"}`,
      };
    }
  }
  return undefined;
}

/**
 * The not-yet-Ready pod whose containers all run and started first: a model server loading its
 * weights, inside (or past) its startup budget. A pod whose model download container runs
 * (render/model-artifacts.ts) is loading too, since the download started: the download gets the
 * startup budget, then the server gets it again from its own start (as the kubelet's startup probe
 * does). A pod still pulling or crashing is not loading.
 */
function podLoading(pods: ObservedPod[]): { pod: string; since: string } | undefined {
  let first: { pod: string; since: string; ms: number } | undefined;
  for (const p of pods) {
    if (p.metadata?.deletionTimestamp || isPodReady(p)) continue;
    const download = p.status?.initContainerStatuses?.find((c) => c.name === DOWNLOADER_CONTAINER);
    const downloading = p.status?.phase === "Pending" && download?.state?.running?.startedAt !== undefined;
    if (p.status?.phase !== "Running" && !downloading) continue;
    const starts = downloading
      ? [download?.state?.running?.startedAt]
      : (p.status?.containerStatuses ?? []).map((c) => c.state?.running?.startedAt);
    if (starts.length === 0 || starts.some((t) => t === undefined)) continue;
    // The pod is loading since its last container started.
    const ms = Math.max(...starts.map((t) => new Date(t as string | Date).getTime()));
    if (Number.isNaN(ms) || (first !== undefined && first.ms <= ms)) continue;
    first = { pod: p.metadata?.name ?? "", since: new Date(ms).toISOString(), ms };
  }
  return first === undefined ? undefined : { pod: first.pod, since: first.since };
}

/** When the most recent of the revision's Ready pods became Ready. */
function lastReadyAt(pods: ObservedPod[]): string | undefined {
  let last = Number.NaN;
  for (const p of pods) {
    if (!isPodReady(p)) continue;
    const at = p.status?.conditions?.find((c) => c.type === "Ready")?.lastTransitionTime;
    const ms = at === undefined ? Number.NaN : new Date(at).getTime();
    if (!Number.isNaN(ms) && !(ms <= last)) last = ms;
  }
  return Number.isNaN(last) ? undefined : new Date(last).toISOString();
}

export function isPodReady(p: ObservedPod): boolean {
  return (
    !p.metadata?.deletionTimestamp &&
    p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true
  );
}

/** One observation per Deployment (= per revision), pods matched by the revision label. */
export function observeRevisions(deployments: ObservedDeployment[], pods: ObservedPod[]): ObservedRevision[] {
  const out: ObservedRevision[] = [];
  for (const d of deployments) {
    const revision = d.metadata?.labels?.[LABEL_REVISION];
    if (!revision || d.metadata?.deletionTimestamp) continue;
    const own = pods.filter((p) => p.metadata?.labels?.[LABEL_REVISION] === revision);
    const failure = deploymentFailure(d) ?? podFailure(own);
    const loading = podLoading(own);
    const readyAt = lastReadyAt(own);
    const s = d.status ?? {};
    out.push({
      revision,
      deploymentName: d.metadata?.name ?? "",
      specReplicas: d.spec?.replicas ?? 0,
      replicas: s.replicas ?? 0,
      readyReplicas: s.readyReplicas ?? 0,
      availableReplicas: s.availableReplicas ?? 0,
      updatedReplicas: s.updatedReplicas ?? 0,
      settled: (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0),
      ...(failure ? { failure } : {}),
      ...(loading ? { loading } : {}),
      ...(readyAt ? { lastReadyAt: readyAt } : {}),
      readyPods: own
        .filter(isPodReady)
        .filter((p) => p.status?.podIP && p.spec?.hostNetwork !== true)
        .map((p) => ({ name: p.metadata?.name ?? "", ip: p.status?.podIP ?? "" }))
        .sort((a, b) => byCodeUnit(a.name, b.name)),
    });
  }
  return out.sort((a, b) => byCodeUnit(a.revision, b.revision));
}

/**
 * Plain string order, the same on every machine. localeCompare would load ICU's collation data
 * into the process (~3 MiB of RSS) and cost far more per call, on every reconcile.
 */
function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
