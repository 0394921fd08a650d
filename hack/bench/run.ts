/**
 * Operator benchmarks against their floors (DESIGN.md §6). Each measure runs against its own fresh
 * local control plane (hack/cluster), is bounded in time, and writes hack/bench/results/<name>.json;
 * then the latest results (with prober.json from hack/bench/prober.ts) become docs/benchmarks.md.
 *
 *   node hack/bench/run.ts [--only create,idle,memory,churn,rollback,failover,peer] [--quick] [--cpu-prof]
 *
 * peer runs Argo Rollouts beside the operator (hack/bench/peer.ts; built on first use, ~8 min).
 *
 * --cpu-prof runs the operator under `node --cpu-prof` (profiles in .bench-artifacts/profiles;
 * summarize with `node hack/bench/profile-summary.ts <file.cpuprofile>`).
 * Needs root (the harness's network namespace) and MODELSHIP_BIN_DIR or downloadable binaries.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runChurn } from "./churn.ts";
import { log, RESULTS, ROOT, round, writeResult } from "./common.ts";
import { runCreate } from "./create.ts";
import { runFailover } from "./failover.ts";
import { runIdle } from "./idle.ts";
import { runMemory } from "./memory.ts";
import { runPeer } from "./peer-create.ts";
import { runRollback } from "./rollback.ts";

type Opts = { quick: boolean; cpuProf: boolean };
const MEASURES: Record<string, (o: Opts) => Promise<Record<string, unknown>>> = {
  create: runCreate,
  idle: runIdle,
  memory: runMemory,
  churn: runChurn,
  rollback: runRollback,
  failover: runFailover,
  peer: runPeer,
};

// biome-ignore lint/suspicious/noExplicitAny: JSON results of several shapes
type R = any;
const read = (name: string): R | undefined => {
  const f = join(RESULTS, `${name}.json`);
  return existsSync(f) ? JSON.parse(readFileSync(f, "utf8")) : undefined;
};
const ok = (b: boolean) => (b ? "yes" : "**no**");
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export function table(): string {
  const rows: string[] = [
    "| measure | operator | floor / goal | ratio or verdict | load avg (1m) | date |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  const create = read("create");
  for (const r of create?.results ?? []) {
    rows.push(
      `| apply → Available, N=${r.n}${r.runs ? ` (median of ${r.runs} runs; p99 over runs)` : " (p50 / p99 / total)"} | ${s(r.operator.p50Ms)} / ${s(r.operator.p99Ms)} / ${s(r.operator.totalMs)} (${r.operator.ready}/${r.n}) | floor ${s(r.floor.p50Ms)} / ${s(r.floor.p99Ms)} / ${s(r.floor.totalMs)} | ${r.ratio.p50}× / ${r.ratio.p99}× / ${r.ratio.total}× (goal ≤ 1.25×: ${ok(r.ratio.total <= 1.25)}) | ${create.machine.loadAverage[0]} | ${create.date.slice(0, 16)} |`,
    );
  }
  const idle = read("idle");
  if (idle) {
    rows.push(
      `| resync of ${idle.modelDeployments} unchanged (2 resyncs at ${idle.settings.resyncSeconds} s) | ${idle.writesSinceRestart} API writes; ${idle.steady.cpuMsPerReconcile} CPU-ms/reconcile steady (${idle.steady.reconciles} reconciles, ${idle.steady.cpuPercentOfOneCore}% of a core), ${idle.afterStart.cpuMsPerReconcile} right after the start; /healthz then p99 ${idle.healthzMs.p99} ms, max ${idle.healthzMs.max} ms | goal 0 writes | ${ok(idle.writesSinceRestart === 0)} | ${idle.machine.loadAverage[0]} | ${idle.date.slice(0, 16)} |`,
    );
  }
  const mem = read("memory");
  // Goals are judged at 1k and 10k, on the steady state; the waves between show the growth.
  for (const r of (mem?.results ?? []).filter((x: R) => x.target > 0 && x.steady !== false)) {
    const goal = r.target >= 10_000 ? 800 : 150;
    rows.push(
      `| memory at ${r.target} ModelDeployments (reached ${r.reached}) | RSS ${r.rssMiB} MiB, heap used ${r.heapUsedMiB} MiB${r.afterBurst ? ` a minute after the burst (right after: RSS ${r.afterBurst.rssMiB} MiB, heap ${r.afterBurst.heapUsedMiB} used / ${r.afterBurst.heapTotalMiB} total)` : ""}${r.target >= 10_000 && mem.growthPer1kMiB !== undefined ? `; +${mem.growthPer1kMiB} MiB RSS per 1,000 objects from 1k on` : ""} | goal ≤ ${goal} MiB RSS | ${ok(r.reached === r.target && r.rssMiB <= goal)} | ${mem.machine.loadAverage[0]} | ${mem.date.slice(0, 16)} |`,
    );
  }
  const ch = read("churn");
  if (ch) {
    const per = (k: string) => ch.cycles.map((x: R) => x[k]).join(" / ");
    rows.push(
      `| memory under churn: ${ch.modelDeployments} ModelDeployments created and deleted, ×${ch.cycles.length} (prober on) | after each delete, cycle ${ch.cycles.map((x: R) => x.cycle).join(" / ")}: heap used after GC ${per("liveHeapMiB")} MiB, RSS ${per("rssMiB")} MiB (empty operator: ${ch.empty.liveHeapMiB} / ${ch.empty.rssMiB} MiB) | goal: last cycle within ${ch.goal.withinPercent}% of the first | heap ${ch.verdict.heapPercent > 0 ? "+" : ""}${ch.verdict.heapPercent}%, RSS ${ch.verdict.rssPercent > 0 ? "+" : ""}${ch.verdict.rssPercent}%: ${ok(ch.verdict.heapOk && ch.verdict.rssOk)} | ${ch.machine.loadAverage[0]} | ${ch.date.slice(0, 16)} |`,
    );
  }
  const rb = read("rollback");
  if (rb) {
    rows.push(
      `| failing canary → stable (${rb.completed}/${rb.runs} runs, interval ${rb.settings.intervalSeconds} s) | p50 ${s(rb.p50Ms)} (${rb.p50Intervals} intervals), p99 ${s(rb.p99Ms)} (${rb.p99Intervals} intervals) | goal ≤ ${s(rb.goal.ms)} | ${ok(rb.p99Ms <= rb.goal.ms)} | ${rb.machine.loadAverage[0]} | ${rb.date.slice(0, 16)} |`,
    );
  }
  const fo = read("failover");
  if (fo) {
    rows.push(
      `| leader failover, kill -9 (${fo.completed}/${fo.runs} runs, lease ${fo.settings.leaseDurationSeconds} s) | p50 ${s(fo.p50Ms)}, max ${s(fo.maxMs)} | goal ≤ ${s(fo.goal.ms)} | ${ok(fo.maxMs <= fo.goal.ms)} | ${fo.machine.loadAverage[0]} | ${fo.date.slice(0, 16)} |`,
    );
  }
  const co = read("client-overhead");
  if (co) {
    const by = (m: string) => co.results.filter((r: R) => r.mode === m);
    const avg = (xs: R[], k: string) => round(xs.reduce((a: number, r: R) => a + r[k], 0) / xs.length, 2);
    const a = by("per-request-agent");
    const b = by("shared");
    rows.push(
      `| client-node call cost (${co.calls} GETs, ${co.concurrency} in flight; not a goal) | per-request agent (as shipped): ${avg(a, "cpuMsPerCall")} CPU-ms/call, ${avg(a, "callsPerSecond")} calls/s, RSS +${avg(a, "rssEndMiB") - avg(a, "rssStartMiB")} MiB | shared dispatcher: ${avg(b, "cpuMsPerCall")} CPU-ms/call, ${avg(b, "callsPerSecond")} calls/s, RSS +${round(avg(b, "rssEndMiB") - avg(b, "rssStartMiB"), 1)} MiB | diagnosis | ${co.machine.loadAverage[0]} | ${co.date.slice(0, 16)} |`,
    );
  }
  const peer = read("peer");
  for (const r of peer?.results ?? []) {
    const side = (x: R) => `${s(x.p50Ms)} / ${s(x.p99Ms)} / ${s(x.totalMs)} (${x.ready}/${x.of})`;
    rows.push(
      `| beside Argo Rollouts ${peer.settings.argoRollouts}: apply → Available, N=${r.n}${r.runs ? ` (median of ${r.runs} runs)` : ""} (p50 / p99 / total) | ${side(r.modelship)} | Argo Rollouts ${side(r.argoRollouts)} | ${r.ratio.p50}× / ${r.ratio.p99}× / ${r.ratio.total}× (goal ≤ 1×: ${ok(r.ratio.total <= 1)}) | ${peer.machine.loadAverage[0]} | ${peer.date.slice(0, 16)} |`,
    );
  }
  if (peer?.memory) {
    const m = peer.memory;
    const split = (x: R | undefined) => (x ? `: ${x.anon} own + ${x.file} binary pages` : "");
    rows.push(
      `| beside Argo Rollouts: RSS with ${m.objects.modelship} / ${m.objects.argoRollouts} objects settled (empty) | ${m.settledRssMiB.modelship} MiB (${m.emptyRssMiB.modelship})${split(m.settledSplitMiB?.modelship)} | Argo Rollouts ${m.settledRssMiB.argoRollouts} MiB (${m.emptyRssMiB.argoRollouts})${split(m.settledSplitMiB?.argoRollouts)} | ${m.ratio}× (goal ≤ 1×: ${ok(m.ratio <= 1)})${m.anonRatio ? `; own memory ${m.anonRatio}×` : ""} | ${peer.machine.loadAverage[0]} | ${peer.date.slice(0, 16)} |`,
    );
  }
  const failed = (what: string, x: R) =>
    `| beside Argo Rollouts: ${what} | failed: ${String(x.error).slice(0, 160).replaceAll("|", "/").replaceAll("\n", " ")} | — | — | ${peer.machine.loadAverage[0]} | ${peer.date.slice(0, 16)} |`;
  const i = peer?.idle;
  if (i?.error) rows.push(failed("idle writes", i));
  else if (i) {
    const side = (x: R) =>
      `${x.writesInWindow} API writes; ${x.steady.cpuMsPerReconcile} CPU-ms/reconcile steady (${x.steady.reconciles} reconciles, ${x.steady.cpuPercentOfOneCore}% of a core), ${x.afterStart.cpuMsPerReconcile} right after the start`;
    rows.push(
      `| beside Argo Rollouts: idle, ${i.objects.modelship} / ${i.objects.argoRollouts} settled objects, ${i.windowSeconds} s window at a ${i.settings.resyncSeconds} s resync | ${side(i.modelship)} | Argo Rollouts ${side(i.argoRollouts)} | writes ${i.ratio.writes === "0 / 0" ? "0 / 0" : `${i.ratio.writes}×`}; CPU-ms/reconcile ${i.ratio.cpuMsPerReconcile}× steady, ${i.ratio.cpuMsPerReconcileAfterStart}× after the start (goal ≤ 1×: ${ok(i.modelship.writesInWindow <= i.argoRollouts.writesInWindow && (i.ratio.cpuMsPerReconcile ?? 2) <= 1)}) | ${peer.machine.loadAverage[0]} | ${peer.date.slice(0, 16)} |`,
    );
  }
  const f = peer?.failover;
  if (f?.error) rows.push(failed("leader failover", f));
  else if (f) {
    const side = (x: R) =>
      `working p50 ${s(x.working.p50Ms)}, max ${s(x.working.maxMs)} (${x.working.completed}/${f.runs}); lease taken p50 ${s(x.lease.p50Ms)}`;
    rows.push(
      `| beside Argo Rollouts: leader failover, kill -9 (default ${f.settings.leaseDurationSeconds} s lease on both) | ${side(f.modelship)} | Argo Rollouts ${side(f.argoRollouts)} | working ${f.ratio.workingP50}×, lease ${f.ratio.leaseP50}× (goal ≤ 1×: ${ok((f.ratio.workingP50 ?? 2) <= 1)}) | ${peer.machine.loadAverage[0]} | ${peer.date.slice(0, 16)} |`,
    );
  }
  const b = peer?.rollback;
  if (b?.error) rows.push(failed("failing canary → stable", b));
  else if (b) {
    rows.push(
      `| beside Argo Rollouts: failing canary → stable (interval ${b.settings.intervalSeconds} s) | p50 ${s(b.modelship.p50Ms)}, max ${s(b.modelship.maxMs)} (${b.modelship.completed}/${b.runs}) | Argo Rollouts abort p50 ${s(b.argoRollouts.p50Ms)}, max ${s(b.argoRollouts.maxMs)} (${b.argoRollouts.completed}/${b.runs}); no canary pod left p50 ${s(b.argoRollouts.backOnStable.p50Ms)} | ${b.ratio ? `${b.ratio.p50}× / ${b.ratio.max}× (p50 / max; goal ≤ 1×: ${ok(b.ratio.max <= 1)})` : "—"} | ${peer.machine.loadAverage[0]} | ${peer.date.slice(0, 16)} |`,
    );
  }
  const pr = read("prober");
  if (pr) {
    rows.push(
      `| prober, ${pr.settings.targets} targets at ${pr.nominal.intervalMs} ms (one core) | ${pr.nominal.probesPerSec} probes/s, lag p99 ${pr.nominal.lagP99PercentOfInterval}% of interval | goal ≥ ${pr.goal.probesPerSec}/s, lag p99 < ${pr.goal.lagP99PercentOfInterval}% | ${ok(pr.nominal.probesPerSec >= pr.goal.probesPerSec && pr.nominal.lagP99PercentOfInterval < pr.goal.lagP99PercentOfInterval)} | ${pr.machine.loadAverage1mBefore} | ${pr.date.slice(0, 16)} |`,
      `| prober saturated (${pr.saturated.intervalMs} ms interval) | ${pr.saturated.probesPerSec} probes/s, ${pr.saturated.probesPerCpuSecond} probes per CPU-second | capacity | — | ${pr.machine.loadAverage1mBefore} | ${pr.date.slice(0, 16)} |`,
    );
  }
  const ps = read("prober-stream");
  if (ps) {
    rows.push(
      `| streaming LLM probes, ${ps.settings.tokensPerStream} tokens per stream (vllm preset, one core) | ${ps.streamsPerCpuSecond} streamed rounds per CPU-second (plain rounds: ${ps.plain.roundsPerCpuSecond}); ${ps.cpuMsPerStream} CPU-ms per stream; an open stream +${Math.round(ps.open.heapUsedBytesPerStream / 102.4) / 10} KiB heap beyond its idle connection (${ps.open.streamsOpen} open; an idle probed pod ${Math.round(ps.open.heapUsedBytesPerIdlePod / 102.4) / 10} KiB) | stated, no goal | — | ${ps.machine.loadAverage1mBefore} | ${ps.date.slice(0, 16)} |`,
    );
  }
  return rows.join("\n");
}

function writeDocs(command: string): void {
  const notesFile = join(import.meta.dirname, "notes.md");
  const notes = existsSync(notesFile) ? readFileSync(notesFile, "utf8") : "";
  const machine = read("create")?.machine ?? read("idle")?.machine;
  const doc = [
    "# Benchmarks",
    "",
    "Generated by `hack/bench/run.ts` from `hack/bench/results/*.json` (goals: DESIGN.md §6). Every measure runs",
    "against its own fresh local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok) and",
    "compares the real operator process with a floor measured in the same run.",
    "",
    "Commands that produced these results (each writes its own JSON; the table shows the latest of each):",
    "",
    ...["create", "idle", "memory", "churn", "rollback", "failover", "peer"]
      .filter((n) => read(n))
      .map(
        (n) =>
          `- ${n}: \`${read(n).command ?? `node hack/bench/run.ts --only ${n}${read(n).quick ? " --quick" : ""}`}\``,
      ),
    "- client-overhead: `node hack/bench/client-overhead.ts`; prober: `node hack/bench/prober.ts`; streaming probes: `node --expose-gc hack/bench/prober-stream.ts`",
    "",
    `Last run: \`${command}\``,
    "",
    machine
      ? `Machine: ${machine.nproc} CPUs (${machine.cpu}), ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}, Kubernetes ${machine.kube}. Operator: --qps=${read("create")?.settings.qps ?? 50} --burst=${read("create")?.settings.burst ?? 100} --workers=${read("create")?.settings.workers ?? 4}.`
      : "",
    "",
    "**Noise:** these numbers come from a shared 2-core machine on which other test suites ran at the same time;",
    "the load average at the start of each measure is in the table. Treat differences under ~20% as noise.",
    "",
    table(),
    "",
    notes,
  ].join("\n");
  writeFileSync(join(ROOT, "docs", "benchmarks.md"), doc);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: "string" },
      quick: { type: "boolean", default: false },
      "cpu-prof": { type: "boolean", default: false },
      "docs-only": { type: "boolean", default: false },
      // Flags for the operator's node process instead of the image's (hack/build.ts NODE_FLAGS), e.g.
      // "--max-semi-space-size=2", or " " for none; results get a "-tuned" suffix.
      "operator-node-args": { type: "string" },
    },
  });
  const names = values.only ? values.only.split(",").map((x) => x.trim()) : Object.keys(MEASURES);
  for (const n of names)
    if (!MEASURES[n]) throw new Error(`unknown measure ${n}; one of ${Object.keys(MEASURES)}`);
  const tuned = values["operator-node-args"];
  if (tuned) process.env.MODELSHIP_BENCH_OPERATOR_NODE_ARGS = tuned;
  const opts = { quick: values.quick ?? false, cpuProf: values["cpu-prof"] ?? false };
  const command = `node hack/bench/run.ts${values.only ? ` --only ${values.only}` : ""}${opts.quick ? " --quick" : ""}${values["docs-only"] ? " --docs-only" : ""}`;
  if (tuned || opts.cpuProf)
    process.stderr.write("experiment run: results kept apart; docs table not rewritten\n");
  if (!values["docs-only"]) {
    for (const n of names) {
      log(`${n}: starting`);
      const t0 = performance.now();
      try {
        const result = await (MEASURES[n] as (o: Opts) => Promise<Record<string, unknown>>)(opts);
        result.quick = opts.quick;
        result.command = `${n === "churn" && process.env.MODELSHIP_BENCH_CHURN_N ? `MODELSHIP_BENCH_CHURN_N=${process.env.MODELSHIP_BENCH_CHURN_N} ` : ""}node hack/bench/run.ts --only ${n}${opts.quick ? " --quick" : ""}`;
        if (tuned) result.operatorNodeArgs = tuned;
        if (process.env.MALLOC_ARENA_MAX) result.mallocArenaMax = process.env.MALLOC_ARENA_MAX;
        result.wallSeconds = Math.round((performance.now() - t0) / 1000);
        // Profiled runs are slower: keep them apart from the numbers of record.
        log(
          `${n}: wrote ${writeResult(`${n}${opts.cpuProf ? "-cpuprof" : ""}${tuned ? "-tuned" : ""}`, result)}`,
        );
      } catch (err) {
        log(`${n}: FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        process.exitCode = 1;
      }
    }
  }
  if (!tuned && !opts.cpuProf) writeDocs(command);
  process.stdout.write(`${table()}\n`);
}

await main();
