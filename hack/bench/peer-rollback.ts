// Failing canary → 100% stable, modelship beside Argo Rollouts on the peer run's cluster (issue #16).
// Both sides: six replicas of the fixture model server, a 50% canary judged every second at success
// rate ≥ 0.95 once 6 answers are in; the fault is the same fixture call on the canary's three pods
// (injectFault: fresh counters, then 30% of answers failing), made once the canary is being judged.
// - modelship: rollback.ts's run; its prober sends the requests and judges them; done = status
//   canaryWeight 0 with the canary rejected.
// - Argo Rollouts: a Rollout with the same pods and a replica canary [setWeight 50, pause, analysis,
//   pause]; the analysis is an AnalysisTemplate with the web provider reading the fixture's summed
//   counts of the canary's pods (GET /stats?ips=…) every second, failureLimit 0. A replica canary
//   has no traffic of its own, so the bench sends the canary pods the prober's round (the same three
//   requests, one round per pod per second) for as long as the run lasts; done = status.abort.
// The fault is injected on the Argo side once the analysis has taken its first measurement.
import { setTimeout as sleep } from "node:timers/promises";
import { CoreV1Api, CustomObjectsApi, type V1Pod } from "@kubernetes/client-node";
import { ModelDeploymentSpecSchema } from "../../operator/src/api/index.ts";
import type { ClusterState } from "../cluster/control-plane.ts";
import { startFixture } from "../cluster/fixtures.ts";
import { inCidr, POD_SUPERNET } from "../cluster/network.ts";
import {
  kubeConfigOf,
  kubectl,
  log,
  type OperatorSettings,
  percentile,
  round,
  startOperator,
  timingSummary,
} from "./common.ts";
import { startArgoRollouts } from "./peer.ts";
import {
  canaryStatsUrl,
  ROLLOUTS_API,
  rollbackSteps,
  rolloutAborted,
  rolloutAvailable,
  rolloutBackOnStable,
  rolloutInvalid,
  rolloutObjects,
  successRateTemplate,
} from "./peer-objects.ts";
import {
  CANARY_PODS,
  clearFault,
  ERROR_RATE,
  flakySpec,
  INTERVAL_S,
  injectFault,
  modelshipRollbackOnce,
  type RollbackRig,
  RUN_CAP_MS,
  until,
} from "./rollback.ts";

// Its own fixture (model port, control port), apart from rollback.ts's 8090/9910.
const PORT = 8091;
const CONTROL_PORT = 9911;
/** Long enough for the bench to write the AnalysisTemplate once the canary's pods have addresses. */
const PAUSE_S = 10;
/** The analysis passes after a minute of good measurements; every run here faults within seconds. */
const MEASUREMENTS = 60;
const MS_NS = "peer-rb-ms";
const AR_NS = "peer-rb-ar";

type Rollout = Record<string, unknown> & {
  status?: { currentPodHash?: string; stableRS?: string; message?: string };
};
type AnalysisRun = {
  metadata: { name: string; ownerReferences?: { name: string }[] };
  status?: {
    phase?: string;
    message?: string;
    metricResults?: {
      count?: number;
      phase?: string;
      measurements?: { phase?: string; message?: string }[];
    }[];
  };
};

const isReady = (p: V1Pod) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");

/**
 * The prober's round for preset openInference with an inference check (operator/src/prober/checks.ts:
 * server ready, model ready, then the inference request; a round stops at its first failure), sent
 * to each pod every interval from the host: pod addresses route into the harness's namespace, and
 * any other address is refused before a byte is sent. Bounded by `capMs` and by stop().
 */
export function probeRounds(
  ips: readonly string[],
  port: number,
  model: string,
  inference: { path: string; body: unknown },
  intervalMs: number,
  capMs: number,
): { stop(): Promise<{ rounds: number; failed: number }> } {
  for (const ip of ips)
    if (!inCidr(ip, POD_SUPERNET)) throw new Error(`network safety: ${ip} is not a fake pod address`);
  const stopped = new AbortController();
  let rounds = 0;
  let failed = 0;
  const requests: [string, RequestInit][] = [
    ["/v2/health/ready", {}],
    [`/v2/models/${encodeURIComponent(model)}/ready`, {}],
    [
      inference.path,
      {
        method: "POST",
        body: JSON.stringify(inference.body),
        headers: { "content-type": "application/json" },
      },
    ],
  ];
  const roundOn = async (ip: string) => {
    rounds++;
    for (const [path, init] of requests) {
      const ok = await fetch(`http://${ip}:${port}${path}`, { ...init, signal: AbortSignal.timeout(1000) })
        .then(async (r) => {
          await r.arrayBuffer();
          return r.ok;
        })
        .catch(() => false);
      if (!ok) {
        failed++;
        return;
      }
    }
  };
  const startedAt = performance.now();
  const loop = (async () => {
    while (!stopped.signal.aborted && performance.now() - startedAt < capMs) {
      const t = performance.now();
      await Promise.all(ips.map(roundOn));
      await sleep(Math.max(0, intervalMs - (performance.now() - t)), undefined, {
        signal: stopped.signal,
      }).catch(() => {});
    }
  })();
  return {
    async stop() {
      stopped.abort();
      await loop;
      return { rounds, failed };
    },
  };
}

/** One failing canary on Argo Rollouts; ms from the fault to status.abort, and to no canary pod left. */
async function argoRollbackOnce(
  rig: RollbackRig,
  name: string,
  i: number,
): Promise<{ abortMs: number; backOnStableMs?: number; load: { rounds: number; failed: number } }> {
  const { ns, core, custom } = rig;
  const ref = { ...ROLLOUTS_API, namespace: ns, plural: "rollouts" };
  // A refused spec ends the run at once with Argo Rollouts' reason (until() retries other errors).
  let refused: string | undefined;
  const get = async () => {
    const r = (await custom.getNamespacedCustomObject({ ...ref, name })) as Rollout;
    refused ??= rolloutInvalid(r);
    return r;
  };
  const untilRollout = <T>(what: string, fn: () => Promise<T | undefined>, ms: number, every: number) =>
    until(what, async () => (await fn()) ?? (refused ? (null as T) : undefined), ms, every).then((v) => {
      if (refused) throw new Error(`Argo Rollouts refused ${name}: ${refused}`);
      return v;
    });
  const steps = rollbackSteps(name, PAUSE_S);
  const v2 = ModelDeploymentSpecSchema.parse(flakySpec(`v2-${i}`, rig.port));
  const templateFor = (pods: readonly string[]) =>
    successRateTemplate(ns, name, {
      statsUrl: canaryStatsUrl(rig.controlUrl, pods),
      analysis: v2.rollout.analysis,
      intervalSeconds: INTERVAL_S,
      count: MEASUREMENTS,
    });
  // Argo Rollouts refuses a Rollout whose analysis names a missing template, so it exists from the
  // start, naming no pod until the canary's are known (nothing reads it before its analysis step).
  await custom.createNamespacedCustomObject({
    ...ROLLOUTS_API,
    namespace: ns,
    plural: "analysistemplates",
    body: templateFor([]),
  });
  await custom.createNamespacedCustomObject({
    ...ref,
    body: rolloutObjects(ns, name, flakySpec("v1", rig.port), steps).rollout,
  });
  await untilRollout(
    `${name} Healthy`,
    async () => (rolloutAvailable(await get()) ? true : undefined),
    RUN_CAP_MS,
    250,
  );
  const template = (
    rolloutObjects(ns, name, flakySpec(`v2-${i}`, rig.port), steps).rollout.spec as {
      template: unknown;
    }
  ).template;
  await kubectl(rig.c, [
    "patch",
    "rollouts.argoproj.io",
    name,
    "-n",
    ns,
    "--type=merge",
    "-p",
    JSON.stringify({ spec: { template } }),
  ]);
  const pods = await untilRollout(
    `${name} canary pods`,
    async () => {
      const r = await get();
      const hash = r.status?.currentPodHash;
      if (!hash || hash === r.status?.stableRS) return undefined;
      const list = await core.listNamespacedPod({
        namespace: ns,
        labelSelector: `rollouts-pod-template-hash=${hash}`,
      });
      const ips = list.items
        .filter(isReady)
        .map((p) => p.status?.podIP)
        .filter((x): x is string => !!x);
      return ips.length >= CANARY_PODS ? ips : undefined;
    },
    RUN_CAP_MS,
    250,
  );
  // During the pause before the analysis step: the AnalysisRun copies the template when it starts.
  await kubectl(rig.c, [
    "patch",
    "analysistemplates.argoproj.io",
    name,
    "-n",
    ns,
    "--type=merge",
    "-p",
    JSON.stringify({ spec: templateFor(pods).spec }),
  ]);
  const inference = v2.health.inference;
  if (!inference) throw new Error("flakySpec has no inference check");
  const load = probeRounds(
    pods,
    rig.port,
    v2.model.name,
    { path: inference.path, body: inference.body },
    INTERVAL_S * 1000,
    RUN_CAP_MS * 2,
  );
  try {
    const run = await until(
      `${name}'s analysis to take its first measurement`,
      async () => {
        const list = (await custom.listNamespacedCustomObject({
          ...ROLLOUTS_API,
          namespace: ns,
          plural: "analysisruns",
        })) as { items: AnalysisRun[] };
        const ar = list.items.find((a) => a.metadata.ownerReferences?.some((o) => o.name === name));
        return (ar?.status?.metricResults?.[0]?.count ?? 0) >= 1 ? ar : undefined;
      },
      RUN_CAP_MS,
      100,
    );
    const metric = run.status?.metricResults?.[0];
    const first = metric?.measurements?.at(-1);
    if (run.status?.phase !== "Running" || metric?.phase === "Error" || first?.phase === "Error") {
      throw new Error(
        `analysis ${run.metadata.name} is ${run.status?.phase} before the fault: ${run.status?.message ?? ""} ${first?.message ?? ""}`,
      );
    }
    const faultAt = performance.now();
    await injectFault(rig.controlUrl, pods);
    await until(
      `${name} aborted`,
      async () => (rolloutAborted(await get()) ? true : undefined),
      RUN_CAP_MS,
      50,
    );
    const abortMs = performance.now() - faultAt;
    const back = await until(
      `${name} without canary pods`,
      async () => (rolloutBackOnStable(await get()) ? true : undefined),
      30_000,
      100,
    ).catch(() => false);
    return {
      abortMs,
      ...(back ? { backOnStableMs: performance.now() - faultAt } : {}),
      load: await load.stop(),
    };
  } finally {
    await load.stop();
    await clearFault(rig.controlUrl, pods);
  }
}

/** `runs` failing canaries on each side, alternating (Argo Rollouts first), within `budgetMs`. */
export async function measurePeerRollback(
  c: ClusterState,
  settings: OperatorSettings,
  runs: number,
  budgetMs: number,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + budgetMs;
  const analysis = ModelDeploymentSpecSchema.parse(flakySpec("v1", PORT)).rollout.analysis;
  const fixture = await startFixture(PORT, CONTROL_PORT);
  const kc = kubeConfigOf(c);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  for (const ns of [MS_NS, AR_NS]) await core.createNamespace({ body: { metadata: { name: ns } } });
  const rig = (ns: string): RollbackRig => ({
    c,
    ns,
    core,
    custom,
    controlUrl: fixture.controlUrl,
    port: PORT,
  });
  // The operator watches only its namespace here: the settled objects of the other measures stay
  // unprobed (Argo Rollouts holds theirs too, untouched until its 15-minute resync).
  const op = await startOperator(c, { settings, name: "peer-rollback", args: [`--namespaces=${MS_NS}`] });
  const peer = await startArgoRollouts(c, { settings, name: "rollback" });
  const ms: number[] = [];
  const ar: number[] = [];
  const arBack: number[] = [];
  const failures: string[] = [];
  let arLoad = { rounds: 0, failed: 0 };
  try {
    for (let i = 0; i < runs && Date.now() < deadline; i++) {
      const name = `flaky-${i}`;
      try {
        const r = await argoRollbackOnce(rig(AR_NS), name, i);
        ar.push(r.abortMs);
        if (r.backOnStableMs !== undefined) arBack.push(r.backOnStableMs);
        arLoad = { rounds: arLoad.rounds + r.load.rounds, failed: arLoad.failed + r.load.failed };
        log(`peer rollback run ${i}: Argo Rollouts aborted in ${Math.round(r.abortMs)} ms`);
      } catch (err) {
        failures.push(`argo-rollouts ${name}: ${String(err).slice(0, 400)}`);
        log(`peer rollback run ${i} (Argo Rollouts) failed: ${String(err).slice(0, 400)}`);
      }
      await custom
        .deleteNamespacedCustomObject({ ...ROLLOUTS_API, namespace: AR_NS, plural: "rollouts", name })
        .catch(() => {});
      await custom
        .deleteNamespacedCustomObject({
          ...ROLLOUTS_API,
          namespace: AR_NS,
          plural: "analysistemplates",
          name,
        })
        .catch(() => {});
      try {
        const took = await modelshipRollbackOnce(rig(MS_NS), name, i);
        ms.push(took);
        log(`peer rollback run ${i}: modelship back on stable in ${Math.round(took)} ms`);
      } catch (err) {
        failures.push(`modelship ${name}: ${String(err).slice(0, 400)}`);
        log(`peer rollback run ${i} (modelship) failed: ${String(err).slice(0, 400)}`);
      }
      await custom
        .deleteNamespacedCustomObject({
          group: "modelship.dev",
          version: "v1alpha1",
          namespace: MS_NS,
          plural: "modeldeployments",
          name,
        })
        .catch(() => {});
    }
  } finally {
    await peer.stop();
    await op.stop();
    await fixture.stop();
  }
  return {
    settings: {
      intervalSeconds: INTERVAL_S,
      errorRate: ERROR_RATE,
      canaryPods: CANARY_PODS,
      successRate: analysis.successRate,
      minSamples: analysis.minSamples,
      pauseBeforeAnalysisSeconds: PAUSE_S,
    },
    runs,
    modelship: timingSummary(ms),
    argoRollouts: { ...timingSummary(ar), backOnStable: timingSummary(arBack), loadRounds: arLoad },
    ratio:
      ms.length && ar.length
        ? {
            p50: round(percentile(ms, 50) / percentile(ar, 50)),
            max: round(Math.max(...ms) / Math.max(...ar)),
          }
        : null,
    failures,
  };
}
