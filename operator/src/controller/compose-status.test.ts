import { describe, expect, it } from "vitest";
import type { Condition } from "../api/index.ts";
import { decideRollout } from "../rollout/decide.ts";
import { A, canaryOfB, input } from "../rollout/testing.ts";
import { composeStatus, composeStoppedStatus, ownedFields } from "./compose-status.ts";

const NOW = Date.parse("2026-12-01T10:00:00.000Z");
const healthy: Condition = {
  type: "Healthy",
  status: "True",
  reason: "ProbesPassing",
  message: "ok",
  lastTransitionTime: "2026-12-01T09:00:00Z",
};

function composed(over: { message?: string } = {}) {
  const decision = decideRollout(input({ state: canaryOfB({ stepIndex: 1, canaryWeight: 25 }) }));
  if (over.message !== undefined) decision.message = over.message;
  return composeStatus({
    current: { conditions: [healthy], rolloutState: { old: true } },
    generation: 7,
    decision,
    replicas: 5,
    readyReplicas: 4,
    selector: "modelship.dev/deployment=x",
    revisionSpecs: {},
    now: NOW,
  });
}

describe("composeStatus", () => {
  it("writes the rollout state in the explicit fields, counts, and this writer's conditions only", () => {
    const s = composed();
    expect(s.observedGeneration).toBe(7);
    expect(s.stableRevision).toBe(A);
    expect(s.replicas).toBe(5);
    expect(s.readyReplicas).toBe(4);
    // Nothing to keep: no bookkeeping at all (an emptied map would come back from apply as null).
    expect(s).not.toHaveProperty("bookkeeping");
    // The prober owns Healthy; 0.1's rolloutState is not carried over (server-side apply removes it).
    expect(s.conditions?.map((c) => c.type)).not.toContain("Healthy");
    expect(s).not.toHaveProperty("rolloutState");
    expect(s.conditions?.find((c) => c.type === "InvalidSpec")).toMatchObject({
      status: "False",
      reason: "Valid",
      observedGeneration: 7,
    });
  });

  it("cuts free text to the CRD's limits, so the API server never refuses the whole write", () => {
    const s = composed({ message: "x".repeat(10_000) });
    expect(s.message).toHaveLength(4096);
    expect(s.message?.endsWith("…")).toBe(true);
  });
});

describe("composeStoppedStatus", () => {
  it("a child that could not be applied: ReconcileError and Degraded, cleared by the next full pass", () => {
    const stop = {
      condition: "ReconcileError",
      reason: "ChildRejected",
      message: "y".repeat(40_000),
    } as const;
    const s = composeStoppedStatus({ stableRevision: A }, 2, stop, NOW);
    const err = s.conditions?.find((c) => c.type === "ReconcileError");
    expect(err).toMatchObject({ status: "True", reason: "ChildRejected" });
    expect(err?.message.length).toBe(32768);
    expect(s.stableRevision).toBe(A);
    const decision = decideRollout(input({ state: canaryOfB() }));
    const next = composeStatus({
      current: s,
      generation: 2,
      decision,
      replicas: 1,
      readyReplicas: 1,
      selector: "x",
      revisionSpecs: {},
      now: NOW,
    });
    expect(next.conditions?.map((c) => c.type)).not.toContain("ReconcileError");
  });

  it("says why on InvalidSpec and Degraded, and keeps every other field as it was", () => {
    const current = {
      stableRevision: A,
      canaryWeight: 0,
      health: { stable: { revision: A } },
      conditions: [healthy],
    };
    const stop = {
      condition: "InvalidSpec",
      reason: "ServiceAccountNotAllowed",
      message: "not labelled",
    } as const;
    const s = composeStoppedStatus(current, 3, stop, NOW);
    expect(s.stableRevision).toBe(A);
    expect(s.phase).toBe("Degraded");
    expect(s.message).toBe("ServiceAccountNotAllowed: not labelled");
    expect(s).not.toHaveProperty("health");
    for (const type of ["InvalidSpec", "Degraded"]) {
      expect(s.conditions?.find((c) => c.type === type)).toMatchObject({
        status: "True",
        reason: "ServiceAccountNotAllowed",
      });
    }
    expect(ownedFields(current).conditions).toEqual([]);
  });
});
