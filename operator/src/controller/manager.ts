// Wires the operator together: informers → work queue → workers → reconciler, plus the request
// limiter, metrics and (optionally) the prober. Informer handlers only enqueue keys.
import type { Logger } from "pino";
import { KIND } from "../api/index.ts";
import { EventReason } from "../api/reasons.ts";
import { ApiClient } from "../kube/api-client.ts";
import type { KubeConfig, KubernetesObject } from "../kube/client.ts";
import { EventRecorder } from "../kube/events.ts";
import { apiServes, createInformers, type InformerSet } from "../kube/informers.ts";
import type { Leadership } from "../kube/leadership.ts";
import { RequestLimiter } from "../kube/request-limiter.ts";
import { type Clock, createSystemClock } from "../lib/clock.ts";
import type { OperatorMetrics } from "../metrics/registry.ts";
import type { Prober } from "../prober/prober.ts";
import { LABEL_DEPLOYMENT, MANAGED_SELECTOR } from "../render/labels.ts";
import { ownerLabelValue } from "../render/names.ts";
import { ProberHealth } from "./prober-health.ts";
import { createControllerRateLimiter } from "./rate-limiter.ts";
import { Reconciler } from "./reconciler.ts";
import { objectKey, Priority, WorkQueue } from "./work-queue.ts";
import { runWorkers, type WorkerPool } from "./workers.ts";

export interface ManagerOptions {
  kc: KubeConfig;
  log: Logger;
  namespaces: string[];
  workers: number;
  qps: number;
  burst: number;
  identity: string;
  /** Names this process on every request (the API server's audit log tells processes apart by it). */
  userAgent?: string;
  /** Whether this process leads now: checked before every write. Default: always (no election). */
  leadership?: Leadership;
  metrics?: OperatorMetrics;
  /** The prober, when on: wired to the reconciler (verdicts) and status.health. */
  prober?: Prober;
  clock?: Clock;
  /** Periodic resync of every ModelDeployment (ms). */
  resyncMs?: number;
  /** The download container image for new revisions (--model-downloader-image). */
  modelDownloaderImage?: string;
}

export interface Manager {
  /** Receives the prober's numbers (pass as the Prober's onStats). */
  onProbeStats?: ProberHealth["onStats"];
  informers: InformerSet;
  client: ApiClient;
  queue: WorkQueue;
  /** Caches are filled: /readyz may say ready. */
  synced(): boolean;
  /** Start reconciling (after winning leader election, or at once without it). */
  startWorkers(): void;
  stop(): Promise<void>;
}

function ownerKey(
  obj: KubernetesObject,
  mds: { get(name: string, namespace?: string): unknown; list(namespace?: string): KubernetesObject[] },
): string | undefined {
  const ns = obj.metadata?.namespace;
  const ref = obj.metadata?.ownerReferences?.find((r) => r.controller && r.kind === KIND);
  if (ref) return objectKey(ns, ref.name);
  // Pods are owned by ReplicaSets; our label names their ModelDeployment: its name when that fits a
  // label value (63), else a shortened form with a hash, matched against the namespace's owners.
  const label = obj.metadata?.labels?.[LABEL_DEPLOYMENT];
  if (!label) return undefined;
  if (mds.get(label, ns) !== undefined) return objectKey(ns, label);
  const owner = mds.list(ns).find((md) => ownerLabelValue(md.metadata?.name ?? "") === label);
  return objectKey(ns, owner?.metadata?.name ?? label);
}

export async function startManager(o: ManagerOptions): Promise<Manager> {
  const clock = o.clock ?? createSystemClock();
  const limiter = new RequestLimiter({ clock, qps: o.qps, burst: o.burst });
  const client = new ApiClient(o.kc, {
    limiter,
    observe: (verb, resource, code) => {
      o.metrics?.apiRequests.inc({ verb, resource, code: code === 0 ? "error" : String(code) });
    },
    ...(o.userAgent ? { userAgent: o.userAgent } : {}),
    ...(o.leadership ? { leadership: o.leadership } : {}),
  });
  const gatewayApi = await apiServes(o.kc, "gateway.networking.k8s.io/v1", "HTTPRoute");
  o.log.info({ gatewayApi }, "Gateway API discovery");
  const traefik = await apiServes(o.kc, "traefik.io/v1alpha1", "TraefikService");
  o.log.info({ traefik }, "Traefik CRD discovery");
  const informers = createInformers({
    kc: o.kc,
    namespaces: o.namespaces,
    labelSelector: MANAGED_SELECTOR,
    log: o.log,
    clock,
    gatewayApi,
    traefik,
    call: (verb, resource, fn) => client.call(verb, resource, fn),
    ...(o.resyncMs !== undefined ? { resyncMs: o.resyncMs } : {}),
  });
  const queue = new WorkQueue({ clock, rateLimiter: createControllerRateLimiter({ clock }) });
  o.metrics?.setQueueDepthSource(() => queue.len());

  // Objects that are already as they were (initial list, resync) go to the low-priority lane,
  // so real changes jump ahead after a restart.
  informers.modelDeployments.onChange((obj, _kind, info) => {
    queue.add(
      objectKey(obj.metadata?.namespace, obj.metadata?.name ?? ""),
      info.initialList ? Priority.Low : Priority.Normal,
    );
  });
  informers.modelDeployments.onResync((obj) =>
    queue.add(objectKey(obj.metadata?.namespace, obj.metadata?.name ?? ""), Priority.Low),
  );
  for (const inf of [
    informers.deployments,
    informers.services,
    informers.hpas,
    informers.pdbs,
    informers.replicaSets,
    informers.pods,
    informers.httpRoutes,
    informers.traefikServices,
  ]) {
    inf?.onChange((obj, _kind, info) => {
      const key = ownerKey(obj, informers.modelDeployments);
      if (key) queue.add(key, info.initialList ? Priority.Low : Priority.Normal);
    });
  }
  await Promise.all(informers.all().map((i) => i.start()));
  o.log.info("informer caches synced");

  const health = o.prober
    ? new ProberHealth({
        prober: o.prober,
        client,
        log: o.log.child({ component: "prober" }),
        now: () => clock.now(),
        enqueue: (key) => queue.add(key),
        ...(o.metrics ? { metrics: o.metrics } : {}),
      })
    : undefined;
  const reconciler = new Reconciler({
    modelDeployments: informers.modelDeployments,
    deployments: informers.deployments,
    services: informers.services,
    hpas: informers.hpas,
    pdbs: informers.pdbs,
    httpRoutes: informers.httpRoutes,
    traefikServices: informers.traefikServices,
    replicaSets: informers.replicaSets,
    pods: informers.pods,
    client,
    events: new EventRecorder(client, o.log, o.identity),
    log: o.log,
    now: () => clock.now(),
    gatewayApiAvailable: () => gatewayApi,
    traefikAvailable: () => traefik,
    ...(o.resyncMs ? { maxRequeueMs: o.resyncMs } : {}),
    ...(o.modelDownloaderImage ? { modelDownloaderImage: o.modelDownloaderImage } : {}),
    onChildFailure: (kind, reason) => o.metrics?.childErrors.inc({ kind, reason }),
    onRolloutEvent: (e) => {
      const m = o.metrics;
      if (!m) return;
      // Labels come from the event's fields, never its text; each has a small fixed set of values.
      if (e.reason === EventReason.CanaryStarted) m.rolloutsStarted.inc();
      else if (e.reason === EventReason.Promoted)
        m.rolloutsPromoted.inc({ how: e.fields?.how ?? "analysis" });
      else if (e.reason === EventReason.RolloutAborted)
        m.rolloutsAborted.inc({ reason: e.fields?.cause ?? "Unknown" });
    },
    ...(health ? { health } : {}),
  });

  let pool: WorkerPool | undefined;
  return {
    ...(health ? { onProbeStats: health.onStats } : {}),
    informers,
    client,
    queue,
    synced: () => informers.all().every((i) => i.hasSynced()),
    startWorkers() {
      if (pool) return;
      pool = runWorkers({
        queue,
        workers: o.workers,
        log: o.log,
        reconcile: async (key, signal) => {
          const end = o.metrics?.reconcileDuration.startTimer();
          try {
            void signal;
            const r = await reconciler.reconcile(key);
            const result = r.requeueAfterMs !== undefined ? "requeue" : "success";
            o.metrics?.reconcileTotal.inc({ result });
            end?.({ result });
            return r;
          } catch (err) {
            o.metrics?.reconcileTotal.inc({ result: "error" });
            o.metrics?.reconcileErrors.inc({
              reason: err instanceof Error ? err.constructor.name : "Unknown",
            });
            end?.({ result: "error" });
            throw err;
          }
        },
      });
      // Everything known gets one look when we start leading.
      for (const md of informers.modelDeployments.list()) {
        queue.add(objectKey(md.metadata?.namespace, md.metadata?.name ?? ""), Priority.Low);
      }
    },
    async stop() {
      await pool?.stop();
      queue.shutDown();
      await Promise.all(informers.all().map((i) => i.stop()));
    },
  };
}
