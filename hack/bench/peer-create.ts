// modelship beside Argo Rollouts on one control plane (issue #16): apply → Available for N
// equivalent objects (a ModelDeployment vs a Rollout + its Service, same pod template, replicas,
// steps), both controllers at the same client QPS/burst, then the RSS of both processes with every
// object settled, a minute after the burst. Then, on the same cluster with those objects still there:
// idle writes and CPU per reconcile (peer-idle.ts), leader failover (peer-failover.ts) and a failing
// canary back to stable (peer-rollback.ts). Ratios are modelship / Argo Rollouts (lower is better).
import { setTimeout as sleep } from "node:timers/promises";
import { CoreV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import type { ClusterState } from "../cluster/control-plane.ts";
import {
  createModelDeployments,
  DEFAULT_SETTINGS,
  kubeConfigOf,
  log,
  machine,
  mdAvailable,
  mdSpec,
  round,
  rssSplitMiB,
  startOperator,
  watchUntilReady,
  withCluster,
} from "./common.ts";
import { combine, type Side, summarize } from "./create.ts";
import { createRollouts, startArgoRollouts } from "./peer.ts";
import { measurePeerFailover } from "./peer-failover.ts";
import { measurePeerIdle } from "./peer-idle.ts";
import { PEER_STEPS, rolloutAvailable } from "./peer-objects.ts";
import { measurePeerRollback } from "./peer-rollback.ts";

const CAP_MS: Record<number, number> = { 1: 60_000, 100: 240_000, 1000: 600_000 };
const REPEATS_N1 = 5;

async function timed(
  c: ClusterState,
  ns: string,
  n: number,
  kind: "modelship" | "argo-rollouts",
  spec: Record<string, unknown>,
): Promise<Side> {
  const kc = kubeConfigOf(c);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  await core.createNamespace({ body: { metadata: { name: ns } } });
  let t0 = 0;
  let applied: Promise<void> = Promise.resolve();
  const path =
    kind === "modelship"
      ? `/apis/modelship.dev/v1alpha1/namespaces/${ns}/modeldeployments`
      : `/apis/argoproj.io/v1alpha1/namespaces/${ns}/rollouts`;
  const readyAt = await watchUntilReady(
    kc,
    path,
    n,
    kind === "modelship" ? mdAvailable : rolloutAvailable,
    Date.now() + (CAP_MS[n] ?? 600_000),
    () => {
      t0 = performance.now();
      applied =
        kind === "modelship"
          ? createModelDeployments(custom, ns, n, spec)
          : createRollouts(custom, core, ns, n, spec);
    },
  );
  await applied.catch((err: unknown) => log(`peer ${kind} apply: ${String(err).slice(0, 200)}`));
  return summarize(readyAt, t0, n);
}

const ratio = (a: number, b: number) => round(a / b);

/** A measure after the first: its failure is recorded in the result, and the next one still runs. */
async function phase(
  name: string,
  fn: () => Promise<Record<string, unknown>>,
): Promise<Record<string, unknown>> {
  log(`peer: ${name}`);
  try {
    return await fn();
  } catch (err) {
    log(`peer ${name} FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return { error: String(err).slice(0, 1000) };
  }
}

export async function runPeer(opts: { quick: boolean; cpuProf: boolean }): Promise<Record<string, unknown>> {
  const settings = DEFAULT_SETTINGS;
  const sizes = opts.quick ? [1, 100] : [1, 100, 1000];
  // Equivalent objects: the same steps on both sides (a first revision skips them on both).
  const spec = mdSpec({ rollout: { ...(mdSpec().rollout as object), steps: PEER_STEPS } });
  return withCluster("peer", async (c) => {
    const before = await machine(c);
    const op = await startOperator(c, { settings, args: ["--prober=false"], name: "peer" });
    const peer = await startArgoRollouts(c, { settings });
    const emptySplit = { modelship: rssSplitMiB(op.pid), argoRollouts: rssSplitMiB(peer.pid) };
    const rows: Record<string, unknown>[] = [];
    let settled = { modelship: 0, argoRollouts: 0 };
    // Replaced once the burst has settled (a failed burst throws before the result is built).
    let settledSplit = emptySplit;
    try {
      for (const n of sizes) {
        const repeats = n === 1 ? REPEATS_N1 : 1;
        const ms: Side[] = [];
        const ar: Side[] = [];
        // Alternating, Argo Rollouts first, so neither side always runs on the warmer cluster.
        for (let r = 0; r < repeats; r++) {
          const tag = repeats > 1 ? `${n}-r${r}` : `${n}`;
          log(`peer: N=${n}${repeats > 1 ? ` run ${r + 1}/${repeats}` : ""}`);
          ar.push(await timed(c, `ar-${tag}`, n, "argo-rollouts", spec));
          ms.push(await timed(c, `ms-${tag}`, n, "modelship", spec));
        }
        const m = combine(ms);
        const a = combine(ar);
        log(`peer: N=${n} modelship total ${m.totalMs} ms, Argo Rollouts total ${a.totalMs} ms`);
        rows.push({
          n,
          ...(repeats > 1 ? { runs: repeats } : {}),
          modelship: m,
          argoRollouts: a,
          ratio: {
            p50: ratio(m.p50Ms, a.p50Ms),
            p99: ratio(m.p99Ms, a.p99Ms),
            total: ratio(m.totalMs, a.totalMs),
          },
        });
        settled = {
          modelship: settled.modelship + n * repeats,
          argoRollouts: settled.argoRollouts + n * repeats,
        };
      }
      // Both hold every object they made (and its children) in their caches; a minute of idling lets
      // V8 and Go's GC give back what the burst grew.
      await sleep(60_000);
      settledSplit = { modelship: rssSplitMiB(op.pid), argoRollouts: rssSplitMiB(peer.pid) };
    } finally {
      await peer.stop();
      await op.stop();
    }
    // Each starts its own controllers: at a 10 s resync, with leader election, with the prober.
    const idle = await phase("idle", () => measurePeerIdle(c, settings, settled));
    const failover = await phase("failover", () =>
      measurePeerFailover(c, settings, opts.quick ? 2 : 5, (opts.quick ? 6 : 12) * 60_000),
    );
    const rollback = await phase("rollback", () =>
      measurePeerRollback(c, settings, opts.quick ? 3 : 10, (opts.quick ? 6 : 15) * 60_000),
    );
    return {
      benchmark: "peer",
      date: new Date().toISOString(),
      machine: before,
      loadAverageAfter: (await machine()).loadAverage,
      settings: { ...settings, prober: false, replicas: 1, steps: PEER_STEPS, argoRollouts: peer.version },
      definition:
        "per object: ms from the batch start to done (modelship: phase Healthy at the current generation; Argo Rollouts: phase Healthy at the current generation, replicas available); N=1 run 5 times alternating, median run reported; RSS from /proc a minute after the last burst, with every object of every size still present",
      results: rows,
      memory: {
        objects: settled,
        emptyRssMiB: { modelship: emptySplit.modelship.rss, argoRollouts: emptySplit.argoRollouts.rss },
        settledRssMiB: { modelship: settledSplit.modelship.rss, argoRollouts: settledSplit.argoRollouts.rss },
        ratio: ratio(settledSplit.modelship.rss, settledSplit.argoRollouts.rss),
        // anon: the process's own memory; file: pages of its binary it touched (Node's is ~100 MB).
        emptySplitMiB: emptySplit,
        settledSplitMiB: settledSplit,
        anonRatio: ratio(settledSplit.modelship.anon, settledSplit.argoRollouts.anon),
      },
      idle,
      failover,
      rollback,
    };
  });
}
