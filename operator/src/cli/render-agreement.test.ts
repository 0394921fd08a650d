// The status view's agreement line: the canary's rate, the gate, and the last disagreeing pair.
import { describe, expect, it } from "vitest";
import { renderStatus } from "./render-status.ts";
import { PLAIN } from "./style.ts";
import { CANARY_REV, canaryMidStep, deployment, NOW, STABLE_REV } from "./testing.ts";
import { toModelDeploymentView, toRevisionPods } from "./view.ts";

function render(raw: unknown): string {
  const md = toModelDeploymentView(raw, "default");
  const deployments = toRevisionPods([deployment(STABLE_REV, 3, 3), deployment(CANARY_REV, 1, 1)], md.uid);
  return renderStatus({ md, deployments, now: NOW, style: PLAIN }).join("\n");
}

function withAgreement(analysis: Record<string, unknown>) {
  const raw = canaryMidStep();
  const spec = raw.spec as Record<string, unknown> & { rollout: Record<string, unknown> };
  const agreement = { jsonPath: "$.outputs[0].data", compare: "Numeric", absoluteTolerance: 0.05 };
  Object.assign(raw, {
    spec: {
      ...spec,
      rollout: { ...spec.rollout, analysis: { agreement, ...analysis } },
      health: { inference: { path: "/v2/models/recommender/infer" } },
    },
  });
  Object.assign(raw.status.health.canary, {
    agreementRate: 0.75,
    agreementSamples: 12,
    lastDisagreement:
      "at $.outputs[0].data stable pod a answered [0.31], canary pod b answered [0.51] ([0] differs by 0.2 (tolerance 0.05))",
  });
  return raw;
}

describe("renderStatus: output agreement", () => {
  it("shows the canary's agreement, the gate and the last disagreeing pair", () => {
    const text = render(withAgreement({ minAgreement: 0.9 }));
    expect(text).toContain(
      `Agreement:  canary ${CANARY_REV} vs stable: 75.0% of 12 pairs agree (needs ≥ 90.0% over 10 pairs)`,
    );
    expect(text).toContain(
      "  last disagreement: at $.outputs[0].data stable pod a answered [0.31], canary pod b answered [0.51]",
    );
  });

  it("says when agreement is only measured", () => {
    expect(render(withAgreement({}))).toContain("(measured, not gated: no minAgreement)");
  });

  it("shows nothing without agreement numbers", () => {
    expect(render(canaryMidStep())).not.toContain("Agreement:");
  });
});
