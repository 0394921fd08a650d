// Memory under churn: N ModelDeployments created (settled, prober on) and all deleted, three times
// over, each cycle in a namespace of its own that is deleted with them. After each delete, once the
// children are gone and the operator is idle, and ~20 s later: a full GC through the inspector, the
// heap used after it, then RSS from /proc. Goal: cycle 3 within 10% of cycle 1 for both.
// With MODELSHIP_BENCH_CHURN_SNAPSHOTS=1 a heap snapshot follows each sample, and the constructors
// that grew between the first and last point at what a deleted object left behind; writing one costs
// the process memory the allocator keeps, so those runs' RSS after cycle 1 carries it (off by default).
//
//   node hack/bench/run.ts --only churn [--quick]     (N = 1000, --quick 300; MODELSHIP_BENCH_CHURN_N=<n> overrides)
import { rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { AppsV1Api, CoreV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import type { ClusterState } from "../cluster/control-plane.ts";
import { startFixture } from "../cluster/fixtures.ts";
import {
  ARTIFACTS,
  DEFAULT_SETTINGS,
  kubeConfigOf,
  log,
  machine,
  mdSpec,
  type Operator,
  round,
  rssBytes,
  scrape,
  startOperator,
  withCluster,
} from "./common.ts";
import { type HeapSummary, summarize, takeSnapshot } from "./heap-snapshot.ts";
import { settle } from "./idle.ts";
import { collectGarbage, inspectorUrl } from "./inspector.ts";

const MiB = 2 ** 20;
const CYCLES = 3;
/** Idle time after the operator went quiet, before the samples (the brief's "~20 s"). */
const QUIET_WAIT_MS = 20_000;
const GOAL_PERCENT = 10;
// The fixture model server's ports (rollback.ts uses 8090/9910; e2e 8080, 8000).
const RUNTIME_PORT = 8094;
const CONTROL_PORT = 9914;
const HEALTH_INTERVAL_S = 5;

async function until(what: string, capMs: number, ok: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + capMs;
  while (!(await ok().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`churn: ${what} not reached in ${capMs / 1000} s`);
    await sleep(1000);
  }
}

/** Deletes every ModelDeployment of `ns`, waits for their children, then for the namespace itself. */
async function deleteAll(c: ClusterState, ns: string, capMs: number): Promise<void> {
  const kc = kubeConfigOf(c);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  await kc.makeApiClient(CustomObjectsApi).deleteCollectionNamespacedCustomObject({
    group: "modelship.dev",
    version: "v1alpha1",
    namespace: ns,
    plural: "modeldeployments",
  });
  const custom = kc.makeApiClient(CustomObjectsApi);
  await until(
    `${ns}: ModelDeployments, Deployments, ReplicaSets, Services and pods gone`,
    capMs,
    async () => {
      const counts = await Promise.all([
        custom
          .listNamespacedCustomObject({
            group: "modelship.dev",
            version: "v1alpha1",
            namespace: ns,
            plural: "modeldeployments",
          })
          .then((l) => (l as { items: unknown[] }).items.length),
        apps.listNamespacedDeployment({ namespace: ns }).then((l) => l.items.length),
        apps.listNamespacedReplicaSet({ namespace: ns }).then((l) => l.items.length),
        core.listNamespacedService({ namespace: ns }).then((l) => l.items.length),
        core.listNamespacedPod({ namespace: ns }).then((l) => l.items.length),
      ]);
      return counts.every((x) => x === 0);
    },
  );
  await core.deleteNamespace({ name: ns });
  await until(`namespace ${ns} gone`, capMs, async () => {
    try {
      await core.readNamespace({ name: ns });
      return false;
    } catch (err) {
      return (err as { code?: number }).code === 404;
    }
  });
}

/** Waits until the operator's queue is empty and no reconcile ran for 5 s in a row. */
async function quiet(op: Operator, capMs: number): Promise<void> {
  let last = -1;
  let still = 0;
  await until("operator idle (empty queue, no reconciles for 5 s)", capMs, async () => {
    const m = await scrape(op.metricsUrl);
    const total = m.get("modelship_reconcile_total") ?? 0;
    still = total === last && (m.get("modelship_workqueue_depth") ?? 0) === 0 ? still + 1 : 0;
    last = total;
    return still >= 5;
  });
}

interface Sample {
  rssMiB: number;
  /** Heap used after a full GC (the inspector's HeapProfiler.collectGarbage). */
  liveHeapMiB: number;
  /** V8's heap total (committed) after that GC, and memory outside it (Buffers, native). */
  heapTotalMiB: number;
  externalMiB: number;
  loadAverage1m: number;
}

const SNAPSHOTS = process.env.MODELSHIP_BENCH_CHURN_SNAPSHOTS === "1";

async function sample(op: Operator): Promise<{ sample: Sample; file?: string; summary?: HeapSummary }> {
  const url = inspectorUrl(op.logs());
  if (!url) throw new Error("churn: the operator did not log its inspector address");
  const heap = await collectGarbage(url);
  // Pages the GC freed go back to the OS in the background.
  await sleep(2000);
  const rssMiB = round(rssBytes(op.pid) / MiB, 1);
  const m = await scrape(op.metricsUrl);
  const loadAverage1m = ((await machine()).loadAverage as number[])[0] ?? 0;
  const s: Sample = {
    rssMiB,
    liveHeapMiB: round(heap.usedBytes / MiB, 1),
    heapTotalMiB: round(heap.totalBytes / MiB, 1),
    externalMiB: round((m.get("modelship_nodejs_external_memory_bytes") ?? 0) / MiB, 1),
    loadAverage1m,
  };
  if (!SNAPSHOTS) return { sample: s };
  const file = await takeSnapshot(op.pid, ARTIFACTS);
  return { sample: s, file, summary: summarize(file) };
}

/** Constructors (and strings, arrays, code) that grew most in self size from `a` to `b`. */
function growth(a: HeapSummary, b: HeapSummary, top = 15) {
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys]
    .map((k) => ({
      what: k,
      deltaKiB: round(((b.get(k)?.bytes ?? 0) - (a.get(k)?.bytes ?? 0)) / 1024, 1),
      countFirst: a.get(k)?.count ?? 0,
      countLast: b.get(k)?.count ?? 0,
    }))
    .sort((x, y) => y.deltaKiB - x.deltaKiB)
    .slice(0, top);
}

export async function runChurn(opts: { quick: boolean; cpuProf: boolean }): Promise<Record<string, unknown>> {
  const n = Number(process.env.MODELSHIP_BENCH_CHURN_N ?? (opts.quick ? 300 : 1000));
  if (!(Number.isInteger(n) && n >= 1 && n <= 10_000)) throw new Error(`churn: N must be 1..10000, got ${n}`);
  const settleCapMs = opts.quick ? 400_000 : 900_000;
  const settings = DEFAULT_SETTINGS;
  const spec = mdSpec({
    runtime: { preset: "openInference", image: "registry.invalid/recsys:1", port: RUNTIME_PORT },
    health: { intervalSeconds: HEALTH_INTERVAL_S, timeoutSeconds: 1 },
  });
  return withCluster("churn", async (c) => {
    const before = await machine(c);
    const fixture = await startFixture(RUNTIME_PORT, CONTROL_PORT);
    const op = await startOperator(c, {
      settings,
      name: "churn",
      cpuProf: opts.cpuProf,
      nodeArgs: [
        "--inspect=127.0.0.1:0",
        ...(SNAPSHOTS ? ["--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${ARTIFACTS}`] : []),
      ],
    });
    const kept: string[] = [];
    try {
      await sleep(QUIET_WAIT_MS);
      const empty = await sample(op);
      if (empty.file) rmSync(empty.file, { force: true });
      log(`churn: empty operator ${JSON.stringify(empty.sample)}`);
      const cycles: (Sample & Record<string, unknown>)[] = [];
      const summaries: HeapSummary[] = [];
      for (let i = 1; i <= CYCLES; i++) {
        const ns = `churn-${i}`;
        const t0 = performance.now();
        const settled = await settle(c, ns, n, settleCapMs, spec);
        const createSeconds = round((performance.now() - t0) / 1000, 1);
        const rssSettledMiB = round(rssBytes(op.pid) / MiB, 1);
        log(`churn: cycle ${i}: ${settled}/${n} settled in ${createSeconds} s, RSS ${rssSettledMiB} MiB`);
        const t1 = performance.now();
        await deleteAll(c, ns, 600_000);
        await quiet(op, 300_000);
        const deleteSeconds = round((performance.now() - t1) / 1000, 1);
        await sleep(QUIET_WAIT_MS);
        const s = await sample(op);
        if (s.summary) summaries.push(s.summary);
        // Keep the first and last cycle's snapshots for a closer look (they are large).
        if (s.file && (i === 1 || i === CYCLES)) kept.push(s.file);
        else if (s.file) rmSync(s.file, { force: true });
        const row = { cycle: i, settled, createSeconds, rssSettledMiB, deleteSeconds, ...s.sample };
        log(`churn: cycle ${i}: ${JSON.stringify(row)}`);
        cycles.push(row);
      }
      const first = cycles[0] as Sample;
      const last = cycles[CYCLES - 1] as Sample;
      const pct = (a: number, b: number) => round(((b - a) / a) * 100, 1);
      const heapPercent = pct(first.liveHeapMiB, last.liveHeapMiB);
      const rssPercent = pct(first.rssMiB, last.rssMiB);
      return {
        benchmark: "churn",
        date: new Date().toISOString(),
        machine: before,
        loadAverageAfter: (await machine()).loadAverage,
        settings: {
          ...settings,
          prober: true,
          healthIntervalSeconds: HEALTH_INTERVAL_S,
          quietWaitSeconds: 20,
          heapSnapshots: SNAPSHOTS,
        },
        goal: { withinPercent: GOAL_PERCENT },
        modelDeployments: n,
        empty: empty.sample,
        cycles,
        ...(SNAPSHOTS
          ? {
              growthFirstToLast: growth(summaries[0] as HeapSummary, summaries[CYCLES - 1] as HeapSummary),
              snapshots: kept,
            }
          : {}),
        verdict: {
          heapPercent,
          rssPercent,
          heapOk: heapPercent <= GOAL_PERCENT,
          rssOk: rssPercent <= GOAL_PERCENT,
        },
      };
    } finally {
      await op.stop();
      await fixture.stop();
    }
  });
}
