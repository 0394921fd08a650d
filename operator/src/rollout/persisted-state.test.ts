import { describe, expect, it } from "vitest";
import { loadState, saveState } from "./persisted-state.ts";
import { A, at, B, canaryOfB } from "./testing.ts";
import type { RolloutState } from "./types.ts";

const specs = {
  [A]: { model: { name: "m", version: "v1" }, runtime: { image: "registry.example/server:1" } },
  [B]: { model: { name: "m", version: "v2" }, runtime: { image: "registry.example/server:2" } },
};

describe("saveState / loadState", () => {
  it("stores each fact once: the explicit fields, and bookkeeping only for what has no field", () => {
    const state = canaryOfB({
      stepIndex: 2,
      canaryWeight: 25,
      handledRequests: { promote: "p1" },
      manualAdvance: "promote",
    }) as RolloutState;
    const status = saveState(state);
    expect(status).toEqual({
      stableRevision: A,
      canaryRevision: B,
      currentStepIndex: 2,
      canaryWeight: 25,
      stepStartTime: at(0),
      canaryStartTime: at(0),
      bookkeeping: { handledRequests: { promote: "p1" }, manualAdvance: "promote" },
    });
    // Model versions and images are not repeated: they come back from status.revisionSpecs.
    expect(loadState({ ...status, revisionSpecs: specs })).toEqual(state);
  });

  it("keeps the header route in force as status.headerRoute, and only beside a canary", () => {
    const headerRoute = {
      matches: [{ headers: [{ name: "x-canary", value: "1", type: "Exact" as const }] }],
    };
    const state = canaryOfB({ headerRoute }) as RolloutState;
    const status = saveState(state);
    expect(status.headerRoute).toEqual(headerRoute);
    expect(loadState({ ...status, revisionSpecs: specs }).headerRoute).toEqual(headerRoute);
    // A route left in status without a canary (e.g. written by hand) routes nothing.
    expect(loadState({ ...status, canaryRevision: undefined }).headerRoute).toBeUndefined();
  });

  it("keeps the mirror in force as status.shadow, and only beside a canary", () => {
    const state = canaryOfB({ shadow: { percent: 30 } }) as RolloutState;
    const status = saveState(state);
    expect(status.shadow).toEqual({ percent: 30 });
    expect(loadState({ ...status, revisionSpecs: specs }).shadow).toEqual({ percent: 30 });
    expect(loadState({ ...status, canaryRevision: undefined }).shadow).toBeUndefined();
    // An unreadable value is dropped, not trusted: no mirror.
    expect(loadState({ ...status, shadow: { percent: 400 } }).shadow).toBeUndefined();
    expect(saveState(canaryOfB() as RolloutState)).not.toHaveProperty("shadow");
  });

  it("keeps a rejection's reason beside status.rejectedRevision", () => {
    const rejected = {
      revision: B,
      reason: "AnalysisFailed",
      message: "success rate 0.62 < 0.99",
      at: at(5),
    };
    const state = canaryOfB({ canaryRevision: undefined, rejected }) as RolloutState;
    const status = saveState(state);
    expect(status.rejectedRevision).toBe(B);
    expect(status.bookkeeping?.rejection).toEqual({
      reason: rejected.reason,
      message: rejected.message,
      at: rejected.at,
    });
    expect(loadState({ ...status, revisionSpecs: specs }).rejected).toEqual(rejected);
  });

  it("reads a new resource, and a status it cannot read, as no state at all", () => {
    expect(loadState(undefined)).toEqual({
      stepIndex: 0,
      canaryWeight: 0,
      pendingScaleDowns: [],
      handledRequests: {},
      history: [],
    });
    expect(loadState("garbage")).toEqual({});
  });

  it("drops only the part it cannot read, so one bad field does not reset the rollout", () => {
    const s = loadState({
      stableRevision: A,
      canaryRevision: B,
      currentStepIndex: -3,
      bookkeeping: { manualAdvance: "sideways" },
    });
    expect(s.stableRevision).toBe(A);
    expect(s.canaryRevision).toBe(B);
    expect(s.stepIndex).toBe(0);
    expect(s.manualAdvance).toBeUndefined();
  });
});

describe("migration from operator 0.1 (status.rolloutState)", () => {
  const legacy = {
    stableRevision: A,
    canaryRevision: B,
    currentStepIndex: 1,
    canaryWeight: 25,
    rolloutState: {
      stableRevision: A,
      stableModelVersion: "v1",
      stableImage: "registry.example/server:1",
      canaryRevision: B,
      canaryModelVersion: "v2",
      canaryImage: "registry.example/server:2",
      stepIndex: 1,
      stepStartedAt: at(0),
      canaryStartedAt: at(0),
      canaryWeight: 25,
      pendingScaleDowns: [],
      handledRequests: { promote: "p0" },
      history: [],
      // A key 0.1 never wrote must not leak into the new status.
      somethingElse: true,
    },
  };

  it("reads the whole state from rolloutState while no bookkeeping has been written", () => {
    expect(loadState(legacy)).toEqual(
      canaryOfB({ stepIndex: 1, canaryWeight: 25, handledRequests: { promote: "p0" } }),
    );
  });

  it("prefers bookkeeping once the new operator has written it, and never writes rolloutState back", () => {
    const saved = saveState(loadState(legacy) as RolloutState);
    expect(saved).not.toHaveProperty("rolloutState");
    const next = loadState({ ...legacy, ...saved, bookkeeping: { handledRequests: { promote: "p9" } } });
    expect(next.handledRequests).toEqual({ promote: "p9" });
  });
});
