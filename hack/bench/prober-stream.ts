/**
 * Streaming-probe benchmark (bounded: < 60 s): what spec.health.stream costs the prober, beside
 * plain probes of the same preset. Pods are 127.2.x.y addresses served by one fixture model server
 * process; the prober runs in this process (one event loop = one core).
 *
 * 1. plain: preset vllm rounds (GET /health + GET /v1/models) at saturation → probes per CPU-second.
 * 2. stream: the same rounds plus one streamed chat completion of --tokens tokens (fixture: no
 *    TTFT/TPOT delay, so the prober's own cost is measured) → streamed rounds per CPU-second, and
 *    CPU-ms per stream (the difference of the two).
 * 3. open streams: --open-streams pods whose first token comes after 20 s, so every stream stays
 *    open → heap and RSS per open stream (with its keep-alive connection), after a GC.
 *
 *   node --expose-gc hack/bench/prober-stream.ts [--targets 200] [--tokens 16] [--open-streams 500]
 *
 * Prints a markdown table and writes hack/bench/results/prober-stream.json. Dials 127.0.0.0/8 only.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import pino from "pino";
import { Prober, type RevisionProbeSpec } from "../../operator/src/prober/prober.ts";

const HARD_LIMIT_MS = 60_000;
const { values } = parseArgs({
  options: {
    targets: { type: "string", default: "200" },
    tokens: { type: "string", default: "16" },
    "open-streams": { type: "string", default: "500" },
    "measure-s": { type: "string", default: "8" },
    concurrency: { type: "string", default: "256" },
  },
});
const TARGETS = Math.min(1000, Number(values.targets));
const TOKENS = Math.min(256, Number(values.tokens));
const OPEN = Math.min(1000, Number(values["open-streams"]));
const MEASURE_MS = Math.min(12, Number(values["measure-s"])) * 1000;
const CONCURRENCY = Number(values.concurrency);
const SAT_INTERVAL_MS = 50;
const PODS_PER_REVISION = 10;

const started = performance.now();
const loadBefore = os.loadavg();
let child: ChildProcess | undefined;
const killChild = () => {
  if (child?.pid !== undefined && child.exitCode === null) child.kill("SIGTERM");
};
const deadline = setTimeout(() => {
  process.stderr.write("benchmark exceeded 60 s; stopping\n");
  killChild();
  process.exit(2);
}, HARD_LIMIT_MS);
deadline.unref();

const ip = (i: number) => `127.2.${Math.floor(i / 250)}.${(i % 250) + 1}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const gc = (globalThis as { gc?: () => void }).gc;

async function startFixture(binds: string[]): Promise<{ port: number; controlPort: number }> {
  child = spawn(
    process.execPath,
    ["operator/testing/model-server.ts", "--port", "0", "--control-port", "0", "--bind", binds.join(",")],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const c = child;
  const rl = createInterface({ input: c.stdout as NodeJS.ReadableStream });
  const line = await new Promise<string>((resolve, reject) => {
    rl.once("line", resolve);
    c.once("exit", (code) => reject(new Error(`fixture exited with ${code}`)));
  });
  return JSON.parse(line) as { port: number; controlPort: number };
}

async function main(): Promise<void> {
  const n = Math.max(TARGETS, OPEN);
  const fixture = await startFixture(Array.from({ length: n }, (_, i) => ip(i)));
  const setDefaults = async (patch: Record<string, unknown>) => {
    const res = await fetch(`http://127.0.0.1:${fixture.controlPort}/defaults`, {
      method: "PUT",
      body: JSON.stringify(patch),
    });
    if (!res.ok) throw new Error(`fixture /defaults: ${res.status}`);
  };
  await setDefaults({ streamTokens: TOKENS, ttftMs: 0, tpotMs: 0 });
  let prober = new Prober({
    allowCidrs: ["127.0.0.0/8"],
    concurrency: CONCURRENCY,
    log: pino({ level: "error" }),
  });
  const base = { preset: "vllm", modelName: "recommender", port: fixture.port } as const;
  const stream = { path: "/v1/chat/completions", model: "recommender", prompt: "hi", maxTokens: TOKENS };
  let keys: string[] = [];

  const setAll = (count: number, spec: RevisionProbeSpec) => {
    for (const k of keys) prober.removeRevision(k);
    keys = [];
    for (let r = 0; r * PODS_PER_REVISION < count; r++) {
      const key = `bench/llm-${r}/rev`;
      keys.push(key);
      const pods = Array.from(
        { length: Math.min(PODS_PER_REVISION, count - r * PODS_PER_REVISION) },
        (_, j) => ({
          ip: ip(r * PODS_PER_REVISION + j),
          podName: `pod-${r}-${j}`,
        }),
      );
      prober.setRevisionTargets(key, spec, pods);
    }
  };
  const totals = () => {
    let rounds = 0;
    let ok = 0;
    let streams = 0;
    for (const k of keys) {
      const s = prober.stats(k);
      if (s === undefined) continue;
      for (const p of s.pods) rounds += p.probes;
      ok += s.successes;
      streams += s.stream?.samples ?? 0;
    }
    return { rounds, ok, streams };
  };

  async function saturate(spec: RevisionProbeSpec) {
    setAll(TARGETS, spec);
    await sleep(2000);
    const before = totals();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(MEASURE_MS);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const after = totals();
    const rounds = after.rounds - before.rounds;
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    return {
      seconds: Math.round(seconds * 10) / 10,
      roundsPerSec: Math.round(rounds / seconds),
      successRate: rounds === 0 ? 0 : Math.round(((after.ok - before.ok) / rounds) * 10000) / 10000,
      cpuPercentOfOneCore: Math.round((cpuSeconds / seconds) * 1000) / 10,
      roundsPerCpuSecond: Math.round(rounds / cpuSeconds),
      cpuMsPerRound: Math.round((cpuSeconds * 1000 * 1000) / Math.max(1, rounds)) / 1000,
    };
  }

  const plain = await saturate({ ...base, intervalMs: SAT_INTERVAL_MS, timeoutMs: 2000 });
  const streamed = await saturate({ ...base, intervalMs: SAT_INTERVAL_MS, timeoutMs: 2000, stream });
  const sample = prober.stats(keys[0] ?? "")?.stream;

  // Open streams, measured against the same pods probed with streams that end at once: first the
  // pods stream with no delay every 2 s (keep-alive connections open, windows built), then their
  // first token is delayed 20 s, so within one interval every pod holds one open stream (later
  // rounds are skipped while it runs). The difference is what an open stream costs beyond its
  // idle connection. A prober with a slot per stream and one-sample windows.
  setAll(0, { ...base, intervalMs: 30_000, timeoutMs: 25_000, stream });
  await prober.stop();
  prober = new Prober({
    allowCidrs: ["127.0.0.0/8"],
    concurrency: OPEN,
    log: pino({ level: "error" }),
    window: { maxSamples: 1 },
  });
  await sleep(500);
  gc?.();
  const heap0 = process.memoryUsage();
  setAll(OPEN, { ...base, intervalMs: 2000, timeoutMs: 25_000, stream });
  await sleep(5000);
  gc?.();
  const heapIdle = process.memoryUsage();
  await setDefaults({ ttftMs: 20_000 });
  await sleep(4000);
  gc?.();
  const heapOpen = process.memoryUsage();
  const inFlight = prober.schedulerStats().inFlight;
  const per = (a: number, b: number, n: number) => Math.round(((b - a) / Math.max(1, n)) * 10) / 10;
  const open = {
    streamsOpen: inFlight,
    heapUsedBytesPerStream: per(heapIdle.heapUsed, heapOpen.heapUsed, inFlight),
    externalBytesPerStream: per(heapIdle.external, heapOpen.external, inFlight),
    rssBytesPerStream: per(heapIdle.rss, heapOpen.rss, inFlight),
    /** An idle probed pod (keep-alive connection, pool, state, one-sample windows), for scale. */
    heapUsedBytesPerIdlePod: per(heap0.heapUsed, heapIdle.heapUsed, OPEN),
    gcBeforeMeasuring: gc !== undefined,
  };
  // The fixture goes first: the open streams then fail at once instead of holding stop() 20 s.
  killChild();
  await prober.stop();

  const cpuMsPerStream = Math.round((streamed.cpuMsPerRound - plain.cpuMsPerRound) * 1000) / 1000;
  const result = {
    benchmark: "prober-stream",
    date: new Date().toISOString(),
    machine: {
      cpu: os.cpus()[0]?.model ?? "unknown",
      cpus: os.cpus().length,
      loadAverage1mBefore: Math.round((loadBefore[0] ?? 0) * 100) / 100,
      loadAverage1mAfter: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
    },
    node: process.version,
    nodeFlags: process.execArgv,
    settings: {
      targets: TARGETS,
      tokensPerStream: TOKENS,
      intervalMs: SAT_INTERVAL_MS,
      concurrency: CONCURRENCY,
      preset: "vllm",
      note: "prober in this process (one event loop = one core); fixture in a child process with no TTFT/TPOT delay (saturation phases)",
    },
    plain,
    streamed,
    /** Streamed rounds per CPU-second ≈ streams/s one core sustains (each with the preset's 2 checks). */
    streamsPerCpuSecond: streamed.roundsPerCpuSecond,
    cpuMsPerStream,
    open,
    lastWindow: sample,
    wallSeconds: Math.round((performance.now() - started) / 100) / 10,
  };
  mkdirSync("hack/bench/results", { recursive: true });
  writeFileSync("hack/bench/results/prober-stream.json", `${JSON.stringify(result, null, 2)}\n`);
  const lines = [
    `Streaming-probe benchmark: ${TARGETS} targets, preset vllm, ${TOKENS} tokens per stream, ${result.machine.cpus}× ${result.machine.cpu}, Node ${process.version}`,
    "",
    "| measure | plain rounds (2 GETs) | rounds + stream |",
    "| --- | --- | --- |",
    `| rounds/s achieved (interval ${SAT_INTERVAL_MS} ms) | ${plain.roundsPerSec} | ${streamed.roundsPerSec} |`,
    `| success rate | ${plain.successRate} | ${streamed.successRate} |`,
    `| CPU (% of one core) | ${plain.cpuPercentOfOneCore} | ${streamed.cpuPercentOfOneCore} |`,
    `| rounds per CPU-second | ${plain.roundsPerCpuSecond} | ${streamed.roundsPerCpuSecond} |`,
    `| CPU-ms per round | ${plain.cpuMsPerRound} | ${streamed.cpuMsPerRound} |`,
    "",
    `CPU-ms per ${TOKENS}-token stream: ${cpuMsPerStream}; ${open.streamsOpen} streams held open: heap +${open.heapUsedBytesPerStream} B, external +${open.externalBytesPerStream} B, RSS +${open.rssBytesPerStream} B per open stream beyond its idle connection (an idle probed pod: heap ${open.heapUsedBytesPerIdlePod} B; GC before measuring: ${open.gcBeforeMeasuring}).`,
    `wall time ${result.wallSeconds} s; load average (1 min) ${result.machine.loadAverage1mBefore} → ${result.machine.loadAverage1mAfter} on ${result.machine.cpus} CPUs; JSON: hack/bench/results/prober-stream.json`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`benchmark failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    killChild();
    clearTimeout(deadline);
  });
