// Where requests really land during a canary: a bounded load generator sends inference requests
// through a real Gateway API implementation (Traefik, a process on 127.0.0.1 beside the local control
// plane) and counts the answers per revision, each answer naming the fixture pod that gave it.
// Gateway API mode: the share follows the HTTPRoute weights step by step, promote and abort move
// every request, and no request fails during either switch. Replica-ratio mode: behind the one
// Service, the share follows the ready-pod ratio. Header-routed A/B: requests with the header reach
// the canary whatever the weight.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FixtureServer, startFixture } from "../hack/cluster/fixtures.ts";
import { eventually, kubectl, localCluster, uniqueNamespace } from "./support/cluster.ts";
import {
  type GatewayState,
  routeToService,
  startGatewayForFile,
  stopGatewayForFile,
  waitRouteAccepted,
} from "./support/gateway.ts";
import { answersByRevision, type LoadResult, podRevisions, sendLoad, sharePoints } from "./support/load.ts";
import {
  applyMd,
  core,
  createNamespace,
  getMd,
  installCrd,
  type Md,
  mdSpec,
  promote,
  waitForPhase,
} from "./support/mdep.ts";
import { type RunningOperator, startOperator } from "./support/operator.ts";

const ns = uniqueNamespace("gw-traffic");
let operator: RunningOperator;
let gw: GatewayState;
let fixture: FixtureServer | undefined;

/**
 * The model port of this file's ModelDeployments, served by a fixture of this checkout: fixtures
 * are shared by every run on the machine, and one started by an older checkout on 8080 would answer
 * without naming its pod.
 */
const PORT = 8081;

/** Requests per measured share: at ±5 points a wrong weight cannot hide in the noise. */
const N = 1000;
/** Percentage points the observed share may differ from the weight or the pod ratio. */
const TOLERANCE = 5;
/** Traefik applies a route change after its provider throttle (500 ms, hack/cluster/gateway.ts). */
const SETTLE_MS = 2000;

/**
 * Each ModelDeployment's route claims its own hostname: two routes on one listener with the same
 * match would conflict, and the older would take every request.
 */
const hostOf = (name: string) => `${name}.gateway.test`;
const runtime = { preset: "openInference", image: "registry.invalid/recsys:1", port: PORT };
const steps = [{ setWeight: 20 }, { pause: {} }, { setWeight: 50 }, { pause: {} }];

async function measure(
  name: string,
  headers: Record<string, string> = {},
): Promise<{ load: LoadResult; byRevision: Record<string, number> }> {
  const load = await sendLoad({
    url: gw.url,
    host: hostOf(name),
    headers,
    requests: N,
    concurrency: 8,
    deadlineMs: 60_000,
  });
  const byRevision = answersByRevision(load.answers, await podRevisions(ns, name));
  return { load, byRevision };
}

/** A load spread over a few seconds while `change` happens; every request must be answered. */
/** Requests sent across a switch, at RATE per second, and what the gateway made of them. */
const SWITCH_REQUESTS = 3000;
const RATE = 250;

/**
 * A paced load while `change` happens (it starts 1 s in). `settled` holds the answers to requests
 * sent once the change was done and the gateway had SETTLE_MS to apply it.
 */
async function loadDuring(name: string, change: () => Promise<unknown>) {
  // Pods of both sides, read before and after: the losing side's pods may be gone by the end.
  const before = await podRevisions(ns, name);
  const startedAt = Date.now();
  const running = sendLoad({
    url: gw.url,
    host: hostOf(name),
    requests: SWITCH_REQUESTS,
    concurrency: 8,
    ratePerSecond: RATE,
    deadlineMs: 40_000,
  });
  await new Promise((r) => setTimeout(r, 1000));
  await change();
  const firstSettled = Math.ceil(((Date.now() + SETTLE_MS - startedAt) * RATE) / 1000);
  const load = await running;
  const revisions = { ...before, ...(await podRevisions(ns, name)) };
  // With no failures, answers line up with requests in the order they were sent.
  const settled = load.failures === 0 ? load.answers.slice(firstSettled) : [];
  return {
    load,
    byRevision: answersByRevision(load.answers, revisions),
    settled: answersByRevision(settled, revisions),
    settledCount: settled.length,
  };
}

function expectAllAnswered(load: LoadResult, requests: number) {
  expect({ sent: load.sent, failures: load.failures, samples: load.failureSamples }).toEqual({
    sent: requests,
    failures: 0,
    samples: [],
  });
  // Every answer named the pod that gave it.
  expect(load.byPod["?"], "answers without x-modelship-pod: a fixture of an older checkout?").toBeUndefined();
}

async function atStep(name: string, index: number, weight: number): Promise<Md> {
  return eventually(
    `${name} paused at step ${index} with weight ${weight}`,
    async () => {
      const md = await getMd(ns, name);
      const s = md.status;
      return s?.currentStepIndex === index && s.phase === "Paused" && s.canaryWeight === weight
        ? md
        : undefined;
    },
    90_000,
  );
}

async function routeWeights(name: string): Promise<Record<string, number>> {
  const r = JSON.parse(await kubectl(["get", "httproute", name, "-n", ns, "-o", "json"])) as {
    spec: { rules: { backendRefs: { name: string; weight?: number }[] }[] };
  };
  return Object.fromEntries(r.spec.rules[0]?.backendRefs.map((b) => [b.name, b.weight ?? 1]) ?? []);
}

async function readyPods(name: string): Promise<Record<string, number>> {
  const list = await core.listNamespacedPod({
    namespace: ns,
    labelSelector: `modelship.dev/deployment=${name}`,
  });
  const out: Record<string, number> = {};
  for (const p of list.items) {
    if (p.metadata?.deletionTimestamp) continue;
    if (!p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")) continue;
    const rev = p.metadata?.labels?.["modelship.dev/revision"] ?? "?";
    out[rev] = (out[rev] ?? 0) + 1;
  }
  return out;
}

const settle = () => new Promise((r) => setTimeout(r, SETTLE_MS));

// Off the local harness there is no Traefik beside the cluster (and no fixture pods): the file skips.
beforeAll(async () => {
  if (!localCluster()) return;
  await installCrd();
  await createNamespace(ns);
  // Before the operator: it discovers the Gateway API (installed with the gateway) at start.
  fixture = await startFixture(PORT, 9902);
  gw = await startGatewayForFile();
  operator = await startOperator({ name: "gateway-traffic" });
});

afterAll(async () => {
  await operator?.stop();
  await stopGatewayForFile();
  await fixture?.stop();
  await core.deleteNamespace({ name: ns }).catch(() => {});
});

describe.skipIf(!localCluster())("canary by Gateway API weights, counted through Traefik", () => {
  const name = "llm";
  const spec = (version: string) => {
    const base = mdSpec({
      model: { name: "recommender", version },
      runtime,
      replicas: 5,
      rollout: { steps, scaleDownDelaySeconds: 3, progressDeadlineSeconds: 60, analysis: { minSamples: 4 } },
    });
    const traffic = {
      gatewayAPI: {
        parentRefs: [{ name: gw.gateway.name, namespace: gw.gateway.namespace }],
        hostnames: [hostOf(name)],
      },
    };
    return { ...base, rollout: { ...(base.rollout as object), traffic } };
  };

  it("each step's share matches its weight; promote moves every request to the new revision, none failed", async () => {
    await applyMd(ns, name, spec("v1"));
    const v1 = await waitForPhase(ns, name, "Healthy");
    const stable = v1.status?.stableRevision ?? "";
    await waitRouteAccepted(gw, ns, name);
    await settle();
    const before = await measure(name);
    expectAllAnswered(before.load, N);
    expect(before.byRevision).toEqual({ [stable]: N });

    await applyMd(ns, name, spec("v2"));
    const s1 = await atStep(name, 1, 20);
    const canary = s1.status?.canaryRevision ?? "";
    expect(await routeWeights(name)).toEqual({ [`${name}-stable`]: 80, [`${name}-canary`]: 20 });
    await settle();
    const at20 = await measure(name);
    expectAllAnswered(at20.load, N);
    process.stderr.write(`gateway at 20%: ${JSON.stringify(at20.byRevision)}\n`);
    expect(Math.abs(sharePoints(at20.byRevision, canary) - 20)).toBeLessThanOrEqual(TOLERANCE);
    expect(Object.keys(at20.byRevision).sort()).toEqual([stable, canary].sort());

    await promote(ns, name);
    await atStep(name, 3, 50);
    expect(await routeWeights(name)).toEqual({ [`${name}-stable`]: 50, [`${name}-canary`]: 50 });
    await settle();
    const at50 = await measure(name);
    expectAllAnswered(at50.load, N);
    process.stderr.write(`gateway at 50%: ${JSON.stringify(at50.byRevision)}\n`);
    const share50 = sharePoints(at50.byRevision, canary);
    expect(Math.abs(share50 - 50)).toBeLessThanOrEqual(TOLERANCE);
    // The split is the route's, not the pods': round-robin over the pods (5 stable, 3 canary)
    // would give 37.5%, well outside the tolerance.
    const pods = await readyPods(name);
    const podRatio = (100 * (pods[canary] ?? 0)) / ((pods[canary] ?? 0) + (pods[stable] ?? 0));
    expect(Math.abs(podRatio - 50)).toBeGreaterThan(TOLERANCE);

    const during = await loadDuring(name, async () => {
      await promote(ns, name);
      await eventually("promoted", async () => {
        const md = await getMd(ns, name);
        return md.status?.phase === "Healthy" && md.status.stableRevision === canary;
      });
    });
    process.stderr.write(`gateway during promote: ${JSON.stringify(during.byRevision)}\n`);
    expectAllAnswered(during.load, SWITCH_REQUESTS);
    // The last requests of the switch already landed on the new revision.
    // The switch happened while the load ran, and what followed it all landed on canary.
    expect(during.settledCount).toBeGreaterThanOrEqual(100);
    expect(during.settled).toEqual({ [canary]: during.settledCount });

    expect(await routeWeights(name)).toEqual({ [`${name}-stable`]: 100, [`${name}-canary`]: 0 });
    await settle();
    const after = await measure(name);
    expectAllAnswered(after.load, N);
    expect(after.byRevision).toEqual({ [canary]: N });
  });

  it("abort puts every request back on stable at once, none failed", async () => {
    const stable = (await getMd(ns, name)).status?.stableRevision ?? "";
    await applyMd(ns, name, spec("v3"));
    const s1 = await atStep(name, 1, 20);
    const canary = s1.status?.canaryRevision ?? "";
    await settle();
    const at20 = await measure(name);
    expectAllAnswered(at20.load, N);
    expect(Math.abs(sharePoints(at20.byRevision, canary) - 20)).toBeLessThanOrEqual(TOLERANCE);

    const during = await loadDuring(name, async () => {
      await kubectl(["modelship", "abort", name, "-n", ns]);
      await eventually("Degraded after abort", async () => {
        const md = await getMd(ns, name);
        return md.status?.phase === "Degraded" && md.status.rejectedRevision === canary;
      });
    });
    process.stderr.write(`gateway during abort: ${JSON.stringify(during.byRevision)}\n`);
    expectAllAnswered(during.load, SWITCH_REQUESTS);
    // The switch happened while the load ran, and what followed it all landed on stable.
    expect(during.settledCount).toBeGreaterThanOrEqual(100);
    expect(during.settled).toEqual({ [stable]: during.settledCount });

    expect(await routeWeights(name)).toEqual({ [`${name}-stable`]: 100, [`${name}-canary`]: 0 });
    await settle();
    const after = await measure(name);
    expectAllAnswered(after.load, N);
    expect(after.byRevision).toEqual({ [stable]: N });
  });
});

describe.skipIf(!localCluster())("header-routed A/B, counted through Traefik", () => {
  const name = "ab";
  const TESTER = { "x-canary": "1" };
  const spec = (version: string) => {
    const base = mdSpec({
      model: { name: "recommender", version },
      runtime,
      replicas: 3,
      rollout: {
        steps: [
          { headerRoute: { matches: [{ headers: [{ name: "x-canary", value: "1" }] }] } },
          { pause: {} },
        ],
        scaleDownDelaySeconds: 3,
        progressDeadlineSeconds: 60,
        analysis: { minSamples: 4 },
      },
    });
    const traffic = {
      gatewayAPI: {
        parentRefs: [{ name: gw.gateway.name, namespace: gw.gateway.namespace }],
        hostnames: [hostOf(name)],
      },
    };
    return { ...base, rollout: { ...(base.rollout as object), traffic } };
  };

  it("requests with the header reach the canary at 0% weight, the rest stay on stable; abort removes the route", async () => {
    await applyMd(ns, name, spec("v1"));
    const v1 = await waitForPhase(ns, name, "Healthy");
    const stable = v1.status?.stableRevision ?? "";
    await waitRouteAccepted(gw, ns, name);

    await applyMd(ns, name, spec("v2"));
    const held = await atStep(name, 1, 0);
    const canary = held.status?.canaryRevision ?? "";
    expect(held.status?.headerRoute).toEqual({
      matches: [{ headers: [{ name: "x-canary", value: "1", type: "Exact" }] }],
    });
    await settle();
    const testers = await measure(name, TESTER);
    expectAllAnswered(testers.load, N);
    expect(testers.byRevision).toEqual({ [canary]: N });
    const others = await measure(name);
    expectAllAnswered(others.load, N);
    expect(others.byRevision).toEqual({ [stable]: N });

    await kubectl(["modelship", "abort", name, "-n", ns]);
    const aborted = await eventually("Degraded after abort", async () => {
      const md = await getMd(ns, name);
      return md.status?.phase === "Degraded" && md.status.rejectedRevision === canary ? md : undefined;
    });
    expect(aborted.status?.headerRoute).toBeUndefined();
    await settle();
    const afterAbort = await measure(name, TESTER);
    expectAllAnswered(afterAbort.load, N);
    expect(afterAbort.byRevision).toEqual({ [stable]: N });
  });
});

describe.skipIf(!localCluster())(
  "canary by replica ratio behind the one Service, counted through Traefik",
  () => {
    const name = "ratio";
    const spec = (version: string) =>
      mdSpec({
        model: { name: "recommender", version },
        runtime,
        replicas: 5,
        rollout: {
          steps,
          scaleDownDelaySeconds: 3,
          progressDeadlineSeconds: 60,
          analysis: { minSamples: 4 },
        },
      });

    /** Measures and checks the canary's share against the ready-pod ratio at that moment. */
    async function expectShareFollowsPods(canary: string, stable: string) {
      const pods = await readyPods(name);
      const expected = (100 * (pods[canary] ?? 0)) / ((pods[canary] ?? 0) + (pods[stable] ?? 0));
      const m = await measure(name);
      process.stderr.write(
        `replica ratio, ready pods ${JSON.stringify(pods)}: ${JSON.stringify(m.byRevision)}\n`,
      );
      expectAllAnswered(m.load, N);
      expect(Math.abs(sharePoints(m.byRevision, canary) - expected)).toBeLessThanOrEqual(TOLERANCE);
      return expected;
    }

    it("the share of each revision follows its share of Ready pods", async () => {
      await applyMd(ns, name, spec("v1"));
      const v1 = await waitForPhase(ns, name, "Healthy");
      const stable = v1.status?.stableRevision ?? "";
      // What a user of replica-ratio mode writes: one route to the ModelDeployment's one Service.
      await routeToService(gw, { namespace: ns, name, service: name, port: PORT, hostname: hostOf(name) });
      await waitRouteAccepted(gw, ns, name);
      await settle();
      const before = await measure(name);
      expectAllAnswered(before.load, N);
      expect(before.byRevision).toEqual({ [stable]: N });

      await applyMd(ns, name, spec("v2"));
      const s1 = await atStep(name, 1, 20);
      const canary = s1.status?.canaryRevision ?? "";
      // 20% of 5: 1 canary pod beside 4 stable, once the Service's endpoints caught up.
      await eventually("1 canary + 4 stable Ready", async () => {
        const p = await readyPods(name);
        return p[canary] === 1 && p[stable] === 4;
      });
      await settle();
      expect(await expectShareFollowsPods(canary, stable)).toBe(20);

      await promote(ns, name);
      await atStep(name, 3, 50);
      // round(2.5) = 3 canary pods, 2 stable.
      await eventually("3 canary + 2 stable Ready", async () => {
        const p = await readyPods(name);
        return p[canary] === 3 && p[stable] === 2;
      });
      await settle();
      expect(await expectShareFollowsPods(canary, stable)).toBe(60);

      await promote(ns, name);
      await eventually("old stable drained", async () => {
        const p = await readyPods(name);
        return p[canary] === 5 && p[stable] === undefined;
      });
      await settle();
      const after = await measure(name);
      expectAllAnswered(after.load, N);
      expect(after.byRevision).toEqual({ [canary]: N });
    });
  },
);
