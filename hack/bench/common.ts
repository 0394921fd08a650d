// Shared pieces of the operator benchmarks: a fresh local control plane per measure, the real operator
// process as the image runs it (dist/main.js, bundled by hack/build.ts) with its /metrics, process CPU from /proc, the audit log, and the
// machine description every result carries. Everything dials 127.0.0.0/8 or the harness's addresses.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { type CustomObjectsApi, KubeConfig, Watch } from "@kubernetes/client-node";
import { buildOperator, NODE_FLAGS } from "../build.ts";
import { ensureBinaries } from "../cluster/binaries.ts";
import {
  type ClusterState,
  kubectlOf,
  startCluster,
  stopCluster,
  waitForCrdsEstablished,
} from "../cluster/control-plane.ts";
import { POD_SUPERNET } from "../cluster/network.ts";

const exec = promisify(execFile);
export const ROOT = join(import.meta.dirname, "..", "..");
export const RESULTS = join(import.meta.dirname, "results");
export const ARTIFACTS = join(ROOT, ".bench-artifacts");

export interface OperatorSettings {
  qps: number;
  burst: number;
  workers: number;
}
export const DEFAULT_SETTINGS: OperatorSettings = { qps: 50, burst: 100, workers: 4 };

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i] as number;
}
export const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** Repeated timings (ms): how many completed, p50, p99, max and each sample. */
export const timingSummary = (xs: number[]) => ({
  completed: xs.length,
  p50Ms: round(percentile(xs, 50), 0),
  p99Ms: round(percentile(xs, 99), 0),
  maxMs: round(Math.max(...xs), 0),
  samplesMs: xs.map((t) => round(t, 0)),
});

export async function machine(cluster?: ClusterState): Promise<Record<string, unknown>> {
  let kube = "unknown";
  if (cluster) {
    try {
      const { stdout } = await exec(join(cluster.binDir, "kubectl"), [
        "--kubeconfig",
        cluster.kubeconfig,
        "version",
        "-o",
        "json",
      ]);
      kube =
        (JSON.parse(stdout) as { serverVersion?: { gitVersion?: string } }).serverVersion?.gitVersion ?? kube;
    } catch {}
  }
  return {
    cpu: os.cpus()[0]?.model,
    nproc: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    loadAverage: os.loadavg().map((x) => round(x)),
    node: process.version,
    kube,
  };
}

export function writeResult(name: string, result: Record<string, unknown>): string {
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

export async function binDir(): Promise<string> {
  return process.env.MODELSHIP_BIN_DIR ?? (await ensureBinaries());
}

export async function kubectl(c: ClusterState, args: string[], input?: string): Promise<string> {
  const child = exec(join(c.binDir, "kubectl"), ["--kubeconfig", c.kubeconfig, ...args], {
    maxBuffer: 256 * 1024 * 1024,
  });
  if (input !== undefined) child.child.stdin?.end(input);
  return (await child).stdout;
}

// Clusters this process started: torn down on SIGINT/SIGTERM too, and a closed stdout (`| head`) must
// not kill the process before its finally blocks run.
const active = new Set<ClusterState>();
const operators = new Set<ChildProcess>();
let handlersInstalled = false;
function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.stdout.on("error", () => {});
  process.stderr.on("error", () => {});
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(sig, () => {
      for (const o of operators) if (o.exitCode === null && o.signalCode === null) o.kill("SIGKILL");
      void Promise.all([...active].map((c) => stopCluster(c).catch(() => {}))).then(() => process.exit(130));
    });
  }
}

/** A fresh control plane with the CRD installed; always torn down. */
export async function withCluster<T>(
  name: string,
  fn: (c: ClusterState) => Promise<T>,
  nodes = 3,
  cluster: { controllerManagerQps?: number } = {},
): Promise<T> {
  installHandlers();
  const c = await startCluster({
    name: `bench-${name}-${process.pid}`,
    binDir: await binDir(),
    nodes,
    ...cluster,
  });
  active.add(c);
  try {
    await kubectl(c, [
      "apply",
      "--server-side",
      "-f",
      join(ROOT, "crds/modelship.dev_modeldeployments.yaml"),
    ]);
    waitForCrdsEstablished(kubectlOf(c), ["modeldeployments.modelship.dev"]);
    return await fn(c);
  } finally {
    active.delete(c);
    await stopCluster(c);
  }
}

export function kubeConfigOf(c: ClusterState, operator = false): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(operator ? c.operatorKubeconfig : c.kubeconfig);
  return kc;
}

export interface Operator {
  pid: number;
  metricsUrl: string;
  logFile: string;
  logs(): string;
  stop(): Promise<void>;
  kill9(): Promise<void>;
  exited(): boolean;
}

let bundle: Promise<string> | undefined;
/** dist/main.js from hack/build.ts, built once per bench run from the current source. */
const bundled = () => {
  bundle ??= buildOperator();
  return bundle;
};

let opCounter = 0;
/** The real operator process; resolves once it logs "operator running" (caches synced). */
export async function startOperator(
  c: ClusterState,
  opts: {
    settings: OperatorSettings;
    args?: string[];
    name?: string;
    cpuProf?: boolean;
    nodeArgs?: string[];
  },
): Promise<Operator> {
  mkdirSync(ARTIFACTS, { recursive: true });
  opCounter += 1;
  const logFile = join(ARTIFACTS, `operator-${opts.name ?? "op"}-${process.pid}-${opCounter}.log`);
  const out = createWriteStream(logFile);
  // Experiments with V8/Node flags (run.ts --operator-node-args=...) replace the image's flags.
  const experiment = process.env.MODELSHIP_BENCH_OPERATOR_NODE_ARGS;
  const nodeArgs = [
    ...(experiment === undefined ? NODE_FLAGS : experiment.split(" ").filter(Boolean)),
    ...(opts.cpuProf ? ["--cpu-prof", `--cpu-prof-dir=${join(ARTIFACTS, "profiles")}`] : []),
    ...(opts.nodeArgs ?? []),
  ];
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...nodeArgs,
      // The operator as the image runs it, flags included (memory depends on both: docs/benchmarks.md).
      await bundled(),
      `--kubeconfig=${c.operatorKubeconfig}`,
      "--metrics-addr=127.0.0.1:0",
      "--log-level=info",
      `--probe-allow-cidrs=${POD_SUPERNET}`,
      `--qps=${opts.settings.qps}`,
      `--burst=${opts.settings.burst}`,
      `--workers=${opts.settings.workers}`,
      ...(opts.args ?? []),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  operators.add(child);
  const exitedP = new Promise<void>((resolve) =>
    child.once("exit", () => {
      operators.delete(child);
      resolve();
    }),
  );
  const logs = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
  const deadline = Date.now() + 90_000;
  let metricsUrl = "";
  while (!logs().includes("operator running")) {
    if (child.exitCode !== null) throw new Error(`operator exited (${child.exitCode}):\n${logs()}`);
    if (Date.now() > deadline) throw new Error(`operator did not start in 90 s:\n${logs().slice(-3000)}`);
    await sleep(100);
  }
  const m = /"addr":"(127\.0\.0\.1:\d+)"[^\n]*serving \/healthz/.exec(logs());
  if (m) metricsUrl = `http://${m[1]}/metrics`;
  return {
    pid: child.pid ?? 0,
    metricsUrl,
    logFile,
    logs,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await Promise.race([exitedP, sleep(20_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exitedP;
    },
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exitedP;
    },
  };
}

/** Reads a Prometheus text exposition; sums series of a metric name (all label sets). */
/**
 * The operator's /metrics as sums by metric name. 30 s: right after a burst of thousands of objects
 * on 2 cores the operator's event loop can be seconds behind, and a sample lost to that would cost the
 * whole measure; how long it took is the caller's to record.
 */
export async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const name = m[1] as string;
    out.set(name, (out.get(name) ?? 0) + Number(m[3]));
  }
  return out;
}

/** User+system CPU seconds of a process (Linux /proc, 100 Hz ticks). */
export function cpuSeconds(pid: number): number {
  return statCpu(readFileSync(`/proc/${pid}/stat`, "utf8")).seconds;
}

/** The name and user+system CPU seconds in a /proc stat line (the name may hold spaces and parens). */
function statCpu(stat: string): { name: string; seconds: number } {
  const end = stat.lastIndexOf(")");
  const fields = stat.slice(end + 2).split(" ");
  return {
    name: stat.slice(stat.indexOf("(") + 1, end),
    seconds: (Number(fields[11]) + Number(fields[12])) / 100,
  };
}

/**
 * User+system CPU seconds of each thread of a process, summed by thread name (Linux /proc): tells
 * Node's JavaScript thread ("MainThread") from V8's GC and compiler helpers ("V8Worker").
 */
export function cpuSecondsByThread(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const { name, seconds } = statCpu(readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8"));
      out[name] = (out[name] ?? 0) + seconds;
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/** b − a per thread name, rounded; threads that used no CPU in between are left out. */
function cpuDelta(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, v] of Object.entries(b)) {
    const d = round(v - (a[name] ?? 0));
    if (d > 0) out[name] = d;
  }
  return out;
}

/** What a controller process spent while `during` ran, per reconcile (its counter `metric`). */
export interface CpuWindow {
  windowSeconds: number;
  reconciles: number;
  cpuSeconds: number;
  /** By thread name (cpuSecondsByThread). */
  cpuSecondsByThread: Record<string, number>;
  cpuMsPerReconcile: number | null;
  cpuPercentOfOneCore: number;
}

export async function cpuWindow<T>(
  proc: { pid: number; metricsUrl: string },
  metric: string,
  during: () => Promise<T>,
): Promise<{ cpu: CpuWindow; result: T }> {
  const m0 = await scrape(proc.metricsUrl);
  const [cpu0, threads0, t0] = [cpuSeconds(proc.pid), cpuSecondsByThread(proc.pid), performance.now()];
  const result = await during();
  const [cpu1, threads1, t1] = [cpuSeconds(proc.pid), cpuSecondsByThread(proc.pid), performance.now()];
  const m1 = await scrape(proc.metricsUrl);
  const reconciles = (m1.get(metric) ?? 0) - (m0.get(metric) ?? 0);
  const cpu = cpu1 - cpu0;
  const windowS = (t1 - t0) / 1000;
  return {
    cpu: {
      windowSeconds: round(windowS, 1),
      reconciles,
      cpuSeconds: round(cpu),
      cpuSecondsByThread: cpuDelta(threads0, threads1),
      cpuMsPerReconcile: reconciles > 0 ? round((cpu * 1000) / reconciles, 3) : null,
      cpuPercentOfOneCore: round((cpu / windowS) * 100, 1),
    },
    result,
  };
}

export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

/**
 * RSS in MiB, split: `anon` is the process's own memory (heaps, stacks, malloc); `file` the pages of
 * its binary and libraries it has touched, which the kernel can drop and read again.
 */
export function rssSplitMiB(pid: number): { rss: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
  const mib = (x: number) => round(x / 1024, 1);
  return { rss: mib(kb("VmRSS")), anon: mib(kb("RssAnon")), file: mib(kb("RssFile") + kb("RssShmem")) };
}

/** One line of the apiserver's JSON audit log (the fields the benches read). */
export interface AuditEvent {
  verb: string;
  user: { username: string };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  requestReceivedTimestamp: string;
  stage: string;
}
/**
 * Writes by one identity (the operator's, OPERATOR_USER, or the peer's, PEER_USER) received in
 * [sinceMs, untilMs), from the apiserver's audit log.
 */
export function writesBy(c: ClusterState, user: string, sinceMs: number, untilMs = Infinity): AuditEvent[] {
  if (!existsSync(c.auditLog)) return [];
  const writes = new Set(["create", "update", "patch", "delete", "deletecollection"]);
  return readFileSync(c.auditLog, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditEvent)
    .filter((e) => e.stage === "ResponseComplete" && e.user.username === user && writes.has(e.verb))
    .filter((e) => {
      const at = Date.parse(e.requestReceivedTimestamp);
      return at >= sinceMs && at < untilMs;
    });
}

/** Audit events counted by verb and resource ("patch rollouts/status"), for a result's detail. */
export function countByVerb(events: AuditEvent[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const w of events) {
    const k = `${w.verb} ${w.objectRef?.resource ?? ""}${w.objectRef?.subresource ? `/${w.objectRef.subresource}` : ""}`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/**
 * Watches a collection and records, per object name, the first time `ready` holds. Resolves when
 * `expected` names are ready or the deadline passes. Restarts the watch if the server closes it.
 */
export async function watchUntilReady(
  kc: KubeConfig,
  path: string,
  expected: number,
  ready: (obj: Record<string, unknown>) => boolean,
  deadlineMs: number,
  onStart: () => void,
): Promise<Map<string, number>> {
  const readyAt = new Map<string, number>();
  const watch = new Watch(kc);
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => {
    done = r;
  });
  let req: AbortController | undefined;
  let stopped = false;
  const begin = async (): Promise<void> => {
    if (stopped) return;
    req = await watch.watch(
      path,
      { allowWatchBookmarks: false },
      (_type, obj: Record<string, unknown>) => {
        const name = (obj.metadata as { name: string }).name;
        if (!readyAt.has(name) && ready(obj)) {
          readyAt.set(name, performance.now());
          if (readyAt.size >= expected) done();
        }
      },
      () => {
        if (!stopped && readyAt.size < expected) setTimeout(() => void begin().catch(() => {}), 200);
      },
    );
  };
  await begin();
  onStart();
  const timer = setTimeout(done, Math.max(0, deadlineMs - Date.now()));
  await finished;
  stopped = true;
  clearTimeout(timer);
  req?.abort();
  return readyAt;
}

/** Runs `fn` over items with at most `limit` in flight. */
export async function pool<T>(
  items: T[],
  limit: number,
  fn: (x: T, i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i] as T, i);
      }
    }),
  );
}

/** A small valid ModelDeployment spec. */
export function mdSpec(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model: { name: "recommender", version: "v1" },
    runtime: { preset: "openInference", image: "registry.invalid/recsys:1" },
    replicas: 1,
    rollout: { scaleDownDelaySeconds: 2, progressDeadlineSeconds: 600, analysis: { minSamples: 4 } },
    health: { intervalSeconds: 10, timeoutSeconds: 1 },
    ...overrides,
  };
}

/** Creates m-0 … m-(n-1) as a user applying a file would: no client-side limit, 16 in flight. */
export function createModelDeployments(
  custom: CustomObjectsApi,
  ns: string,
  n: number,
  spec: Record<string, unknown> = mdSpec(),
): Promise<void> {
  return pool(
    Array.from({ length: n }, (_, i) => i),
    16,
    async (i) => {
      await custom.createNamespacedCustomObject({
        group: "modelship.dev",
        version: "v1alpha1",
        namespace: ns,
        plural: "modeldeployments",
        body: mdBody(ns, `m-${i}`, spec),
      });
    },
  );
}

export function mdBody(namespace: string, name: string, spec: Record<string, unknown>) {
  return {
    apiVersion: "modelship.dev/v1alpha1",
    kind: "ModelDeployment",
    metadata: { name, namespace },
    spec,
  };
}

export function mdAvailable(obj: Record<string, unknown>): boolean {
  const md = obj as {
    metadata: { generation?: number };
    status?: { phase?: string; observedGeneration?: number };
  };
  return md.status?.phase === "Healthy" && md.status.observedGeneration === md.metadata.generation;
}

export function deploymentAvailable(obj: Record<string, unknown>): boolean {
  const d = obj as {
    metadata: { generation?: number };
    spec?: { replicas?: number };
    status?: { observedGeneration?: number; readyReplicas?: number; availableReplicas?: number };
  };
  const want = d.spec?.replicas ?? 1;
  return (
    (d.status?.observedGeneration ?? 0) >= (d.metadata.generation ?? 1) &&
    (d.status?.availableReplicas ?? 0) >= want &&
    (d.status?.readyReplicas ?? 0) >= want
  );
}

export function parseFlags(argv: string[]): { quick: boolean; cpuProf: boolean } {
  return { quick: argv.includes("--quick"), cpuProf: argv.includes("--cpu-prof") };
}

export function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}
