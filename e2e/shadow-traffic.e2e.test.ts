// Shadow (mirror) steps and the Traefik traffic provider, with real requests through real Traefik.
// Traefik mode: the operator renders TraefikServices (weighted; mirroring during a shadow step) that a
// user's HTTPRoute reaches as a backendRef of kind TraefikService. Each load tags its requests, and
// the fixture counts tagged requests per pod, so the canary's mirrored copies are counted where they
// land, apart from the prober's own requests, while the load counts who answered.
// Gateway API mode: the HTTPRoute carries the standard RequestMirror filter during the step. Traefik's
// Gateway provider does not implement it and answers 500 on a rule with a filter it does not support;
// that is shown here too, so the docs' warning stays true.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FixtureServer, startFixture } from "../hack/cluster/fixtures.ts";
import { LOAD_TAG_HEADER } from "../operator/testing/model-server.ts";
import { eventually, kubectl, localCluster, uniqueNamespace } from "./support/cluster.ts";
import {
  type GatewayState,
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
} from "./support/mdep.ts";
import { type RunningOperator, startOperator } from "./support/operator.ts";

const ns = uniqueNamespace("shadow");
let operator: RunningOperator;
let gw: GatewayState;
let fixture: FixtureServer | undefined;

/** This file's model port and fixture control port (a fixture of this checkout, like gateway-traffic's). */
const PORT = 8082;
const CONTROL_PORT = 9903;
/** Requests per measurement. */
const N = 1000;
/** Percentage points a share or a mirrored fraction may differ from its setting. */
const TOLERANCE = 5;
/** Traefik applies a change after its provider throttle (500 ms, hack/cluster/gateway.ts). */
const SETTLE_MS = 2000;
const INFER = "POST /v2/models/recommender/infer";

const hostOf = (name: string) => `${name}.shadow.test`;
const runtime = { preset: "openInference", image: "registry.invalid/recsys:1", port: PORT };
const settle = () => new Promise((r) => setTimeout(r, SETTLE_MS));

interface Measured {
  load: LoadResult;
  /** Who answered, by revision. */
  answers: Record<string, number>;
  /** Tagged requests that reached each revision's pods: answers plus mirrored copies. */
  received: Record<string, number>;
}

/** Tagged requests per pod IP, from the fixture's per-pod stats. */
async function taggedByPod(tag: string): Promise<Record<string, number>> {
  const res = await fetch(`${fixture?.controlUrl}/pods`, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as { pods: { ip: string; byRoute: Record<string, number> }[] };
  return Object.fromEntries(body.pods.map((p) => [p.ip, p.byRoute[`${INFER} #${tag}`] ?? 0]));
}

async function measure(name: string): Promise<Measured> {
  const tag = randomUUID().slice(0, 8);
  const load = await sendLoad({
    url: gw.url,
    host: hostOf(name),
    headers: { [LOAD_TAG_HEADER]: tag },
    requests: N,
    concurrency: 8,
    deadlineMs: 60_000,
  });
  const revisions = await podRevisions(ns, name);
  // Mirrored copies are sent beside the answer, not before it: wait until the count stops moving.
  let last = -1;
  let byPod: Record<string, number> = {};
  for (let i = 0; i < 20; i++) {
    byPod = await taggedByPod(tag);
    const total = Object.values(byPod).reduce((a, b) => a + b, 0);
    if (total === last) break;
    last = total;
    await new Promise((r) => setTimeout(r, 500));
  }
  const received: Record<string, number> = {};
  for (const [ip, n] of Object.entries(byPod)) {
    const rev = revisions[ip];
    if (rev !== undefined && n > 0) received[rev] = (received[rev] ?? 0) + n;
  }
  return { load, answers: answersByRevision(load.answers, revisions), received };
}

function expectAllAnswered(load: LoadResult, requests: number) {
  expect({ sent: load.sent, failures: load.failures, samples: load.failureSamples }).toEqual({
    sent: requests,
    failures: 0,
    samples: [],
  });
  expect(load.byPod["?"], "answers without x-modelship-pod: a fixture of an older checkout?").toBeUndefined();
}

async function atStep(name: string, index: number, phase: string, weight: number): Promise<Md> {
  return eventually(
    `${name} ${phase} at step ${index} with weight ${weight}`,
    async () => {
      const md = await getMd(ns, name);
      const s = md.status;
      return s?.currentStepIndex === index && s.phase === phase && s.canaryWeight === weight ? md : undefined;
    },
    90_000,
  );
}

async function getJson<T>(kind: string, name: string): Promise<T> {
  return JSON.parse(await kubectl(["get", kind, name, "-n", ns, "-o", "json"])) as T;
}

interface TraefikServiceSpec {
  weighted?: { services: { name: string; weight: number }[] };
  mirroring?: { name: string; kind: string; mirrors: { name: string; percent: number }[] };
}
const traefikService = async (name: string) =>
  (await getJson<{ spec: TraefikServiceSpec }>("traefikservices.traefik.io", name)).spec;

beforeAll(async () => {
  if (!localCluster()) return;
  await installCrd();
  await createNamespace(ns);
  fixture = await startFixture(PORT, CONTROL_PORT);
  // Before the operator: it discovers the Gateway API and Traefik's CRDs (installed with the gateway) at start.
  gw = await startGatewayForFile();
  operator = await startOperator({ name: "shadow-traffic" });
});

afterAll(async () => {
  await operator?.stop();
  await stopGatewayForFile();
  await fixture?.stop();
  await core.deleteNamespace({ name: ns }).catch(() => {});
});

// Off the local harness there is no Traefik beside the cluster (and no fixture pods): the file skips.
describe.skipIf(!localCluster())(
  "Traefik traffic provider: weights and shadow, counted through Traefik",
  () => {
    const name = "tr";
    const SHADOW = 30;
    const spec = (version: string) =>
      mdSpec({
        model: { name: "recommender", version },
        runtime,
        replicas: 4,
        rollout: {
          steps: [
            { shadow: { percent: SHADOW } },
            { setWeight: 20 },
            { pause: {} },
            { setWeight: 50 },
            { pause: {} },
          ],
          traffic: { traefik: {} },
          scaleDownDelaySeconds: 3,
          progressDeadlineSeconds: 60,
          analysis: { minSamples: 4 },
        },
      });

    it("weights follow the steps; a shadow step mirrors its share to the canary while stable answers everything", async () => {
      await applyMd(ns, name, spec("v1"));
      const v1 = await eventually("v1 Healthy", async () => {
        const md = await getMd(ns, name);
        return md.status?.phase === "Healthy" ? md : undefined;
      });
      const stable = v1.status?.stableRevision ?? "";
      // What a user writes: an HTTPRoute on the Gateway to the TraefikService the operator manages.
      const route = {
        apiVersion: "gateway.networking.k8s.io/v1",
        kind: "HTTPRoute",
        metadata: { name, namespace: ns },
        spec: {
          parentRefs: [{ name: gw.gateway.name, namespace: gw.gateway.namespace }],
          hostnames: [hostOf(name)],
          rules: [{ backendRefs: [{ group: "traefik.io", kind: "TraefikService", name }] }],
        },
      };
      await kubectl(["apply", "--server-side", "--field-manager=e2e-user", "-f", "-"], JSON.stringify(route));
      await waitRouteAccepted(gw, ns, name);
      await settle();
      const before = await measure(name);
      expectAllAnswered(before.load, N);
      expect(before.answers).toEqual({ [stable]: N });

      // Step 1: shadow. Held (no duration) until promoted; the canary serves no answers.
      await applyMd(ns, name, spec("v2"));
      const held = await atStep(name, 0, "Paused", 0);
      const canary = held.status?.canaryRevision ?? "";
      expect(held.status?.shadow).toEqual({ percent: SHADOW });
      expect(await traefikService(name)).toEqual({
        mirroring: {
          kind: "TraefikService",
          name: `${name}-weighted`,
          mirrors: [{ kind: "Service", name: `${name}-canary`, port: PORT, percent: SHADOW }],
        },
      });
      expect(
        (await traefikService(`${name}-weighted`)).weighted?.services.map((s) => [s.name, s.weight]),
      ).toEqual([[`${name}-stable`, 100]]);
      await settle();
      const shadowed = await measure(name);
      process.stderr.write(
        `traefik shadow ${SHADOW}%: answers ${JSON.stringify(shadowed.answers)}, received ${JSON.stringify(shadowed.received)}\n`,
      );
      expectAllAnswered(shadowed.load, N);
      expect(shadowed.answers).toEqual({ [stable]: N });
      expect(shadowed.received[stable]).toBe(N);
      const mirrored = shadowed.received[canary] ?? 0;
      expect(Math.abs((100 * mirrored) / N - SHADOW)).toBeLessThanOrEqual(TOLERANCE);
      // The prober kept judging the canary while it was shadowed.
      await eventually("the canary's probe samples in status", async () => {
        const h = (await getMd(ns, name)).status?.health?.canary as
          | { revision?: string; samples?: number }
          | undefined;
        return h?.revision === canary && (h.samples ?? 0) > 0;
      });

      // Promote: the mirror goes, the canary serves 20%, and nothing is copied any more.
      await promote(ns, name);
      const at20 = await atStep(name, 2, "Paused", 20);
      expect(at20.status?.shadow).toBeUndefined();
      expect(await traefikService(name)).toEqual({
        weighted: {
          services: [
            { kind: "Service", name: `${name}-stable`, port: PORT, weight: 80 },
            { kind: "Service", name: `${name}-canary`, port: PORT, weight: 20 },
          ],
        },
      });
      await settle();
      const m20 = await measure(name);
      process.stderr.write(
        `traefik at 20%: answers ${JSON.stringify(m20.answers)}, received ${JSON.stringify(m20.received)}\n`,
      );
      expectAllAnswered(m20.load, N);
      expect(Math.abs(sharePoints(m20.answers, canary) - 20)).toBeLessThanOrEqual(TOLERANCE);
      // Everything the canary received, it answered: no mirrored copies.
      expect(m20.received).toEqual(m20.answers);

      await promote(ns, name);
      await atStep(name, 4, "Paused", 50);
      await settle();
      const m50 = await measure(name);
      process.stderr.write(`traefik at 50%: ${JSON.stringify(m50.answers)}\n`);
      expectAllAnswered(m50.load, N);
      expect(Math.abs(sharePoints(m50.answers, canary) - 50)).toBeLessThanOrEqual(TOLERANCE);

      await promote(ns, name);
      await eventually("promoted", async () => {
        const md = await getMd(ns, name);
        return md.status?.phase === "Healthy" && md.status.stableRevision === canary;
      });
      await settle();
      const after = await measure(name);
      expectAllAnswered(after.load, N);
      expect(after.answers).toEqual({ [canary]: N });
    }, 360_000);

    it("abort during a shadow step ends the mirror, with no failed request across the switch", async () => {
      const stable = (await getMd(ns, name)).status?.stableRevision ?? "";
      await applyMd(ns, name, spec("v3"));
      const held = await atStep(name, 0, "Paused", 0);
      const canary = held.status?.canaryRevision ?? "";
      expect(held.status?.shadow).toEqual({ percent: SHADOW });
      await settle();
      // A paced load across the abort: every request answered, and by stable.
      const tag = randomUUID().slice(0, 8);
      const running = sendLoad({
        url: gw.url,
        host: hostOf(name),
        headers: { [LOAD_TAG_HEADER]: tag },
        requests: 2000,
        concurrency: 8,
        ratePerSecond: 250,
        deadlineMs: 40_000,
      });
      await new Promise((r) => setTimeout(r, 1000));
      await kubectl(["modelship", "abort", name, "-n", ns]);
      const aborted = await eventually("Degraded after abort", async () => {
        const md = await getMd(ns, name);
        return md.status?.phase === "Degraded" && md.status.rejectedRevision === canary ? md : undefined;
      });
      const during = await running;
      expectAllAnswered(during, 2000);
      expect(aborted.status?.shadow).toBeUndefined();
      expect((await traefikService(name)).mirroring).toBeUndefined();
      await settle();
      const after = await measure(name);
      expectAllAnswered(after.load, N);
      expect(after.answers).toEqual({ [stable]: N });
      expect(after.received).toEqual({ [stable]: N });
    }, 240_000);
  },
);

describe.skipIf(!localCluster())("Gateway API mode: the RequestMirror filter on the route", () => {
  const name = "gwm";
  const spec = (version: string) => {
    const base = mdSpec({
      model: { name: "recommender", version },
      runtime,
      replicas: 2,
      rollout: {
        steps: [{ shadow: { percent: 25 } }, { setWeight: 50 }, { pause: {} }],
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
  type Route = { spec: { rules: { filters?: unknown[] }[] } };

  it("the route carries RequestMirror with the percent during the step, and not after; Traefik answers it with 500", async () => {
    await applyMd(ns, name, spec("v1"));
    await eventually("v1 Healthy", async () => (await getMd(ns, name)).status?.phase === "Healthy");
    await waitRouteAccepted(gw, ns, name);
    await applyMd(ns, name, spec("v2"));
    const held = await atStep(name, 0, "Paused", 0);
    expect(held.status?.shadow).toEqual({ percent: 25 });
    // Read back from the API server: the Gateway API v1.4 CRD kept the filter and its percent.
    const route = await getJson<Route>("httproute", name);
    expect(route.spec.rules[0]?.filters).toEqual([
      {
        type: "RequestMirror",
        requestMirror: {
          backendRef: { group: "", kind: "Service", name: `${name}-canary`, port: PORT },
          percent: 25,
        },
      },
    ]);
    // Traefik's Gateway provider has no RequestMirror (pkg/provider/kubernetes/gateway/features.go)
    // and serves a rule with a filter it does not support as HTTP 500.
    await settle();
    const refused = await sendLoad({ url: gw.url, host: hostOf(name), requests: 50, concurrency: 4 });
    process.stderr.write(
      `gateway API shadow through Traefik: ${refused.failures}/50 failed, e.g. ${refused.failureSamples[0]}\n`,
    );
    expect(refused.failures).toBe(50);

    await promote(ns, name);
    const at50 = await atStep(name, 2, "Paused", 50);
    expect(at50.status?.shadow).toBeUndefined();
    const cleared = await getJson<Route>("httproute", name);
    expect(cleared.spec.rules[0]?.filters).toBeUndefined();
    await settle();
    const served = await sendLoad({ url: gw.url, host: hostOf(name), requests: 200, concurrency: 4 });
    expectAllAnswered(served, 200);
  });
});
