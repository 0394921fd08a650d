// The mapping layer between the API and the prober: each spec.health / spec.rollout.analysis field →
// what the prober is asked to do and which thresholds judge it; status.health as the prober writes
// it; probe series dropped with their revision.
import pino from "pino";
import { describe, expect, it } from "vitest";
import { type ModelDeploymentInput, parseModelDeployment } from "../api/index.ts";
import { createMetrics } from "../metrics/registry.ts";
import type { AgreementSetup } from "../prober/agreement-probes.ts";
import type { PodTarget, ProbeStats, RevisionProbeSpec } from "../prober/prober.ts";
import type { ObservedRevision } from "./observe.ts";
import { expectFieldOf, ProberHealth, probeSpecFor, stepAnalyses } from "./prober-health.ts";

const KEY = "shop/rec";
const A = "aaaa1111";
const B = "bbbb2222";

function md(spec: Partial<ModelDeploymentInput["spec"]> = {}, status?: ModelDeploymentInput["status"]) {
  const parsed = parseModelDeployment({
    apiVersion: "modelship.dev/v1alpha1",
    kind: "ModelDeployment",
    metadata: { name: "rec", namespace: "shop", generation: 1 },
    spec: {
      model: { name: "recommender", version: "v1" },
      runtime: { image: "registry.example/rec:1" },
      ...spec,
    },
    ...(status ? { status } : {}),
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
}

const INFER = "/v2/models/recommender/infer";

describe("probeSpecFor: spec.health → what the prober runs", () => {
  it("defaults: the preset's checks on its port, every 5 s with a 2 s budget, no warm-up", () => {
    expect(probeSpecFor(md())).toEqual({
      preset: "openInference",
      modelName: "recommender",
      port: 8080,
      intervalMs: 5000,
      timeoutMs: 2000,
      warmupInferences: 0,
    });
  });

  it.each<[string, Partial<ModelDeploymentInput["spec"]>, Partial<RevisionProbeSpec>]>([
    [
      "runtime.preset sets the default port",
      { runtime: { preset: "vllm", image: "x" } },
      { preset: "vllm", port: 8000 },
    ],
    ["runtime.port wins over the preset's", { runtime: { image: "x", port: 9000 } }, { port: 9000 }],
    [
      "health.intervalSeconds and timeoutSeconds",
      { health: { intervalSeconds: 10, timeoutSeconds: 3 } },
      { intervalMs: 10_000, timeoutMs: 3000 },
    ],
    ["health.path replaces the preset's readiness path", { health: { path: "/ready" } }, { path: "/ready" }],
    [
      "runtime.healthPath is the path of preset http",
      { runtime: { preset: "http", image: "x", healthPath: "/healthz" } },
      { preset: "http", path: "/healthz" },
    ],
  ])("%s", (_name, spec, expected) => {
    expect(probeSpecFor(md(spec))).toMatchObject(expected);
  });

  it("health.checks: each check with its name (or none: METHOD path is shown), method, status and field rule", () => {
    const spec = probeSpecFor(
      md({
        health: {
          checks: [
            { path: "/v2/health/ready" },
            {
              name: "metadata",
              path: "/v2/models/recommender",
              expect: { jsonPath: "$.name", equals: "recommender" },
            },
            { path: "/v2/models/recommender", expect: { jsonPath: "$.error", exists: false } },
            { path: "/admin/warm", method: "POST", expect: { status: 204 } },
            { path: "/v2", expect: { jsonPath: "extensions" } },
          ],
        },
      }),
    );
    expect(spec.checks).toEqual([
      { method: "GET", path: "/v2/health/ready", expectStatus: 200 },
      {
        name: "metadata",
        method: "GET",
        path: "/v2/models/recommender",
        expectStatus: 200,
        expectField: { path: "name", equalsText: "recommender" },
      },
      {
        method: "GET",
        path: "/v2/models/recommender",
        expectStatus: 200,
        expectField: { path: "error", exists: false },
      },
      { method: "POST", path: "/admin/warm", expectStatus: 204 },
      { method: "GET", path: "/v2", expectStatus: 200, expectField: { path: "extensions", exists: true } },
    ]);
  });

  it("health.checks: [] keeps the preset's checks", () => {
    expect(probeSpecFor(md({ health: { checks: [] } })).checks).toBeUndefined();
  });

  it("health.inference: method, path, body, maxLatencyMs and expect; analysis.warmupInferences only with it", () => {
    const body = { inputs: [{ name: "price_usd", shape: [1], datatype: "FP32", data: [25] }] };
    const spec = probeSpecFor(
      md({
        rollout: { analysis: { warmupInferences: 3 } },
        health: {
          inference: {
            path: INFER,
            body,
            maxLatencyMs: 400,
            expect: { status: 200, jsonPath: "$.outputs[0].data", exists: true },
          },
        },
      }),
    );
    expect(spec.inference).toEqual({
      method: "POST",
      path: INFER,
      body,
      maxLatencyMs: 400,
      expectStatus: 200,
      expectField: { path: "outputs[0].data", exists: true },
    });
    expect(spec.warmupInferences).toBe(3);
    expect(probeSpecFor(md({ rollout: { analysis: { warmupInferences: 3 } } })).warmupInferences).toBe(0);
  });

  it.each([
    [{}, undefined],
    [{ jsonPath: "$.outputs" }, { path: "outputs", exists: true }],
    [
      { jsonPath: "$.error", exists: false },
      { path: "error", exists: false },
    ],
    [
      { jsonPath: "$.error", exists: true },
      { path: "error", exists: true },
    ],
    [
      { jsonPath: "model_name", equals: "recommender" },
      { path: "model_name", equalsText: "recommender" },
    ],
    [
      { jsonPath: "$", exists: true },
      { path: "", exists: true },
    ],
  ])("expect %j → %j", (expect_, field) => {
    expect(expectFieldOf({ status: 200, ...expect_ })).toEqual(field);
  });
});

describe("stepAnalyses: which thresholds judge which step", () => {
  it("only analysis steps that override spec.rollout.analysis get their own, merged over it", () => {
    const m = md({
      rollout: {
        steps: [
          { setWeight: 10 },
          { analysis: {} },
          { analysis: { p99LatencyMs: 100, maxP99RelativeToStable: 1.5 } },
          { pause: {} },
          { analysis: { minSamples: 50 } },
        ],
        analysis: { successRate: 0.995, p99LatencyMs: 800 },
      },
    });
    const base = {
      successRate: 0.995,
      p99LatencyMs: 800,
      minSamples: 20,
      failureLimit: 2,
      warmupInferences: 0,
    };
    expect([...stepAnalyses(m.spec.rollout)]).toEqual([
      [2, { ...base, p99LatencyMs: 100, maxP99RelativeToStable: 1.5 }],
      [4, { ...base, minSamples: 50 }],
    ]);
  });
});

// A prober that reports the numbers a test gives it, for the revisions it was asked to probe.
class FakeProber {
  readonly targets = new Map<string, { spec: RevisionProbeSpec; pods: readonly PodTarget[] }>();
  readonly numbers = new Map<string, Partial<ProbeStats>>();
  readonly agreements = new Map<string, AgreementSetup | undefined>();
  setAgreement(key: string, setup: AgreementSetup | undefined): void {
    this.agreements.set(key, setup);
  }
  setRevisionTargets(key: string, spec: RevisionProbeSpec, pods: readonly PodTarget[]): void {
    this.targets.set(key, { spec, pods });
  }
  removeRevision(key: string): void {
    this.targets.delete(key);
  }
  stats(key: string): ProbeStats | undefined {
    const t = this.targets.get(key);
    if (!t) return undefined;
    return {
      samples: 40,
      successes: 40,
      failures: 0,
      successRate: 1,
      p50LatencyMs: 10,
      p95LatencyMs: 10,
      p99LatencyMs: 10,
      consecutiveFailures: 0,
      totalProbes: 40,
      lastProbeAt: Date.parse("2026-12-01T10:00:00Z"),
      checks: [],
      pods: t.pods.map((p) => ({ ...p, probes: 20, consecutiveFailures: 0, inferenceSuccesses: 20 })),
      warmUp: { required: 0, warmPods: t.pods.length, pods: t.pods.length },
      ...this.numbers.get(key),
    };
  }
}

function observed(revision: string, ...ips: string[]): ObservedRevision {
  return {
    revision,
    deploymentName: `rec-${revision}`,
    replicas: ips.length,
    specReplicas: ips.length,
    readyReplicas: ips.length,
    availableReplicas: ips.length,
    updatedReplicas: ips.length,
    settled: true,
    readyPods: ips.map((ip, i) => ({ name: `rec-${revision}-${i}`, ip })),
  };
}

function harness() {
  const prober = new FakeProber();
  const enqueued: string[] = [];
  const writes: { health?: Record<string, { verdict?: string; checks?: unknown[] }> }[] = [];
  const metrics = createMetrics({ processMetrics: false });
  const health = new ProberHealth({
    prober,
    client: {
      applyStatus: async (_ref, status) => {
        writes.push(status as (typeof writes)[number]);
        return {};
      },
    },
    log: pino({ level: "silent" }),
    now: () => Date.parse("2026-12-01T10:00:00Z"),
    enqueue: (key) => enqueued.push(key),
    metrics,
  });
  return { prober, writes, metrics, health, enqueued };
}

// Canary B at p99 150 ms beside stable A at 50 ms: fine for spec.rollout.analysis, not for step 1.
const rollout = {
  steps: [
    { setWeight: 50 },
    { analysis: { p99LatencyMs: 100 } },
    { analysis: { maxP99RelativeToStable: 1.5 } },
  ],
  analysis: { successRate: 0.99, p99LatencyMs: 500, minSamples: 10 },
};

describe("ProberHealth: verdicts by the thresholds of the step they judge", () => {
  function slowCanary() {
    const h = harness();
    const m = md({ rollout });
    h.health.setTargets(KEY, m, [observed(A, "10.244.0.1"), observed(B, "10.244.0.2")], () => m.spec, {
      stepIndex: 0,
      stableRevision: A,
      canaryRevision: B,
    });
    h.prober.numbers.set(`${KEY}/${A}`, { p99LatencyMs: 50 });
    h.prober.numbers.set(`${KEY}/${B}`, { p99LatencyMs: 150 });
    return h;
  }

  it("the stable is judged by spec.rollout.analysis alone: it is never at a step, nor cold", () => {
    expect(slowCanary().health.verdict(KEY, A)).toEqual({
      verdict: "Pass",
      message: "40 probes, 100% ok, p99 50 ms",
      evidence: expect.any(Array),
    });
  });

  it("judges under spec.rollout.analysis, and under each overriding step in atStep", () => {
    const v = slowCanary().health.verdict(KEY, B);
    expect(v).toMatchObject({ verdict: "Pass", warmedUp: true });
    expect(v?.atStep?.[1]).toMatchObject({
      verdict: "Fail",
      message: expect.stringContaining("p99 150 ms above 100 ms"),
    });
    expect(v?.atStep?.[2]).toMatchObject({
      verdict: "Fail",
      message: expect.stringContaining("3× the stable's 50 ms (max 1.5×)"),
    });
    expect(Object.keys(v?.atStep ?? {})).toEqual(["1", "2"]);
  });

  it("a flip of any verdict the rollout reads re-runs the reconcile, not only the one status shows", async () => {
    const h = harness();
    const m = md({ rollout });
    h.health.setTargets(KEY, m, [observed(A, "10.244.0.1"), observed(B, "10.244.0.2")], () => m.spec, {
      stepIndex: 0,
      stableRevision: A,
      canaryRevision: B,
    });
    h.prober.numbers.set(`${KEY}/${A}`, { p99LatencyMs: 50 });
    h.prober.numbers.set(`${KEY}/${B}`, { p99LatencyMs: 60 });
    const stats = () => h.prober.stats(`${KEY}/${B}`) as ProbeStats;
    h.health.onStats(`${KEY}/${B}`, stats());
    expect(h.enqueued).toEqual([KEY]);
    h.health.onStats(`${KEY}/${B}`, stats());
    expect(h.enqueued).toEqual([KEY]);
    // Step 1's gate (100 ms) now fails; at step 0 status still shows Pass.
    h.prober.numbers.set(`${KEY}/${B}`, { p99LatencyMs: 150 });
    h.health.onStats(`${KEY}/${B}`, stats());
    expect(h.enqueued).toEqual([KEY, KEY]);
    // Counted once: the verdict status shows did not change.
    expect(await h.metrics.registry.metrics()).toContain('modelship_verdicts_total{verdict="healthy"} 1');
  });

  // Each spec.rollout.analysis field, as the canary's verdict reads it (stable A: p99 50 ms).
  it.each<[string, Record<string, unknown>, Partial<ProbeStats>, string, string]>([
    ["successRate", { successRate: 0.85 }, { successRate: 0.9 }, "Fail", "Pass"],
    ["p99LatencyMs", { p99LatencyMs: 100 }, { p99LatencyMs: 150 }, "Pass", "Fail"],
    ["maxP99RelativeToStable", { maxP99RelativeToStable: 1.5 }, { p99LatencyMs: 100 }, "Pass", "Fail"],
    ["minSamples", { minSamples: 50 }, {}, "Pass", "Inconclusive"],
    ["failureLimit", { failureLimit: 5 }, { consecutiveFailures: 3 }, "Fail", "Pass"],
    [
      "minAgreement",
      {
        agreement: { jsonPath: "$.outputs[0].data", compare: "Exact", request: { path: INFER } },
        minAgreement: 0.9,
      },
      { agreement: { samples: 20, agreements: 16, rate: 0.8, skipped: 0 } },
      "Pass",
      "Fail",
    ],
    [
      "minAgreementSamples",
      {
        agreement: { jsonPath: "$.outputs[0].data", compare: "Exact", request: { path: INFER } },
        minAgreement: 0.5,
        minAgreementSamples: 30,
      },
      { agreement: { samples: 20, agreements: 16, rate: 0.8, skipped: 0 } },
      "Pass",
      "Inconclusive",
    ],
  ])("spec.rollout.analysis.%s is what judges the canary", (_field, analysis, numbers, without, withIt) => {
    const verdictUnder = (a: Record<string, unknown>) => {
      const h = harness();
      const m = md({ rollout: { steps: [{ setWeight: 50 }], analysis: a } });
      h.health.setTargets(KEY, m, [observed(A, "10.244.0.1"), observed(B, "10.244.0.2")], () => m.spec, {
        stepIndex: 0,
        stableRevision: A,
        canaryRevision: B,
      });
      h.prober.numbers.set(`${KEY}/${A}`, { p99LatencyMs: 50 });
      h.prober.numbers.set(`${KEY}/${B}`, numbers);
      return h.health.verdict(KEY, B)?.verdict;
    };
    expect(verdictUnder({})).toBe(without);
    expect(verdictUnder(analysis)).toBe(withIt);
  });

  it("spec.rollout.analysis.warmupInferences: a canary whose pods have not all passed them is not warm", () => {
    const h = harness();
    const m = md({ rollout: { analysis: { warmupInferences: 3 } }, health: { inference: { path: INFER } } });
    h.health.setTargets(KEY, m, [observed(B, "10.244.0.2", "10.244.0.3")], () => m.spec);
    expect(h.prober.targets.get(`${KEY}/${B}`)?.spec.warmupInferences).toBe(3);
    h.prober.numbers.set(`${KEY}/${B}`, { warmUp: { required: 3, warmPods: 1, pods: 2 } });
    expect(h.health.verdict(KEY, B)?.warmedUp).toBe(false);
    h.prober.numbers.set(`${KEY}/${B}`, { warmUp: { required: 3, warmPods: 2, pods: 2 } });
    expect(h.health.verdict(KEY, B)?.warmedUp).toBe(true);
  });

  it("without step overrides there is no atStep", () => {
    const h = harness();
    const m = md({ rollout: { steps: [{ setWeight: 50 }, { analysis: {} }] } });
    h.health.setTargets(KEY, m, [observed(B, "10.244.0.2")], () => m.spec);
    expect(h.health.verdict(KEY, B)).not.toHaveProperty("atStep");
  });

  it.each([
    [0, "Pass"],
    [1, "Fail"],
    [2, "Fail"],
  ])(
    "status.health.canary at decided step %i shows %s, whatever status.currentStepIndex says",
    async (step, verdict) => {
      const h = harness();
      const m = md({ rollout }, { currentStepIndex: 0, stableRevision: A, canaryRevision: B });
      h.health.setTargets(KEY, m, [observed(A, "10.244.0.1"), observed(B, "10.244.0.2")], () => m.spec, {
        stepIndex: step,
        stableRevision: A,
        canaryRevision: B,
      });
      h.prober.numbers.set(`${KEY}/${A}`, { p99LatencyMs: 50 });
      h.prober.numbers.set(`${KEY}/${B}`, { p99LatencyMs: 150 });
      h.health.onStats(`${KEY}/${B}`, h.prober.stats(`${KEY}/${B}`) as ProbeStats);
      await expect.poll(() => h.writes.length).toBe(1);
      expect(h.writes[0]?.health?.canary?.verdict).toBe(verdict);
      expect(h.writes[0]?.health?.stable?.verdict).toBe("Pass");
    },
  );

  it("the decided stable and canary win over the written status (a promotion in this decision)", async () => {
    const h = harness();
    const m = md({ rollout }, { currentStepIndex: 3, stableRevision: A, canaryRevision: B });
    h.health.setTargets(KEY, m, [observed(B, "10.244.0.2")], () => m.spec, {
      stepIndex: 0,
      stableRevision: B,
    });
    h.health.onStats(`${KEY}/${B}`, h.prober.stats(`${KEY}/${B}`) as ProbeStats);
    await expect.poll(() => h.writes.length).toBe(1);
    expect(h.writes[0]?.health).toEqual({
      stable: expect.objectContaining({ revision: B, verdict: "Pass" }),
    });
  });

  it("a Fail names the checks that failed in the window", () => {
    const h = harness();
    const m = md({ rollout });
    h.health.setTargets(KEY, m, [observed(B, "10.244.0.2")], () => m.spec);
    h.prober.numbers.set(`${KEY}/${B}`, {
      successRate: 0.9,
      checks: [
        { name: "GET /v2/health/ready", samples: 40, failures: 0, successRate: 1 },
        { name: "model-metadata", samples: 40, failures: 4, successRate: 0.9 },
      ],
    });
    expect(h.health.verdict(KEY, B)?.message).toBe(
      "success rate 0.9000 below 0.9900 (40 samples); failing checks: model-metadata 36/40 ok",
    );
  });

  it("status.health shows each check's numbers", async () => {
    const h = harness();
    const m = md();
    h.health.setTargets(KEY, m, [observed(A, "10.244.0.1")], () => m.spec, {
      stepIndex: 0,
      stableRevision: A,
    });
    h.prober.numbers.set(`${KEY}/${A}`, {
      checks: [
        { name: "GET /v2/health/ready", samples: 40, failures: 0, successRate: 1 },
        {
          name: "metadata",
          samples: 40,
          failures: 3,
          successRate: 37 / 40,
          lastError: 'rec-aaaa1111-0: name is "ranker", expected recommender',
        },
        { name: "inference", samples: 0, failures: 0, successRate: Number.NaN },
      ],
    });
    h.health.onStats(`${KEY}/${A}`, h.prober.stats(`${KEY}/${A}`) as ProbeStats);
    await expect.poll(() => h.writes.length).toBe(1);
    expect(h.writes[0]?.health?.stable?.checks).toEqual([
      { name: "GET /v2/health/ready", samples: 40, successRate: 1 },
      {
        name: "metadata",
        samples: 40,
        successRate: 0.925,
        lastError: 'rec-aaaa1111-0: name is "ranker", expected recommender',
      },
      { name: "inference", samples: 0 },
    ]);
  });
});

describe("ProberHealth: a revision's probe series leave with it", () => {
  const series = async (metrics: ReturnType<typeof createMetrics>) =>
    (await metrics.probes.get()).values.map((v) => v.labels.revision).sort();

  it("when the targets drop a revision, and when the ModelDeployment goes", async () => {
    const h = harness();
    const m = md();
    for (const revision of [A, B]) {
      h.metrics.probes.inc({ namespace: "shop", name: "rec", revision, result: "ok" });
      h.metrics.probes.inc({ namespace: "shop", name: "rec", revision, result: "timeout" });
    }
    h.metrics.probes.inc({ namespace: "shop", name: "other", revision: A, result: "ok" });
    h.health.setTargets(KEY, m, [observed(A, "10.244.0.1"), observed(B, "10.244.0.2")], () => m.spec);
    expect(await series(h.metrics)).toEqual([A, A, A, B, B]);

    h.health.setTargets(KEY, m, [observed(B, "10.244.0.2")], () => m.spec);
    expect(h.prober.targets.has(`${KEY}/${A}`)).toBe(false);
    await expect.poll(() => series(h.metrics)).toEqual([A, B, B]);
    expect(await h.metrics.registry.metrics()).toContain(
      'modelship_probes_total{namespace="shop",name="other",revision="aaaa1111",result="ok"} 1',
    );

    h.health.forget(KEY);
    await expect.poll(() => series(h.metrics)).toEqual([A]);
    expect(h.prober.targets.size).toBe(0);
  });
});

describe("ProberHealth: output agreement (spec.rollout.analysis.agreement)", () => {
  const agreement = {
    jsonPath: "$.outputs[0].data",
    compare: "Numeric",
    absoluteTolerance: 0.05,
  } as const;
  const both = [observed(A, "10.244.0.1"), observed(B, "10.244.0.2")];

  it("asks the prober to compare stable and canary only while both are live, and stops with forget", () => {
    const h = harness();
    const m = md({
      rollout: { analysis: { agreement, minAgreement: 0.9 } },
      health: { intervalSeconds: 3, timeoutSeconds: 2, inference: { path: INFER, body: { inputs: [] } } },
    });
    h.health.setTargets(KEY, m, both, () => m.spec, { stepIndex: 0, stableRevision: A, canaryRevision: B });
    expect(h.prober.agreements.get(KEY)).toEqual({
      stableKey: `${KEY}/${A}`,
      canaryKey: `${KEY}/${B}`,
      spec: {
        request: { method: "POST", path: INFER, body: { inputs: [] } },
        jsonPath: "$.outputs[0].data",
        comparison: { compare: "Numeric", absoluteTolerance: 0.05, relativeTolerance: 0 },
        pairsPerInterval: 1,
        intervalMs: 3000,
        timeoutMs: 2000,
      },
    });
    // First deployment: no stable to compare with.
    h.health.setTargets(KEY, m, [observed(B, "10.244.0.2")], () => m.spec, {
      stepIndex: 0,
      stableRevision: B,
    });
    expect(h.prober.agreements.get(KEY)).toBeUndefined();
    h.health.setTargets(KEY, m, both, () => m.spec, { stepIndex: 0, stableRevision: A, canaryRevision: B });
    h.health.forget(KEY);
    expect(h.prober.agreements.get(KEY)).toBeUndefined();
  });

  it("agreement.request wins over health.inference; Text carries minTokenOverlap; pairsPerInterval", () => {
    const h = harness();
    const m = md({
      rollout: {
        analysis: {
          agreement: {
            jsonPath: "$.choices[0].message.content",
            compare: "Text",
            minTokenOverlap: 0.8,
            pairsPerInterval: 3,
            request: { path: "/v1/chat/completions", body: { temperature: 0, seed: 7 } },
          },
        },
      },
      health: { inference: { path: INFER } },
    });
    h.health.setTargets(KEY, m, both, () => m.spec, { stepIndex: 0, stableRevision: A, canaryRevision: B });
    expect(h.prober.agreements.get(KEY)?.spec).toMatchObject({
      request: { method: "POST", path: "/v1/chat/completions", body: { temperature: 0, seed: 7 } },
      comparison: { compare: "Text", minTokenOverlap: 0.8 },
      pairsPerInterval: 3,
    });
  });

  it("a step's minAgreement judges that step; the stable is never held to agreement", () => {
    const h = harness();
    const m = md({
      rollout: {
        steps: [{ setWeight: 50 }, { analysis: { minAgreement: 0.99 } }],
        analysis: { agreement, minAgreement: 0.7, minSamples: 10 },
      },
      health: { inference: { path: INFER } },
    });
    h.health.setTargets(KEY, m, both, () => m.spec, { stepIndex: 0, stableRevision: A, canaryRevision: B });
    h.prober.numbers.set(`${KEY}/${B}`, {
      agreement: {
        samples: 10,
        agreements: 8,
        rate: 0.8,
        skipped: 0,
        lastDisagreement:
          "at $.outputs[0].data stable pod rec-a answered [0.31], canary pod rec-b answered [0.51] (value[0] differs by 0.2 (tolerance 0.05))",
      },
    });
    const v = h.health.verdict(KEY, B);
    expect(v?.verdict).toBe("Pass");
    expect(v?.atStep?.[1]).toMatchObject({
      verdict: "Fail",
      message: expect.stringContaining(
        "agreement 80% below 99% (8 of 10 pairs agree); last disagreement: at $.outputs[0].data stable pod rec-a answered [0.31], canary pod rec-b answered [0.51]",
      ),
    });
    expect(h.health.verdict(KEY, A)?.verdict).toBe("Pass");
  });

  it("status.health.canary shows agreementRate, agreementSamples and the last disagreeing pair", async () => {
    const h = harness();
    const m = md({ rollout: { analysis: { agreement } }, health: { inference: { path: INFER } } });
    h.health.setTargets(KEY, m, both, () => m.spec, { stepIndex: 0, stableRevision: A, canaryRevision: B });
    h.prober.numbers.set(`${KEY}/${B}`, {
      agreement: { samples: 12, agreements: 9, rate: 0.75, skipped: 1, lastDisagreement: "x".repeat(2000) },
    });
    h.health.onStats(`${KEY}/${B}`, h.prober.stats(`${KEY}/${B}`) as ProbeStats);
    await expect.poll(() => h.writes.length).toBe(1);
    const canary = h.writes[0]?.health?.canary as Record<string, unknown>;
    expect(canary).toMatchObject({ revision: B, agreementRate: 0.75, agreementSamples: 12 });
    expect(canary.lastDisagreement).toBe("x".repeat(1024));
    expect(h.writes[0]?.health?.stable).not.toHaveProperty("agreementRate");
    expect(await h.metrics.registry.metrics()).toContain(
      `modelship_canary_agreement_ratio{namespace="shop",name="rec",revision="${B}"} 0.75`,
    );
  });
});
