import { describe, expect, it } from "vitest";
import { ModelDeploymentSpecSchema } from "../../operator/src/api/index.ts";
import { renderDeployment } from "../../operator/src/render/deployment.ts";
import { computeRevision } from "../../operator/src/render/revision.ts";
import { mdSpec } from "./common.ts";
import {
  canaryStatsUrl,
  PEER_STEPS,
  rollbackSteps,
  rolloutAborted,
  rolloutAvailable,
  rolloutBackOnStable,
  rolloutInvalid,
  rolloutObjects,
  successRateTemplate,
} from "./peer-objects.ts";

type RolloutSpec = {
  replicas: number;
  selector: { matchLabels: Record<string, string> };
  template: { metadata: { labels: Record<string, string> }; spec: unknown };
  strategy: { canary: { steps: unknown[] } };
};

describe("the peer's Rollout", () => {
  it("runs exactly the pods a ModelDeployment of the same spec runs, with the same steps", () => {
    const raw = mdSpec({ replicas: 3 });
    const { rollout, service } = rolloutObjects("ns", "r-0", raw);
    const spec = rollout.spec as RolloutSpec;
    const md = ModelDeploymentSpecSchema.parse(raw);
    const d = renderDeployment({
      owner: { name: "r-0", namespace: "ns", uid: "" },
      spec: md,
      revision: computeRevision(md),
      replicas: md.replicas,
    });
    expect(spec.template).toEqual((d.spec as { template: unknown }).template);
    expect(spec.replicas).toBe(3);
    expect(spec.strategy.canary.steps).toEqual(PEER_STEPS);
    // Argo Rollouts refuses a Rollout with it and no traffic routing.
    expect(spec.strategy.canary).not.toHaveProperty("scaleDownDelaySeconds");
    // The selector (the Service's) picks the template's pods, and the Service has no owner to wait on.
    for (const [k, v] of Object.entries(spec.selector.matchLabels))
      expect(spec.template.metadata.labels[k]).toBe(v);
    expect(service.spec?.selector).toEqual(spec.selector.matchLabels);
    expect(service.metadata?.ownerReferences).toBeUndefined();
  });

  it("pauses before its analysis so the template can name the canary's pods, then analyses", () => {
    const steps = rollbackSteps("flaky-0", 10);
    expect(steps[0]).toEqual({ setWeight: 50 });
    expect(steps[1]).toEqual({ pause: { duration: "10s" } });
    expect(steps[2]).toEqual({ analysis: { templates: [{ templateName: "flaky-0" }] } });
    const { rollout } = rolloutObjects("ns", "flaky-0", mdSpec(), steps);
    expect((rollout.spec as RolloutSpec).strategy.canary.steps).toEqual(steps);
  });
});

describe("the peer's AnalysisTemplate", () => {
  it("reads the summed counts of the canary's pods every interval and fails on the first bad measurement", () => {
    const url = canaryStatsUrl("http://10.239.255.2:9911", ["10.240.0.5", "10.240.0.6"]);
    expect(url).toBe("http://10.239.255.2:9911/stats?ips=10.240.0.5,10.240.0.6");
    const t = successRateTemplate("ns", "flaky-0", {
      statsUrl: url,
      analysis: { successRate: 0.95, minSamples: 6 },
      intervalSeconds: 1,
      count: 60,
    });
    expect(t).toMatchObject({ kind: "AnalysisTemplate", metadata: { name: "flaky-0", namespace: "ns" } });
    const metric = (t.spec as { metrics: Record<string, unknown>[] }).metrics[0];
    expect(metric).toEqual({
      name: "success-rate",
      interval: "1s",
      count: 60,
      failureLimit: 0,
      successCondition: "result.requests < 6 || result.successRate >= 0.95",
      provider: { web: { url, jsonPath: "{$.total}", timeoutSeconds: 5 } },
    });
  });
});

describe("reading a Rollout's status", () => {
  const rollout = (status: Record<string, unknown>, generation = 2) => ({
    metadata: { generation },
    spec: { replicas: 6 },
    status,
  });
  it("is Available when Healthy at its generation with every replica available", () => {
    expect(
      rolloutAvailable(rollout({ phase: "Healthy", observedGeneration: "2", availableReplicas: 6 })),
    ).toBe(true);
    expect(
      rolloutAvailable(rollout({ phase: "Healthy", observedGeneration: "1", availableReplicas: 6 })),
    ).toBe(false);
    expect(
      rolloutAvailable(rollout({ phase: "Healthy", observedGeneration: "2", availableReplicas: 5 })),
    ).toBe(false);
  });
  it("tells an abort from a canary scaled away", () => {
    expect(rolloutAborted(rollout({ abort: true, updatedReplicas: 3 }))).toBe(true);
    expect(rolloutBackOnStable(rollout({ abort: true, updatedReplicas: 3 }))).toBe(false);
    expect(rolloutBackOnStable(rollout({ abort: true, updatedReplicas: 0 }))).toBe(true);
    expect(rolloutAborted(rollout({ phase: "Paused" }))).toBe(false);
  });
  it("names why a spec was refused", () => {
    const refused = rollout({
      conditions: [{ type: "InvalidSpec", status: "True", message: "no template" }],
    });
    expect(rolloutInvalid(refused)).toBe("no template");
    expect(rolloutInvalid(rollout({ conditions: [{ type: "Available", status: "True" }] }))).toBeUndefined();
  });
});
