// The mapping of the streaming LLM fields: spec.health.stream → what the prober streams (defaults in
// memory); the stream gates of spec.rollout.analysis and of analysis steps → the verdicts the
// rollout reads; the prober's stream window → status.health.
import pino from "pino";
import { describe, expect, it } from "vitest";
import { type ModelDeploymentInput, parseModelDeployment } from "../api/index.ts";
import type { PodTarget, ProbeStats, RevisionProbeSpec } from "../prober/prober.ts";
import type { StreamStats } from "../prober/stream-window.ts";
import { ProberHealth, probeSpecFor } from "./prober-health.ts";

const KEY = "llm/chat";
const A = "aaaa1111";
const B = "bbbb2222";

function md(spec: Partial<ModelDeploymentInput["spec"]> = {}) {
  const parsed = parseModelDeployment({
    apiVersion: "modelship.dev/v1alpha1",
    kind: "ModelDeployment",
    metadata: { name: "chat", namespace: "llm", generation: 1 },
    spec: {
      model: { name: "chat", version: "v1" },
      runtime: { image: "vllm:1", preset: "vllm" },
      health: { stream: {} },
      ...spec,
    },
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
}

const streams = (p: Partial<StreamStats> = {}): StreamStats => ({
  samples: 40,
  p50TtftMs: 95,
  p99TtftMs: 100,
  p50TpotMs: 19,
  p99TpotMs: 20,
  tokensPerSecond: 40,
  ...p,
});

class FakeProber {
  readonly targets = new Map<string, { spec: RevisionProbeSpec; pods: readonly PodTarget[] }>();
  readonly stream = new Map<string, StreamStats>();
  // Output agreement is not what this file tests: prober-health.test.ts covers setAgreement.
  setAgreement(): void {}
  setRevisionTargets(key: string, spec: RevisionProbeSpec, pods: readonly PodTarget[]): void {
    this.targets.set(key, { spec, pods });
  }
  removeRevision(key: string): void {
    this.targets.delete(key);
  }
  stats(key: string): ProbeStats | undefined {
    const t = this.targets.get(key);
    if (!t) return undefined;
    const s = this.stream.get(key);
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
      ...(s ? { stream: s } : {}),
    };
  }
}

function harness() {
  const prober = new FakeProber();
  const writes: { health?: Record<string, Record<string, unknown>> }[] = [];
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
    enqueue: () => undefined,
  });
  return { prober, writes, health };
}

const observed = (revision: string, ip: string) => ({
  revision,
  deploymentName: `chat-${revision}`,
  replicas: 1,
  specReplicas: 1,
  readyReplicas: 1,
  availableReplicas: 1,
  updatedReplicas: 1,
  settled: true,
  readyPods: [{ name: `chat-${revision}-0`, ip }],
});

describe("probeSpecFor: spec.health.stream → the prober's stream", () => {
  it("resolves the defaults in memory: chat completions path, the served model name, 16 tokens", () => {
    expect(probeSpecFor(md()).stream).toEqual({
      path: "/v1/chat/completions",
      model: "chat",
      prompt: "Reply with a short greeting.",
      maxTokens: 16,
    });
  });

  it("carries every field the user sets", () => {
    const s = {
      path: "/openai/v1/chat/completions",
      model: "meta-llama/Llama-3.1-8B",
      prompt: "hi",
      maxTokens: 4,
    };
    expect(probeSpecFor(md({ health: { stream: s } })).stream).toEqual(s);
  });

  it("no stream without spec.health.stream", () => {
    expect(probeSpecFor(md({ health: {} })).stream).toBeUndefined();
  });
});

describe("ProberHealth: the stream gates judge the canary", () => {
  const rollout = {
    analysis: { minSamples: 10, maxTTFTp99RelativeToStable: 2 },
    steps: [{ setWeight: 20 }, { analysis: { maxTTFTp99Ms: 150 } }, { analysis: { minTokensPerSecond: 50 } }],
  };

  function canaryAt(ttft: number) {
    const h = harness();
    const m = md({ rollout });
    h.health.setTargets(KEY, m, [observed(A, "10.244.0.1"), observed(B, "10.244.0.2")], () => m.spec, {
      stepIndex: 0,
      stableRevision: A,
      canaryRevision: B,
    });
    h.prober.stream.set(`${KEY}/${A}`, streams());
    h.prober.stream.set(`${KEY}/${B}`, streams({ p99TtftMs: ttft }));
    return h;
  }

  it("spec.rollout.analysis.maxTTFTp99RelativeToStable: 3× the stable's TTFT fails, equal passes", () => {
    expect(canaryAt(300).health.verdict(KEY, B)).toMatchObject({
      verdict: "Fail",
      message: expect.stringContaining("TTFT p99 300 ms is 3× the stable's 100 ms (max 2×)"),
    });
    expect(canaryAt(100).health.verdict(KEY, B)?.verdict).toBe("Pass");
  });

  it("each analysis step's stream gates judge that step (atStep)", () => {
    const v = canaryAt(180).health.verdict(KEY, B);
    expect(v?.verdict).toBe("Pass");
    expect(v?.atStep?.[1]).toMatchObject({
      verdict: "Fail",
      message: expect.stringContaining("TTFT p99 180 ms above 150 ms"),
    });
    expect(v?.atStep?.[2]).toMatchObject({
      verdict: "Fail",
      message: expect.stringContaining("40 tokens/s below 50"),
    });
  });

  it("status.health shows the stream numbers of each revision", async () => {
    const h = canaryAt(123.456);
    h.health.onStats(`${KEY}/${B}`, h.prober.stats(`${KEY}/${B}`) as ProbeStats);
    await expect.poll(() => h.writes.length).toBe(1);
    expect(h.writes[0]?.health?.canary).toMatchObject({
      streamSamples: 40,
      ttftP50Ms: 95,
      ttftP99Ms: 123.5,
      tpotP99Ms: 20,
      tokensPerSecond: 40,
    });
    expect(h.writes[0]?.health?.stable).toMatchObject({ ttftP99Ms: 100 });
  });
});

describe("meaningfulChange: TTFT p99 moves status like p99 does", () => {
  it("a quarter and at least 25 ms of TTFT p99 is news; less is not", async () => {
    const { meaningfulChange } = await import("./health-change.ts");
    const at = (ttftP99Ms: number) => ({
      revision: A,
      verdict: "Pass",
      successRate: 1,
      p99Ms: 10,
      ttftP99Ms,
    });
    expect(meaningfulChange(at(400), at(480))).toBe(false);
    expect(meaningfulChange(at(400), at(500))).toBe(true);
    expect(meaningfulChange(at(40), at(60))).toBe(false);
  });
});
