/**
 * Prober benchmark (bounded: < 60 s). 1,000 targets (pods) on 127.1.x.y addresses, served by two
 * fixture model server processes; the prober runs in this process. Measures probes/s, CPU of this
 * process, scheduling lag (start − due) against the interval, and open file descriptors (keep-alive:
 * no socket churn). A probe is one round of the preset's deep checks (openInference: 2 requests).
 *
 *   node hack/bench/prober.ts [--targets 1000] [--interval-ms 500] [--measure-s 20] [--preset openInference]
 *
 * Prints a markdown table and writes hack/bench/results/prober.json. Dials 127.0.0.0/8 only.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import pino from "pino";
import type { RuntimePreset } from "../../operator/src/api/presets.ts";
import { Prober } from "../../operator/src/prober/prober.ts";

const HARD_LIMIT_MS = 60_000;
const { values } = parseArgs({
  options: {
    targets: { type: "string", default: "1000" },
    "interval-ms": { type: "string", default: "500" },
    "measure-s": { type: "string", default: "20" },
    "saturate-interval-ms": { type: "string", default: "100" },
    "saturate-s": { type: "string", default: "8" },
    concurrency: { type: "string", default: "256" },
    preset: { type: "string", default: "openInference" },
    servers: { type: "string", default: "2" },
  },
});
const TARGETS = Math.min(5000, Number(values.targets));
const INTERVAL_MS = Number(values["interval-ms"]);
const MEASURE_MS = Math.min(30, Number(values["measure-s"])) * 1000;
const SAT_INTERVAL_MS = Number(values["saturate-interval-ms"]);
const SAT_MS = Math.min(15, Number(values["saturate-s"])) * 1000;
const CONCURRENCY = Number(values.concurrency);
const PRESET = values.preset as RuntimePreset;
const SERVERS = Math.max(1, Math.min(4, Number(values.servers)));
const PODS_PER_REVISION = 10;

const started = performance.now();
const loadBefore = os.loadavg();
const children: ChildProcess[] = [];
const killChildren = () => {
  for (const c of children) if (c.pid !== undefined && c.exitCode === null) c.kill("SIGTERM");
};
const deadline = setTimeout(() => {
  process.stderr.write("benchmark exceeded 60 s; stopping\n");
  killChildren();
  process.exit(2);
}, HARD_LIMIT_MS);
deadline.unref();

/** Pod addresses 127.1.s.h (server s), never outside 127.0.0.0/8. */
function podIp(i: number): { ip: string; server: number } {
  const revision = Math.floor(i / PODS_PER_REVISION);
  const server = revision % SERVERS; // all pods of a revision on one fixture (one port)
  const k = Math.floor(revision / SERVERS) * PODS_PER_REVISION + (i % PODS_PER_REVISION);
  return { ip: `127.1.${server * 50 + Math.floor(k / 250)}.${(k % 250) + 1}`, server };
}

async function startFixture(binds: string[]): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ["operator/testing/model-server.ts", "--port", "0", "--control-port", "0", "--bind", binds.join(",")],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  children.push(child);
  const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const line = await new Promise<string>((resolve, reject) => {
    rl.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`fixture exited with ${code}`)));
  });
  const info = JSON.parse(line) as { port: number };
  return { port: info.port, child };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const openFds = () => readdirSync("/proc/self/fd").length;
/** CPU seconds used so far by the fixture processes (Linux /proc; clock ticks at 100 Hz). */
const fixtureCpuSeconds = () =>
  children.reduce((sum, c) => {
    try {
      const fields = readFileSync(`/proc/${c.pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
      return sum + (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      return sum;
    }
  }, 0);

type Phase = {
  intervalMs: number;
  seconds: number;
  targetProbesPerSec: number;
  probesPerSec: number;
  httpRequestsPerSec: number;
  successRate: number;
  cpuPercentOfOneCore: number;
  probesPerCpuSecond: number;
  eventLoopUtilization: number;
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  lagP99PercentOfInterval: number;
  skippedBusy: number;
  openFdsStart: number;
  openFdsEnd: number;
  fixtureCpuPercent: number;
};

async function main(): Promise<void> {
  const ips = Array.from({ length: TARGETS }, (_, i) => podIp(i));
  const fixtures = await Promise.all(
    Array.from({ length: SERVERS }, (_, s) =>
      startFixture(ips.filter((p) => p.server === s).map((p) => p.ip)),
    ),
  );
  const prober = new Prober({
    allowCidrs: ["127.0.0.0/8"],
    concurrency: CONCURRENCY,
    log: pino({ level: "warn" }),
  });
  const revisions: string[] = [];

  const setAll = (intervalMs: number) => {
    revisions.length = 0;
    for (let r = 0; r * PODS_PER_REVISION < TARGETS; r++) {
      const key = `bench/model-${r}/rev`;
      revisions.push(key);
      const pods = ips.slice(r * PODS_PER_REVISION, (r + 1) * PODS_PER_REVISION);
      // One revision per fixture port, so pods of a revision share a port like real pods do.
      const port = (fixtures[pods[0]?.server ?? 0] as { port: number }).port;
      prober.setRevisionTargets(
        key,
        { preset: PRESET, modelName: "recommender", port, intervalMs, timeoutMs: 2000 },
        pods.map((p, j) => ({ ip: p.ip, podName: `pod-${r}-${j}` })),
      );
    }
  };
  const totals = () => {
    let probes = 0;
    let ok = 0;
    for (const key of revisions) {
      for (const p of prober.stats(key)?.pods ?? []) {
        probes += p.probes;
      }
      const s = prober.stats(key);
      if (s !== undefined) ok += s.successes;
    }
    return { probes, ok };
  };
  const targetsScheduled = () => prober.schedulerStats().targets;

  async function phase(intervalMs: number, warmMs: number, measureMs: number): Promise<Phase> {
    setAll(intervalMs);
    await sleep(warmMs);
    prober.resetSchedulerLag();
    const skippedBefore = prober.schedulerStats().skippedBusy;
    const before = totals();
    const fdStart = openFds();
    const fixtureCpu0 = fixtureCpuSeconds();
    const cpu0 = process.cpuUsage();
    const elu0 = performance.eventLoopUtilization();
    const t0 = performance.now();
    await sleep(measureMs);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0);
    const after = totals();
    const sched = prober.schedulerStats();
    const probes = after.probes - before.probes;
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const checksPerProbe = PRESET === "torchserve" || PRESET === "nim" || PRESET === "http" ? 1 : 2;
    return {
      intervalMs,
      seconds: Math.round(seconds * 10) / 10,
      targetProbesPerSec: Math.round((targetsScheduled() * 1000) / intervalMs),
      probesPerSec: Math.round(probes / seconds),
      httpRequestsPerSec: Math.round((probes * checksPerProbe) / seconds),
      successRate: probes === 0 ? 0 : Math.round(((after.ok - before.ok) / probes) * 10000) / 10000,
      cpuPercentOfOneCore: Math.round((cpuSeconds / seconds) * 1000) / 10,
      probesPerCpuSecond: Math.round(probes / cpuSeconds),
      eventLoopUtilization: Math.round(elu.utilization * 1000) / 1000,
      lagP50Ms: Math.round(sched.lagP50Ms * 100) / 100,
      lagP99Ms: Math.round(sched.lagP99Ms * 100) / 100,
      lagMaxMs: Math.round(sched.lagMaxMs * 100) / 100,
      lagP99PercentOfInterval: Math.round((sched.lagP99Ms / intervalMs) * 10000) / 100,
      skippedBusy: sched.skippedBusy - skippedBefore,
      openFdsStart: fdStart,
      openFdsEnd: openFds(),
      fixtureCpuPercent: Math.round(((fixtureCpuSeconds() - fixtureCpu0) / seconds) * 1000) / 10,
    };
  }

  const nominal = await phase(INTERVAL_MS, 3000, MEASURE_MS);
  const saturated = await phase(SAT_INTERVAL_MS, 2000, SAT_MS);
  await prober.stop();
  killChildren();

  const result = {
    benchmark: "prober",
    date: new Date().toISOString(),
    machine: {
      cpu: os.cpus()[0]?.model ?? "unknown",
      cpus: os.cpus().length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      os: `${os.type()} ${os.release()}`,
      // Other work on the machine takes CPU from the prober; lag and probes/s depend on it.
      loadAverage1mBefore: Math.round((loadBefore[0] ?? 0) * 100) / 100,
      loadAverage1mAfter: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
    },
    node: process.version,
    // Run as the image runs the operator: node --optimize-for-size hack/bench/prober.ts
    nodeFlags: process.execArgv,
    settings: {
      targets: TARGETS,
      revisions: revisions.length,
      podsPerRevision: PODS_PER_REVISION,
      preset: PRESET,
      concurrency: CONCURRENCY,
      timeoutMs: 2000,
      jitter: 0.1,
      fixtureProcesses: SERVERS,
      note: "prober in this process (one event loop = one core); fixture servers in child processes",
    },
    goal: { probesPerSec: 2000, lagP99PercentOfInterval: 10 },
    nominal,
    saturated,
    wallSeconds: Math.round((performance.now() - started) / 100) / 10,
  };
  mkdirSync("hack/bench/results", { recursive: true });
  writeFileSync("hack/bench/results/prober.json", `${JSON.stringify(result, null, 2)}\n`);

  const rows: [string, (p: Phase) => string][] = [
    ["interval (ms)", (p) => String(p.intervalMs)],
    ["scheduled probes/s", (p) => String(p.targetProbesPerSec)],
    ["probes/s achieved", (p) => String(p.probesPerSec)],
    ["HTTP requests/s", (p) => String(p.httpRequestsPerSec)],
    ["probe success rate", (p) => String(p.successRate)],
    ["CPU (% of one core)", (p) => String(p.cpuPercentOfOneCore)],
    ["probes per CPU-second", (p) => String(p.probesPerCpuSecond)],
    ["event loop utilization", (p) => String(p.eventLoopUtilization)],
    ["lag p50 (ms)", (p) => String(p.lagP50Ms)],
    ["lag p99 (ms)", (p) => String(p.lagP99Ms)],
    ["lag p99 / interval", (p) => `${p.lagP99PercentOfInterval}%`],
    ["lag max (ms)", (p) => String(p.lagMaxMs)],
    ["runs skipped (target busy)", (p) => String(p.skippedBusy)],
    ["fixture processes CPU (% of one core)", (p) => String(p.fixtureCpuPercent)],
    ["open fds start → end", (p) => `${p.openFdsStart} → ${p.openFdsEnd}`],
  ];
  const lines = [
    `Prober benchmark: ${TARGETS} targets, preset ${PRESET}, concurrency ${CONCURRENCY}, ${result.machine.cpus}× ${result.machine.cpu}, Node ${process.version}`,
    "",
    "| measure | nominal | saturation |",
    "| --- | --- | --- |",
    ...rows.map(([name, f]) => `| ${name} | ${f(nominal)} | ${f(saturated)} |`),
    "",
    `wall time ${result.wallSeconds} s; load average (1 min) ${result.machine.loadAverage1mBefore} → ${result.machine.loadAverage1mAfter} on ${result.machine.cpus} CPUs; JSON: hack/bench/results/prober.json`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`benchmark failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    killChildren();
    clearTimeout(deadline);
  });
