// apply → Available for N ModelDeployments, against its floor: a bare client that creates the same
// children (one Deployment + one Service per object, rendered by operator/src/render) at the same
// client QPS/burst. Per object: time from the batch start to that object Available (operator:
// status.phase Healthy and observedGeneration == generation; floor: its Deployment Available).
// Same cluster, separate namespaces, floor first then operator, for each N.
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type V1Deployment,
  type V1Service,
} from "@kubernetes/client-node";
import { ModelDeploymentSpecSchema } from "../../operator/src/api/index.ts";
import { RequestLimiter } from "../../operator/src/kube/request-limiter.ts";
import { createSystemClock } from "../../operator/src/lib/clock.ts";
import { renderDeployment } from "../../operator/src/render/deployment.ts";
import { computeRevision } from "../../operator/src/render/revision.ts";
import { renderService } from "../../operator/src/render/service.ts";
import type { ClusterState } from "../cluster/control-plane.ts";
import {
  createModelDeployments,
  DEFAULT_SETTINGS,
  deploymentAvailable,
  kubeConfigOf,
  log,
  machine,
  mdAvailable,
  mdSpec,
  type OperatorSettings,
  percentile,
  round,
  scrape,
  startOperator,
  watchUntilReady,
  withCluster,
} from "./common.ts";

const CAP_MS: Record<number, number> = { 1: 60_000, 100: 240_000, 1000: 600_000 };

export interface Side {
  ready: number;
  of: number;
  p50Ms: number;
  p99Ms: number;
  totalMs: number;
  /** Repeated runs only: each run's total. */
  runsMs?: number[];
}

const REPEATS_N1 = 7;

/** Repeated runs of one size: the median run's numbers, p99 over the runs' totals, each total kept. */
export function combine(sides: Side[]): Side {
  if (sides.length === 1) return sides[0] as Side;
  const totals = sides.map((x) => x.totalMs);
  return {
    ready: Math.min(...sides.map((x) => x.ready)),
    of: sides[0]?.of ?? 0,
    p50Ms: round(percentile(totals, 50), 0),
    p99Ms: round(percentile(totals, 99), 0),
    totalMs: round(percentile(totals, 50), 0),
    runsMs: totals,
  };
}

export function summarize(readyAt: Map<string, number>, t0: number, n: number): Side {
  const xs = [...readyAt.values()].map((t) => t - t0);
  return {
    ready: xs.length,
    of: n,
    p50Ms: round(percentile(xs, 50), 0),
    p99Ms: round(percentile(xs, 99), 0),
    totalMs: round(Math.max(...xs), 0),
  };
}

export async function floor(c: ClusterState, ns: string, n: number, s: OperatorSettings): Promise<Side> {
  const kc = kubeConfigOf(c);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  await core.createNamespace({ body: { metadata: { name: ns } } });
  const spec = ModelDeploymentSpecSchema.parse(mdSpec());
  const revision = computeRevision(spec);
  const limiter = new RequestLimiter({ clock: createSystemClock(), qps: s.qps, burst: s.burst });
  let t0 = 0;
  const readyAt = await watchUntilReady(
    kc,
    `/apis/apps/v1/namespaces/${ns}/deployments`,
    n,
    deploymentAvailable,
    Date.now() + (CAP_MS[n] ?? 600_000),
    () => {
      t0 = performance.now();
      // Every object at once, as the operator's workers would have them: the limiter paces requests.
      for (let i = 0; i < n; i++) {
        const owner = { name: `m-${i}`, namespace: ns, uid: "" };
        const d = renderDeployment({
          owner,
          spec,
          revision,
          replicas: 1,
        });
        const svc = renderService({ owner, spec });
        // No ownerReferences: there is no owner, and the garbage collector would delete the children.
        delete d.metadata.ownerReferences;
        delete svc.metadata.ownerReferences;
        void (async () => {
          await limiter.acquire();
          await apps.createNamespacedDeployment({ namespace: ns, body: d as V1Deployment });
          await limiter.acquire();
          await core.createNamespacedService({ namespace: ns, body: svc as V1Service });
        })().catch((err: unknown) => log(`floor create m-${i}: ${String(err).slice(0, 200)}`));
      }
    },
  );
  return summarize(readyAt, t0, n);
}

export async function operator(c: ClusterState, ns: string, n: number): Promise<Side> {
  const kc = kubeConfigOf(c);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  await core.createNamespace({ body: { metadata: { name: ns } } });
  let t0 = 0;
  let applied: Promise<void> = Promise.resolve();
  const readyAt = await watchUntilReady(
    kc,
    `/apis/modelship.dev/v1alpha1/namespaces/${ns}/modeldeployments`,
    n,
    mdAvailable,
    Date.now() + (CAP_MS[n] ?? 600_000),
    () => {
      t0 = performance.now();
      // A user applying a file of N objects: no client-side limit, 16 in flight.
      applied = createModelDeployments(custom, ns, n);
    },
  );
  await applied.catch((err: unknown) => log(`apply: ${String(err).slice(0, 200)}`));
  return summarize(readyAt, t0, n);
}

export async function runCreate(opts: {
  quick: boolean;
  cpuProf: boolean;
}): Promise<Record<string, unknown>> {
  const settings = DEFAULT_SETTINGS;
  const sizes = opts.quick ? [1, 100] : [1, 100, 1000];
  return withCluster("create", async (c) => {
    const before = await machine(c);
    const op = await startOperator(c, {
      settings,
      args: ["--prober=false"],
      name: "create",
      cpuProf: opts.cpuProf,
    });
    const rows: Record<string, unknown>[] = [];
    try {
      for (const n of sizes) {
        // One object is one sample of ~0.15 s, where a scheduling hiccup is the whole result: N=1 is
        // run REPEATS_N1 times (floor and operator alternating) and reported by its median.
        const repeats = n === 1 ? REPEATS_N1 : 1;
        const fs: Side[] = [];
        const os: Side[] = [];
        const r0 = (await scrape(op.metricsUrl)).get("modelship_kube_api_requests_total") ?? 0;
        for (let r = 0; r < repeats; r++) {
          const tag = repeats > 1 ? `${n}-r${r}` : `${n}`;
          log(`create: floor N=${n}${repeats > 1 ? ` run ${r + 1}/${repeats}` : ""}`);
          fs.push(await floor(c, `floor-${tag}`, n, settings));
          os.push(await operator(c, `op-${tag}`, n));
        }
        const r1 = (await scrape(op.metricsUrl)).get("modelship_kube_api_requests_total") ?? 0;
        const f = combine(fs);
        const o = combine(os);
        log(`create: N=${n} floor total ${f.totalMs} ms, operator total ${o.totalMs} ms`);
        rows.push({
          n,
          ...(repeats > 1 ? { runs: repeats } : {}),
          operator: o,
          floor: f,
          // The floor sends 2 requests per object (Deployment + Service create).
          operatorApiRequestsPerObject: round((r1 - r0) / (n * repeats), 2),
          ratio: {
            p50: round(o.p50Ms / f.p50Ms),
            p99: round(o.p99Ms / f.p99Ms),
            total: round(o.totalMs / f.totalMs),
          },
        });
      }
    } finally {
      await op.stop();
    }
    return {
      benchmark: "create",
      date: new Date().toISOString(),
      machine: before,
      loadAverageAfter: (await machine()).loadAverage,
      settings: { ...settings, prober: false, replicas: 1 },
      goal: { ratio: 1.25 },
      definition:
        "per object: ms from the batch start to Available (operator: phase Healthy at the current generation; floor: its Deployment Available); total: last one; N=1 is run 7 times, alternating floor and operator, and reported as the median run (p99 over the runs)",
      results: rows,
    };
  });
}
