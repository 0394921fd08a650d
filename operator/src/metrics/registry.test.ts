import { describe, expect, it } from "vitest";
import { createMetrics } from "./registry.ts";

describe("createMetrics", () => {
  it("keeps registries apart: two operators in one process do not share series", async () => {
    const a = createMetrics({ processMetrics: false });
    const b = createMetrics({ processMetrics: false });
    a.rolloutsStarted.inc(3);
    expect(await a.registry.metrics()).toContain("modelship_rollouts_started_total 3");
    expect(await b.registry.metrics()).toContain("modelship_rollouts_started_total 0");
  });

  it("reads the queue depth at scrape time from the source the queue registers", async () => {
    const metrics = createMetrics({ processMetrics: false });
    expect(await metrics.registry.metrics()).toContain("modelship_workqueue_depth 0");
    let depth = 4;
    metrics.setQueueDepthSource(() => depth);
    expect(await metrics.registry.metrics()).toContain("modelship_workqueue_depth 4");
    depth = 9;
    expect(await metrics.registry.metrics()).toContain("modelship_workqueue_depth 9");
  });

  it("forgets only the named revision's probe series", async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.probes.inc({ namespace: "shop", name: "rec", revision: "old", result: "ok" });
    metrics.probes.inc({ namespace: "shop", name: "rec", revision: "old", result: "timeout" });
    metrics.probes.inc({ namespace: "shop", name: "rec", revision: "new", result: "ok" });
    await metrics.forgetRevision("shop", "rec", "old");
    const text = await metrics.registry.metrics();
    expect(text).not.toContain('revision="old"');
    expect(text).toContain(
      'modelship_probes_total{namespace="shop",name="rec",revision="new",result="ok"} 1',
    );
  });
});
