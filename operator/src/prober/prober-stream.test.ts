// The prober with spec.health.stream against the fixture: a window of TTFT/TPOT/tokens/s per
// revision, a slow-TTFT canary told from its stable, and an early-stopping pod's clear lastError.
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ModelServer, startModelServer } from "../../testing/model-server.ts";
import type { ProbeStats, RevisionProbeSpec } from "./prober.ts";
import { Prober } from "./prober.ts";
import { judgeCanary } from "./verdict.ts";

const STABLE = "127.0.0.5";
const CANARY = "127.0.0.6";

describe("Prober: streaming checks", () => {
  let server: ModelServer;
  let spec: RevisionProbeSpec;

  beforeAll(async () => {
    server = await startModelServer({ bind: [STABLE, CANARY] });
    spec = {
      preset: "vllm",
      modelName: server.model.name,
      port: server.port,
      intervalMs: 60,
      timeoutMs: 1000,
      stream: { path: "/v1/chat/completions", model: server.model.name, prompt: "hi", maxTokens: 4 },
    };
  });
  afterAll(async () => {
    await server.close();
  });

  async function probeBoth(prober: Prober, samples: number): Promise<[ProbeStats, ProbeStats]> {
    prober.setRevisionTargets("llm/chat/stable", spec, [{ ip: STABLE, podName: "stable-0" }]);
    prober.setRevisionTargets("llm/chat/canary", spec, [{ ip: CANARY, podName: "canary-0" }]);
    const n = (k: string) => prober.stats(k)?.samples ?? 0;
    await expect
      .poll(() => Math.min(n("llm/chat/stable"), n("llm/chat/canary")), { timeout: 8000, interval: 50 })
      .toBeGreaterThanOrEqual(samples);
    return [prober.stats("llm/chat/stable") as ProbeStats, prober.stats("llm/chat/canary") as ProbeStats];
  }

  it("keeps TTFT per revision and fails a canary at 3× the stable's TTFT", async () => {
    server.setPod(STABLE, { ttftMs: 20, tpotMs: 5 });
    server.setPod(CANARY, { ttftMs: 60, tpotMs: 5 });
    const prober = new Prober({
      allowCidrs: ["127.0.0.0/8"],
      concurrency: 4,
      log: pino({ level: "silent" }),
    });
    try {
      const [stable, canary] = await probeBoth(prober, 8);
      expect(stable.successRate).toBe(1);
      expect(stable.stream?.samples).toBeGreaterThanOrEqual(8);
      expect(stable.stream?.p50TtftMs).toBeGreaterThanOrEqual(19);
      expect(canary.stream?.p50TtftMs).toBeGreaterThanOrEqual(59);
      expect(stable.checks.map((c) => c.name)).toEqual(["health", "models-list", "stream"]);
      // The round latency leaves the stream out: the median round is quicker than one 35 ms stream.
      expect(stable.p50LatencyMs).toBeLessThan(35);
      const j = judgeCanary(
        {
          successRate: 0.99,
          minSamples: 8,
          failureLimit: 3,
          warmupInferences: 0,
          maxTTFTp99RelativeToStable: 1.5,
        },
        {
          ...canary,
          stream: {
            ...(canary.stream as NonNullable<ProbeStats["stream"]>),
            p99TtftMs: canary.stream?.p50TtftMs ?? 0,
          },
        },
        {
          ...stable,
          stream: {
            ...(stable.stream as NonNullable<ProbeStats["stream"]>),
            p99TtftMs: stable.stream?.p50TtftMs ?? 0,
          },
        },
      );
      expect(j).toMatchObject({ verdict: "Fail", message: expect.stringContaining("TTFT p99") });
    } finally {
      await prober.stop();
    }
  });

  it("an early-stopping stream fails the probe with a clear lastError and adds no stream sample", async () => {
    server.setPod(STABLE, { ttftMs: 0, tpotMs: 0 });
    server.setPod(CANARY, { ttftMs: 0, tpotMs: 0, streamFault: "early-stop" });
    const prober = new Prober({
      allowCidrs: ["127.0.0.0/8"],
      concurrency: 4,
      log: pino({ level: "silent" }),
    });
    try {
      const [, canary] = await probeBoth(prober, 4);
      expect(canary.successRate).toBe(0);
      expect(canary.stream?.samples).toBe(0);
      expect(canary.lastError).toBe(
        "canary-0: stream: stream ended early: 2 tokens, then the connection closed before [DONE] or a finish_reason",
      );
      expect(canary.checks.at(-1)).toMatchObject({ name: "stream", failures: canary.samples });
    } finally {
      await prober.stop();
    }
  });
});
