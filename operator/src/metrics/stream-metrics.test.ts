import { describe, expect, it } from "vitest";
import { createMetrics } from "./registry.ts";

describe("stream gauges", () => {
  it("exports TTFT/TPOT quantiles and tokens/s per revision, skips NaN, and forgets them with the revision", async () => {
    const metrics = createMetrics({ processMetrics: false });
    const stats = {
      samples: 12,
      p50TtftMs: 200,
      p99TtftMs: 450,
      p50TpotMs: 20,
      p99TpotMs: Number.NaN,
      tokensPerSecond: 35.5,
    };
    metrics.streams.set({ namespace: "llm", name: "chat", revision: "old" }, stats);
    metrics.streams.set({ namespace: "llm", name: "chat", revision: "new" }, stats);
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'modelship_stream_ttft_seconds{namespace="llm",name="chat",revision="old",quantile="0.99"} 0.45',
    );
    expect(text).toContain(
      'modelship_stream_tpot_seconds{namespace="llm",name="chat",revision="old",quantile="0.5"} 0.02',
    );
    expect(text).not.toContain(
      'modelship_stream_tpot_seconds{namespace="llm",name="chat",revision="old",quantile="0.99"}',
    );
    expect(text).toContain(
      'modelship_stream_tokens_per_second{namespace="llm",name="chat",revision="old"} 35.5',
    );
    await metrics.forgetRevision("llm", "chat", "old");
    const after = await metrics.registry.metrics();
    expect(after).not.toContain('revision="old"');
    expect(after).toContain('modelship_stream_window_samples{namespace="llm",name="chat",revision="new"} 12');
  });
});
