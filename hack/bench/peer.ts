// The benchmark peer: Argo Rollouts' controller (built from its Go module by
// hack/cluster/build-argo-rollouts.sh) as a process against the same local control plane, and the
// Rollout that does what a ModelDeployment of mdSpec() does: same pod template (rendered by
// operator/src/render), same replicas, a replica-based canary with the same steps, plus the Service
// a user would write for it. Everything dials 127.0.0.0/8.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import type { CoreV1Api, CustomObjectsApi, V1Service } from "@kubernetes/client-node";
import { ModelDeploymentSpecSchema } from "../../operator/src/api/index.ts";
import { renderDeployment } from "../../operator/src/render/deployment.ts";
import { computeRevision } from "../../operator/src/render/revision.ts";
import { renderService } from "../../operator/src/render/service.ts";
import type { ClusterState } from "../cluster/control-plane.ts";
import { ARTIFACTS, kubectl, type OperatorSettings, pool, ROOT } from "./common.ts";

const exec = promisify(execFile);

/** The same two canary steps on both sides (a first revision skips them on both). */
export const PEER_STEPS = [{ setWeight: 50 }, { pause: { duration: "10s" } }];

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

export interface Peer {
  pid: number;
  version: string;
  metricsUrl: string;
  logs(): string;
  stop(): Promise<void>;
  kill9(): Promise<void>;
}

/**
 * Installs Argo Rollouts' CRDs and starts its controller with the same client QPS/burst as the
 * operator. It runs as the cluster admin: it needs cluster-wide RBAC, and the bench compares
 * controllers, not identities. Leader election follows `leaderElect` (off unless a measure needs it).
 */
export async function startArgoRollouts(
  c: ClusterState,
  opts: { settings: OperatorSettings; leaderElect?: boolean; name?: string },
): Promise<Peer> {
  const bin = await argoRolloutsBinDir();
  const crds = join(bin, "crds");
  for (const f of readdirSync(crds).filter((x) => x.endsWith(".yaml")))
    await kubectl(c, ["apply", "--server-side", "-f", join(crds, f)]);
  await kubectl(c, ["wait", "--for=condition=Established", "--timeout=60s", "crd/rollouts.argoproj.io"]);
  const controller = join(bin, "rollouts-controller");
  const version = (await exec(controller, ["--version"])).stdout.trim();
  mkdirSync(ARTIFACTS, { recursive: true });
  const logFile = join(ARTIFACTS, `argo-rollouts-${opts.name ?? "peer"}-${process.pid}-${Date.now()}.log`);
  const out = createWriteStream(logFile);
  const [metricsPort, healthzPort] = [await freePort(), await freePort()];
  const child: ChildProcess = spawn(
    controller,
    [
      `--kubeconfig=${c.kubeconfig}`,
      `--leader-elect=${opts.leaderElect ?? false}`,
      `--qps=${opts.settings.qps}`,
      `--burst=${opts.settings.burst}`,
      `--metricsport=${metricsPort}`,
      `--healthzPort=${healthzPort}`,
      "--loglevel=warn",
    ],
    // Its namespace for leases and config: not a pod, so say which one.
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, POD_NAMESPACE: "default" } },
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

/** A Rollout running exactly the pods a ModelDeployment of `mdSpec` runs, with its Service. */
export function rolloutObjects(
  ns: string,
  name: string,
  mdSpec: Record<string, unknown>,
): { rollout: Record<string, unknown>; service: V1Service } {
  const spec = ModelDeploymentSpecSchema.parse(mdSpec);
  const owner = { name, namespace: ns, uid: "" };
  const d = renderDeployment({
    owner,
    spec,
    revision: computeRevision(spec),
    replicas: spec.replicas,
  });
  const svc = renderService({ owner, spec }) as V1Service;
  delete svc.metadata?.ownerReferences;
  const template = (d.spec as { template: { metadata: { labels: Record<string, string> } } }).template;
  return {
    rollout: {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Rollout",
      metadata: { name, namespace: ns },
      spec: {
        replicas: spec.replicas,
        revisionHistoryLimit: spec.rollout.revisionHistoryLimit,
        progressDeadlineSeconds: spec.rollout.progressDeadlineSeconds,
        selector: { matchLabels: svc.spec?.selector ?? template.metadata.labels },
        template,
        strategy: {
          canary: { steps: PEER_STEPS, scaleDownDelaySeconds: spec.rollout.scaleDownDelaySeconds },
        },
      },
    },
    service: svc,
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

/** Healthy at the current generation, every replica available: the Rollout's own "done". */
export function rolloutAvailable(obj: Record<string, unknown>): boolean {
  const r = obj as {
    metadata: { generation?: number };
    spec?: { replicas?: number };
    status?: { phase?: string; observedGeneration?: string | number; availableReplicas?: number };
  };
  return (
    r.status?.phase === "Healthy" &&
    String(r.status.observedGeneration) === String(r.metadata.generation) &&
    (r.status.availableReplicas ?? 0) >= (r.spec?.replicas ?? 1)
  );
}
