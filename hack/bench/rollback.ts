// Failing canary → 100% traffic on stable. A ModelDeployment reaches a canary (50%, three canary
// pods, health.intervalSeconds 1); the fixture model server is told to fail 30% of the canary pods'
// requests; time from that call to status.canaryWeight 0 with rejectedRevision = the canary.
// Its own fixture server (runtime port 8090, control port 9910) inside the harness's namespace.
// peer-rollback.ts runs the same ModelDeployment run (modelshipRollbackOnce) beside Argo Rollouts.

import { setTimeout as sleep } from "node:timers/promises";
import { CoreV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import type { ClusterState } from "../cluster/control-plane.ts";
import { startFixture } from "../cluster/fixtures.ts";
import {
  DEFAULT_SETTINGS,
  kubeConfigOf,
  kubectl,
  log,
  machine,
  mdBody,
  mdSpec,
  percentile,
  round,
  startOperator,
  withCluster,
} from "./common.ts";

export const INTERVAL_S = 1;
export const ERROR_RATE = 0.3;
/** 50% of six replicas. */
export const CANARY_PODS = 3;
const RUNTIME_PORT = 8090;
const CONTROL_PORT = 9910;
export const RUN_CAP_MS = 90_000;

interface MdStatus {
  observedGeneration?: number;
  phase?: string;
  canaryRevision?: string;
  canaryWeight?: number;
  rejectedRevision?: string;
  stableRevision?: string;
}
type Md = { metadata: { generation: number }; status?: MdStatus };

/** Six replicas, a 50% canary judged by the prober every second; the model server on `port`. */
export const flakySpec = (version: string, port = RUNTIME_PORT) =>
  mdSpec({
    model: { name: "recommender", version },
    runtime: { preset: "openInference", image: "registry.invalid/recsys:1", port },
    replicas: 6,
    rollout: {
      steps: [{ setWeight: 50 }, { analysis: {} }, { pause: { duration: "60s" } }],
      scaleDownDelaySeconds: 2,
      progressDeadlineSeconds: 120,
      analysis: { successRate: 0.95, p99LatencyMs: 300, minSamples: 6, failureLimit: 3 },
    },
    health: {
      intervalSeconds: INTERVAL_S,
      timeoutSeconds: 1,
      inference: {
        path: "/v2/models/recommender/infer",
        body: { inputs: [{ name: "price_usd", shape: [1], datatype: "FP32", data: [25] }] },
        maxLatencyMs: 500,
      },
    },
  });

export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  ms: number,
  every = 100,
): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    await sleep(every);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

export interface RollbackRig {
  c: ClusterState;
  ns: string;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  /** The fixture's control API, and the model port its pods serve on. */
  controlUrl: string;
  port: number;
}

/**
 * The fault, through the fixture's control API, per canary pod: fresh counters (so a reader of the
 * fixture's counts sees only answers given under the fault), then ERROR_RATE of the answers failing.
 */
export async function injectFault(controlUrl: string, ips: readonly string[]): Promise<void> {
  await Promise.all(
    ips.map(async (ip) => {
      const reset = await fetch(`${controlUrl}/pods/${ip}`, {
        method: "DELETE",
        signal: AbortSignal.timeout(5000),
      });
      if (!reset.ok) throw new Error(`fixture DELETE ${ip}: ${reset.status}`);
      const res = await fetch(`${controlUrl}/pods/${ip}`, {
        method: "PUT",
        body: JSON.stringify({ errorRate: ERROR_RATE }),
        headers: { "content-type": "application/json" },
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) throw new Error(`fixture PUT ${ip}: ${res.status}`);
    }),
  );
}

/**
 * Takes the fault off these pods again. kwok hands a deleted pod's address to a later pod, and the
 * fixture keys its faults by address: a fault left behind would fail the next canary before its run.
 */
export async function clearFault(controlUrl: string, ips: readonly string[]): Promise<void> {
  await Promise.all(
    ips.map((ip) =>
      fetch(`${controlUrl}/pods/${ip}`, { method: "DELETE", signal: AbortSignal.timeout(5000) }).then(
        (r) => r.arrayBuffer(),
        () => undefined,
      ),
    ),
  );
}

/**
 * One failing canary on modelship: creates `name` at v1, waits until Healthy, starts a canary, faults
 * its pods, and returns the ms from the fault to status.canaryWeight 0 with the canary rejected.
 */
export async function modelshipRollbackOnce(rig: RollbackRig, name: string, i: number): Promise<number> {
  const { ns, core, custom } = rig;
  const ref = { group: "modelship.dev", version: "v1alpha1", namespace: ns, plural: "modeldeployments" };
  const get = async (n: string) => (await custom.getNamespacedCustomObject({ ...ref, name: n })) as Md;
  await custom.createNamespacedCustomObject({ ...ref, body: mdBody(ns, name, flakySpec("v1", rig.port)) });
  await until(
    `${name} Healthy`,
    async () => {
      const md = await get(name);
      return md.status?.phase === "Healthy" && md.status.observedGeneration === md.metadata.generation
        ? md
        : undefined;
    },
    RUN_CAP_MS,
    250,
  );
  await kubectl(rig.c, [
    "patch",
    "mdep",
    name,
    "-n",
    ns,
    "--type=merge",
    "-p",
    JSON.stringify({ spec: { model: { version: `v2-${i}` } } }),
  ]);
  const md = await until(
    `${name} canary`,
    async () => {
      const m = await get(name);
      return m.status?.canaryRevision && (m.status.canaryWeight ?? 0) > 0 ? m : undefined;
    },
    RUN_CAP_MS,
    250,
  );
  const canary = md.status?.canaryRevision ?? "";
  const pods = await until(
    "canary pod IPs",
    async () => {
      const list = await core.listNamespacedPod({
        namespace: ns,
        labelSelector: `modelship.dev/deployment=${name},modelship.dev/revision=${canary}`,
      });
      const ips = list.items.map((p) => p.status?.podIP).filter((x): x is string => !!x);
      return ips.length >= CANARY_PODS ? ips : undefined;
    },
    RUN_CAP_MS,
    250,
  );
  const faultAt = performance.now();
  try {
    await injectFault(rig.controlUrl, pods);
    await until(
      `${name} back on stable`,
      async () => {
        const m = await get(name);
        return m.status?.canaryWeight === 0 && m.status.rejectedRevision === canary ? m : undefined;
      },
      RUN_CAP_MS,
      50,
    );
    return performance.now() - faultAt;
  } finally {
    await clearFault(rig.controlUrl, pods);
  }
}

export async function runRollback(opts: {
  quick: boolean;
  cpuProf: boolean;
}): Promise<Record<string, unknown>> {
  const runs = opts.quick ? 5 : 20;
  const settings = DEFAULT_SETTINGS;
  const hardDeadline = Date.now() + (opts.quick ? 8 : 25) * 60_000;
  return withCluster("rollback", async (c) => {
    const before = await machine(c);
    const fixture = await startFixture(RUNTIME_PORT, CONTROL_PORT);
    const kc = kubeConfigOf(c);
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const ns = "rollback";
    await core.createNamespace({ body: { metadata: { name: ns } } });
    const op = await startOperator(c, { settings, name: "rollback", cpuProf: opts.cpuProf });
    const ref = { group: "modelship.dev", version: "v1alpha1", namespace: ns, plural: "modeldeployments" };
    const times: number[] = [];
    const failures: string[] = [];
    try {
      for (let i = 0; i < runs && Date.now() < hardDeadline; i++) {
        const name = `flaky-${i}`;
        try {
          const took = await modelshipRollbackOnce(
            { c, ns, core, custom, controlUrl: fixture.controlUrl, port: RUNTIME_PORT },
            name,
            i,
          );
          times.push(took);
          log(`rollback run ${i}: ${Math.round(took)} ms`);
        } catch (err) {
          failures.push(`${name}: ${String(err).slice(0, 200)}`);
          log(`rollback run ${i} failed: ${String(err).slice(0, 200)}`);
        }
        await custom.deleteNamespacedCustomObject({ ...ref, name }).catch(() => {});
      }
    } finally {
      await op.stop();
      await fixture.stop();
    }
    const goalMs = 3 * INTERVAL_S * 1000 + 2000;
    return {
      benchmark: "rollback",
      date: new Date().toISOString(),
      machine: before,
      loadAverageAfter: (await machine()).loadAverage,
      settings: {
        ...settings,
        prober: true,
        intervalSeconds: INTERVAL_S,
        errorRate: ERROR_RATE,
        canaryPods: CANARY_PODS,
      },
      goal: { ms: goalMs, intervals: goalMs / 1000 / INTERVAL_S },
      runs,
      completed: times.length,
      failures,
      p50Ms: round(percentile(times, 50), 0),
      p99Ms: round(percentile(times, 99), 0),
      maxMs: round(Math.max(...times), 0),
      p50Intervals: round(percentile(times, 50) / 1000 / INTERVAL_S, 2),
      p99Intervals: round(percentile(times, 99) / 1000 / INTERVAL_S, 2),
      samplesMs: times.map((t) => round(t, 0)),
    };
  });
}
