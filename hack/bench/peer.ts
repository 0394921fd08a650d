// The benchmark peer: Argo Rollouts' controller (built from its Go module by
// hack/cluster/build-argo-rollouts.sh) as a process against the same local control plane, as its own
// identity (PEER_USER), and the user's part: creating its Rollouts (built in peer-objects.ts).
// Everything it dials is 127.0.0.0/8, or the fixture's control address inside the harness's network
// namespace (the web analysis of the failing-canary measure).
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import type { CoreV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import { type ClusterState, kubectlOf, waitForCrdsEstablished } from "../cluster/control-plane.ts";
import { ARTIFACTS, kubectl, type OperatorSettings, pool, ROOT } from "./common.ts";
import { rolloutObjects } from "./peer-objects.ts";

const exec = promisify(execFile);

/** The bin directory of the Argo Rollouts build (cached by version; a cold build takes ~8 min). */
export async function argoRolloutsBinDir(): Promise<string> {
  if (process.env.MODELSHIP_ARGO_ROLLOUTS_BIN_DIR) return process.env.MODELSHIP_ARGO_ROLLOUTS_BIN_DIR;
  const { stdout } = await exec("bash", [join(ROOT, "hack/cluster/build-argo-rollouts.sh")], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout.trim();
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The environment without proxy settings: its web analysis must dial the fixture's address itself,
 * never hand the request to a proxy off this machine (DESIGN §4).
 */
function withoutProxies(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !/^(https?|all|no)_proxy$/i.test(k)));
}

export interface Peer {
  pid: number;
  version: string;
  metricsUrl: string;
  logs(): string;
  stop(): Promise<void>;
  kill9(): Promise<void>;
  exited(): boolean;
}

/**
 * Installs Argo Rollouts' CRDs and starts its controller with the same client QPS/burst as the
 * operator. It runs as its own cluster admin (PEER_USER: it needs cluster-wide RBAC, and the audit
 * log tells its writes apart). Leader election follows `leaderElect` (off unless a measure needs it);
 * `args` adds flags (e.g. --rollout-resync); `logLevel` is warn unless a measure reads its info lines.
 */
export async function startArgoRollouts(
  c: ClusterState,
  opts: {
    settings: OperatorSettings;
    leaderElect?: boolean;
    name?: string;
    args?: string[];
    logLevel?: "info" | "warn";
  },
): Promise<Peer> {
  const bin = await argoRolloutsBinDir();
  const crds = join(bin, "crds");
  for (const f of readdirSync(crds).filter((x) => x.endsWith(".yaml")))
    await kubectl(c, ["apply", "--server-side", "-f", join(crds, f)]);
  waitForCrdsEstablished(kubectlOf(c), ["rollouts.argoproj.io"]);
  const controller = join(bin, "rollouts-controller");
  const version = (await exec(controller, ["--version"])).stdout.trim();
  mkdirSync(ARTIFACTS, { recursive: true });
  const logFile = join(ARTIFACTS, `argo-rollouts-${opts.name ?? "peer"}-${process.pid}-${Date.now()}.log`);
  const out = createWriteStream(logFile);
  const [metricsPort, healthzPort] = [await freePort(), await freePort()];
  const child: ChildProcess = spawn(
    controller,
    [
      `--kubeconfig=${c.peerKubeconfig}`,
      `--leader-elect=${opts.leaderElect ?? false}`,
      `--qps=${opts.settings.qps}`,
      `--burst=${opts.settings.burst}`,
      `--metricsPort=${metricsPort}`,
      `--healthzPort=${healthzPort}`,
      `--loglevel=${opts.logLevel ?? "warn"}`,
      ...(opts.args ?? []),
    ],
    // Its namespace for its Lease and config: not a pod, so say which one.
    { stdio: ["ignore", "pipe", "pipe"], env: { ...withoutProxies(process.env), POD_NAMESPACE: "default" } },
  );
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const logs = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
  const deadline = Date.now() + 90_000;
  // Ready when its metrics endpoint answers: it serves it once the informers are started.
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`rollouts-controller exited (${child.exitCode}):\n${logs()}`);
    if (Date.now() > deadline) throw new Error(`rollouts-controller did not start in 90 s:\n${logs()}`);
    const ok = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(1000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    await sleep(200);
  }
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    pid: child.pid ?? 0,
    version,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    logs,
    exited: () => !alive(),
    async stop() {
      if (alive()) child.kill("SIGTERM");
      await Promise.race([exited, sleep(20_000)]);
      if (alive()) child.kill("SIGKILL");
      await exited;
    },
    async kill9() {
      if (alive()) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Creates r-0 … r-(n-1) (Rollout + Service) as a user applying a file would: 16 in flight. */
export function createRollouts(
  custom: CustomObjectsApi,
  core: CoreV1Api,
  ns: string,
  n: number,
  mdSpec: Record<string, unknown>,
): Promise<void> {
  return pool(
    Array.from({ length: n }, (_, i) => i),
    16,
    async (i) => {
      const { rollout, service } = rolloutObjects(ns, `r-${i}`, mdSpec);
      await custom.createNamespacedCustomObject({
        group: "argoproj.io",
        version: "v1alpha1",
        namespace: ns,
        plural: "rollouts",
        body: rollout,
      });
      await core.createNamespacedService({ namespace: ns, body: service });
    },
  );
}
