import { describe, expect, it } from "vitest";
import type { HeaderRoute } from "../api/header-route.ts";
import { decideRollout } from "./decide.ts";
import {
  A,
  applied,
  at,
  B,
  C,
  canaryOfB,
  fail,
  inconclusive,
  input,
  MIN,
  obs,
  pass,
  replicasOf,
  SEC,
  settle,
  settledOnA,
} from "./testing.ts";
import type { PlannedStep, RevisionObservation, RevisionVerdict } from "./types.ts";

const STEPS: PlannedStep[] = [
  { setWeight: 25 },
  { pause: { durationMs: 2 * MIN } },
  { setWeight: 50 },
  { pause: {} },
  { analysis: {} },
];

describe("first deployment", () => {
  it("brings the revision up at full size, pinned, and makes it stable once Ready and not failing", () => {
    const d1 = decideRollout(input({ desiredRevision: A }));
    expect(d1.revisions).toEqual([{ revision: A, replicas: 4, role: "canary" }]);
    expect(d1.traffic).toEqual({ mode: "replicaRatio", serviceSelector: { revision: A } });
    expect(d1.phase).toBe("Progressing");
    expect(d1.events.map((e) => e.reason)).toEqual(["FirstDeployment"]);
    expect(d1.requeueAfterMs).toBe(10 * MIN);

    const d2 = decideRollout(
      input({
        desiredRevision: A,
        state: d1.state,
        observed: [obs(A, 4)],
        now: d1.state.stepStartedAt ? Date.parse(d1.state.stepStartedAt) + 5 * SEC : 0,
      }),
    );
    expect(d2.state.stableRevision).toBe(A);
    expect(d2.state.canaryRevision).toBeUndefined();
    expect(d2.phase).toBe("Healthy");
    expect(d2.state.history[0]).toMatchObject({
      revision: A,
      outcome: "Promoted",
      reason: "FirstDeployment",
    });
    expect(d2.revisions).toEqual([{ revision: A, replicas: 4, role: "stable" }]);
  });

  it("skips the steps for the very first revision", () => {
    const d = decideRollout(input({ desiredRevision: A, observed: [obs(A, 4)], rollout: { steps: STEPS } }));
    expect(d.state.stableRevision).toBe(A);
    expect(d.phase).toBe("Healthy");
  });

  it("does not become stable while its verdict is Fail", () => {
    const d = decideRollout(input({ desiredRevision: A, observed: [obs(A, 4)], health: { [A]: fail() } }));
    expect(d.state.stableRevision).toBeUndefined();
    expect(d.message).toContain("health");
  });

  it.each([
    {
      name: "a crash loop makes it Degraded at once",
      failure: { reason: "CrashLoopBackOff", message: "back-off 5m" },
      now: 0,
      reason: "CrashLoopBackOff",
    },
    {
      name: "unschedulable pods wait for the deadline (a node may be added)",
      failure: { reason: "Unschedulable", message: "0/3 nodes" },
      now: 1 * MIN,
      reason: undefined,
    },
    {
      name: "past the deadline it is Degraded with the reason",
      failure: undefined,
      now: 11 * MIN,
      reason: "ProgressDeadlineExceeded",
    },
  ])("$name, but keeps it (nothing to roll back to)", ({ failure, now, reason }) => {
    const d = decideRollout(
      input({
        desiredRevision: A,
        state: { canaryRevision: A, stepIndex: 0, stepStartedAt: at(0), canaryWeight: 0 },
        observed: [obs(A, 4, 0, failure)],
        now: Date.parse(at(now)),
      }),
    );
    expect(d.revisions).toEqual([{ revision: A, replicas: 4, role: "canary" }]);
    expect(d.state.rejected).toBeUndefined();
    expect(d.phase).toBe(reason === undefined ? "Progressing" : "Degraded");
    if (reason !== undefined)
      expect(d.conditions.find((c) => c.type === "Degraded")).toMatchObject({ status: "True", reason });
  });

  it("a new spec before the first revision is Ready replaces it at once", () => {
    const d = decideRollout(
      input({
        desiredRevision: B,
        state: { canaryRevision: A, stepIndex: 0, stepStartedAt: at(0), canaryWeight: 0 },
        observed: [obs(A, 4, 0)],
      }),
    );
    expect(d.revisions).toEqual([{ revision: B, replicas: 4, role: "canary" }]);
    expect(d.state.history[0]).toMatchObject({ revision: A, outcome: "Superseded" });
  });
});

describe("canary steps, replica ratio", () => {
  const steps = STEPS;
  it.each([
    {
      name: "a new revision starts as a canary at step 0, pinned to stable until its pods are Ready",
      state: settledOnA(),
      observed: [obs(A, 4)],
      want: {
        stepIndex: 0,
        weight: 0,
        stable: 4,
        canary: 1,
        selector: A,
        phase: "Progressing",
        events: ["CanaryStarted"],
      },
    },
    {
      name: "setWeight is reached when the canary's share is Ready: stable shrinks, Service selects both",
      state: canaryOfB(),
      observed: [obs(A, 4), obs(B, 1)],
      want: {
        stepIndex: 1,
        weight: 25,
        stable: 3,
        canary: 1,
        selector: undefined,
        phase: "Progressing",
        events: ["StepCompleted"],
      },
    },
    {
      name: "setWeight waits while the canary is not Ready: stable keeps its capacity",
      state: canaryOfB({ stepIndex: 2, canaryWeight: 25 }),
      observed: [obs(A, 3), obs(B, 2, 1)],
      want: {
        stepIndex: 2,
        weight: 25,
        stable: 3,
        canary: 2,
        selector: undefined,
        phase: "Progressing",
        events: [],
      },
    },
    {
      name: "a timed pause holds the weight",
      state: canaryOfB({ stepIndex: 1, canaryWeight: 25 }),
      observed: [obs(A, 3), obs(B, 1)],
      want: {
        stepIndex: 1,
        weight: 25,
        stable: 3,
        canary: 1,
        selector: undefined,
        phase: "Progressing",
        events: [],
      },
    },
    {
      name: "a pause without duration waits for a person: phase Paused",
      state: canaryOfB({ stepIndex: 3, canaryWeight: 50 }),
      observed: [obs(A, 2), obs(B, 2)],
      want: {
        stepIndex: 3,
        weight: 50,
        stable: 2,
        canary: 2,
        selector: undefined,
        phase: "Paused",
        events: [],
      },
    },
    {
      name: "after the last step the canary scales to full before anything else changes",
      state: canaryOfB({ stepIndex: 5, canaryWeight: 50 }),
      observed: [obs(A, 2), obs(B, 2)],
      want: {
        stepIndex: 5,
        weight: 50,
        stable: 2,
        canary: 4,
        selector: undefined,
        phase: "Progressing",
        events: [],
      },
    },
  ])("$name", ({ state, observed, want }) => {
    const d = decideRollout(input({ state, observed, rollout: { steps } }));
    expect(d.state.stepIndex).toBe(want.stepIndex);
    expect(d.canaryWeight).toBe(want.weight);
    expect(replicasOf(d, A)).toBe(want.stable);
    expect(replicasOf(d, B)).toBe(want.canary);
    expect(d.traffic).toEqual({
      mode: "replicaRatio",
      serviceSelector: want.selector === undefined ? {} : { revision: want.selector },
    });
    expect(d.phase).toBe(want.phase);
    expect(d.events.map((e) => e.reason)).toEqual(want.events);
  });

  it("a timed pause requeues for the time left and ends by itself", () => {
    const state = canaryOfB({ stepIndex: 1, canaryWeight: 25 });
    const during = decideRollout(
      input({ state, observed: [obs(A, 3), obs(B, 1)], rollout: { steps }, now: Date.parse(at(72 * SEC)) }),
    );
    expect(during.requeueAfterMs).toBe(48 * SEC);
    expect(during.message).toBe("canary bbbb222 at 25%, step 2/5, paused 1m12s of 2m");
    const after = decideRollout(
      input({ state, observed: [obs(A, 3), obs(B, 1)], rollout: { steps }, now: Date.parse(at(2 * MIN)) }),
    );
    expect(after.state.stepIndex).toBe(2);
    expect(after.state.stepStartedAt).toBe(at(2 * MIN));
    expect(replicasOf(after, B)).toBe(2);
  });

  it("an analysis step waits on Inconclusive (never passes) and continues on Pass", () => {
    const state = canaryOfB({ stepIndex: 4, canaryWeight: 50 });
    const observed = [obs(A, 2), obs(B, 2)];
    const waiting = decideRollout(
      input({ state, observed, rollout: { steps }, health: { [B]: inconclusive() } }),
    );
    expect(waiting.state.stepIndex).toBe(4);
    expect(waiting.message).toContain("3 of 20 samples needed");
    const passed = decideRollout(
      input({ state, observed, rollout: { steps }, health: { [B]: pass("412 probes, 99.8% ok") } }),
    );
    expect(passed.state.stepIndex).toBe(5);
    expect(passed.events[0]?.message).toContain("412 probes, 99.8% ok");
  });

  it("promotion: the canary becomes stable without restarting; the old stable drains for scaleDownDelay", () => {
    const state = canaryOfB({ stepIndex: 5, canaryWeight: 50 });
    const d = decideRollout(
      input({ state, observed: [obs(A, 0, 0), obs(B, 4)], rollout: { steps }, now: Date.parse(at(5 * MIN)) }),
    );
    expect(d.state.stableRevision).toBe(B);
    expect(d.state.stableModelVersion).toBe("v2");
    expect(d.state.canaryRevision).toBeUndefined();
    expect(d.traffic).toEqual({ mode: "replicaRatio", serviceSelector: { revision: B } });
    expect(d.revisions).toEqual([
      { revision: B, replicas: 4, role: "stable" },
      { revision: A, replicas: 0, role: "draining" },
    ]);
    expect(d.state.pendingScaleDowns).toEqual([{ revision: A, at: at(5 * MIN + 30 * SEC), replicas: 0 }]);
    expect(d.state.history.map((h) => [h.revision, h.outcome])).toEqual([
      [B, "Promoted"],
      [A, "Superseded"],
    ]);
    expect(d.phase).toBe("Healthy");
    expect(d.requeueAfterMs).toBe(30 * SEC);
  });

  it("walks the whole step list to promotion when the cluster keeps up (promote at the indefinite pause)", () => {
    const start = input({
      state: settledOnA(),
      observed: [obs(A, 4)],
      health: { [B]: pass() },
      rollout: { steps },
    });
    let { decision, input: last } = settle(start, 4);
    expect(decision.state.stepIndex).toBe(1);
    ({ decision, input: last } = settle({ ...last, state: decision.state, now: last.now + 2 * MIN }, 4));
    expect(decision.state.stepIndex).toBe(3);
    expect(decision.phase).toBe("Paused");
    ({ decision } = settle(
      { ...last, state: decision.state, requests: { paused: false, promote: "p1" } },
      4,
    ));
    expect(decision.state.stableRevision).toBe(B);
    expect(decision.phase).toBe("Healthy");
  });
});

describe("weights 0 and 100", () => {
  it("setWeight 0 is a dark canary: one pod for the prober, no traffic, Service pinned to stable", () => {
    const d = decideRollout(
      input({
        state: canaryOfB(),
        observed: [obs(A, 4), obs(B, 1)],
        rollout: { steps: [{ setWeight: 0 }, { analysis: {} }] },
        health: { [B]: inconclusive() },
      }),
    );
    expect(d.state.stepIndex).toBe(1);
    expect(d.canaryWeight).toBe(0);
    expect(replicasOf(d, B)).toBe(1);
    expect(replicasOf(d, A)).toBe(4);
    expect(d.traffic).toEqual({ mode: "replicaRatio", serviceSelector: { revision: A } });
  });

  it("setWeight 100 (replica ratio) moves all traffic to the canary before promotion, stable last", () => {
    const steps: PlannedStep[] = [{ setWeight: 100 }, { pause: {} }];
    const rising = decideRollout(
      input({ state: canaryOfB(), observed: [obs(A, 4), obs(B, 4, 3)], rollout: { steps } }),
    );
    expect(rising.canaryWeight).toBe(0);
    expect(replicasOf(rising, B)).toBe(4);
    expect(replicasOf(rising, A)).toBe(4);
    const reached = decideRollout(
      input({
        state: canaryOfB({ canaryWeight: 100 }),
        observed: [obs(A, 1), obs(B, 4)],
        rollout: { steps },
      }),
    );
    expect(reached.state.stepIndex).toBe(1);
    expect(replicasOf(reached, A)).toBe(0);
    expect(reached.revisions.find((r) => r.revision === A)).toBeDefined();
    expect(reached.state.stableRevision).toBe(A);
  });

  it("setWeight 100 (gateway) routes 100% to the canary while stable keeps full capacity", () => {
    const d = decideRollout(
      input({
        state: canaryOfB(),
        observed: [obs(A, 4), obs(B, 4)],
        rollout: { steps: [{ setWeight: 100 }, { pause: {} }], traffic: "gatewayAPI" },
      }),
    );
    expect(d.traffic).toEqual({
      mode: "gatewayAPI",
      stableRevision: A,
      canaryRevision: B,
      weights: { stable: 0, canary: 100 },
    });
    expect(replicasOf(d, A)).toBe(4);
  });
});

describe("gateway API", () => {
  const rollout = {
    steps: [{ setWeight: 10 }, { setWeight: 60 }, { setWeight: 20 }, { pause: {} }] as PlannedStep[],
    traffic: "gatewayAPI" as const,
  };
  it.each([
    {
      name: "stable keeps full capacity; canary is ceil(10% of 4) = 1; the route waits for its Ready pod",
      state: canaryOfB(),
      observed: [obs(A, 4), obs(B, 1, 0)],
      want: { stepIndex: 0, weights: { stable: 100, canary: 0 }, stable: 4, canary: 1, requeue: 10 * MIN },
    },
    {
      name: "the route moves to 10% once the canary pod is Ready",
      state: canaryOfB(),
      observed: [obs(A, 4), obs(B, 1)],
      want: { stepIndex: 1, weights: { stable: 90, canary: 10 }, stable: 4, canary: 3, requeue: 10 * MIN },
    },
    {
      name: "lowering the weight moves the route now and shrinks the canary one reconcile later",
      state: canaryOfB({ stepIndex: 2, canaryWeight: 60 }),
      observed: [obs(A, 4), obs(B, 3)],
      want: { stepIndex: 3, weights: { stable: 80, canary: 20 }, stable: 4, canary: 3, requeue: 1 * SEC },
    },
  ])("$name", ({ state, observed, want }) => {
    const d = decideRollout(input({ state, observed, rollout }));
    expect(d.state.stepIndex).toBe(want.stepIndex);
    expect(d.traffic).toMatchObject({
      mode: "gatewayAPI",
      stableRevision: A,
      canaryRevision: B,
      weights: want.weights,
    });
    expect(replicasOf(d, A)).toBe(want.stable);
    expect(replicasOf(d, B)).toBe(want.canary);
    expect(d.requeueAfterMs).toBe(want.requeue);
  });

  describe("header route", () => {
    const route: HeaderRoute = {
      matches: [{ headers: [{ name: "x-canary", value: "always", type: "Exact" }] }],
    };
    const steps: PlannedStep[] = [{ headerRoute: route }, { pause: {} }, { setWeight: 50 }, { pause: {} }];
    const withRoute = { steps, traffic: "gatewayAPI" as const };

    it("waits for a Ready canary pod, then sends matching requests to the canary at 0% weight", () => {
      const waiting = decideRollout(
        input({ state: canaryOfB(), observed: [obs(A, 4), obs(B, 1, 0)], rollout: withRoute }),
      );
      expect(waiting.state.headerRoute).toBeUndefined();
      expect(waiting.traffic).not.toHaveProperty("headerRoute");
      const d = decideRollout(
        input({ state: canaryOfB(), observed: [obs(A, 4), obs(B, 1)], rollout: withRoute }),
      );
      expect(d.state.stepIndex).toBe(1);
      expect(d.state.headerRoute).toEqual(route);
      expect(d.traffic).toMatchObject({
        weights: { stable: 100, canary: 0 },
        canaryRevision: B,
        headerRoute: route,
      });
      expect(d.message).toContain("requests with x-canary: always");
      expect(d.events.map((e) => e.message).join("\n")).toContain(
        "requests with x-canary: always go to canary bbbb222",
      );
    });

    it("stays in force through later steps and goes at promotion", () => {
      const during = decideRollout(
        input({
          state: canaryOfB({ stepIndex: 3, canaryWeight: 50, headerRoute: route }),
          observed: [obs(A, 4), obs(B, 2)],
          rollout: withRoute,
        }),
      );
      expect(during.traffic).toMatchObject({ headerRoute: route });
      const promoted = decideRollout(
        input({
          state: canaryOfB({ stepIndex: 3, canaryWeight: 50, headerRoute: route }),
          observed: [obs(A, 4), obs(B, 4)],
          rollout: withRoute,
          requests: { promote: "p1" },
        }),
      );
      expect(promoted.state.stableRevision).toBe(B);
      expect(promoted.state.headerRoute).toBeUndefined();
      expect(promoted.traffic).not.toHaveProperty("headerRoute");
    });

    it("goes at once when the canary is aborted", () => {
      const d = decideRollout(
        input({
          state: canaryOfB({ stepIndex: 1, headerRoute: route }),
          observed: [obs(A, 4), obs(B, 1)],
          rollout: withRoute,
          requests: { abort: "a1" },
        }),
      );
      expect(d.state.rejected?.revision).toBe(B);
      expect(d.state.headerRoute).toBeUndefined();
      expect(d.traffic).not.toHaveProperty("headerRoute");
    });

    it("a step with no matches removes it", () => {
      const d = decideRollout(
        input({
          state: canaryOfB({ headerRoute: route }),
          observed: [obs(A, 4), obs(B, 1)],
          rollout: { steps: [{ headerRoute: { matches: [] } }, { pause: {} }], traffic: "gatewayAPI" },
        }),
      );
      expect(d.state.stepIndex).toBe(1);
      expect(d.state.headerRoute).toBeUndefined();
    });
  });

  it("after a weight cut the canary shrinks on the next reconcile", () => {
    const d = decideRollout(
      input({
        state: canaryOfB({ stepIndex: 3, canaryWeight: 20 }),
        observed: [obs(A, 4), obs(B, 3)],
        rollout,
      }),
    );
    expect(replicasOf(d, B)).toBe(1);
  });

  it("promotion re-points -stable to the canary at 100/0 and keeps the old stable for the drain", () => {
    const d = decideRollout(
      input({
        state: canaryOfB({ stepIndex: 4, canaryWeight: 20 }),
        observed: [obs(A, 4), obs(B, 4)],
        rollout,
      }),
    );
    expect(d.traffic).toEqual({ mode: "gatewayAPI", stableRevision: B, weights: { stable: 100, canary: 0 } });
    expect(d.revisions).toEqual([
      { revision: B, replicas: 4, role: "stable" },
      { revision: A, replicas: 4, role: "draining" },
    ]);
  });
});

describe("autoscaling: the total changes mid-canary", () => {
  it.each([
    {
      name: "replica ratio: HPA 4 → 8 at 25%",
      traffic: "replicaRatio" as const,
      observed: [obs(A, 3), obs(B, 1)],
      want: { stable: 7, canary: 2, weight: 25 },
    },
    {
      name: "replica ratio: canary Ready at the new size, stable follows the split",
      traffic: "replicaRatio" as const,
      observed: [obs(A, 7), obs(B, 2)],
      want: { stable: 6, canary: 2, weight: 25 },
    },
    {
      name: "gateway: stable is the new total (not max), canary ceil(25% of 8)",
      traffic: "gatewayAPI" as const,
      observed: [obs(A, 4), obs(B, 1)],
      want: { stable: 8, canary: 2, weight: 25 },
    },
  ])("$name", ({ traffic, observed, want }) => {
    const d = decideRollout(
      input({
        state: canaryOfB({ stepIndex: 1, canaryWeight: 25 }),
        observed,
        totalReplicas: 8,
        rollout: { steps: STEPS, traffic },
      }),
    );
    expect(replicasOf(d, A)).toBe(want.stable);
    expect(replicasOf(d, B)).toBe(want.canary);
    expect(d.canaryWeight).toBe(want.weight);
  });
});

describe("abort", () => {
  const rollout = { steps: STEPS };
  it.each([
    {
      name: "manual abort",
      requests: { abort: "a1" },
      health: {},
      failure: undefined,
      reason: "ManualAbort",
    },
    {
      name: "failed health verdict (background analysis)",
      requests: {},
      health: { [B]: fail() },
      failure: undefined,
      reason: "AnalysisFailed",
    },
    {
      name: "crash-looping canary",
      requests: {},
      health: {},
      failure: { reason: "CrashLoopBackOff", message: "back-off 40s restarting failed container" },
      reason: "CrashLoopBackOff",
    },
    {
      name: "image pull failure",
      requests: {},
      health: {},
      failure: { reason: "ImagePullBackOff", message: "manifest unknown" },
      reason: "ImagePullBackOff",
    },
    {
      name: "quota exceeded",
      requests: {},
      health: {},
      failure: { reason: "QuotaExceeded", message: "exceeded quota: gpu" },
      reason: "QuotaExceeded",
    },
  ])(
    "$name: rejects the canary, history and a Warning event carry the evidence",
    ({ requests, health, failure, reason }) => {
      const d = decideRollout(
        input({
          state: canaryOfB({ stepIndex: 1, canaryWeight: 25 }),
          observed: [obs(A, 3), obs(B, 1, 1, failure)],
          requests,
          health: health as Record<string, RevisionVerdict>,
          rollout,
        }),
      );
      expect(d.state.rejected).toMatchObject({ revision: B, reason });
      expect(d.state.history[0]).toMatchObject({ revision: B, outcome: "Aborted", reason });
      expect(d.events[0]).toMatchObject({ type: "Warning", reason: "RolloutAborted" });
      expect(d.events[0]?.message).toContain(reason);
      expect(d.phase).toBe("Degraded");
      expect(d.conditions.find((c) => c.type === "Degraded")).toMatchObject({ status: "True", reason });
      if (reason === "AnalysisFailed")
        expect(d.events[0]?.message).toContain("successRate 0.8 (limit 0.99, failed, n=40)");
    },
  );

  it("waits for stable to be Ready at full size before moving traffic, then drains the canary", () => {
    const state = canaryOfB({ stepIndex: 3, canaryWeight: 50 });
    const first = decideRollout(
      input({
        state,
        observed: [obs(A, 2), obs(B, 2)],
        requests: { abort: "a1" },
        rollout: { ...rollout, abortScaleDownDelayMs: 10 * SEC },
      }),
    );
    expect(replicasOf(first, A)).toBe(4);
    expect(replicasOf(first, B)).toBe(2);
    expect(first.traffic).toEqual({ mode: "replicaRatio", serviceSelector: {} });
    expect(first.phase).toBe("Degraded");
    expect(first.message).toContain("stable aaaa111 2/4 ready");

    const stillScaling = decideRollout(
      input({
        state: first.state,
        observed: [obs(A, 4, 3), obs(B, 2)],
        requests: { abort: "a1" },
        rollout,
        now: Date.parse(at(5 * SEC)),
      }),
    );
    expect(stillScaling.traffic).toEqual({ mode: "replicaRatio", serviceSelector: {} });
    expect(replicasOf(stillScaling, B)).toBe(2);
    expect(stillScaling.events).toEqual([]);

    const ready = decideRollout(
      input({
        state: first.state,
        observed: [obs(A, 4), obs(B, 2)],
        requests: { abort: "a1" },
        rollout: { ...rollout, abortScaleDownDelayMs: 10 * SEC },
        now: Date.parse(at(20 * SEC)),
      }),
    );
    expect(ready.traffic).toEqual({ mode: "replicaRatio", serviceSelector: { revision: A } });
    expect(ready.revisions).toEqual([
      { revision: A, replicas: 4, role: "stable" },
      { revision: B, replicas: 2, role: "draining" },
    ]);
    expect(ready.state.pendingScaleDowns).toEqual([{ revision: B, at: at(30 * SEC), replicas: 2 }]);
    expect(ready.phase).toBe("Degraded");
    expect(ready.requeueAfterMs).toBe(10 * SEC);
  });

  it("gateway: stable already has full Ready capacity, so traffic moves in the same decision", () => {
    const d = decideRollout(
      input({
        state: canaryOfB({ stepIndex: 1, canaryWeight: 25 }),
        observed: [obs(A, 4), obs(B, 1)],
        health: { [B]: fail() },
        rollout: { ...rollout, traffic: "gatewayAPI" },
      }),
    );
    expect(d.traffic).toEqual({ mode: "gatewayAPI", stableRevision: A, weights: { stable: 100, canary: 0 } });
    expect(d.state.pendingScaleDowns.map((p) => p.revision)).toEqual([B]);
  });

  it("a re-apply of the rejected revision stays Degraded and starts nothing, without new events", () => {
    const rejected = settledOnA({
      rejected: { revision: B, reason: "AnalysisFailed", message: "success rate 0.8", at: at(0) },
    });
    const d = decideRollout(
      input({
        state: rejected,
        observed: [obs(A, 4)],
        generation: 2,
        rollout,
        now: Date.parse(at(10 * MIN)),
      }),
    );
    expect(d.state.canaryRevision).toBeUndefined();
    expect(d.revisions).toEqual([{ revision: A, replicas: 4, role: "stable" }]);
    expect(d.phase).toBe("Degraded");
    expect(d.message).toContain("rejected (AnalysisFailed");
    expect(d.conditions.find((c) => c.type === "Progressing")).toMatchObject({
      status: "False",
      reason: "RolloutAborted",
      observedGeneration: 2,
    });
    expect(d.events).toEqual([]);
    expect(d.requeueAfterMs).toBeUndefined();
  });

  it("a new spec clears the rejection and starts its canary", () => {
    const rejected = settledOnA({
      rejected: { revision: B, reason: "AnalysisFailed", message: "x", at: at(0) },
    });
    const d = decideRollout(input({ state: rejected, desiredRevision: C, observed: [obs(A, 4)], rollout }));
    expect(d.state.rejected).toBeUndefined();
    expect(d.state.canaryRevision).toBe(C);
  });

  it("retry starts the rejected revision again from step 0, once per request id", () => {
    const rejected = settledOnA({
      rejected: { revision: B, reason: "AnalysisFailed", message: "x", at: at(0) },
    });
    const d = decideRollout(
      input({ state: rejected, observed: [obs(A, 4)], requests: { retry: "r1" }, rollout }),
    );
    expect(d.state.canaryRevision).toBe(B);
    expect(d.state.stepIndex).toBe(0);
    expect(d.state.handledRequests.retry).toBe("r1");
    expect(d.events.map((e) => e.reason)).toEqual(["Retry", "CanaryStarted"]);
    // The same id seen again after a second abort does nothing.
    const again = decideRollout(
      input({
        state: { ...d.state, canaryRevision: undefined, rejected: rejected.rejected },
        observed: [obs(A, 4)],
        requests: { retry: "r1" },
        rollout,
      }),
    );
    expect(again.state.canaryRevision).toBeUndefined();
    expect(again.phase).toBe("Degraded");
  });

  it("the progress deadline rolls back a canary that never becomes Ready, with the reason", () => {
    const state = canaryOfB();
    const before = decideRollout(
      input({ state, observed: [obs(A, 4), obs(B, 1, 0)], rollout, now: Date.parse(at(9 * MIN)) }),
    );
    expect(before.state.canaryRevision).toBe(B);
    expect(before.requeueAfterMs).toBe(1 * MIN);
    const after = decideRollout(
      input({ state, observed: [obs(A, 4), obs(B, 1, 0)], rollout, now: Date.parse(at(10 * MIN)) }),
    );
    expect(after.state.rejected).toMatchObject({ revision: B, reason: "ProgressDeadlineExceeded" });
    expect(after.state.rejected?.message).toContain("canary 0/1 ready for 25%");
    expect(after.traffic).toEqual({ mode: "replicaRatio", serviceSelector: { revision: A } });
  });

  describe("startup budget: a model still loading is not stuck", () => {
    // Deadline 10 min, budget 30 min; B's only pod started its server at minute 1.
    const loading: RevisionObservation = { ...obs(B, 1, 0), loading: { pod: "b-0", since: at(1 * MIN) } };
    const decideAt = (minute: number, observedB = loading) =>
      decideRollout(
        input({
          state: canaryOfB(),
          observed: [obs(A, 4), observedB],
          rollout,
          now: Date.parse(at(minute * MIN)),
        }),
      );

    it("past the progress deadline but within the budget: still waiting, the status says how long is left", () => {
      const d = decideAt(12);
      expect(d.state.canaryRevision).toBe(B);
      expect(d.state.rejected).toBeUndefined();
      expect(d.phase).toBe("Progressing");
      expect(d.message).toContain("loading model, 19m of the startup budget left");
      // The next look is when the budget runs out, not at the (already passed) progress deadline.
      expect(d.requeueAfterMs).toBe(19 * MIN);
    });

    it("a pod that spends the whole budget without becoming Ready rolls the canary back, saying so", () => {
      const d = decideAt(31);
      expect(d.state.rejected).toMatchObject({ revision: B, reason: "StartupBudgetExceeded" });
      expect(d.state.rejected?.message).toContain("pod b-0 not Ready after its startup budget of 30m");
      expect(d.traffic).toEqual({ mode: "replicaRatio", serviceSelector: { revision: A } });
    });

    it("once Ready the step moves on: loading never delays a canary that is up", () => {
      const d = decideAt(12, obs(B, 1));
      expect(d.state.canaryWeight).toBe(25);
    });

    it("a pod that became Ready after a long load gets the whole deadline from then to pass its checks", () => {
      // Ready at minute 12 (past the 10-minute deadline counted from the step's start), not warm yet.
      const loaded: RevisionObservation = { ...obs(B, 1), lastReadyAt: at(12 * MIN) };
      const notWarm = { [B]: { ...inconclusive(), warmedUp: false } };
      const decide = (minute: number) =>
        decideRollout(
          input({
            state: canaryOfB(),
            observed: [obs(A, 4), loaded],
            health: notWarm,
            rollout,
            now: Date.parse(at(minute * MIN)),
          }),
        );
      const warming = decide(13);
      expect(warming.state.rejected).toBeUndefined();
      expect(warming.requeueAfterMs).toBe(9 * MIN);
      expect(decide(22).state.rejected).toMatchObject({ revision: B, reason: "ProgressDeadlineExceeded" });
    });

    it("a first deployment loading past the deadline is Progressing; past the budget it is Degraded with the reason", () => {
      const first = (minute: number) =>
        decideRollout(
          input({
            desiredRevision: B,
            state: { canaryRevision: B, stepIndex: 0, stepStartedAt: at(0), canaryWeight: 0 },
            observed: [{ ...obs(B, 4, 0), loading: { pod: "b-0", since: at(1 * MIN) } }],
            rollout,
            now: Date.parse(at(minute * MIN)),
          }),
        );
      const loadingNow = first(12);
      expect(loadingNow.phase).toBe("Progressing");
      expect(loadingNow.message).toContain("loading model, 19m of the startup budget left");
      const spent = first(31);
      expect(spent.phase).toBe("Degraded");
      expect(spent.conditions.find((c) => c.type === "Degraded")?.reason).toBe("StartupBudgetExceeded");
      expect(spent.message).toContain("pod b-0 not Ready after its startup budget of 30m");
      expect(spent.revisions).toEqual([{ revision: B, replicas: 4, role: "canary" }]);
    });
  });

  it("an unschedulable canary is rolled back at the deadline with reason Unschedulable", () => {
    const failure = { reason: "Unschedulable", message: "0/3 nodes: insufficient nvidia.com/gpu" };
    const early = decideRollout(
      input({
        state: canaryOfB(),
        observed: [obs(A, 4), obs(B, 1, 0, failure)],
        rollout,
        now: Date.parse(at(1 * MIN)),
      }),
    );
    expect(early.state.canaryRevision).toBe(B);
    expect(early.message).toContain("insufficient nvidia.com/gpu");
    const late = decideRollout(
      input({
        state: canaryOfB(),
        observed: [obs(A, 4), obs(B, 1, 0, failure)],
        rollout,
        now: Date.parse(at(10 * MIN)),
      }),
    );
    expect(late.state.rejected?.reason).toBe("Unschedulable");
  });

  it("an analysis step's Fail aborts even without background analysis; other steps ignore the verdict then", () => {
    const observed = [obs(A, 3), obs(B, 1)];
    const atPause = decideRollout(
      input({
        state: canaryOfB({ stepIndex: 1, canaryWeight: 25 }),
        observed,
        health: { [B]: fail() },
        rollout: { ...rollout, analysisConfigured: false },
      }),
    );
    expect(atPause.state.rejected).toBeUndefined();
    const atAnalysis = decideRollout(
      input({
        state: canaryOfB({ stepIndex: 4, canaryWeight: 25 }),
        observed,
        health: { [B]: fail() },
        rollout: { ...rollout, analysisConfigured: false },
      }),
    );
    expect(atAnalysis.state.rejected?.reason).toBe("AnalysisFailed");
  });
});

describe("a new spec during a canary", () => {
  it("supersedes the canary: stable restored first, then the new revision starts at step 0", () => {
    const state = canaryOfB({ stepIndex: 3, canaryWeight: 50 });
    const d1 = decideRollout(
      input({ state, desiredRevision: C, observed: [obs(A, 2), obs(B, 2)], rollout: { steps: STEPS } }),
    );
    expect(d1.state.history[0]).toMatchObject({ revision: B, outcome: "Superseded" });
    expect(d1.state.withdrawal).toMatchObject({ revision: B, cause: "Supersede" });
    expect(replicasOf(d1, A)).toBe(4);
    expect(replicasOf(d1, B)).toBe(2);
    expect(replicasOf(d1, C)).toBeUndefined();
    expect(d1.phase).toBe("Progressing");

    const d2 = decideRollout(
      input({
        state: d1.state,
        desiredRevision: C,
        observed: [obs(A, 4), obs(B, 2)],
        rollout: { steps: STEPS },
        now: Date.parse(at(5 * SEC)),
      }),
    );
    expect(d2.state.canaryRevision).toBe(C);
    expect(d2.state.stepIndex).toBe(0);
    expect(d2.traffic).toEqual({ mode: "replicaRatio", serviceSelector: { revision: A } });
    expect(d2.revisions.map((r) => [r.revision, r.replicas, r.role])).toEqual([
      [A, 4, "stable"],
      [C, 1, "canary"],
      [B, 2, "draining"],
    ]);
    // Replica ratio cannot keep a draining revision out of the Service, so C waits for B to go.
    const d3 = decideRollout(
      input({
        state: d2.state,
        desiredRevision: C,
        observed: [obs(A, 4), obs(B, 2), obs(C, 1)],
        rollout: { steps: STEPS },
        now: Date.parse(at(10 * SEC)),
      }),
    );
    expect(d3.canaryWeight).toBe(0);
    expect(d3.message).toContain("old revisions to drain");
    const d4 = decideRollout(
      input({
        state: d3.state,
        desiredRevision: C,
        observed: [obs(A, 4), obs(B, 2), obs(C, 1)],
        rollout: { steps: STEPS },
        now: Date.parse(at(35 * SEC)),
      }),
    );
    expect(d4.canaryWeight).toBe(25);
    expect(replicasOf(d4, B)).toBeUndefined();
  });

  it("a spec reverted to the stable revision drops the canary: no rejection, Healthy afterwards", () => {
    const state = canaryOfB({ stepIndex: 1, canaryWeight: 25 });
    const d = decideRollout(
      input({ state, desiredRevision: A, observed: [obs(A, 4), obs(B, 1)], rollout: { steps: STEPS } }),
    );
    expect(d.state.rejected).toBeUndefined();
    expect(d.state.canaryRevision).toBeUndefined();
    expect(d.state.history[0]).toMatchObject({ revision: B, outcome: "RolledBack", reason: "SpecReverted" });
    expect(d.traffic).toEqual({ mode: "replicaRatio", serviceSelector: { revision: A } });
    expect(d.revisions).toEqual([
      { revision: A, replicas: 4, role: "stable" },
      { revision: B, replicas: 1, role: "draining" },
    ]);
    expect(d.phase).toBe("Healthy");
    expect(d.conditions.find((c) => c.type === "Degraded")?.status).toBe("False");
  });
});

describe("manual requests", () => {
  const rollout = { steps: STEPS };
  it("promote skips the current step once; the same id again does nothing", () => {
    const state = canaryOfB({ stepIndex: 1, canaryWeight: 25 });
    const observed = [obs(A, 3), obs(B, 1)];
    const d1 = decideRollout(input({ state, observed, requests: { promote: "p1" }, rollout }));
    expect(d1.state.stepIndex).toBe(2);
    expect(d1.events[0]).toMatchObject({ reason: "StepPromoted" });
    const d2 = decideRollout(
      input({ state: d1.state, observed, requests: { promote: "p1" }, rollout, now: T0plus(1 * SEC) }),
    );
    expect(d2.state.stepIndex).toBe(2);
    expect(d2.events).toEqual([]);
  });

  it("promoteFull skips every remaining step but still waits for the canary at full size", () => {
    const d = decideRollout(
      input({
        state: canaryOfB({ canaryWeight: 0 }),
        observed: [obs(A, 4), obs(B, 1)],
        requests: { promoteFull: "f1" },
        rollout,
      }),
    );
    expect(d.state.stepIndex).toBe(STEPS.length);
    expect(d.state.stableRevision).toBe(A);
    expect(replicasOf(d, B)).toBe(4);
    expect(replicasOf(d, A)).toBe(4);
    const done = decideRollout(
      input({ state: d.state, observed: [obs(A, 4), obs(B, 4)], requests: { promoteFull: "f1" }, rollout }),
    );
    expect(done.state.stableRevision).toBe(B);
  });

  it("a promotion says how it came about in the event's fields (what the metrics count)", () => {
    /** Every event of `rounds` reconciles, the cluster keeping up with each decision. */
    const eventsOf = (start: Parameters<typeof input>[0], rounds = 8) => {
      let current = input(start);
      const events = [];
      for (let i = 0; i < rounds; i++) {
        const d = decideRollout(current);
        events.push(...d.events);
        current = { ...current, state: d.state, observed: applied(d) };
      }
      return events;
    };
    const promoted = (start: Parameters<typeof input>[0]) =>
      eventsOf(start).find((e) => e.reason === "Promoted")?.fields;
    const mid = { observed: [obs(A, 3), obs(B, 1)], rollout };
    // The last step is an indefinite pause: only a promote gets past it.
    expect(
      promoted({ ...mid, state: canaryOfB({ stepIndex: 3, canaryWeight: 50 }), requests: { promote: "p1" } }),
    ).toEqual({ how: "manual" });
    expect(
      promoted({ ...mid, state: canaryOfB({ canaryWeight: 0 }), requests: { promoteFull: "f1" } }),
    ).toEqual({ how: "full" });
    expect(
      promoted({ observed: [obs(A, 4), obs(B, 1)], state: canaryOfB(), rollout: { steps: [] } }),
    ).toEqual({ how: "analysis" });
    expect(promoted({ observed: [], state: {} })).toEqual({ how: "firstDeployment" });
  });

  it("a request with no canary in progress is consumed with an event and nothing else", () => {
    const d = decideRollout(
      input({
        state: settledOnA(),
        desiredRevision: A,
        observed: [obs(A, 4)],
        requests: { promote: "p9", abort: "a9" },
        rollout,
      }),
    );
    expect(d.state.handledRequests).toEqual({ promote: "p9", abort: "a9" });
    expect(d.events.map((e) => e.reason)).toEqual(["RequestIgnored", "RequestIgnored"]);
    expect(d.phase).toBe("Healthy");
  });

  it("manual pause holds the step and weights (phase Paused) and the pause timer does not run down", () => {
    const state = canaryOfB({ stepIndex: 1, canaryWeight: 25 });
    const observed = [obs(A, 3), obs(B, 1)];
    const paused = decideRollout(
      input({ state, observed, requests: { paused: true }, rollout, now: T0plus(1 * MIN) }),
    );
    expect(paused.phase).toBe("Paused");
    expect(paused.state.pausedAt).toBe(at(1 * MIN));
    expect(paused.conditions.find((c) => c.type === "Paused")).toMatchObject({
      status: "True",
      reason: "ManualPause",
    });
    expect(paused.requeueAfterMs).toBeUndefined();
    const stillPaused = decideRollout(
      input({ state: paused.state, observed, requests: { paused: true }, rollout, now: T0plus(10 * MIN) }),
    );
    expect(stillPaused.state.stepIndex).toBe(1);
    expect(stillPaused.canaryWeight).toBe(25);
    expect(stillPaused.events).toEqual([]);
    const resumed = decideRollout(
      input({ state: stillPaused.state, observed, rollout, now: T0plus(20 * MIN) }),
    );
    // 1 minute of the 2-minute pause ran before the hold; 19 minutes held do not count.
    expect(resumed.state.stepIndex).toBe(1);
    expect(resumed.state.stepStartedAt).toBe(at(19 * MIN));
    expect(resumed.requeueAfterMs).toBe(1 * MIN);
    expect(resumed.events.map((e) => e.reason)).toEqual(["Resumed"]);
  });

  it("manual pause does not raise the weight: the canary is sized for the weight in effect", () => {
    const d = decideRollout(
      input({
        state: canaryOfB({ stepIndex: 2, canaryWeight: 25 }),
        observed: [obs(A, 3), obs(B, 1)],
        requests: { paused: true },
        rollout,
      }),
    );
    expect(replicasOf(d, B)).toBe(1);
    expect(d.canaryWeight).toBe(25);
  });

  it("a failing canary is aborted even while manually paused", () => {
    const d = decideRollout(
      input({
        state: canaryOfB({ stepIndex: 1, canaryWeight: 25 }),
        observed: [obs(A, 3), obs(B, 1)],
        health: { [B]: fail() },
        requests: { paused: true },
        rollout,
      }),
    );
    expect(d.state.rejected?.revision).toBe(B);
  });
});

describe("no steps: all at once, still health-gated", () => {
  it("the new revision comes up fully beside a full stable and takes traffic only on Pass", () => {
    const state = canaryOfB();
    const waiting = decideRollout(
      input({ state, observed: [obs(A, 4), obs(B, 4)], health: { [B]: inconclusive() } }),
    );
    expect(waiting.revisions.map((r) => [r.revision, r.replicas])).toEqual([
      [A, 4],
      [B, 4],
    ]);
    expect(waiting.traffic).toEqual({ mode: "replicaRatio", serviceSelector: { revision: A } });
    expect(waiting.state.stableRevision).toBe(A);
    const promoted = decideRollout(input({ state, observed: [obs(A, 4), obs(B, 4)] }));
    expect(promoted.traffic).toEqual({ mode: "replicaRatio", serviceSelector: { revision: B } });
    expect(promoted.state.history[0]).toMatchObject({
      revision: B,
      outcome: "Promoted",
      reason: "HealthGatePassed",
    });
  });

  it("a not-yet-warm revision does not count as Ready capacity", () => {
    const d = decideRollout(
      input({
        state: canaryOfB(),
        observed: [obs(A, 4), obs(B, 4)],
        health: { [B]: { verdict: "Pass", message: "ok", warmedUp: false } },
      }),
    );
    expect(d.state.stableRevision).toBe(A);
    expect(d.message).toContain("canary 0/4 ready for promotion");
  });
});

describe("scale-down delay", () => {
  it("keeps a draining revision until its time, then removes it with an event", () => {
    const state = settledOnA({ pendingScaleDowns: [{ revision: B, at: at(30 * SEC), replicas: 2 }] });
    const during = decideRollout(
      input({ state, desiredRevision: A, observed: [obs(A, 4), obs(B, 2)], now: T0plus(10 * SEC) }),
    );
    expect(replicasOf(during, B)).toBe(2);
    expect(during.requeueAfterMs).toBe(20 * SEC);
    expect(during.phase).toBe("Healthy");
    const after = decideRollout(
      input({ state, desiredRevision: A, observed: [obs(A, 4), obs(B, 2)], now: T0plus(30 * SEC) }),
    );
    expect(replicasOf(after, B)).toBeUndefined();
    expect(after.events.map((e) => e.reason)).toEqual(["ScaledDown"]);
    expect(after.state.pendingScaleDowns).toEqual([]);
  });

  it("a fast rollback to a draining revision reuses its Deployment (Ready pods, no new model load)", () => {
    const state = settledOnA({ pendingScaleDowns: [{ revision: B, at: at(30 * SEC), replicas: 4 }] });
    const started = decideRollout(
      input({ state, observed: [obs(A, 4), obs(B, 4)], health: { [B]: inconclusive() } }),
    );
    expect(started.state.canaryRevision).toBe(B);
    expect(started.state.pendingScaleDowns).toEqual([]);
    expect(started.revisions.map((r) => [r.revision, r.replicas, r.role])).toEqual([
      [A, 4, "stable"],
      [B, 4, "canary"],
    ]);
    // All at once and already Ready: promoted as soon as its verdict passes.
    const promoted = decideRollout(input({ state, observed: [obs(A, 4), obs(B, 4)] }));
    expect(promoted.state.stableRevision).toBe(B);
    expect(promoted.state.pendingScaleDowns.map((p) => p.revision)).toEqual([A]);
  });
});

describe("history", () => {
  it("is newest first and bounded by historyLimit", () => {
    const history = Array.from({ length: 3 }, (_, i) => ({
      revision: `old${i}`,
      outcome: "Promoted" as const,
      reason: "StepsCompleted",
      message: "",
      time: at(0),
    }));
    const d = decideRollout(
      input({
        state: canaryOfB({ history, stepIndex: 0 }),
        observed: [obs(A, 4), obs(B, 4)],
        rollout: { historyLimit: 3 },
      }),
    );
    expect(d.state.history.map((h) => h.revision)).toEqual([B, A, "old0"]);
  });

  it("revisionHistoryLimit 0 keeps none, as documented", () => {
    const d = decideRollout(
      input({
        state: canaryOfB({ stepIndex: 0 }),
        observed: [obs(A, 4), obs(B, 4)],
        rollout: { historyLimit: 0 },
      }),
    );
    expect(d.state.stableRevision).toBe(B);
    expect(d.state.history).toEqual([]);
  });
});

function T0plus(ms: number): number {
  return Date.parse(at(ms));
}

describe("analysis step overrides judge exactly their own step", () => {
  // The prober judges the canary by spec.rollout.analysis (verdict) and by each overriding analysis
  // step's thresholds (atStep): here p99 150 ms passes 800 ms but not step 1's 100 ms.
  const steps = [{ setWeight: 50 }, { analysis: { p99LatencyMs: 100 } }, { pause: {} }];
  const slow = (): RevisionVerdict => ({
    ...pass("40 probes, 100% ok, p99 150 ms"),
    atStep: { 1: fail("p99 150 ms above 100 ms (40 samples)") },
  });
  const observed = [obs(A, 2), obs(B, 2)];

  it("a decision that walks from setWeight into the analysis step judges it by that step's thresholds", () => {
    const d = decideRollout(
      input({ state: canaryOfB({ stepIndex: 0 }), observed, rollout: { steps }, health: { [B]: slow() } }),
    );
    expect(d.state.rejected).toMatchObject({ reason: "AnalysisFailed" });
    expect(d.state.rejected?.message).toContain("p99 150 ms above 100 ms");
  });

  it("background analysis at other steps judges by spec.rollout.analysis", () => {
    const atPause = decideRollout(
      input({
        state: canaryOfB({ stepIndex: 2, canaryWeight: 50 }),
        observed,
        rollout: { steps },
        health: { [B]: slow() },
      }),
    );
    expect(atPause.state.rejected).toBeUndefined();
    expect(atPause.phase).toBe("Paused");
  });

  it("a looser step override passes its step although spec.rollout.analysis would fail", () => {
    const loose: RevisionVerdict = { ...fail(), atStep: { 1: pass("within the step's thresholds") } };
    const d = decideRollout(
      input({
        state: canaryOfB({ stepIndex: 1, canaryWeight: 50 }),
        observed,
        rollout: { steps },
        health: { [B]: loose },
      }),
    );
    // Background analysis, with spec.rollout.analysis, then aborts at the next step.
    expect(d.events.map((e) => e.reason)).toContain("StepCompleted");
    expect(d.state.rejected).toMatchObject({ reason: "AnalysisFailed" });
  });
});
