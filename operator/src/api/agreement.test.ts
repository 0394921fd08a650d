// spec.rollout.analysis.agreement and the minAgreement gate as the schema takes them: every rule the
// CRD's CEL carries is also a zod refinement with the same words (e2e/agreement.e2e.test.ts checks
// the API server side).
import { describe, expect, it } from "vitest";
import { effectiveAnalysis, formatIssues, parseModelDeployment } from "./index.ts";

const INFER = { path: "/v2/models/recommender/infer", body: { inputs: [] } };
const agreement = { jsonPath: "$.outputs[0].data", compare: "Numeric", absoluteTolerance: 0.05 };

function parse(spec: Record<string, unknown>) {
  return parseModelDeployment({
    apiVersion: "modelship.dev/v1alpha1",
    kind: "ModelDeployment",
    metadata: { name: "rec", namespace: "shop" },
    spec: { model: { name: "rec", version: "v1" }, runtime: { image: "registry.example/rec:1" }, ...spec },
  });
}

function problems(spec: Record<string, unknown>): string {
  const r = parse(spec);
  return r.ok ? "" : formatIssues(r.issues);
}

describe("spec.rollout.analysis.agreement", () => {
  it("takes a comparison beside health.inference, with no defaults stored", () => {
    const r = parse({
      rollout: { analysis: { agreement, minAgreement: 0.95 } },
      health: { inference: INFER },
    });
    if (!r.ok) throw new Error(formatIssues(r.issues));
    expect(r.value.spec.rollout.analysis).toMatchObject({ agreement, minAgreement: 0.95 });
    expect(r.value.spec.rollout.analysis).not.toHaveProperty("minAgreementSamples");
    expect(r.value.spec.rollout.analysis.agreement).not.toHaveProperty("pairsPerInterval");
  });

  it("adds nothing to a spec that does not use it", () => {
    const r = parse({});
    if (!r.ok) throw new Error(formatIssues(r.issues));
    expect(Object.keys(r.value.spec.rollout.analysis).filter((k) => k.includes("greement"))).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      "minAgreement without agreement",
      { rollout: { analysis: { minAgreement: 0.9 } } },
      /minAgreement needs spec\.rollout\.analysis\.agreement/,
    ],
    [
      "a step's minAgreement without agreement",
      { rollout: { steps: [{ analysis: { minAgreement: 0.9 } }] } },
      /minAgreement needs spec\.rollout\.analysis\.agreement/,
    ],
    [
      "agreement with no request to send",
      { rollout: { analysis: { agreement } } },
      /agreement needs a request: set agreement\.request or health\.inference/,
    ],
    [
      "a tolerance outside Numeric",
      {
        rollout: { analysis: { agreement: { ...agreement, compare: "Exact" } } },
        health: { inference: INFER },
      },
      /absoluteTolerance and relativeTolerance need compare: Numeric/,
    ],
    [
      "minTokenOverlap outside Text",
      {
        rollout: { analysis: { agreement: { jsonPath: "$.x", compare: "Exact", minTokenOverlap: 0.5 } } },
        health: { inference: INFER },
      },
      /minTokenOverlap needs compare: Text/,
    ],
    [
      "a JSON path with a filter",
      {
        rollout: {
          analysis: { agreement: { jsonPath: "$.outputs[?(@.name=='p')].data", compare: "Exact" } },
        },
        health: { inference: INFER },
      },
      /jsonPath.*path of names and array indexes/,
    ],
    [
      "more than 10 pairs per interval",
      {
        rollout: { analysis: { agreement: { ...agreement, pairsPerInterval: 11 } } },
        health: { inference: INFER },
      },
      /pairsPerInterval/,
    ],
    [
      "minAgreement above 1",
      { rollout: { analysis: { agreement, minAgreement: 1.5 } }, health: { inference: INFER } },
      /minAgreement/,
    ],
  ])("rejects %s, naming it", (_name, spec, message) => {
    expect(problems(spec)).toMatch(message);
  });

  it("accepts its own request instead of health.inference, and JSON paths with or without $", () => {
    for (const jsonPath of ["$.choices[0].message.content", "choices.0.message.content", "outputs"]) {
      expect(
        problems({
          rollout: {
            analysis: {
              agreement: {
                jsonPath,
                compare: "Text",
                minTokenOverlap: 0.8,
                request: { path: "/v1/chat/completions", body: { temperature: 0, seed: 7 } },
              },
            },
          },
        }),
      ).toBe("");
    }
  });

  it("a step's minAgreement and minAgreementSamples override spec.rollout.analysis for that step", () => {
    const r = parse({
      rollout: {
        steps: [{ setWeight: 20 }, { analysis: { minAgreement: 0.99, minAgreementSamples: 50 } }],
        analysis: { agreement, minAgreement: 0.9 },
      },
      health: { inference: INFER },
    });
    if (!r.ok) throw new Error(formatIssues(r.issues));
    const rollout = r.value.spec.rollout;
    expect(effectiveAnalysis(rollout, rollout.steps[1])).toMatchObject({
      agreement,
      minAgreement: 0.99,
      minAgreementSamples: 50,
    });
    expect(effectiveAnalysis(rollout, rollout.steps[0])).toMatchObject({ minAgreement: 0.9 });
  });
});
