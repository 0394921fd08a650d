// Idle cost: N unchanged, settled ModelDeployments; the operator is restarted with --resync-seconds=10
// and left for two resyncs. Counts the operator's API writes from the audit log (goal 0), and CPU
// seconds per reconcile (process CPU from /proc over the window ÷ modelship_reconcile_total).

import { setTimeout as sleep } from "node:timers/promises";
import { CoreV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import { type ClusterState, OPERATOR_USER } from "../cluster/control-plane.ts";
import {
  countByVerb,
  cpuSeconds,
  cpuWindow,
  createModelDeployments,
  DEFAULT_SETTINGS,
  kubeConfigOf,
  log,
  machine,
  mdAvailable,
  percentile,
  round,
  startOperator,
  watchUntilReady,
  withCluster,
  writesBy,
} from "./common.ts";

const RESYNC_S = 10;
const RECONCILES = "modelship_reconcile_total";

/** Latencies (ms) of /healthz asked every 100 ms, one at a time, for `windowMs`. */
async function healthzLatencies(url: string, windowMs: number): Promise<number[]> {
  const out: number[] = [];
  const end = performance.now() + windowMs;
  while (performance.now() < end) {
    const t = performance.now();
    await fetch(url, { signal: AbortSignal.timeout(30_000) })
      .then((r) => r.arrayBuffer())
      .catch(() => undefined);
    out.push(performance.now() - t);
    await sleep(100);
  }
  return out;
}

/** Creates N ModelDeployments in `ns` (default spec: mdSpec()) and waits (bounded) until all are Available. */
export async function settle(
  c: ClusterState,
  ns: string,
  n: number,
  capMs: number,
  spec?: Record<string, unknown>,
): Promise<number> {
  const kc = kubeConfigOf(c);
  const custom = kc.makeApiClient(CustomObjectsApi);
  await kc
    .makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name: ns } } })
    .catch(() => {});
  const readyAt = await watchUntilReady(
    kc,
    `/apis/modelship.dev/v1alpha1/namespaces/${ns}/modeldeployments`,
    n,
    mdAvailable,
    Date.now() + capMs,
    () => {
      void createModelDeployments(custom, ns, n, spec).catch((err: unknown) =>
        log(`apply: ${String(err).slice(0, 200)}`),
      );
    },
  );
  return readyAt.size;
}

export async function runIdle(opts: { quick: boolean; cpuProf: boolean }): Promise<Record<string, unknown>> {
  const n = opts.quick ? 100 : 1000;
  const settings = DEFAULT_SETTINGS;
  return withCluster("idle", async (c) => {
    const before = await machine(c);
    const first = await startOperator(c, { settings, args: ["--prober=false"], name: "idle-settle" });
    let settled = 0;
    try {
      settled = await settle(c, "idle", n, 600_000);
      log(`idle: ${settled}/${n} settled`);
      await sleep(3000);
    } finally {
      await first.stop();
    }
    const restartAt = Date.now();
    const op = await startOperator(c, {
      settings,
      args: ["--prober=false", `--resync-seconds=${RESYNC_S}`],
      name: "idle",
      cpuProf: opts.cpuProf,
    });
    try {
      // The restart's own sweep (every object reconciled once), then two windows of two resyncs
      // each: the first right after the start, with /healthz asked every 100 ms (one at a time) for
      // the operator's responsiveness while each resync reconciles every object; the second, with
      // nothing asked, for the CPU a long-running operator spends (the first still pays for V8
      // compiling and collecting what the start made).
      const startupCpu = cpuSeconds(op.pid);
      await sleep(3000);
      const windowMs = RESYNC_S * 2 * 1000 + 2000;
      const healthzUrl = op.metricsUrl.replace(/\/metrics$/, "/healthz");
      const first = await cpuWindow(op, RECONCILES, () => healthzLatencies(healthzUrl, windowMs));
      const steady = await cpuWindow(op, RECONCILES, () => sleep(windowMs));
      const healthz = first.result;
      const writes = writesBy(c, OPERATOR_USER, restartAt);
      const byVerb = countByVerb(writes);
      return {
        benchmark: "idle",
        date: new Date().toISOString(),
        machine: before,
        loadAverageAfter: (await machine()).loadAverage,
        settings: { ...settings, prober: false, resyncSeconds: RESYNC_S },
        goal: { writes: 0 },
        modelDeployments: n,
        settled,
        writesSinceRestart: writes.length,
        writesByVerb: byVerb,
        cpuSecondsAtStartup: round(startupCpu),
        afterStart: first.cpu,
        steady: steady.cpu,
        // In the first window.
        healthzMs: {
          requests: healthz.length,
          p50: round(percentile(healthz, 50), 1),
          p99: round(percentile(healthz, 99), 1),
          max: round(Math.max(...healthz), 1),
        },
      };
    } finally {
      await op.stop();
    }
  });
}
