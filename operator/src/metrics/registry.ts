// The operator's Prometheus metrics: one Registry per process, built here and passed around, so
// tests and several operators in one process never share prom-client's global default registry.
//
// Cardinality: only probe counts carry a per-revision label (namespace, name, revision); call
// forgetRevision when a revision is gone. Per-revision latency quantiles live in status.health,
// so the probe latency histogram is per result only.

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { type AgreementMetrics, createAgreementMetrics } from "./agreement.ts";
import { createStreamMetrics, type StreamMetrics } from "./stream-metrics.ts";

/** Outcome of one reconcile pass. */
export type ReconcileResult = "success" | "requeue" | "error";
/** Outcomes of one probe request: the `result` label's values. */
export const PROBE_RESULTS = ["ok", "http-error", "timeout", "connection-error", "bad-response"] as const;
export type ProbeResult = (typeof PROBE_RESULTS)[number];
/** What the prober concluded about a revision's window of probes. */
export type Verdict = "healthy" | "unhealthy" | "inconclusive";

export type OperatorMetrics = {
  registry: Registry;
  reconcileTotal: Counter<"result">;
  reconcileDuration: Histogram<"result">;
  /** Errors by a short, bounded reason (e.g. "Conflict", "InvalidSpec", "Transient"), never a message. */
  reconcileErrors: Counter<"reason">;
  /** Children that could not be applied or pruned, by kind and reason (ChildRejected, NameConflict, ApplyFailed). */
  childErrors: Counter<"kind" | "reason">;
  workQueueDepth: Gauge;
  /** verb: get|list|watch|create|update|patch|apply|delete; resource: plural; code: HTTP status or "error". */
  apiRequests: Counter<"verb" | "resource" | "code">;
  /** 1 while this process leads (or when leader election is off), else 0. */
  leaderStatus: Gauge;
  probes: Counter<"namespace" | "name" | "revision" | "result">;
  probeDuration: Histogram<"result">;
  verdicts: Counter<"verdict">;
  rolloutsStarted: Counter;
  rolloutsPromoted: Counter<"how">;
  rolloutsAborted: Counter<"reason">;
  /** Output agreement per canary revision (metrics/agreement.ts). */
  agreement: AgreementMetrics;
  /** TTFT, TPOT and tokens/s of revisions probed with spec.health.stream (stream-metrics.ts). */
  streams: StreamMetrics;
  /** The work queue calls this once it exists; the gauge reads it at scrape time. */
  setQueueDepthSource(depth: () => number): void;
  /** Drop a revision's probe series once the revision is gone, so series do not pile up. */
  forgetRevision(namespace: string, name: string, revision: string): Promise<void>;
};

export type MetricsOptions = {
  /** Node.js process metrics (memory, CPU, event loop lag); on by default. */
  processMetrics?: boolean;
  /** Label put on every series, e.g. the pod name. */
  defaultLabels?: Record<string, string>;
};

const PREFIX = "modelship_";

export function createMetrics(options: MetricsOptions = {}): OperatorMetrics {
  const registry = new Registry();
  if (options.defaultLabels) registry.setDefaultLabels(options.defaultLabels);
  // The event loop lag histogram samples on a timer: prom-client's default 10 ms wakes an idle
  // operator 100 times a second (~8 CPU-ms a second, more than its resyncs cost). 100 ms still
  // shows any stall that matters to a controller.
  if (options.processMetrics ?? true)
    collectDefaultMetrics({ register: registry, prefix: PREFIX, eventLoopMonitoringPrecision: 100 });
  const registers = [registry];

  let queueDepth: () => number = () => 0;
  const streams = createStreamMetrics(registry, PREFIX);

  const probes = new Counter({
    name: `${PREFIX}probes_total`,
    help: "Health probes sent to model server pods, by revision and result.",
    labelNames: ["namespace", "name", "revision", "result"] as const,
    registers,
  });

  const agreement = createAgreementMetrics(PREFIX, registers);

  return {
    registry,
    agreement,
    reconcileTotal: new Counter({
      name: `${PREFIX}reconcile_total`,
      help: "Reconcile passes of ModelDeployments, by result.",
      labelNames: ["result"] as const,
      registers,
    }),
    reconcileDuration: new Histogram({
      name: `${PREFIX}reconcile_duration_seconds`,
      help: "Time one reconcile pass took, by result.",
      labelNames: ["result"] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    reconcileErrors: new Counter({
      name: `${PREFIX}reconcile_errors_total`,
      help: "Reconcile passes that failed, by reason.",
      labelNames: ["reason"] as const,
      registers,
    }),
    childErrors: new Counter({
      name: `${PREFIX}child_errors_total`,
      help: "Child objects that could not be applied or pruned (the ReconcileError condition), by kind and reason.",
      labelNames: ["kind", "reason"] as const,
      registers,
    }),
    workQueueDepth: new Gauge({
      name: `${PREFIX}workqueue_depth`,
      help: "Keys waiting in the reconcile work queue.",
      registers,
      collect() {
        this.set(queueDepth());
      },
    }),
    apiRequests: new Counter({
      name: `${PREFIX}kube_api_requests_total`,
      help: "Requests to the Kubernetes API, by verb, resource and HTTP status code.",
      labelNames: ["verb", "resource", "code"] as const,
      registers,
    }),
    leaderStatus: new Gauge({
      name: `${PREFIX}leader_status`,
      help: "1 while this process is the leader (or leader election is off), else 0.",
      registers,
    }),
    probes,
    probeDuration: new Histogram({
      name: `${PREFIX}probe_duration_seconds`,
      help: "Latency of health probes, by result.",
      labelNames: ["result"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    verdicts: new Counter({
      name: `${PREFIX}verdicts_total`,
      help: "Health verdicts the prober handed to rollouts, by verdict.",
      labelNames: ["verdict"] as const,
      registers,
    }),
    rolloutsStarted: new Counter({
      name: `${PREFIX}rollouts_started_total`,
      help: "Canary rollouts started.",
      registers,
    }),
    rolloutsPromoted: new Counter({
      name: `${PREFIX}rollouts_promoted_total`,
      help: "Revisions promoted to stable, by how: firstDeployment (nothing to compare with), analysis (every step ran), manual (a promote skipped a step), full (promoteFull skipped the rest).",
      labelNames: ["how"] as const,
      registers,
    }),
    rolloutsAborted: new Counter({
      name: `${PREFIX}rollouts_aborted_total`,
      help: "Canary rollouts aborted, by reason.",
      labelNames: ["reason"] as const,
      registers,
    }),
    streams,
    setQueueDepthSource(depth) {
      queueDepth = depth;
    },
    async forgetRevision(namespace, name, revision) {
      // By label set, not by listing every series: deleting 1,000 objects must not cost 1,000 full
      // copies of the series (a label set never written is a no-op).
      for (const result of PROBE_RESULTS) probes.remove({ namespace, name, revision, result });
      await agreement.forgetRevision(namespace, name, revision);
      streams.forget({ namespace, name, revision });
    },
  };
}
