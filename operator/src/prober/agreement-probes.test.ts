// The prober's agreement pairs end to end against the fixture model server: a canary whose scores
// drifted shows in its numbers and fails minAgreement with the pair in the message; pairs run as the
// ModelDeployment's own probes, at the stated rate, and stop when asked.
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ModelServer, startModelServer } from "../../testing/model-server.ts";
import type { AgreementSetup } from "./agreement-probes.ts";
import type { ProbeStats, RevisionProbeSpec } from "./prober.ts";
import { Prober } from "./prober.ts";
import { judgeCanary } from "./verdict.ts";

const STABLE = "127.0.0.2";
const CANARY = "127.0.0.3";
const INFER = "POST /v2/models/recommender/infer";
const log = pino({ level: "silent" });

describe("Prober: output agreement pairs", () => {
  let server: ModelServer;
  let spec: RevisionProbeSpec;
  const setup = (pairsPerInterval = 1, intervalMs = 40): AgreementSetup => ({
    stableKey: "shop/rec/aaaa",
    canaryKey: "shop/rec/bbbb",
    spec: {
      request: {
        method: "POST",
        path: "/v2/models/recommender/infer",
        body: { inputs: [{ name: "price_usd", shape: [1], datatype: "FP32", data: [25] }] },
      },
      jsonPath: "$.outputs[0].data",
      comparison: { compare: "Numeric", absoluteTolerance: 0.05, relativeTolerance: 0 },
      pairsPerInterval,
      intervalMs,
      timeoutMs: 500,
    },
  });

  beforeAll(async () => {
    server = await startModelServer({ bind: [STABLE, CANARY] });
    // Preset checks only (GETs): every inference request a pod sees is an agreement pair's.
    spec = {
      preset: "openInference",
      modelName: "recommender",
      port: server.port,
      intervalMs: 40,
      timeoutMs: 500,
    };
  });
  afterAll(async () => {
    await server.close();
  });

  function start() {
    const emitted: string[] = [];
    const pairs: string[] = [];
    const prober = new Prober({
      allowCidrs: ["127.0.0.0/8"],
      concurrency: 8,
      log,
      onStats: (key) => emitted.push(key),
      onPair: (key, outcome) => pairs.push(`${key} ${outcome}`),
    });
    prober.setRevisionTargets("shop/rec/aaaa", spec, [{ ip: STABLE, podName: "rec-aaaa-0" }]);
    prober.setRevisionTargets("shop/rec/bbbb", spec, [{ ip: CANARY, podName: "rec-bbbb-0" }]);
    return { prober, emitted, pairs };
  }

  it("a canary whose scores drifted beyond tolerance fails minAgreement, with the pair in the message", async () => {
    server.setPod(CANARY, { scoreDrift: 0.2 });
    const { prober, emitted, pairs } = start();
    try {
      prober.setAgreement("shop/rec", setup());
      await expect
        .poll(() => prober.stats("shop/rec/bbbb")?.agreement?.samples ?? 0, { timeout: 5000, interval: 50 })
        .toBeGreaterThanOrEqual(5);
      // The verdict also needs minSamples probes of the canary: pairs may come first on a busy machine.
      await expect
        .poll(() => prober.stats("shop/rec/bbbb")?.samples ?? 0, { timeout: 5000, interval: 50 })
        .toBeGreaterThanOrEqual(5);
      const canary = prober.stats("shop/rec/bbbb") as ProbeStats;
      const stable = prober.stats("shop/rec/aaaa") as ProbeStats;
      expect(canary.agreement).toMatchObject({ agreements: 0, rate: 0 });
      expect(canary.agreement?.lastDisagreement).toMatch(
        /stable pod rec-aaaa-0 answered \[0\.\d+\], canary pod rec-bbbb-0/,
      );
      expect(stable.agreement).toBeUndefined();
      // Every probe passed: only agreement can tell this canary apart.
      expect(canary.successRate).toBe(1);
      const analysis = {
        successRate: 0.99,
        minSamples: 5,
        failureLimit: 2,
        warmupInferences: 0,
        minAgreement: 0.9,
        minAgreementSamples: 5,
      };
      const j = judgeCanary(analysis, canary, stable);
      expect(j.verdict).toBe("Fail");
      expect(j.message).toMatch(
        /^agreement 0% below 90% \(0 of \d+ pairs agree\); last disagreement: at \$\.outputs\[0\]\.data stable pod rec-aaaa-0/,
      );
      // The first deployment (no stable beside it) is not held to agreement.
      expect(judgeCanary(analysis, canary).verdict).toBe("Pass");
      expect(pairs).toContain("shop/rec/bbbb disagree");
      expect(emitted).toContain("shop/rec/bbbb");
    } finally {
      await prober.stop();
      server.resetPod(CANARY);
    }
  });

  it("pairs are the ModelDeployment's own probes, at most pairsPerInterval per interval, and stop when asked", async () => {
    const { prober } = start();
    try {
      const before = server.podStats(CANARY).byRoute[INFER] ?? 0;
      const startedAt = performance.now();
      prober.setAgreement("shop/rec", setup(2, 100));
      // One tenant: the pairs share the ModelDeployment's slots, they are not a tenant of their own.
      expect(prober.schedulerStats().tenants).toBe(1);
      await expect
        .poll(() => prober.stats("shop/rec/bbbb")?.agreement?.samples ?? 0, { timeout: 5000, interval: 50 })
        .toBeGreaterThanOrEqual(6);
      const agreement = prober.stats("shop/rec/bbbb")?.agreement;
      expect(agreement?.rate).toBe(1);
      prober.setAgreement("shop/rec", undefined);
      const elapsed = performance.now() - startedAt;
      const sent = (server.podStats(CANARY).byRoute[INFER] ?? 0) - before;
      // 2 per 100 ms interval (±10% jitter), plus the runs in flight.
      expect(sent).toBeLessThanOrEqual(Math.ceil(elapsed / 90) * 2 + 2);
      expect(prober.stats("shop/rec/bbbb")?.agreement).toBeUndefined();
      const after = server.podStats(CANARY).byRoute[INFER] ?? 0;
      await new Promise((r) => setTimeout(r, 300));
      expect((server.podStats(CANARY).byRoute[INFER] ?? 0) - after).toBeLessThanOrEqual(2);
    } finally {
      await prober.stop();
    }
  });

  it("a new canary starts a fresh window", async () => {
    server.setPod(CANARY, { scoreDrift: 0.5 });
    const { prober } = start();
    try {
      prober.setAgreement("shop/rec", setup());
      await expect
        .poll(() => prober.stats("shop/rec/bbbb")?.agreement?.samples ?? 0, { timeout: 5000, interval: 50 })
        .toBeGreaterThanOrEqual(2);
      prober.setRevisionTargets("shop/rec/cccc", spec, [{ ip: STABLE, podName: "rec-cccc-0" }]);
      prober.setAgreement("shop/rec", { ...setup(), canaryKey: "shop/rec/cccc" });
      expect(prober.stats("shop/rec/bbbb")?.agreement).toBeUndefined();
      expect(prober.stats("shop/rec/cccc")?.agreement?.lastDisagreement).toBeUndefined();
      await expect
        .poll(() => prober.stats("shop/rec/cccc")?.agreement?.samples ?? 0, { timeout: 5000, interval: 50 })
        .toBeGreaterThanOrEqual(2);
      expect(prober.stats("shop/rec/cccc")?.agreement?.rate).toBe(1);
    } finally {
      await prober.stop();
      server.resetPod(CANARY);
    }
  });
});
