import { describe, expect, it } from "vitest";
import { renderStatus } from "./render-status.ts";
import { streamWants } from "./render-stream.ts";
import { PLAIN } from "./style.ts";
import { canaryMidStep, NOW } from "./testing.ts";
import { toModelDeploymentView, toRevisionPods } from "./view.ts";

function render(raw: unknown): string {
  const md = toModelDeploymentView(raw, "default");
  return renderStatus({ md, deployments: toRevisionPods([], md.uid), now: NOW, style: PLAIN }).join("\n");
}

describe("renderStatus: streaming LLM numbers", () => {
  it("shows TTFT p50/p99, TPOT p99 and tokens/s per revision only when the prober streams", () => {
    const raw = canaryMidStep();
    expect(render(raw)).not.toContain("Streams:");
    Object.assign(raw.status.health.stable, {
      streamSamples: 120,
      ttftP50Ms: 180,
      ttftP99Ms: 240.5,
      tpotP99Ms: 21.3,
      tokensPerSecond: 41.25,
    });
    Object.assign(raw.status.health.canary, { streamSamples: 0 });
    const text = render(raw);
    expect(text).toContain("Streams:");
    expect(text).toMatch(/ROLE\s+STREAMS\s+TTFT P50\s+TTFT P99\s+TPOT P99\s+TOKENS\/S/);
    expect(text).toMatch(/stable\s+120\s+180ms\s+241ms\s+21ms\s+41\.3/);
    expect(text).toMatch(/canary\s+0\s+-\s+-\s+-\s+-/);
  });

  it("names the stream gates an analysis step waits for", () => {
    const base = { successRate: 0.99, minSamples: 20, failureLimit: 2, warmupInferences: 0 };
    expect(streamWants(base)).toBe("");
    expect(streamWants({ ...base, maxTTFTp99RelativeToStable: 1.5, minTokensPerSecond: 8 })).toBe(
      ", TTFT p99 ≤ 1.5× stable, ≥ 8 tokens/s",
    );
  });
});
