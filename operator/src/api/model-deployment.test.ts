import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatIssues, formatPath, parseModelDeployment } from "./model-deployment.ts";
import { desiredTotalReplicas, effectiveAnalysis } from "./spec.ts";

function valid(spec: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: "modelship.dev/v1alpha1",
    kind: "ModelDeployment",
    metadata: { name: "recommender", namespace: "shop", generation: 3, uid: "u-1" },
    spec: {
      model: { name: "recommender", version: "2026-11-01" },
      runtime: { image: "registry.example/recsys:1" },
      ...spec,
    },
    ...extra,
  };
}

function issuesOf(obj: unknown) {
  const result = parseModelDeployment(obj);
  if (result.ok) throw new Error("expected the parse to fail");
  return result.issues;
}

describe("parseModelDeployment: accepts and defaults", () => {
  it("fills in-memory defaults for a minimal object and keeps unknown metadata", () => {
    const result = parseModelDeployment(valid());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { spec, metadata } = result.value;
    expect(metadata.uid).toBe("u-1");
    expect(spec.replicas).toBe(1);
    expect(spec.runtime.preset).toBe("openInference");
    expect(spec.runtime.startupTimeoutSeconds).toBe(1800);
    expect(spec.runtime.port).toBeUndefined();
    expect(spec.rollout).toEqual({
      steps: [],
      analysis: { successRate: 0.99, minSamples: 20, failureLimit: 2, warmupInferences: 0 },
      progressDeadlineSeconds: 600,
      scaleDownDelaySeconds: 30,
      revisionHistoryLimit: 5,
    });
    expect(spec.health).toEqual({ intervalSeconds: 5, timeoutSeconds: 2 });
  });

  it("defaults inside blocks the user wrote", () => {
    const result = parseModelDeployment(
      valid({
        autoscaling: { maxReplicas: 4 },
        health: { inference: { path: "/v2/models/recommender/infer", body: { inputs: [] } } },
      }),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.spec.autoscaling?.minReplicas).toBe(1);
    expect(result.value.spec.health.inference).toEqual({
      path: "/v2/models/recommender/infer",
      method: "POST",
      body: { inputs: [] },
      expect: { status: 200 },
    });
  });

  it("accepts replicas alongside autoscaling, because the HPA writes it through /scale", () => {
    const result = parseModelDeployment(
      valid({ replicas: 7, autoscaling: { minReplicas: 2, maxReplicas: 5 } }),
    );
    expect(result.ok).toBe(true);
    if (result.ok) expect(desiredTotalReplicas(result.value.spec)).toBe(5);
  });

  it("accepts a status written by the operator", () => {
    const status = {
      observedGeneration: 3,
      phase: "Progressing",
      canaryWeight: 20,
      stepStartTime: "2026-11-01T10:00:00Z",
      conditions: [
        {
          type: "Progressing",
          status: "True",
          reason: "StepSetWeight",
          message: "",
          lastTransitionTime: "2026-11-01T10:00:00Z",
        },
      ],
      history: [{ revision: "7c9f1e", outcome: "Promoted", time: "2026-10-01T00:00:00Z" }],
      health: { canary: { revision: "5d2a0b", successRate: 0.998, samples: 412, verdict: "Pass" } },
    };
    const result = parseModelDeployment(valid({}, { status }));
    expect(result.ok).toBe(true);
  });
});

describe("parseModelDeployment: rejects and names the field", () => {
  it.each([
    ["a missing model", { model: undefined }, "spec.model"],
    [
      "a model name that is not a DNS label",
      { model: { name: "Recommender_V2", version: "1" } },
      "spec.model.name",
    ],
    ["an empty version", { model: { name: "m", version: "" } }, "spec.model.version"],
    ["a missing image", { runtime: {} }, "spec.runtime.image"],
    ["an unknown preset", { runtime: { image: "i", preset: "onnx" } }, "spec.runtime.preset"],
    ["port 0", { runtime: { image: "i", port: 0 } }, "spec.runtime.port"],
    [
      "healthPath with a non-http preset",
      { runtime: { image: "i", healthPath: "/x" } },
      "spec.runtime.healthPath",
    ],
    [
      "a bad quantity",
      { runtime: { image: "i", resources: { limits: { memory: "lots" } } } },
      "spec.runtime.resources.limits.memory",
    ],
    ["negative replicas", { replicas: -1 }, "spec.replicas"],
    ["fractional replicas", { replicas: 1.5 }, "spec.replicas"],
    [
      "minReplicas above maxReplicas",
      { autoscaling: { minReplicas: 5, maxReplicas: 2 } },
      "spec.autoscaling.minReplicas",
    ],
    [
      "a weight above 100",
      { rollout: { steps: [{ setWeight: 10 }, { pause: {} }, { setWeight: 101 }] } },
      "spec.rollout.steps[2].setWeight",
    ],
    [
      "a step with two actions",
      { rollout: { steps: [{ setWeight: 10, pause: {} }] } },
      "spec.rollout.steps[0]",
    ],
    ["an empty step", { rollout: { steps: [{}] } }, "spec.rollout.steps[0]"],
    [
      "a bad pause duration",
      { rollout: { steps: [{ pause: { duration: "2 minutes" } }] } },
      "spec.rollout.steps[0].pause.duration",
    ],
    [
      "a timed pause above 168h (a longer hold is a pause without a duration)",
      { rollout: { steps: [{ pause: { duration: "169h" } }] } },
      "spec.rollout.steps[0].pause.duration",
    ],
    [
      "successRate above 1",
      { rollout: { analysis: { successRate: 1.2 } } },
      "spec.rollout.analysis.successRate",
    ],
    [
      "maxP99RelativeToStable below 1",
      { rollout: { analysis: { maxP99RelativeToStable: 0.5 } } },
      "spec.rollout.analysis.maxP99RelativeToStable",
    ],
    [
      "no parentRefs",
      { rollout: { traffic: { gatewayAPI: { parentRefs: [] } } } },
      "spec.rollout.traffic.gatewayAPI.parentRefs",
    ],
    [
      "revisionHistoryLimit above 50",
      { rollout: { revisionHistoryLimit: 51 } },
      "spec.rollout.revisionHistoryLimit",
    ],
    [
      "timeout above interval",
      { health: { intervalSeconds: 2, timeoutSeconds: 5 } },
      "spec.health.timeoutSeconds",
    ],
    ["a relative health path", { health: { path: "health" } }, "spec.health.path"],
    [
      "health.path with health.checks (the checks replace the preset's path)",
      { health: { path: "/ready", checks: [{ path: "/ready" }] } },
      "spec.health.checks",
    ],
    [
      "a check with equals but no jsonPath",
      { health: { checks: [{ path: "/v2", expect: { equals: "x" } }] } },
      "spec.health.checks[0].expect.jsonPath",
    ],
    ["a path with ..", { health: { inference: { path: "/v2/../admin" } } }, "spec.health.inference.path"],
    ["a path with a space", { health: { path: "/ready HTTP/1.1" } }, "spec.health.path"],
    ["a path with CR LF", { health: { checks: [{ path: "/a\r\nHost: x" }] } }, "spec.health.checks[0].path"],
    ["a path with a fragment", { health: { inference: { path: "/infer#x" } } }, "spec.health.inference.path"],
    ["a path naming a host", { health: { path: "//metadata.internal/" } }, "spec.health.path"],
    ["a path with a bad escape", { health: { path: "/a%zz" } }, "spec.health.path"],
    ["a path with non-ASCII", { health: { path: "/modèle" } }, "spec.health.path"],
    [
      "a runtime.healthPath with a space",
      { runtime: { image: "i", preset: "http", healthPath: "/ok now" } },
      "spec.runtime.healthPath",
    ],
    [
      "a probe timeout above 60 s",
      { health: { intervalSeconds: 120, timeoutSeconds: 61 } },
      "spec.health.timeoutSeconds",
    ],
    [
      "equals and exists together",
      { health: { inference: { path: "/p", expect: { jsonPath: "$.a", equals: "1", exists: true } } } },
      "spec.health.inference.expect.equals",
    ],
    [
      "a bad serviceAccountName",
      { template: { serviceAccountName: "Admin!" } },
      "spec.template.serviceAccountName",
    ],
  ])("rejects %s at %s", (_name, patch, path) => {
    const issues = issuesOf(valid(patch as Record<string, unknown>));
    expect(issues.map((i) => i.path)).toContain(path);
  });

  it("rejects a wrong kind and a missing spec", () => {
    expect(issuesOf({ ...valid(), kind: "Deployment" }).map((i) => i.path)).toContain("kind");
    const { spec: _spec, ...noSpec } = valid();
    expect(issuesOf(noSpec).map((i) => i.path)).toContain("spec");
  });

  it("rejects a bad status enum", () => {
    expect(issuesOf(valid({}, { status: { phase: "Exploded" } })).map((i) => i.path)).toContain(
      "status.phase",
    );
  });

  it("formats issues for a condition message", () => {
    const text = formatIssues(issuesOf(valid({ replicas: -1 })));
    expect(text).toMatch(/^spec\.replicas: /);
    expect(formatPath(["spec", "rollout", "steps", 2, "setWeight"])).toBe("spec.rollout.steps[2].setWeight");
  });
});

describe("effectiveAnalysis", () => {
  it("applies a step's overrides on top of spec.rollout.analysis", () => {
    const result = parseModelDeployment(
      valid({ rollout: { analysis: { p99LatencyMs: 800 }, steps: [{ analysis: { minSamples: 100 } }] } }),
    );
    if (!result.ok) throw new Error(formatIssues(result.issues));
    const { rollout } = result.value.spec;
    expect(effectiveAnalysis(rollout, rollout.steps[0])).toEqual({
      successRate: 0.99,
      p99LatencyMs: 800,
      minSamples: 100,
      failureLimit: 2,
      warmupInferences: 0,
    });
    expect(effectiveAnalysis(rollout)).toEqual(rollout.analysis);
  });
});

describe("desiredTotalReplicas", () => {
  it.each([
    [{ replicas: 3 }, 3],
    [{ replicas: 0 }, 0],
    [{ replicas: 1, autoscaling: { minReplicas: 2, maxReplicas: 9 } }, 2],
    [{ replicas: 6, autoscaling: { minReplicas: 2, maxReplicas: 9 } }, 6],
    [{ replicas: 12, autoscaling: { minReplicas: 2, maxReplicas: 9 } }, 9],
  ])("%j -> %i", (spec, total) => {
    expect(desiredTotalReplicas(spec)).toBe(total);
  });
});

// Property tests: arbitrary structured input (valid or not) never makes parse throw, and
// parsing what parse produced gives the same value (defaults are idempotent, nothing is lost).
const dnsLabel = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);
const step = fc.oneof(
  fc.record({ setWeight: fc.integer({ min: 0, max: 100 }) }),
  fc.record({ pause: fc.record({ duration: fc.constantFrom("30s", "2m", "1h30m") }, { requiredKeys: [] }) }),
  fc.record({ analysis: fc.record({ minSamples: fc.integer({ min: 1, max: 500 }) }, { requiredKeys: [] }) }),
);
const validSpec = fc.record(
  {
    model: fc.record({ name: dnsLabel, version: fc.string({ minLength: 1, maxLength: 63 }) }),
    runtime: fc.record(
      {
        image: fc.string({ minLength: 1, maxLength: 40 }),
        preset: fc.constantFrom("openInference", "openai", "vllm", "tgi", "triton", "torchserve", "nim"),
        port: fc.integer({ min: 1, max: 65535 }),
        args: fc.array(fc.string(), { maxLength: 3 }),
      },
      { requiredKeys: ["image"] },
    ),
    replicas: fc.integer({ min: 0, max: 100 }),
    rollout: fc.record(
      {
        steps: fc.array(step, { maxLength: 6 }),
        analysis: fc.record(
          { successRate: fc.double({ min: 0, max: 1, noNaN: true }) },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    ),
    health: fc.record({
      intervalSeconds: fc.integer({ min: 5, max: 60 }),
      timeoutSeconds: fc.integer({ min: 1, max: 5 }),
    }),
  },
  { requiredKeys: ["model", "runtime"] },
);

describe("parseModelDeployment properties", () => {
  it("never throws, whatever the input", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          validSpec.map((s) => valid(s)),
          fc.anything().map((s) => valid({ rollout: s })),
        ),
        (obj) => {
          const result = parseModelDeployment(obj);
          expect(typeof result.ok).toBe("boolean");
          if (!result.ok) expect(result.issues.length).toBeGreaterThan(0);
        },
      ),
    );
  });

  it("accepts generated valid specs, and parse of the parsed value is the same value", () => {
    fc.assert(
      fc.property(validSpec, (spec) => {
        const first = parseModelDeployment(valid(spec));
        if (!first.ok) throw new Error(formatIssues(first.issues));
        const second = parseModelDeployment(JSON.parse(JSON.stringify(first.value)));
        expect(second).toEqual(first);
      }),
    );
  });
});
