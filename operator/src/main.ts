// Composition root: configuration, logger, kube client, health server, leader election and the
// controller manager. Nothing below reads process.env or globals; everything is passed in.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { pino } from "pino";
import { ConfigError, FLAGS_HELP, loadConfig } from "./config.ts";
import { type Manager, startManager } from "./controller/manager.ts";
import { loadKubeConfig, serverVersion } from "./kube/client.ts";
import { LeaderElector } from "./kube/leader-election.ts";
import { KubeLeaseStore } from "./kube/lease-store.ts";
import { createMetrics, type ProbeResult } from "./metrics/registry.ts";
import { Prober } from "./prober/prober.ts";
import { leaderElectionReadiness, startHealthServer } from "./server/health-server.ts";

// From source (operator/src/main.ts) package.json is two levels up; from the image (dist/main.js), one.
function readVersion(): string {
  for (const rel of ["../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "modelship" && pkg.version) return pkg.version;
    } catch {}
  }
  return "unknown";
}
const pkg = { version: readVersion() };

/** The metric's bounded result label from a probe failure kind. */
function probeResult(ok: boolean, failure: string | undefined): ProbeResult {
  if (ok) return "ok";
  if (failure === "timeout") return "timeout";
  if (failure === "refused" || failure === "connect-error") return "connection-error";
  if (failure === "status" || failure === "redirect") return "http-error";
  return "bad-response";
}

function splitHostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(":");
  return { host: addr.slice(0, i) || "0.0.0.0", port: Number(addr.slice(i + 1)) };
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes("--version")) {
    process.stdout.write(`modelship ${pkg.version}\n`);
    return 0;
  }
  if (argv.includes("--help")) {
    process.stdout.write(`modelship operator ${pkg.version}\n\nflags:\n${FLAGS_HELP}\n`);
    return 0;
  }
  const config = loadConfig(argv, process.env);
  const log = pino({ level: config.logLevel, base: { component: "modelship" } });
  const identity = `${process.env.POD_NAME ?? hostname()}-${process.pid}`;
  const kc = loadKubeConfig(config.kubeconfig);
  const version = await serverVersion(kc);
  log.info({ server: kc.getCurrentCluster()?.server, version, identity }, "connected to the Kubernetes API");

  // Every request says which process sent it, so the API server's audit log tells leader and standby apart.
  const userAgent = `modelship/${pkg.version} (${identity})`;
  const elector = config.leaderElect
    ? new LeaderElector({
        store: KubeLeaseStore.fromKubeConfig(kc, userAgent),
        namespace: config.leaderElectionNamespace,
        name: "modelship-operator",
        identity,
        log,
      })
    : undefined;

  const metrics = createMetrics();
  // The prober reports through the manager, which is built after it: bind late.
  let onProbeStats: Manager["onProbeStats"];
  const prober = config.prober
    ? new Prober({
        allowCidrs: config.probeAllowCidrs,
        concurrency: config.probeConcurrency,
        log: log.child({ component: "prober" }),
        onStats: (key, stats) => {
          if (stats.stream !== undefined) {
            const [namespace = "", name = "", revision = ""] = key.split("/");
            metrics.streams.set({ namespace, name, revision }, stats.stream);
          }
          onProbeStats?.(key, stats);
        },
        onProbe: (key, round) => {
          const [namespace = "", name = "", revision = ""] = key.split("/");
          const result = probeResult(round.ok, round.failure);
          metrics.probes.inc({ namespace, name, revision, result });
          metrics.probeDuration.observe({ result }, round.latencyMs / 1000);
        },
        onPair: (key, outcome) => {
          const [namespace = "", name = "", revision = ""] = key.split("/");
          metrics.agreement.pairs.inc({ namespace, name, revision, outcome });
        },
      })
    : undefined;
  const manager = await startManager({
    kc,
    log,
    namespaces: config.namespaces,
    workers: config.workers,
    qps: config.qps,
    burst: config.burst,
    identity,
    userAgent,
    // Writes go out only while this process holds the lease (checked per request, by the clock).
    ...(elector ? { leadership: elector } : {}),
    metrics,
    resyncMs: config.resyncSeconds * 1000,
    modelDownloaderImage: config.modelDownloaderImage,
    ...(prober ? { prober } : {}),
  });
  onProbeStats = manager.onProbeStats;
  const { host, port } = splitHostPort(config.metricsAddr);
  const server = await startHealthServer({
    host,
    port,
    registry: metrics.registry,
    log,
    readiness: [
      { name: "informers-synced", ready: () => manager.synced() },
      ...(elector ? [leaderElectionReadiness(() => elector.status())] : []),
    ],
  });
  log.info({ addr: `${server.host}:${server.port}` }, "serving /healthz, /readyz, /metrics");

  let exitCode = 0;
  const stopped = new Promise<NodeJS.Signals | "lost-leadership">((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
    if (elector) {
      void elector.run({
        onStartedLeading: () => {
          metrics.leaderStatus.set(1);
          log.info("leading: starting workers");
          manager.startWorkers();
        },
        onStoppedLeading: (reason) => {
          metrics.leaderStatus.set(0);
          if (reason !== "released") {
            // Another process may already be acting: stop at once rather than race it.
            log.error({ reason }, "lost leadership; exiting");
            exitCode = 1;
            resolve("lost-leadership");
          }
        },
      });
    }
  });
  if (!elector) {
    metrics.leaderStatus.set(1);
    manager.startWorkers();
  }
  log.info({ namespaces: config.namespaces.length ? config.namespaces : "all" }, "operator running");
  const why = await stopped;
  log.info({ why }, "shutting down");
  // Whatever the cluster holds (hanging model pods, a long pause), the process ends within
  // SHUTDOWN_MS: workers and probes get a bounded drain, the Lease is released so a standby takes
  // over at once, and a last timer exits if anything still hangs.
  const hardStop = setTimeout(() => {
    log.error({ ms: SHUTDOWN_MS }, "shutdown did not finish in time; exiting");
    process.exit(exitCode || 1);
  }, SHUTDOWN_MS);
  hardStop.unref();
  if (why === "lost-leadership") return exitCode; // another process may be acting: no more calls
  const drained = await within(DRAIN_MS, Promise.all([manager.stop(), prober?.stop()]));
  if (!drained) log.warn({ ms: DRAIN_MS }, "workers or probes still busy; releasing the Lease anyway");
  await within(RELEASE_MS, elector?.release() ?? Promise.resolve());
  await within(RELEASE_MS, server.close());
  return exitCode;
}

/** How long SIGTERM may take in all: well inside Kubernetes' default 30 s grace period. */
const SHUTDOWN_MS = 10_000;
const DRAIN_MS = 5_000;
const RELEASE_MS = 2_000;

/** True when `p` settled within `ms`; never rejects. */
async function within(ms: number, p: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      p.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const msg =
      err instanceof ConfigError
        ? err.message
        : err instanceof Error
          ? (err.stack ?? err.message)
          : String(err);
    process.stderr.write(`modelship: ${msg}\n`);
    process.exit(1);
  },
);
