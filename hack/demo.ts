// The demo a new user runs first (hack/demo): a local control plane, the CRD, fixture model
// servers for the fake pods, the operator, and a story from a shop's recommender:
//   1. version 1 is deployed and becomes Healthy;
//   2. version 2 rolls out as a canary, step by step, and is promoted by analysis;
//   3. version 3 has a regression (30% errors) and is rolled back by the operator itself.
// A live view shows phase, step, weights, revisions and per-revision health as it happens.
// With --gateway the traffic goes through Traefik (Gateway API weights), and a bounded background
// load shows where real requests are answered, per revision, next to the weights.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { renderStatus } from "../operator/src/cli/render-status.ts";
import { chooseStyle } from "../operator/src/cli/style.ts";
import { toModelDeploymentView, toRevisionPods } from "../operator/src/cli/view.ts";
import { ensureBinaries, ensureTraefikBinary } from "./cluster/binaries.ts";
import {
  type ClusterState,
  clustersRoot,
  readState,
  startCluster,
  stopCluster,
} from "./cluster/control-plane.ts";
import { type FixtureServer, startFixture } from "./cluster/fixtures.ts";
import { type GatewayState, startGateway, stopGateway } from "./cluster/gateway.ts";
import { POD_SUPERNET } from "./cluster/network.ts";
import { describeShare, startLiveShare } from "./demo-gateway.ts";

const { values } = parseArgs({
  options: {
    keep: { type: "boolean", default: false },
    gateway: { type: "boolean", default: false },
    "timeout-minutes": { type: "string", default: "10" },
  },
});
const root = join(import.meta.dirname, "..");
const NS = "shop";
const NAME = "recommender";
const style = chooseStyle(process.stdout.isTTY === true, process.env);
const tty = process.stdout.isTTY === true && !process.env.CI;
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s`;
const timeline: string[] = [];
let headline = "";

function narrate(text: string): void {
  headline = text;
  timeline.push(`${elapsed()}  ${text}`);
  if (!tty) process.stdout.write(`${style.bold(`[${elapsed()}]`)} ${text}\n`);
}

const VERSIONS = { v1: "2026-11-01", v2: "2026-11-15", v3: "2026-11-29" } as const;

const HOST = "recommender.shop.demo";
const INFER_PATH = "/v2/models/recommender/infer";
const INFER_BODY = { inputs: [{ name: "price_usd", shape: [1], datatype: "FP32", data: [25] }] };

function recommender(version: string): string {
  const gw = state.gateway;
  // --gateway: an HTTPRoute on the harness Gateway whose backend weights follow the rollout.
  const traffic = gw
    ? {
        traffic: {
          gatewayAPI: {
            parentRefs: [{ name: gw.gateway.name, namespace: gw.gateway.namespace }],
            hostnames: [HOST],
          },
        },
      }
    : {};
  return JSON.stringify({
    apiVersion: "modelship.dev/v1alpha1",
    kind: "ModelDeployment",
    metadata: { name: NAME, namespace: NS },
    spec: {
      model: { name: "recommender", version, uri: `s3://models/recommender/${version}` },
      runtime: { preset: "openInference", image: `registry.example/recsys-server:${version}` },
      replicas: 4,
      rollout: {
        steps: [
          { setWeight: 25 },
          { analysis: {} },
          { setWeight: 50 },
          { pause: { duration: "10s" } },
          { analysis: {} },
        ],
        analysis: { successRate: 0.97, p99LatencyMs: 250, minSamples: 10, failureLimit: 3 },
        scaleDownDelaySeconds: 5,
        progressDeadlineSeconds: 120,
        ...traffic,
      },
      health: {
        intervalSeconds: 1,
        timeoutSeconds: 1,
        // A real prediction for a sample shopper: proof the model answers, not just that it is up.
        inference: {
          path: INFER_PATH,
          body: INFER_BODY,
          maxLatencyMs: 200,
        },
      },
    },
  });
}

interface Ctx {
  cluster: ClusterState;
  binDir: string;
  kubectl: (args: string[], input?: string) => string;
}

function getMd(ctx: Ctx): { status?: Record<string, unknown> } & Record<string, unknown> {
  return JSON.parse(ctx.kubectl(["get", "mdep", NAME, "-n", NS, "-o", "json"])) as {
    status?: Record<string, unknown>;
  };
}

function draw(ctx: Ctx): { status?: Record<string, unknown> } {
  let md: { status?: Record<string, unknown> } = {};
  try {
    md = getMd(ctx);
  } catch {
    return md;
  }
  const deps = (
    JSON.parse(
      ctx.kubectl(["get", "deployments", "-n", NS, "-l", `modelship.dev/deployment=${NAME}`, "-o", "json"]),
    ) as {
      items: unknown[];
    }
  ).items;
  const lines = renderStatus({
    md: toModelDeploymentView(md, NS),
    deployments: toRevisionPods(deps),
    now: Date.now(),
    style,
  });
  const live = gatewayLine(md);
  if (live) lines.push("", live);
  if (tty) {
    process.stdout.write("\x1b[H\x1b[2J");
    process.stdout.write(
      `${style.bold("modelship demo")}  ${elapsed()}  ${headline}\n\n${lines.join("\n")}\n\n`,
    );
    process.stdout.write(`${style.dim(timeline.slice(-6).join("\n"))}\n`);
  }
  return md;
}

/** --gateway: the last batch's answers per revision beside the weights the operator set. */
function gatewayLine(md: { status?: Record<string, unknown> }): string | undefined {
  const share = state.live?.latest();
  if (!share) return undefined;
  const s = md.status ?? {};
  const w = (s.canaryWeight as number | undefined) ?? 0;
  const weights = s.canaryRevision ? `weights stable ${100 - w}% / canary ${w}%` : "weights stable 100%";
  return `Gateway:    last ${share.total} requests through Traefik: ${describeShare(share)} (${weights})`;
}

let lastLine = "";
let lastGatewayLine = "";
function plainProgress(md: { status?: Record<string, unknown> }): void {
  if (tty) return;
  const s = md.status ?? {};
  const health = (s.health ?? {}) as Record<
    string,
    { successRate?: number; p99Ms?: number; samples?: number } | undefined
  >;
  const h = (k: string) => {
    const x = health[k];
    return x
      ? `${k} ${x.successRate !== undefined ? `${(x.successRate * 100).toFixed(1)}%` : "-"} ok, p99 ${x.p99Ms ?? "-"} ms, ${x.samples ?? 0} samples`
      : "";
  };
  const line = `  phase=${s.phase ?? "-"} step=${s.currentStepIndex ?? "-"} weight=${s.canaryWeight ?? 0}% stable=${s.stableRevision ?? "-"} canary=${s.canaryRevision ?? "-"} ready=${s.readyReplicas ?? 0}/${s.replicas ?? 0}  ${[h("stable"), h("canary")].filter(Boolean).join("; ")}`;
  const key = line.replace(/\d+ samples|p99 [\d.]+ ms|[\d.]+% ok/g, "");
  if (key !== lastLine) {
    lastLine = key;
    process.stdout.write(`${line}\n`);
  }
  const live = gatewayLine(md);
  if (live && live !== lastGatewayLine) {
    lastGatewayLine = live;
    process.stdout.write(`  ${live}\n`);
  }
}

async function until<T>(
  ctx: Ctx,
  what: string,
  test: (md: { status?: Record<string, unknown> }) => T | undefined,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const md = draw(ctx);
    plainProgress(md);
    const v = test(md);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`demo: timed out waiting for ${what}`);
}

async function setPods(fixture: FixtureServer, ips: string[], patch: Record<string, unknown>): Promise<void> {
  for (const ip of ips) {
    state.faulted.add(ip);
    await fetch(`${fixture.controlUrl}/pods/${ip}`, {
      method: "PUT",
      body: JSON.stringify(patch),
      headers: { "content-type": "application/json" },
    });
  }
}

async function main(): Promise<number> {
  const timeoutMs = Number(values["timeout-minutes"]) * 60_000;
  setTimeout(() => {
    process.stderr.write("demo: overall time limit reached\n");
    void cleanup(1);
  }, timeoutMs).unref();

  process.stdout.write(
    `${style.bold("modelship demo")}: a shop's recommender model, deployed, upgraded and rolled back\n`,
  );
  narrate(
    "preparing the local control plane (the first run builds it from Go modules: ~25 min; later runs: seconds)",
  );
  const binDir = await ensureBinaries();
  const existing = readState(join(clustersRoot(), "demo"));
  if (existing) await stopCluster(existing);
  const cluster = await startCluster({ name: "demo", binDir, nodes: 3 });
  state.cluster = cluster;
  const ctx: Ctx = {
    cluster,
    binDir,
    kubectl: (args, input) =>
      execFileSync(join(binDir, "kubectl"), ["--kubeconfig", cluster.kubeconfig, ...args], {
        encoding: "utf8",
        ...(input !== undefined ? { input } : {}),
        stdio: ["pipe", "pipe", "pipe"],
      }),
  };
  narrate(
    `control plane up (etcd, kube-apiserver, controller-manager, scheduler, 3 kwok nodes) in ${elapsed().trim()}`,
  );

  ctx.kubectl(["apply", "--server-side", "-f", join(root, "crds/modelship.dev_modeldeployments.yaml")]);
  ctx.kubectl(["wait", "--for=condition=Established", "crd/modeldeployments.modelship.dev", "--timeout=60s"]);
  ctx.kubectl(["create", "namespace", NS]);
  const fixture = await startFixture(8080, 9900);
  state.fixture = fixture;
  narrate(
    "model servers for the fake pods are up (a real logistic-regression CTR model behind the Open Inference Protocol)",
  );

  if (values.gateway) {
    narrate(
      "starting Traefik on 127.0.0.1 as the Gateway (the first run builds it from its Go module: ~30 min)",
    );
    // Before the operator: it discovers the Gateway API at start.
    state.gateway = await startGateway({ cluster, binDir: await ensureTraefikBinary() });
    narrate(`Traefik serves the Gateway on ${state.gateway.url} (requests with Host: ${HOST})`);
  }

  const logFile = join(cluster.dir, "logs", "operator.log");
  // Straight to a file and in its own process group: with --keep it outlives this script.
  const logFd = openSync(logFile, "a");
  const op: ChildProcess = spawn(
    process.execPath,
    [
      join(root, "operator/src/main.ts"),
      `--kubeconfig=${cluster.operatorKubeconfig}`,
      "--metrics-addr=127.0.0.1:0",
      `--probe-allow-cidrs=${POD_SUPERNET}`,
    ],
    { stdio: ["ignore", logFd, logFd], detached: true },
  );
  closeSync(logFd);
  // hack/cluster/down stops it with the cluster (by this PID).
  writeFileSync(join(cluster.dir, "operator.pid"), String(op.pid));
  state.operator = op;
  narrate(`operator running (logs: ${logFile})`);

  narrate(`1/3 deploying recommender version ${VERSIONS.v1} (4 replicas)`);
  ctx.kubectl(["apply", "--server-side", "-f", "-"], recommender(VERSIONS.v1));
  const v1 = await until(
    ctx,
    "v1 Healthy",
    (md) => (md.status?.phase === "Healthy" ? (md.status.stableRevision as string) : undefined),
    120_000,
  );
  narrate(`version ${VERSIONS.v1} is Healthy as revision ${v1}`);
  if (state.gateway) {
    const podRevisions = () => {
      const pods = JSON.parse(
        ctx.kubectl(["get", "pods", "-n", NS, "-l", `modelship.dev/deployment=${NAME}`, "-o", "json"]),
      ) as { items: { metadata?: { labels?: Record<string, string> }; status?: { podIP?: string } }[] };
      const out: Record<string, string> = {};
      for (const p of pods.items) {
        const ip = p.status?.podIP;
        const rev = p.metadata?.labels?.["modelship.dev/revision"];
        if (ip && rev) out[ip] = rev;
      }
      return out;
    };
    state.live = startLiveShare({
      url: state.gateway.url,
      host: HOST,
      path: INFER_PATH,
      body: JSON.stringify(INFER_BODY),
      podRevisions,
    });
    narrate("a bounded load of real predictions now goes through the gateway: 40 requests a second");
  }

  narrate(
    `2/3 rolling out version ${VERSIONS.v2} as a canary: 25% → analysis → 50% → pause 10s → analysis → promote`,
  );
  ctx.kubectl(["apply", "--server-side", "-f", "-"], recommender(VERSIONS.v2));
  const v2 = await until(
    ctx,
    "v2 promoted",
    (md) =>
      md.status?.phase === "Healthy" && md.status.stableRevision !== v1
        ? (md.status.stableRevision as string)
        : undefined,
    300_000,
  );
  narrate(`version ${VERSIONS.v2} passed analysis and was promoted: revision ${v2} now takes all traffic`);

  narrate(`3/3 rolling out version ${VERSIONS.v3}, which has a regression: 30% of its predictions fail`);
  ctx.kubectl(["apply", "--server-side", "-f", "-"], recommender(VERSIONS.v3));
  const v3 = await until(
    ctx,
    "v3 canary",
    (md) => (md.status?.canaryRevision as string | undefined) || undefined,
    120_000,
  );
  const podIps = () => {
    const pods = JSON.parse(
      ctx.kubectl(["get", "pods", "-n", NS, "-l", `modelship.dev/revision=${v3}`, "-o", "json"]),
    ) as {
      items: { status?: { podIP?: string } }[];
    };
    return pods.items.map((p) => p.status?.podIP).filter((x): x is string => !!x);
  };
  const ips = await until(
    ctx,
    "v3 pods with addresses",
    () => {
      const found = podIps();
      return found.length > 0 ? found : undefined;
    },
    60_000,
  );
  await setPods(fixture, ips, { errorRate: 0.3 });
  const faultAt = Date.now();
  narrate(`the canary ${v3} starts answering 30% errors (pods ${ips.join(", ")})`);
  await until(
    ctx,
    "v3 rolled back",
    (md) => (md.status?.rejectedRevision === v3 && md.status?.canaryWeight === 0 ? true : undefined),
    120_000,
  );
  const took = ((Date.now() - faultAt) / 1000).toFixed(1);
  narrate(
    `the operator rolled ${v3} back by itself ${took} s after the fault: all traffic is on ${v2} again`,
  );
  await state.live?.stop();
  const final = draw(ctx);
  plainProgress(final);

  process.stdout.write(`\n${style.bold("What happened")}\n${timeline.join("\n")}\n\n`);
  process.stdout.write(`${style.bold("History")} (kubectl modelship history ${NAME} -n ${NS})\n`);
  for (const h of (final.status?.history ?? []) as {
    revision: string;
    modelVersion?: string;
    outcome: string;
    reason?: string;
    message?: string;
  }[]) {
    process.stdout.write(
      `  ${h.revision}  ${h.modelVersion ?? ""}  ${h.outcome.padEnd(10)} ${h.reason ?? ""}: ${h.message ?? ""}\n`,
    );
  }
  process.stdout.write(`\n${ctx.kubectl(["get", "mdep", "-n", NS])}\n`);
  // kubectl finds plugins by file name: give it `kubectl-modelship` (what `npm link` would install).
  const pluginDir = join(process.env.MODELSHIP_CACHE ?? join(homedir(), ".cache", "modelship"), "plugin");
  mkdirSync(pluginDir, { recursive: true });
  const link = join(pluginDir, "kubectl-modelship");
  rmSync(link, { force: true });
  symlinkSync(join(root, "operator/bin/kubectl-modelship.js"), link);
  process.stdout.write(
    [
      style.bold("Poke at it") + (values.keep ? "" : " (with --keep; this run tears the cluster down now)"),
      `  export KUBECONFIG=${cluster.kubeconfig} PATH=${binDir}:${pluginDir}:${dirname(process.execPath)}:$PATH`,
      `  kubectl get mdep -n ${NS}                      # phase, version, revisions, weight`,
      `  kubectl describe mdep ${NAME} -n ${NS}          # conditions, events with evidence`,
      `  kubectl modelship status ${NAME} -n ${NS}       # steps, weights, per-revision health`,
      `  kubectl get deploy,svc,pods -n ${NS}`,
      `  operator logs: ${logFile}`,
      "",
    ].join("\n"),
  );
  return 0;
}

const state: {
  cluster?: ClusterState;
  fixture?: FixtureServer;
  operator?: ChildProcess;
  gateway?: GatewayState;
  live?: ReturnType<typeof startLiveShare>;
  /** Pod IPs given a fault; the shared fixture server may outlive us and kwok reuses IPs. */
  faulted: Set<string>;
} = { faulted: new Set() };
let cleaning = false;
async function cleanup(code: number): Promise<never> {
  if (cleaning) process.exit(code);
  cleaning = true;
  if (values.keep && code === 0 && state.cluster) {
    state.operator?.unref();
    process.stdout.write(
      `cluster and operator kept running: hack/cluster/down demo stops both (operator pid ${state.operator?.pid})\n`,
    );
    process.exit(0);
  }
  if (state.operator && state.operator.exitCode === null) {
    state.operator.kill("SIGTERM");
    await new Promise((r) => state.operator?.once("exit", r));
  }
  for (const ip of state.faulted) {
    await fetch(`${state.fixture?.controlUrl}/pods/${ip}`, { method: "DELETE" }).catch(() => {});
  }
  await state.live?.stop();
  await state.fixture?.stop();
  if (state.gateway && state.cluster) await stopGateway(state.cluster);
  if (state.cluster) await stopCluster(state.cluster);
  process.stdout.write("demo cluster torn down (hack/demo --keep leaves it running)\n");
  process.exit(code);
}
process.on("SIGINT", () => void cleanup(130));
process.on("SIGTERM", () => void cleanup(143));

main().then(
  (code) => cleanup(code),
  (err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return cleanup(1);
  },
);
