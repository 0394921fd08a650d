import { describe, expect, it } from "vitest";
import { createMetrics } from "./registry.ts";

describe("agreement metrics", () => {
  it("exports the rate and the pairs per canary revision, and forgets a revision's series with it", async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.agreement.rate.set({ namespace: "shop", name: "rec", revision: "old" }, 0.4);
    metrics.agreement.pairs.inc({ namespace: "shop", name: "rec", revision: "old", outcome: "disagree" });
    metrics.agreement.rate.set({ namespace: "shop", name: "rec", revision: "new" }, 1);
    metrics.agreement.pairs.inc({ namespace: "shop", name: "rec", revision: "new", outcome: "agree" });
    await metrics.forgetRevision("shop", "rec", "old");
    const text = await metrics.registry.metrics();
    expect(text).not.toContain('revision="old"');
    expect(text).toContain('modelship_canary_agreement_ratio{namespace="shop",name="rec",revision="new"} 1');
    expect(text).toContain(
      'modelship_agreement_pairs_total{namespace="shop",name="rec",revision="new",outcome="agree"} 1',
    );
  });
});
