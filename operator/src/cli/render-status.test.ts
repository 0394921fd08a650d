import { describe, expect, it } from "vitest";
import { renderStatus } from "./render-status.ts";
import { ANSI, PLAIN } from "./style.ts";
import { ago, CANARY_REV, canaryMidStep, deployment, HISTORY, NOW, STABLE_REV } from "./testing.ts";
import { toModelDeploymentView, toRevisionPods } from "./view.ts";

function render(raw: unknown, deployments: unknown[] = [], style = PLAIN): string {
  const md = toModelDeploymentView(raw, "default");
  return renderStatus({ md, deployments: toRevisionPods(deployments, md.uid), now: NOW, style }).join("\n");
}

describe("renderStatus", () => {
  it("shows a brand-new object that has no status yet", () => {
    const md = toModelDeploymentView(
      {
        apiVersion: "modelship.dev/v1alpha1",
        kind: "ModelDeployment",
        metadata: { name: "fresh", namespace: "shop", generation: 1 },
        spec: { model: { name: "recommender", version: "v1" }, runtime: { image: "x:1" } },
      },
      "shop",
    );
    const text = renderStatus({ md, deployments: [], now: NOW, style: PLAIN }).join("\n");
    expect(text).toContain("ModelDeployment shop/fresh");
  });

  it("shows a canary mid-step: steps with the current one marked, time left, weights and pods per revision", () => {
    const text = render(canaryMidStep(), [deployment(STABLE_REV, 3, 3), deployment(CANARY_REV, 1, 1)]);
    expect(text).toContain("ModelDeployment shop/recommender  Progressing");
    expect(text).toContain("Model:      recommender 2026-11-01");
    expect(text).toContain("Steps:      step 2/4, canary weight 10%");
    expect(text).toContain("  ✓ 1. setWeight 10%");
    expect(text).toContain("  ▶ 2. pause 2m  1m13s left");
    expect(text).toContain("    3. setWeight 50%");
    expect(text).toContain("    4. pause until promoted");
    expect(text).toMatch(
      new RegExp(
        `${STABLE_REV}\\s+stable\\s+2026-10-01\\s+3/3\\s+90%\\s+registry.example/recsys-server:1.4.1`,
      ),
    );
    expect(text).toMatch(new RegExp(`${CANARY_REV}\\s+canary\\s+2026-11-01\\s+1/1\\s+10%`));
    expect(text).toMatch(
      /canary\s+\S+\s+Pass\s+99\.8%\s+14ms\s+61ms\s+412\s+2s ago\s+pod recommender-x: HTTP 503/,
    );
    expect(text).toMatch(/Progressing\s+True\s+StepInProgress\s+5m\s+step 2\/4: pause 2m/);
    // A handled request id (status.bookkeeping.handledRequests) is not reported as pending.
    expect(text).not.toContain("Request:");
    expect(text).not.toContain("\x1b[");
  });

  it("shows each check of the probe per revision when status.health has them", () => {
    const raw = canaryMidStep();
    expect(render(raw)).not.toContain("Checks:");
    Object.assign(raw.status.health.canary, {
      checks: [
        { name: "GET /v2/health/ready", samples: 412, successRate: 1 },
        {
          name: "model-metadata",
          samples: 412,
          successRate: 0.998,
          lastError: "pod recommender-x: HTTP 503",
        },
        { name: "inference", samples: 411 },
      ],
    });
    const text = render(raw);
    expect(text).toContain("Checks:");
    expect(text).toMatch(/canary\s+GET \/v2\/health\/ready\s+100%\s+412\s+-/);
    expect(text).toMatch(/canary\s+model-metadata\s+99\.8%\s+412\s+pod recommender-x: HTTP 503/);
    expect(text).toMatch(/canary\s+inference\s+-\s+411\s+-/);
  });

  it("shows a paused rollout: who paused it, the stopped clock, and a request not yet handled", () => {
    const raw = canaryMidStep({
      annotations: { "modelship.dev/paused": "true", "modelship.dev/promote": "2026-11-02T09:59:59.000Z" },
    });
    raw.status.phase = "Paused";
    Object.assign(raw.status, { pauseStartTime: ago(30_000) });
    const text = render(raw);
    expect(text).toContain("ModelDeployment shop/recommender  Paused");
    expect(text).toContain(
      "Paused:     by modelship.dev/paused=true, held for 30s; resume: kubectl modelship resume recommender",
    );
    // The step began 47 s ago and was held for the last 30 s: 17 s of the 2 m have run.
    expect(text).toContain("▶ 2. pause 2m  1m43s left (clock stopped while paused)");
    expect(text).toContain(
      "Request:    modelship.dev/promote=2026-11-02T09:59:59.000Z not handled by the operator yet",
    );
    expect(text).toContain("no pods");
  });

  it("shows the mirror in force beside the steps, and a shadow step's time left", () => {
    const raw = canaryMidStep();
    expect(render(raw)).not.toContain("Shadow:");
    const steps = [{ setWeight: 0 }, { shadow: { percent: 20, duration: "2m" } }, { setWeight: 50 }];
    Object.assign(raw, { spec: { ...raw.spec, rollout: { steps, traffic: { traefik: {} } } } });
    expect(render(raw)).toContain("▶ 2. shadow 20% for 2m  waiting for Ready canary pods to mirror to");
    Object.assign(raw.status, { shadow: { percent: 20 } });
    const text = render(raw);
    expect(text).toContain(
      `Shadow:     20% of live requests mirrored to canary ${CANARY_REV} (answers discarded)`,
    );
    expect(text).toContain("▶ 2. shadow 20% for 2m  mirroring, 1m13s left");
  });

  it("shows the header route in force beside the steps", () => {
    const raw = canaryMidStep();
    Object.assign(raw.status, {
      headerRoute: {
        matches: [
          { headers: [{ name: "x-canary", value: "1", type: "Exact" }] },
          { headers: [{ name: "x-tenant", value: "^team-a", type: "RegularExpression" }] },
        ],
      },
    });
    expect(render(raw)).toContain(
      `Headers:    requests with x-canary: 1, or x-tenant ~ ^team-a → canary ${CANARY_REV}`,
    );
    expect(render(canaryMidStep())).not.toContain("Headers:");
  });

  it("tells the user to promote at an indefinite pause", () => {
    const raw = canaryMidStep();
    raw.status.currentStepIndex = 3;
    raw.status.canaryWeight = 50;
    expect(render(raw)).toContain(
      "▶ 4. pause until promoted  waiting: kubectl modelship promote recommender",
    );
  });

  it("shows a degraded rollout: the rejected revision with its reason, the withdrawal and the drain", () => {
    const raw = canaryMidStep();
    const reason = "AnalysisFailed";
    const message = "canary failed analysis: successRate 0.62 (limit 0.99, failed, n=50)";
    Object.assign(raw.status, {
      phase: "Degraded",
      message: `${reason}: ${message}; rolling back to stable`,
      canaryRevision: undefined,
      currentStepIndex: 0,
      canaryWeight: 0,
      rejectedRevision: CANARY_REV,
      history: [
        {
          revision: CANARY_REV,
          modelVersion: "2026-11-01",
          image: "registry.example/recsys-server:1.4.2",
          outcome: "Aborted",
          reason,
          message,
          time: ago(10_000),
        },
        ...HISTORY,
      ],
      conditions: [
        {
          type: "Degraded",
          status: "True",
          reason,
          message,
          lastTransitionTime: ago(10_000),
        },
      ],
    });
    Object.assign(raw.status, {
      canaryRevision: undefined,
      canaryWeight: 0,
      rejectedRevision: CANARY_REV,
      bookkeeping: {
        rejection: { reason, message, at: ago(10_000) },
        pendingScaleDowns: [{ revision: CANARY_REV, at: new Date(NOW + 20_000).toISOString(), replicas: 1 }],
      },
    });
    raw.status.health.canary.verdict = "Fail";
    raw.status.health.canary.successRate = 0.62;
    const text = render(raw, [deployment(STABLE_REV, 3, 3), deployment(CANARY_REV, 1, 1)]);
    expect(text).toContain("ModelDeployment shop/recommender  Degraded");
    expect(text).toContain(`Rejected:   ${CANARY_REV} (${reason}: ${message})`);
    expect(text).toContain("kubectl modelship retry recommender");
    expect(text).toContain("Steps:      no rollout in progress; 4 configured");
    expect(text).toMatch(
      new RegExp(`${CANARY_REV}\\s+draining\\s+2026-11-01\\s+1/1\\s+0%.*removed at 2026-11-02T10:00:20Z`),
    );
    expect(text).toMatch(/canary\s+\S+\s+Fail\s+62\.0%/);
    expect(text).toMatch(/Degraded\s+True\s+AnalysisFailed\s+10s/);
  });

  it("names a spec the schema rejects and an unobserved generation instead of failing", () => {
    const raw = canaryMidStep();
    Object.assign(raw, { spec: { ...raw.spec, replicas: -1 } });
    Object.assign(raw.metadata, { generation: 5 });
    const text = render(raw);
    expect(text).toContain("Spec:       does not parse: replicas:");
    expect(text).toContain("Generation: 5; the operator has seen up to generation 4");
  });

  it("colours only when given a colour style", () => {
    const text = render(canaryMidStep(), [], ANSI);
    expect(text).toContain("\x1b[36mProgressing\x1b[39m");
    expect(text.split("\n")[0]).toContain("\x1b[1m");
  });
});

describe("toRevisionPods", () => {
  it("keeps Deployments owned by this ModelDeployment and reads their replica counts", () => {
    const pods = toRevisionPods(
      [deployment(STABLE_REV, 3, 2), deployment("leftover", 1, 1, "someone-else"), { metadata: {} }],
      "uid-1",
    );
    expect(pods).toEqual([
      {
        deployment: `recommender-${STABLE_REV}`,
        revision: STABLE_REV,
        desired: 3,
        ready: 2,
        available: 2,
        updated: 3,
      },
    ]);
  });
});
