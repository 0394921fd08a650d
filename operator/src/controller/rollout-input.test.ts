// The mapping layer between the API and the rollout engine, field by field: what each spec field,
// annotation and status field becomes in the engine's input.
import { describe, expect, it } from "vitest";
import { type ModelDeployment, parseModelDeployment } from "../api/index.ts";
import { manualRequests, rolloutConfig } from "./rollout-input.ts";

function md(spec: Record<string, unknown> = {}, annotations: Record<string, string> = {}): ModelDeployment {
  const parsed = parseModelDeployment({
    apiVersion: "modelship.dev/v1alpha1",
    kind: "ModelDeployment",
    metadata: { name: "rec", namespace: "shop", annotations },
    spec: { model: { name: "rec", version: "v1" }, runtime: { image: "registry.example/rec:1" }, ...spec },
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
}

describe("rolloutConfig: spec.rollout → the engine's config", () => {
  it("maps every field, durations in ms", () => {
    const c = rolloutConfig(
      md({
        rollout: {
          steps: [
            { setWeight: 10 },
            { pause: { duration: "1m30s" } },
            { pause: {} },
            { analysis: { successRate: 0.95 } },
          ],
          progressDeadlineSeconds: 120,
          scaleDownDelaySeconds: 7,
          revisionHistoryLimit: 0,
          traffic: { gatewayAPI: { parentRefs: [{ name: "gw" }] } },
        },
        runtime: { image: "registry.invalid/m:1", startupTimeoutSeconds: 900 },
      }),
      true,
    );
    expect(c).toEqual({
      steps: [
        { setWeight: 10 },
        { pause: { durationMs: 90_000 } },
        { pause: {} },
        { analysis: { successRate: 0.95 } },
      ],
      progressDeadlineMs: 120_000,
      startupBudgetMs: 900_000,
      scaleDownDelayMs: 7_000,
      traffic: "gatewayAPI",
      analysisConfigured: true,
      historyLimit: 0,
    });
  });

  it("carries shadow steps (duration in ms) and Traefik traffic to the engine", () => {
    const c = rolloutConfig(
      md({
        rollout: {
          steps: [
            { shadow: { percent: 25, duration: "5m" } },
            { shadow: { percent: 100 } },
            { setWeight: 10 },
          ],
          traffic: { traefik: { serviceName: "chat-front" } },
        },
      }),
      true,
    );
    expect(c.steps).toEqual([
      { shadow: { percent: 25, durationMs: 300_000 } },
      { shadow: { percent: 100 } },
      { setWeight: 10 },
    ]);
    expect(c.traffic).toBe("traefik");
  });

  it("defaults: no steps, replica-ratio traffic; without the prober no background analysis", () => {
    const c = rolloutConfig(md(), false);
    expect(c).toMatchObject({
      steps: [],
      traffic: "replicaRatio",
      analysisConfigured: false,
      historyLimit: 5,
    });
  });
});

describe("rolloutConfig: a step's agreement gate", () => {
  it("carries minAgreement and minAgreementSamples of an analysis step into the engine's step", () => {
    const c = rolloutConfig(
      md({
        rollout: {
          steps: [{ setWeight: 10 }, { analysis: { minAgreement: 0.99, minAgreementSamples: 40 } }],
          analysis: {
            agreement: { jsonPath: "$.outputs[0].data", compare: "Numeric", absoluteTolerance: 0.01 },
            minAgreement: 0.9,
          },
        },
        health: { inference: { path: "/v2/models/rec/infer" } },
      }),
      true,
    );
    expect(c.steps).toEqual([
      { setWeight: 10 },
      { analysis: { minAgreement: 0.99, minAgreementSamples: 40 } },
    ]);
  });
});

describe("manualRequests: annotations → requests", () => {
  it("carries each request id, and paused only for the exact value true", () => {
    const a = {
      "modelship.dev/promote": "p1",
      "modelship.dev/promote-full": "f1",
      "modelship.dev/abort": "a1",
      "modelship.dev/retry": "r1",
      "modelship.dev/paused": "true",
    };
    expect(manualRequests(md({}, a))).toEqual({
      promote: "p1",
      promoteFull: "f1",
      abort: "a1",
      retry: "r1",
      paused: true,
    });
    expect(manualRequests(md({}, { "modelship.dev/paused": "yes", "modelship.dev/promote": "" }))).toEqual({
      paused: false,
    });
  });
});
