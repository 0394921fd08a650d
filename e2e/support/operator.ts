// Runs the real operator process (node operator/src/main.ts) against the cluster under test, as a
// user would: flags, a kubeconfig, JSON logs. Tests can stop it, kill -9 it and read its logs.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { inject } from "vitest";
import { POD_SUPERNET } from "../../hack/cluster/network.ts";
import { localCluster } from "./cluster.ts";

const root = join(import.meta.dirname, "..", "..");

export interface RunningOperator {
  pid: number;
  logFile: string;
  logs(): string;
  /** Graceful: SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** kill -9, as a crash. */
  kill9(): Promise<void>;
  /** Resolves with the exit code when the process ends by itself or is stopped. */
  exited: Promise<number | null>;
}

let counter = 0;

export async function startOperator(
  opts: {
    args?: string[];
    name?: string;
    /** Another identity, e.g. a ServiceAccount token's kubeconfig; default: the operator's own. */
    kubeconfig?: string;
    /** Extra environment variables for the process. */
    env?: Record<string, string>;
    /** What node runs: the source (default) or a built bundle, e.g. hack/build.ts's dist/main.js. */
    entry?: string;
    /** Flags for node itself, e.g. the image's NODE_FLAGS. */
    nodeFlags?: string[];
  } = {},
): Promise<RunningOperator> {
  // Locally the operator gets its own identity, so the audit log tells its writes apart.
  const kubeconfig = opts.kubeconfig ?? localCluster()?.operatorKubeconfig ?? inject("kubeconfig");
  const dir = join(root, ".e2e-artifacts");
  mkdirSync(dir, { recursive: true });
  counter += 1;
  const logFile = join(dir, `operator-${opts.name ?? "op"}-${process.pid}-${counter}.log`);
  const out = createWriteStream(logFile);
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...(opts.nodeFlags ?? []),
      opts.entry ?? join(root, "operator/src/main.ts"),
      `--kubeconfig=${kubeconfig}`,
      "--metrics-addr=127.0.0.1:0",
      "--log-level=debug",
      // Only the harness's pod range; off the local harness the prober is off unless a test asks.
      ...(localCluster() ? [`--probe-allow-cidrs=${POD_SUPERNET}`] : ["--prober=false"]),
      ...(opts.args ?? []),
    ],
    { stdio: ["ignore", "pipe", "pipe"], ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}) },
  );
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const logs = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
  // Running once its caches are synced.
  const deadline = Date.now() + 60_000;
  while (!logs().includes("operator running")) {
    if (child.exitCode !== null) throw new Error(`operator exited (${child.exitCode}):\n${logs()}`);
    if (Date.now() > deadline) throw new Error(`operator did not start in 60 s:\n${logs()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pid: child.pid ?? 0,
    logFile,
    logs,
    exited,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
    async kill9() {
      if (child.exitCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}
