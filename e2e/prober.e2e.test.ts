// The prober against real model servers: the fixture answers for the fake pods inside the harness's
// network namespace, so the operator dials pod IPs exactly as in a cluster. Faults are injected per
// pod; the rollout reacts to what the model itself says.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventually, localCluster, uniqueNamespace } from "./support/cluster.ts";
import { podStats, resetPodBehaviours, revisionPods, setPodBehaviour } from "./support/fixtures.ts";
import {
  applyMd,
  core,
  createNamespace,
  getMd,
  installCrd,
  type Md,
  mdSpec,
  waitForPhase,
} from "./support/mdep.ts";
import { type RunningOperator, startOperator } from "./support/operator.ts";

const ns = uniqueNamespace("probe");
let operator: RunningOperator;
const INTERVAL_S = 1;

const spec = (version: string, extra: Record<string, unknown> = {}) =>
  mdSpec({
    model: { name: "recommender", version },
    // 6 replicas at 50%: three canary pods, so minSamples (6) is reached in two probe intervals.
    replicas: 6,
    rollout: {
      steps: [{ setWeight: 50 }, { analysis: {} }, { pause: { duration: "30s" } }],
      scaleDownDelaySeconds: 2,
      progressDeadlineSeconds: 120,
      analysis: { successRate: 0.95, p99LatencyMs: 600, minSamples: 6, failureLimit: 3 },
    },
    health: {
      intervalSeconds: INTERVAL_S,
      timeoutSeconds: 1,
      inference: {
        path: "/v2/models/recommender/infer",
        body: { inputs: [{ name: "price_usd", shape: [1], datatype: "FP32", data: [25] }] },
        maxLatencyMs: 950,
      },
    },
    ...extra,
  });

/** The operator's Prometheus text, from the address it logged. */
async function scrapeMetrics(): Promise<string> {
  const line = operator
    .logs()
    .split("\n")
    .find((l) => l.includes("serving /healthz, /readyz, /metrics"));
  const { addr } = JSON.parse(line ?? "{}") as { addr?: string };
  if (!addr) throw new Error("the operator did not log its metrics address");
  return (await fetch(`http://${addr}/metrics`)).text();
}

async function canaryOf(name: string, version: string): Promise<Md> {
  await applyMd(ns, name, spec(version));
  return eventually(
    `${name} canary ${version}`,
    async () => {
      const md = await getMd(ns, name);
      return md.status?.canaryRevision && md.status.canaryWeight && md.status.canaryWeight > 0
        ? md
        : undefined;
    },
    60_000,
  );
}

// Skipped off the local harness: the fixture model servers answer only for pod IPs inside its network namespace.
describe.skipIf(!localCluster())("health prober", () => {
  beforeAll(async () => {
    await installCrd();
    await createNamespace(ns);
    operator = await startOperator({ name: "prober" });
  });
  // Faults are keyed by pod IP and kwok reuses IPs: none may outlive its test.
  afterEach(resetPodBehaviours);
  afterAll(async () => {
    await operator?.stop();
    await core.deleteNamespace({ name: ns }).catch(() => {});
  });

  it("passes a healthy canary by analysis, promotes it by itself, and reports numbers the fixture served", async () => {
    await applyMd(ns, "good", spec("v1"));
    const v1 = await waitForPhase(ns, "good", "Healthy");
    const md = await canaryOf("good", "v2");
    const canary = md.status?.canaryRevision ?? "";
    const promoted = await eventually(
      "promoted by analysis",
      async () => {
        const m = await getMd(ns, "good");
        return m.status?.phase === "Healthy" && m.status.stableRevision === canary ? m : undefined;
      },
      120_000,
    );
    expect(promoted.status?.history?.[0]).toMatchObject({ revision: canary, outcome: "Promoted" });
    expect(v1.status?.stableRevision).not.toBe(canary);
    const health = await eventually(
      "status.health of the new stable",
      async () => {
        const m = await getMd(ns, "good");
        const h = m.status?.health?.stable as
          | { revision: string; samples: number; successRate: number; verdict: string }
          | undefined;
        return h?.revision === canary && h.samples > 0 ? h : undefined;
      },
      30_000,
    );
    expect(health.successRate).toBe(1);
    expect(health.verdict).toBe("Pass");
    // The samples on the status are probes the model servers really answered.
    let served = 0;
    for (const p of await revisionPods(ns, "good", canary)) served += (await podStats(p.ip)).requests;
    expect(served).toBeGreaterThanOrEqual(health.samples);
    const cond = promoted.status?.conditions?.find((c) => c.type === "Healthy");
    expect(cond?.status === "True" || cond === undefined).toBe(true);
  });

  it("rolls back a canary whose model starts returning 30% errors, within 3 probe intervals + 2 s", async () => {
    await applyMd(ns, "flaky", spec("v1"));
    const v1 = await waitForPhase(ns, "flaky", "Healthy");
    // Make the canary's pods fail as soon as they exist: the fault starts when we set it.
    const md = await canaryOf("flaky", "v2");
    const canary = md.status?.canaryRevision ?? "";
    const pods = await eventually("canary pods", async () => {
      const p = await revisionPods(ns, "flaky", canary);
      return p.length > 0 ? p : undefined;
    });
    const faultAt = Date.now();
    for (const p of pods) await setPodBehaviour(p.ip, { errorRate: 0.3 });
    const rolledBack = await eventually(
      "traffic back on stable",
      async () => {
        const m = await getMd(ns, "flaky");
        return m.status?.canaryWeight === 0 && m.status.rejectedRevision === canary ? m : undefined;
      },
      60_000,
    );
    const took = Date.now() - faultAt;
    expect(rolledBack.status?.stableRevision).toBe(v1.status?.stableRevision);
    expect(rolledBack.status?.phase).toBe("Degraded");
    expect(rolledBack.status?.message).toMatch(/success|error|fail/i);
    expect(rolledBack.status?.history?.[0]).toMatchObject({ revision: canary, outcome: "Aborted" });
    // Measured, not asserted to the millisecond: the goal is 3 intervals + 2 s; allow scheduling slack.
    process.stderr.write(`rollback after fault: ${took} ms (goal ${3 * INTERVAL_S * 1000 + 2000} ms)\n`);
    expect(took).toBeLessThan(3 * INTERVAL_S * 1000 + 2000 + 3000);
  });

  it("rolls back a canary whose p99 exceeds the threshold", async () => {
    await applyMd(ns, "slow", spec("v1"));
    await waitForPhase(ns, "slow", "Healthy");
    const md = await canaryOf("slow", "v2");
    const canary = md.status?.canaryRevision ?? "";
    for (const p of await revisionPods(ns, "slow", canary)) await setPodBehaviour(p.ip, { latencyMs: 800 });
    const m = await eventually(
      "rolled back for latency",
      async () => {
        const x = await getMd(ns, "slow");
        return x.status?.rejectedRevision === canary ? x : undefined;
      },
      60_000,
    );
    expect(`${m.status?.message} ${JSON.stringify(m.status?.history?.[0])}`).toMatch(/p99|latency|slow/i);
  });

  it("fails the deep check of a vLLM server that is up but does not list the expected model in /v1/models", async () => {
    // An OpenAI-compatible server (preset vllm, port 8000): /health answers 200 whatever it serves.
    const llm = (version: string) =>
      spec(version, {
        runtime: { preset: "vllm", image: "registry.invalid/vllm:1" },
        health: { intervalSeconds: INTERVAL_S, timeoutSeconds: 1 },
      });
    await applyMd(ns, "wrong", llm("v1"));
    await waitForPhase(ns, "wrong", "Healthy");
    await applyMd(ns, "wrong", llm("v2"));
    const md = await eventually(
      "vllm canary",
      async () => {
        const m = await getMd(ns, "wrong");
        return m.status?.canaryRevision && (m.status.canaryWeight ?? 0) > 0 ? m : undefined;
      },
      60_000,
    );
    const canary = md.status?.canaryRevision ?? "";
    for (const p of await revisionPods(ns, "wrong", canary))
      await setPodBehaviour(p.ip, { modelName: "some-other-model" }, 8000);
    const m = await eventually(
      "rolled back: model missing from /v1/models",
      async () => {
        const x = await getMd(ns, "wrong");
        return x.status?.rejectedRevision === canary ? x : undefined;
      },
      60_000,
    );
    expect(m.status?.phase).toBe("Degraded");
    expect(m.status?.history?.[0]?.message).toMatch(/\/v1\/models does not list/);
  });

  describe("maxP99RelativeToStable, as an analysis step's own gate", () => {
    // Latency is set per pod on the fixture (every request of a round waits that long). The stable
    // answers in 500 ms; the analysis step allows the canary 1.5× the stable's p99. The absolute
    // p99LatencyMs is left out, so only the relative gate can fail the canary; background analysis
    // (spec.rollout.analysis) has no relative gate, so the step's own thresholds are what judge it.
    // 500 ms, not less: on these shared machines a p99 of a few samples (their maximum) carries
    // up to ~150 ms of scheduling noise, which at 200 ms turned 1.2× into 0.7× or 1.5×.
    const STABLE_MS = 500;
    const relative = (version: string) =>
      spec(version, {
        rollout: {
          steps: [
            { setWeight: 50 },
            { pause: { duration: "10s" } },
            { analysis: { maxP99RelativeToStable: 1.5 } },
          ],
          scaleDownDelaySeconds: 2,
          progressDeadlineSeconds: 120,
          analysis: { successRate: 0.95, minSamples: 6, failureLimit: 3 },
        },
        // One readiness check and the inference: the 3× canary's round takes 2 × 1.5 s.
        health: {
          intervalSeconds: 2,
          timeoutSeconds: 2,
          checks: [{ path: "/v2/health/ready" }],
          inference: {
            path: "/v2/models/recommender/infer",
            body: { inputs: [{ name: "price_usd", shape: [1], datatype: "FP32", data: [25] }] },
          },
        },
      });

    async function canaryAt(name: string, factor: number): Promise<{ stable: string; canary: string }> {
      await applyMd(ns, name, relative("v1"));
      const v1 = await waitForPhase(ns, name, "Healthy");
      const stable = v1.status?.stableRevision ?? "";
      for (const p of await revisionPods(ns, name, stable))
        await setPodBehaviour(p.ip, { latencyMs: STABLE_MS });
      await applyMd(ns, name, relative("v2"));
      const md = await eventually(
        `${name} canary in its pause`,
        async () => {
          const m = await getMd(ns, name);
          return m.status?.canaryRevision && (m.status.canaryWeight ?? 0) > 0 ? m : undefined;
        },
        60_000,
      );
      const canary = md.status?.canaryRevision ?? "";
      // Still in the 10 s pause: the analysis step has not judged yet.
      expect(md.status?.currentStepIndex).toBe(1);
      for (const p of await revisionPods(ns, name, canary))
        await setPodBehaviour(p.ip, { latencyMs: STABLE_MS * factor });
      return { stable, canary };
    }

    it("rolls back a canary 3× slower than the stable", async () => {
      const { stable, canary } = await canaryAt("rel3x", 3);
      const series = `modelship_probes_total{namespace="${ns}",name="rel3x",revision="${canary}"`;
      await eventually("probe series of the canary", async () =>
        (await scrapeMetrics()).includes(series) ? true : undefined,
      );
      const m = await eventually(
        "rolled back by the relative gate",
        async () => {
          const x = await getMd(ns, "rel3x");
          return x.status?.rejectedRevision === canary && x.status.canaryWeight === 0 ? x : undefined;
        },
        90_000,
      );
      expect(m.status?.stableRevision).toBe(stable);
      expect(m.status?.phase).toBe("Degraded");
      expect(m.status?.history?.[0]).toMatchObject({ revision: canary, outcome: "Aborted" });
      expect(m.status?.history?.[0]?.message).toMatch(
        /p99 [\d.]+ ms is [\d.]+× the stable's [\d.]+ ms \(max 1\.5×\)/,
      );
      // Once its pods are gone (after the 2 s drain), the canary's probe series leave /metrics.
      await eventually(
        "no probe series of the rolled-back canary",
        async () => ((await scrapeMetrics()).includes(series) ? undefined : true),
        30_000,
      );
    });

    it("promotes a canary 1.2× slower than the stable", async () => {
      const { canary } = await canaryAt("rel12x", 1.2);
      const m = await eventually(
        "promoted through the relative gate",
        async () => {
          const x = await getMd(ns, "rel12x");
          return x.status?.phase === "Healthy" && x.status.stableRevision === canary ? x : undefined;
        },
        90_000,
      );
      expect(m.status?.rejectedRevision).toBeUndefined();
      const promoted = m.status?.history?.find((h) => h.revision === canary);
      expect(promoted?.outcome).toBe("Promoted");
      // The step's gate really judged it: the step event's evidence carries the ratio.
      const events = await core.listNamespacedEvent({ namespace: ns });
      const analysis = events.items
        .filter((e) => e.involvedObject.name === "rel12x" && e.reason === "StepCompleted")
        .map((e) => e.message ?? "")
        .find((t) => t.includes("analysis passed"));
      process.stderr.write(`1.2× canary at its analysis step: ${analysis}\n`);
      expect(analysis).toMatch(/p99RelativeToStable 1\.[0-4]\d* \(limit 1\.5, ok/);
    });
  });

  it("runs spec.health.checks instead of the preset's, shows each in status, and rolls back on one failing", async () => {
    const withChecks = (version: string) =>
      spec(version, {
        health: {
          intervalSeconds: INTERVAL_S,
          timeoutSeconds: 1,
          checks: [
            { path: "/v2/health/ready" },
            {
              name: "model-metadata",
              path: "/v2/models/recommender",
              expect: { jsonPath: "$.name", equals: "recommender" },
            },
          ],
          inference: {
            path: "/v2/models/recommender/infer",
            body: { inputs: [{ name: "price_usd", shape: [1], datatype: "FP32", data: [25] }] },
            // A good answer has no error field: exists: false must pass it.
            expect: { jsonPath: "$.error", exists: false },
          },
        },
      });
    await applyMd(ns, "checks", withChecks("v1"));
    await waitForPhase(ns, "checks", "Healthy");
    const shown = await eventually(
      "status.health.stable.checks",
      async () => {
        const h = (await getMd(ns, "checks")).status?.health?.stable as
          | { checks?: { name: string; samples: number; successRate?: number }[] }
          | undefined;
        return h?.checks?.every((c) => c.samples > 0) ? h.checks : undefined;
      },
      30_000,
    );
    expect(shown.map((c) => [c.name, c.successRate])).toEqual([
      ["GET /v2/health/ready", 1],
      ["model-metadata", 1],
      ["inference", 1],
    ]);

    await applyMd(ns, "checks", withChecks("v2"));
    const md = await eventually(
      "canary with traffic",
      async () => {
        const m = await getMd(ns, "checks");
        return m.status?.canaryRevision && (m.status.canaryWeight ?? 0) > 0 ? m : undefined;
      },
      60_000,
    );
    const canary = md.status?.canaryRevision ?? "";
    // Still Ready (its first check passes), but it now serves another model: model-metadata fails.
    for (const p of await revisionPods(ns, "checks", canary))
      await setPodBehaviour(p.ip, { modelName: "ranker" });
    const m = await eventually(
      "rolled back: model-metadata fails",
      async () => {
        const x = await getMd(ns, "checks");
        return x.status?.rejectedRevision === canary ? x : undefined;
      },
      60_000,
    );
    expect(m.status?.phase).toBe("Degraded");
    expect(m.status?.history?.[0]?.message).toMatch(/model-metadata: HTTP 404/);
    expect(m.status?.history?.[0]?.message).toMatch(/failing checks: model-metadata \d+\/\d+ ok/);
  });

  it("waits, never passes, while samples are too few", async () => {
    await applyMd(ns, "wait", spec("v1", { health: { intervalSeconds: 30, timeoutSeconds: 1 } }));
    const md = await waitForPhase(ns, "wait", "Healthy", 60_000);
    await applyMd(ns, "wait", spec("v2", { health: { intervalSeconds: 30, timeoutSeconds: 1 } }));
    const at = await eventually(
      "at the analysis step",
      async () => {
        const m = await getMd(ns, "wait");
        return m.status?.currentStepIndex === 1 ? m : undefined;
      },
      60_000,
    );
    await new Promise((r) => setTimeout(r, 5000));
    const still = await getMd(ns, "wait");
    expect(still.status?.currentStepIndex).toBe(1);
    expect(still.status?.stableRevision).toBe(md.status?.stableRevision);
    expect(at.status?.phase).toBe("Progressing");
  });
});
