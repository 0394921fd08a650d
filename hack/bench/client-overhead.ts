/**
 * What one API call costs through @kubernetes/client-node, as the operator uses it, against the same
 * client with one shared undici dispatcher. client-node 2.0.1 builds a new undici Agent (a new TLS
 * connection and SecureContext) in applySecurityAuthentication for every request; this measures the
 * CPU, RSS and heap that costs. Each mode runs in its own child process (fresh heap). Bounded: ≤ 5000
 * calls per mode, 120 s each.
 *
 *   node hack/bench/client-overhead.ts [--calls 2000] [--concurrency 8]
 */
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { CoreV1Api, KubeConfig, type RequestContext } from "@kubernetes/client-node";
import type { ClusterState } from "../cluster/control-plane.ts";
import { log, machine, pool, round, withCluster, writeResult } from "./common.ts";

const { values } = parseArgs({
  options: {
    calls: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "8" },
    mode: { type: "string" },
    kubeconfig: { type: "string" },
  },
});
const CALLS = Math.min(5000, Number(values.calls));
const CONCURRENCY = Math.min(64, Number(values.concurrency));

/** One undici Agent for every request of this KubeConfig (what client-go's transport cache does). */
class SharedDispatcherKubeConfig extends KubeConfig {
  #shared: ReturnType<RequestContext["getDispatcher"]>;
  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const d = context.getDispatcher();
    if (!this.#shared) this.#shared = d;
    else if (d && d !== this.#shared) {
      void (d as { close?: () => Promise<void> }).close?.();
      context.setDispatcher(this.#shared);
    }
  }
}

async function child(mode: string, kubeconfig: string): Promise<void> {
  const kc = mode === "shared" ? new SharedDispatcherKubeConfig() : new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  await core.readNamespace({ name: "default" });
  global.gc?.();
  const m0 = process.memoryUsage();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = Date.now() + 120_000;
  let done = 0;
  await pool(
    Array.from({ length: CALLS }, (_, i) => i),
    CONCURRENCY,
    async () => {
      if (Date.now() > deadline) return;
      await core.readNamespace({ name: "default" });
      done += 1;
    },
  );
  const wall = (performance.now() - t0) / 1000;
  const c1 = process.cpuUsage(c0);
  const m1 = process.memoryUsage();
  await sleep(1000);
  global.gc?.();
  const m2 = process.memoryUsage();
  const MiB = 2 ** 20;
  process.stdout.write(
    `${JSON.stringify({
      mode,
      calls: done,
      seconds: round(wall, 2),
      callsPerSecond: round(done / wall, 0),
      cpuMsPerCall: round((c1.user + c1.system) / 1000 / done, 3),
      rssStartMiB: round(m0.rss / MiB, 1),
      rssEndMiB: round(m1.rss / MiB, 1),
      heapTotalEndMiB: round(m1.heapTotal / MiB, 1),
      heapUsedAfterGcMiB: round(m2.heapUsed / MiB, 1),
      externalEndMiB: round(m1.external / MiB, 1),
    })}\n`,
  );
  process.exit(0);
}

async function runMode(c: ClusterState, mode: string): Promise<Record<string, unknown>> {
  const p = spawn(
    process.execPath,
    [
      "--expose-gc",
      import.meta.filename,
      `--mode=${mode}`,
      `--kubeconfig=${c.kubeconfig}`,
      `--calls=${CALLS}`,
      `--concurrency=${CONCURRENCY}`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  p.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const timer = setTimeout(() => p.kill("SIGKILL"), 150_000);
  await new Promise((r) => p.once("exit", r));
  clearTimeout(timer);
  return JSON.parse(out.trim().split("\n").pop() ?? "{}") as Record<string, unknown>;
}

if (values.mode) {
  await child(values.mode, values.kubeconfig ?? "");
} else {
  await withCluster("client", async (c) => {
    const before = await machine(c);
    const rows: Record<string, unknown>[] = [];
    for (const mode of ["per-request-agent", "shared", "per-request-agent", "shared"]) {
      const r = await runMode(c, mode);
      log(JSON.stringify(r));
      rows.push(r);
    }
    const file = writeResult("client-overhead", {
      benchmark: "client-overhead",
      date: new Date().toISOString(),
      machine: before,
      calls: CALLS,
      concurrency: CONCURRENCY,
      note: "GET /api/v1/namespaces/default through CoreV1Api; per-request-agent = client-node 2.0.1 as the operator uses it",
      results: rows,
    });
    log(`wrote ${file}`);
  });
}
