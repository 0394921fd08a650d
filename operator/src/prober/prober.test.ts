import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ModelServer, startModelServer } from "../../testing/model-server.ts";
import type { ProbeStats, RevisionProbeSpec } from "./prober.ts";
import { Prober } from "./prober.ts";
import { judgeCanary, judgeWarmUp } from "./verdict.ts";

const STABLE = "127.0.0.2";
const CANARY = "127.0.0.3";
const log = pino({ level: "silent" });

describe("Prober", () => {
  let server: ModelServer;
  let spec: RevisionProbeSpec;

  beforeAll(async () => {
    server = await startModelServer({ bind: [STABLE, CANARY] });
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

  it("tells a failing canary from a healthy stable and reports through onStats", async () => {
    server.setPod(CANARY, { errorRate: 0.5 });
    const seen = new Set<string>();
    const prober = new Prober({
      allowCidrs: ["127.0.0.0/8"],
      concurrency: 8,
      log,
      onStats: (key) => seen.add(key),
    });
    try {
      prober.setRevisionTargets("shop/recommender/stable", spec, [{ ip: STABLE, podName: "stable-1" }]);
      prober.setRevisionTargets("shop/recommender/canary", spec, [{ ip: CANARY, podName: "canary-1" }]);
      await expect
        .poll(
          () =>
            Math.min(
              prober.stats("shop/recommender/stable")?.samples ?? 0,
              prober.stats("shop/recommender/canary")?.samples ?? 0,
            ),
          {
            timeout: 5000,
            interval: 50,
          },
        )
        .toBeGreaterThanOrEqual(20);
      const stable = prober.stats("shop/recommender/stable") as ProbeStats;
      const canary = prober.stats("shop/recommender/canary") as ProbeStats;
      expect(stable.successRate).toBe(1);
      expect(canary.successRate).toBeLessThan(0.8);
      expect(canary.lastError).toMatch(/^canary-1: (server|model)-ready: HTTP 500$/);
      expect(canary.pods).toEqual([expect.objectContaining({ podName: "canary-1", ip: CANARY })]);
      const analysis = {
        successRate: 0.99,
        p99LatencyMs: 500,
        minSamples: 20,
        failureLimit: 0,
        warmupInferences: 0,
      };
      expect(judgeCanary(analysis, canary, stable).verdict).toBe("Fail");
      expect(judgeCanary(analysis, stable).verdict).toBe("Pass");
      expect(seen).toEqual(new Set(["shop/recommender/stable", "shop/recommender/canary"]));
    } finally {
      await prober.stop();
      server.resetPod(CANARY);
    }
  });

  it("stops probing removed pods and removed revisions", async () => {
    const prober = new Prober({ allowCidrs: ["127.0.0.0/8"], concurrency: 8, log });
    try {
      prober.setRevisionTargets("ns/m/r1", spec, [
        { ip: STABLE, podName: "p1" },
        { ip: CANARY, podName: "p2" },
      ]);
      await expect.poll(() => server.podStats(CANARY).requests, { timeout: 3000 }).toBeGreaterThan(4);
      prober.setRevisionTargets("ns/m/r1", spec, [{ ip: STABLE, podName: "p1" }]);
      expect(prober.stats("ns/m/r1")?.pods.map((p) => p.podName)).toEqual(["p1"]);
      await new Promise((resolve) => setTimeout(resolve, 100)); // let a round in flight finish
      const canaryRequests = server.podStats(CANARY).requests;
      const stableRequests = server.podStats(STABLE).requests;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(server.podStats(CANARY).requests).toBe(canaryRequests);
      expect(server.podStats(STABLE).requests).toBeGreaterThan(stableRequests);

      prober.removeRevision("ns/m/r1");
      expect(prober.stats("ns/m/r1")).toBeUndefined();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const after = server.podStats(STABLE).requests;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(server.podStats(STABLE).requests).toBe(after);
    } finally {
      await prober.stop();
    }
  });

  it("counts a revision warm once every pod passed the required inference checks", async () => {
    const prober = new Prober({ allowCidrs: ["127.0.0.0/8"], concurrency: 8, log });
    try {
      prober.setRevisionTargets(
        "ns/m/warm",
        {
          ...spec,
          warmupInferences: 3,
          inference: {
            path: "/v2/models/recommender/infer",
            body: { inputs: [{ name: "price_usd", shape: [1], datatype: "FP32", data: [25] }] },
            expectField: { path: "outputs[0].data[0]" },
          },
        },
        [
          { ip: STABLE, podName: "w1" },
          { ip: CANARY, podName: "w2" },
        ],
      );
      expect(
        judgeWarmUp(prober.stats("ns/m/warm")?.warmUp ?? { required: 3, warmPods: 0, pods: 0 }).warm,
      ).toBe(false);
      await expect.poll(() => prober.stats("ns/m/warm")?.warmUp.warmPods, { timeout: 3000 }).toBe(2);
      expect(judgeWarmUp((prober.stats("ns/m/warm") as ProbeStats).warmUp).warm).toBe(true);
    } finally {
      await prober.stop();
    }
  });

  it("runs spec.health.checks instead of the preset's and reports each check's numbers", async () => {
    const prober = new Prober({ allowCidrs: ["127.0.0.0/8"], concurrency: 8, log });
    server.resetPod(STABLE);
    server.setPod(CANARY, { modelName: "ranker" });
    try {
      const checks = [
        { path: "/v2/health/live" },
        { name: "metadata", path: "/v2/models/recommender", expectField: { path: "name", exists: true } },
      ];
      prober.setRevisionTargets("ns/m/checks", { ...spec, checks }, [
        { ip: STABLE, podName: "c1" },
        { ip: CANARY, podName: "c2" },
      ]);
      await expect
        .poll(() => prober.stats("ns/m/checks")?.samples ?? 0, { timeout: 3000 })
        .toBeGreaterThan(10);
      const s = prober.stats("ns/m/checks") as ProbeStats;
      const [live, metadata] = s.checks;
      expect(s.checks.map((c) => c.name)).toEqual(["GET /v2/health/live", "metadata"]);
      expect(live).toMatchObject({ samples: s.samples, failures: 0, successRate: 1 });
      expect(live).not.toHaveProperty("lastError");
      // Every round reaches the second check; the pod serving another model fails it.
      expect(metadata?.samples).toBe(s.samples);
      expect(metadata?.failures).toBe(s.failures);
      expect(metadata?.failures).toBeGreaterThan(0);
      expect(metadata?.lastError).toBe("c2: HTTP 404, expected 2xx");
      expect(s.lastError).toBe("c2: metadata: HTTP 404, expected 2xx");
      // The preset's checks did not run.
      expect(server.podStats(STABLE).byRoute["GET /v2/health/ready"]).toBeUndefined();
    } finally {
      await prober.stop();
      server.resetPod(CANARY);
    }
  });

  it("refuses pods outside the allow-list: failed samples, no request reaches them", async () => {
    const before = server.podStats(CANARY).requests;
    const prober = new Prober({ allowCidrs: [`${STABLE}/32`], concurrency: 8, log });
    try {
      prober.setRevisionTargets("ns/m/outside", spec, [{ ip: CANARY, podName: "x1" }]);
      await expect
        .poll(() => prober.stats("ns/m/outside")?.samples ?? 0, { timeout: 3000 })
        .toBeGreaterThan(3);
      const s = prober.stats("ns/m/outside") as ProbeStats;
      expect(s.successRate).toBe(0);
      expect(s.lastError).toContain("outside the prober allow-list");
      expect(server.podStats(CANARY).requests).toBe(before);
    } finally {
      await prober.stop();
    }
  });

  it("rejects a spec it cannot probe, naming the revision and the problem", () => {
    const prober = new Prober({ allowCidrs: ["127.0.0.0/8"], concurrency: 1, log });
    expect(() => prober.setRevisionTargets("ns/m/bad", { ...spec, port: 0, intervalMs: 0 }, [])).toThrow(
      "probe spec of ns/m/bad: port must be 1..65535; intervalMs must be > 0",
    );
    void prober.stop();
  });

  describe("fair shares against real model servers", () => {
    // Tenant A: 8 pods that hang or trickle their bodies; tenant B: 2 healthy pods. 2 slots: under one
    // FIFO, B would wait behind ~6 of A's runs, each holding a slot for its whole deadline.
    const A = Array.from({ length: 8 }, (_, i) => `127.0.0.${20 + i}`);
    const B = ["127.0.0.28", "127.0.0.29"];
    let fleet: ModelServer;
    const fast: RevisionProbeSpec = {
      preset: "openInference",
      modelName: "recommender",
      port: 0,
      intervalMs: 250,
      timeoutMs: 250,
    };
    beforeAll(async () => {
      fleet = await startModelServer({ bind: [...A, ...B] });
      fast.port = fleet.port;
    });
    afterAll(async () => {
      await fleet.close();
    });

    const requests = (ips: readonly string[]) => ips.reduce((n, ip) => n + fleet.podStats(ip).requests, 0);
    const rate = async (ips: readonly string[], ms: number) => {
      const before = requests(ips);
      await new Promise((resolve) => setTimeout(resolve, ms));
      return ((requests(ips) - before) * 1000) / ms;
    };

    /** B's probe requests/s with A healthy, then with A's pods hanging and trickling. */
    async function bRates(keys: { a: string; b: string }) {
      for (const ip of [...A, ...B]) fleet.resetPod(ip);
      const prober = new Prober({ allowCidrs: ["127.0.0.0/8"], concurrency: 2, log });
      try {
        prober.setRevisionTargets(
          keys.a,
          fast,
          A.map((ip, i) => ({ ip, podName: `a${i}` })),
        );
        prober.setRevisionTargets(
          keys.b,
          fast,
          B.map((ip, i) => ({ ip, podName: `b${i}` })),
        );
        await new Promise((resolve) => setTimeout(resolve, 500));
        const baseline = await rate(B, 2000);
        for (const [i, ip] of A.entries()) fleet.setPod(ip, i % 2 === 0 ? { hang: true } : { trickleMs: 50 });
        await new Promise((resolve) => setTimeout(resolve, 500));
        const underLoad = await rate(B, 2000);
        const measured = { baseline, underLoad, ratio: underLoad / baseline };
        console.log(JSON.stringify({ keys, ...measured }));
        return measured;
      } finally {
        await prober.stop();
        for (const ip of A) fleet.resetPod(ip);
      }
    }

    it("B, another ModelDeployment, keeps its baseline probe rate while A's pods hang and trickle", async () => {
      const r = await bRates({ a: "team-a/hog/r1", b: "team-b/steady/r1" });
      // 2 pods × 2 requests a round × 4 rounds/s
      expect(r.baseline).toBeGreaterThan(10);
      expect(r.ratio).toBeGreaterThanOrEqual(0.85);
    }, 15_000);

    it("(control) were A and B one ModelDeployment, the same load would cut B's rate: the measure can fail", async () => {
      const r = await bRates({ a: "team-a/hog/r1", b: "team-a/hog/r2" });
      expect(r.ratio).toBeLessThan(0.7);
    }, 15_000);
  });
});
