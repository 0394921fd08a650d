// The demo a new user runs first (hack/demo): a local control plane, the CRD, fixture model
// servers for the fake pods, the operator, and a story from a shop's recommender:
//   1. version 1 is deployed and becomes Healthy;
//   2. version 2 rolls out as a canary, step by step, and is promoted by analysis;
//   3. version 3 has a regression (30% errors) and is rolled back by the operator itself;
//   4. version 4 answers every request with HTTP 200 but its scores drifted: output agreement with
//      the stable rolls it back, with the disagreeing pair in the reason;
//   5. the shop's support assistant, an LLM behind vLLM, is probed by streaming: its canary's time to
//      first token is 3× the stable's and the relative TTFT gate rolls it back.
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
  kubectlOf,
  readState,
  startCluster,
  stopCluster,
  waitForCrdsEstablished,
} from "./cluster/control-plane.ts";
import { type FixtureServer, startFixture } from "./cluster/fixtures.ts";
import { type GatewayState, startGateway, stopGateway } from "./cluster/gateway.ts";
import { POD_SUPERNET } from "./cluster/network.ts";
import { describeShare, startLiveShare } from "./demo-gateway.ts";

const { values } = parseArgs({
  options: {
    keep: { type: "boolean", default: false },
    gateway: { type: "boolean", default: false },
    "timeout-minutes": { type: "string", default: "15" },
  },
});
const root = join(import.meta.dirname, "..");
const NS = "shop";
const NAME = "recommender";
const ASSISTANT = "assistant";
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

const VERSIONS = { v1: "2026-11-01", v2: "2026-11-15", v3: "2026-11-29", v4: "2026-12-01" } as const;
const ASSISTANT_VERSIONS = { v1: "llama-3.1-8b-instruct", v2: "llama-3.1-8b-instruct-awq" } as const;
/** The assistant's stable pods answer their first token in this long; its canary in 3× that. */
const ASSISTANT_TTFT_MS = 400;
const LLM_PORT = 8001;
const LLM_CONTROL_PORT = 9903;

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
        analysis: {
          successRate: 0.95,
          p99LatencyMs: 250,
          minSamples: 10,
          failureLimit: 3,
          // The same prediction asked of a stable and a canary pod: scores may move by 0.05 at most.
          agreement: { jsonPath: "$.outputs[0].data", compare: "Numeric", absoluteTolerance: 0.05 },
          minAgreement: 0.9,
          minAgreementSamples: 6,
        },
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
          // Generous: on a busy laptop a probe now and then takes 200 ms; the p99 gate judges latency.
          maxLatencyMs: 500,
        },
      },
    },
  });
}

/** The support assistant: a chat LLM behind vLLM, probed with streaming chat completions. */
function assistant(version: string): string {
  return JSON.stringify({
    apiVersion: "modelship.dev/v1alpha1",
    kind: "ModelDeployment",
    metadata: { name: ASSISTANT, namespace: NS },
    spec: {
      model: { name: "assistant", version, uri: `hf://meta-llama/${version}` },
      // Port 8001: the demo's own chat model server, apart from the one e2e shares on vLLM's 8000.
      runtime: { preset: "vllm", image: "registry.example/vllm-openai:v0.11.0", port: LLM_PORT },
      replicas: 4,
      rollout: {
        steps: [
          { setWeight: 50 },
          { pause: { duration: "8s" } },
          // Users feel time to first token: the canary's p99 may be at most twice the stable's.
          { analysis: { maxTTFTp99RelativeToStable: 2 } },
        ],
        analysis: { successRate: 0.95, minSamples: 6, failureLimit: 3, maxTTFTp99Ms: 5000 },
        scaleDownDelaySeconds: 5,
        progressDeadlineSeconds: 120,
      },
      // A small streamed chat completion per probe (8 tokens at most): TTFT, TPOT and tokens/s.
      health: { intervalSeconds: 2, timeoutSeconds: 2, stream: { maxTokens: 8 } },
    },
  });
}

interface Ctx {
  cluster: ClusterState;
  binDir: string;
  kubectl: (args: string[], input?: string) => string;
}

function getMd(ctx: Ctx, name: string): { status?: Record<string, unknown> } & Record<string, unknown> {
  return JSON.parse(ctx.kubectl(["get", "mdep", name, "-n", NS, "-o", "json"])) as {
    status?: Record<string, unknown>;
  };
}

function draw(ctx: Ctx, name: string): { status?: Record<string, unknown> } {
  let md: { status?: Record<string, unknown> } = {};
  try {
    md = getMd(ctx, name);
  } catch {
    return md;
  }
  const deps = (
    JSON.parse(
      ctx.kubectl(["get", "deployments", "-n", NS, "-l", `modelship.dev/deployment=${name}`, "-o", "json"]),
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
  const live = name === NAME ? gatewayLine(md) : undefined;
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

interface HealthLine {
  successRate?: number;
  p99Ms?: number;
  samples?: number;
  ttftP99Ms?: number;
  tokensPerSecond?: number;
  agreementRate?: number;
  agreementSamples?: number;
}

let lastLine = "";
let lastGatewayLine = "";
function plainProgress(name: string, md: { status?: Record<string, unknown> }): void {
  if (tty) return;
  const s = md.status ?? {};
  const health = (s.health ?? {}) as Record<string, HealthLine | undefined>;
  const h = (k: string) => {
    const x = health[k];
    if (!x) return "";
    const parts = [
      `${k} ${x.successRate !== undefined ? `${(x.successRate * 100).toFixed(1)}%` : "-"} ok`,
      x.ttftP99Ms !== undefined
        ? `TTFT p99 ${Math.round(x.ttftP99Ms)} ms, ${x.tokensPerSecond?.toFixed(0) ?? "-"} tokens/s`
        : `p99 ${x.p99Ms ?? "-"} ms`,
      ...(x.agreementSamples !== undefined
        ? [`agreement ${x.agreementRate !== undefined ? `${(x.agreementRate * 100).toFixed(0)}%` : "-"}`]
        : []),
      `${x.samples ?? 0} samples`,
    ];
    return parts.join(", ");
  };
  const line = `  ${name}: phase=${s.phase ?? "-"} step=${s.currentStepIndex ?? "-"} weight=${s.canaryWeight ?? 0}% stable=${s.stableRevision ?? "-"} canary=${s.canaryRevision ?? "-"} ready=${s.readyReplicas ?? 0}/${s.replicas ?? 0}  ${[h("stable"), h("canary")].filter(Boolean).join("; ")}`;
  // A new line when the rollout moves, not each time a number does.
  const key = line.replace(/\d+ samples|p99 [\d.]+ ms|[\d.]+% ok|[\d]+ tokens\/s|agreement [\d-]+%?/g, "");
  if (key !== lastLine) {
    lastLine = key;
    process.stdout.write(`${line}\n`);
  }
  const live = name === NAME ? gatewayLine(md) : undefined;
  if (live && live !== lastGatewayLine) {
    lastGatewayLine = live;
    process.stdout.write(`  ${live}\n`);
  }
}

async function until<T>(
  ctx: Ctx,
  name: string,
  what: string,
  test: (md: { status?: Record<string, unknown> }) => T | undefined,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const md = draw(ctx, name);
    plainProgress(name, md);
    const v = test(md);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`demo: timed out waiting for ${what}`);
}

async function setPods(fixture: FixtureServer, ips: string[], patch: Record<string, unknown>): Promise<void> {
  for (const ip of ips) {
    state.faulted.push({ fixture, ip });
    await fetch(`${fixture.controlUrl}/pods/${ip}`, {
      method: "PUT",
      body: JSON.stringify(patch),
      headers: { "content-type": "application/json" },
    });
  }
}

/** IPs of the pods of one revision, once it has some. */
async function revisionIps(ctx: Ctx, name: string, revision: string): Promise<string[]> {
  const podIps = () => {
    const pods = JSON.parse(
      ctx.kubectl(["get", "pods", "-n", NS, "-l", `modelship.dev/revision=${revision}`, "-o", "json"]),
    ) as {
      items: { status?: { podIP?: string } }[];
    };
    return pods.items.map((p) => p.status?.podIP).filter((x): x is string => !!x);
  };
  return until(
    ctx,
    name,
    `${revision} pods with addresses`,
    () => {
      const found = podIps();
      return found.length > 0 ? found : undefined;
    },
    60_000,
  );
}

/** Applies a new version and waits until it runs as a canary; returns its revision. */
async function canaryOf(ctx: Ctx, name: string, manifest: string, stable: string): Promise<string> {
  ctx.kubectl(["apply", "--server-side", "-f", "-"], manifest);
  return until(
    ctx,
    name,
    `${name} canary`,
    (md) => {
      const c = md.status?.canaryRevision as string | undefined;
      return c && c !== stable ? c : undefined;
    },
    120_000,
  );
}

/** Waits until `revision` is rejected and all traffic is back on the stable; the reason it gave. */
async function rolledBack(ctx: Ctx, name: string, revision: string): Promise<string> {
  const md = await until(
    ctx,
    name,
    `${revision} rolled back`,
    (m) => (m.status?.rejectedRevision === revision && m.status?.canaryWeight === 0 ? m : undefined),
    120_000,
  );
  const history = (md.status?.history ?? []) as { revision: string; message?: string }[];
  // The reason without its per-check evidence ("[consecutiveFailures …]"): the history shows that.
  return (history.find((h) => h.revision === revision)?.message ?? "").replace(/ \[[^[]*\]$/, "");
}

async function main(): Promise<number> {
  const timeoutMs = Number(values["timeout-minutes"]) * 60_000;
  setTimeout(() => {
    process.stderr.write("demo: overall time limit reached\n");
    void cleanup(1);
  }, timeoutMs).unref();

  process.stdout.write(
    `${style.bold("modelship demo")}: a shop's recommender and support assistant, deployed, upgraded and rolled back\n`,
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
  waitForCrdsEstablished(kubectlOf(cluster), ["modeldeployments.modelship.dev"]);
  ctx.kubectl(["create", "namespace", NS]);
  const fixture = await startFixture(8080, 9900);
  state.fixture = fixture;
  const llm = await startFixture(LLM_PORT, LLM_CONTROL_PORT);
  state.llm = llm;
  // Every pod of this server serves "assistant" and streams like a small LLM would: the first token
  // after ASSISTANT_TTFT_MS, then one every 15 ms (the fixture answers at once unless told).
  await fetch(`${llm.controlUrl}/defaults`, {
    method: "PUT",
    body: JSON.stringify({ modelName: "assistant", ttftMs: ASSISTANT_TTFT_MS, tpotMs: 15 }),
    headers: { "content-type": "application/json" },
  });
  narrate(
    "model servers for the fake pods are up (a real logistic-regression CTR model behind the Open Inference Protocol, and a streaming chat model)",
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

  narrate(
    `1/5 deploying the recommender at version ${VERSIONS.v1} and the support assistant (an LLM behind vLLM) at ${ASSISTANT_VERSIONS.v1}, 4 replicas each`,
  );
  ctx.kubectl(["apply", "--server-side", "-f", "-"], recommender(VERSIONS.v1));
  ctx.kubectl(["apply", "--server-side", "-f", "-"], assistant(ASSISTANT_VERSIONS.v1));
  const healthy = (md: { status?: Record<string, unknown> }) =>
    md.status?.phase === "Healthy" ? (md.status.stableRevision as string) : undefined;
  const v1 = await until(ctx, NAME, "recommender v1 Healthy", healthy, 120_000);
  const a1 = await until(ctx, ASSISTANT, "assistant v1 Healthy", healthy, 120_000);
  narrate(
    `both are Healthy: recommender revision ${v1}; assistant revision ${a1}, whose pods answer the first token in ~${ASSISTANT_TTFT_MS} ms`,
  );
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
    `2/5 rolling out recommender ${VERSIONS.v2} as a canary: 25% → analysis → 50% → pause 10s → analysis → promote`,
  );
  ctx.kubectl(["apply", "--server-side", "-f", "-"], recommender(VERSIONS.v2));
  let agreed: HealthLine | undefined;
  const v2 = await until(
    ctx,
    NAME,
    "v2 promoted",
    (md) => {
      const canary = (md.status?.health as Record<string, HealthLine> | undefined)?.canary;
      if (canary?.agreementSamples !== undefined) agreed = canary;
      return md.status?.phase === "Healthy" && md.status.stableRevision !== v1
        ? (md.status.stableRevision as string)
        : undefined;
    },
    300_000,
  );
  const agreement = agreed?.agreementRate !== undefined ? `${(agreed.agreementRate * 100).toFixed(0)}%` : "-";
  narrate(
    `version ${VERSIONS.v2} passed analysis (its scores agreed with the stable's on ${agreement} of ${agreed?.agreementSamples ?? 0} paired predictions) and was promoted: revision ${v2} now takes all traffic`,
  );

  narrate(`3/5 rolling out version ${VERSIONS.v3}, which has a regression: 30% of its predictions fail`);
  const v3 = await canaryOf(ctx, NAME, recommender(VERSIONS.v3), v2);
  const ips3 = await revisionIps(ctx, NAME, v3);
  await setPods(fixture, ips3, { errorRate: 0.3 });
  let faultAt = Date.now();
  narrate(`the canary ${v3} starts answering 30% errors (pods ${ips3.join(", ")})`);
  await rolledBack(ctx, NAME, v3);
  narrate(
    `the operator rolled ${v3} back by itself ${((Date.now() - faultAt) / 1000).toFixed(1)} s after the fault: all traffic is on ${v2} again`,
  );

  narrate(
    `4/5 rolling out version ${VERSIONS.v4}, retrained on a bad slice of data: every prediction answers HTTP 200, but its scores are 0.2 higher`,
  );
  const v4 = await canaryOf(ctx, NAME, recommender(VERSIONS.v4), v2);
  await setPods(fixture, await revisionIps(ctx, NAME, v4), { scoreDrift: 0.2 });
  faultAt = Date.now();
  const why4 = await rolledBack(ctx, NAME, v4);
  narrate(
    `output agreement caught what success rate cannot: ${v4} rolled back ${((Date.now() - faultAt) / 1000).toFixed(1)} s after its scores drifted (${why4})`,
  );

  narrate(
    `5/5 rolling out the assistant's ${ASSISTANT_VERSIONS.v2}, a quantisation that answers its first token 3× later: 50% → pause 8s → analysis (TTFT p99 ≤ 2× the stable's)`,
  );
  const a2 = await canaryOf(ctx, ASSISTANT, assistant(ASSISTANT_VERSIONS.v2), a1);
  await setPods(llm, await revisionIps(ctx, ASSISTANT, a2), { ttftMs: ASSISTANT_TTFT_MS * 3, tpotMs: 15 });
  const whyA2 = await rolledBack(ctx, ASSISTANT, a2);
  narrate(`the operator rolled the assistant's ${a2} back: ${whyA2}`);
  await state.live?.stop();
  draw(ctx, ASSISTANT);
  const final = draw(ctx, NAME);
  plainProgress(NAME, final);

  process.stdout.write(`\n${style.bold("What happened")}\n${timeline.join("\n")}\n\n`);
  for (const name of [NAME, ASSISTANT]) {
    process.stdout.write(`${style.bold("History")} (kubectl modelship history ${name} -n ${NS})\n`);
    for (const h of (getMd(ctx, name).status?.history ?? []) as {
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
      `  kubectl modelship status ${NAME} -n ${NS}       # steps, weights, per-revision health, agreement`,
      `  kubectl modelship status ${ASSISTANT} -n ${NS}         # TTFT, TPOT and tokens/s per revision`,
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
  /** The chat model server (port 8000) of the assistant's pods. */
  llm?: FixtureServer;
  /** Pods given a fault; the shared fixture servers may outlive us and kwok reuses IPs. */
  faulted: { fixture: FixtureServer; ip: string }[];
} = { faulted: [] };
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
  for (const { fixture, ip } of state.faulted) {
    await fetch(`${fixture.controlUrl}/pods/${ip}`, { method: "DELETE" }).catch(() => {});
  }
  await state.live?.stop();
  await state.fixture?.stop();
  await state.llm?.stop();
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
