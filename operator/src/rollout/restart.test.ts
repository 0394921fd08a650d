// The operator keeps nothing in memory: a new process reading the state back from status (through
// saveState, JSON and loadState, as the reconciler does) continues from the same step, with the same
// timers.
import { describe, expect, it } from "vitest";
import { decideRollout } from "./decide.ts";
import { loadState, saveState } from "./persisted-state.ts";
import { A, at, B, input, MIN, obs, SEC, settledOnA } from "./testing.ts";
import type { PlannedStep, RolloutState } from "./types.ts";

const steps: PlannedStep[] = [
  { setWeight: 25 },
  { pause: { durationMs: 5 * MIN } },
  { setWeight: 50 },
  { pause: {} },
];
/** What each revision runs, as status.revisionSpecs holds it (the engine's fixtures: A is v1, B is v2). */
const revisionSpecs = {
  [A]: { model: { name: "m", version: "v1" }, runtime: { image: "registry.example/server:1" } },
  [B]: { model: { name: "m", version: "v2" }, runtime: { image: "registry.example/server:2" } },
};
const throughStatus = (state: Partial<RolloutState>): Partial<RolloutState> =>
  loadState(JSON.parse(JSON.stringify({ ...saveState(state as RolloutState), revisionSpecs })));

describe("restart", () => {
  it("continues a timed pause from the same step with the time left, not a fresh pause", () => {
    const started = decideRollout(input({ state: settledOnA(), observed: [obs(A, 4)], rollout: { steps } }));
    const atWeight = decideRollout(
      input({
        state: started.state,
        observed: [obs(A, 4), obs(B, 1)],
        rollout: { steps },
        now: Date.parse(at(20 * SEC)),
      }),
    );
    expect(atWeight.state.stepIndex).toBe(1);

    // The old process is gone; 3 minutes later a new one reads status.
    const persisted = throughStatus(atWeight.state);
    const after = decideRollout(
      input({
        state: persisted,
        observed: [obs(A, 3), obs(B, 1)],
        rollout: { steps },
        now: Date.parse(at(3 * MIN + 20 * SEC)),
      }),
    );
    expect(after.state.stepIndex).toBe(1);
    expect(after.canaryWeight).toBe(25);
    expect(after.requeueAfterMs).toBe(2 * MIN);
    expect(after.events).toEqual([]);
    expect(after.message).toBe("canary bbbb222 at 25%, step 2/4, paused 3m of 5m");
  });

  it("gives the same decision from persisted state as the uninterrupted process, at every step", () => {
    let state = settledOnA();
    let observed = [obs(A, 4)];
    let now = Date.parse(at(0));
    const promote = { paused: false, promote: "p1" };
    for (let round = 0; round < 12; round++) {
      const requests = round >= 8 ? promote : { paused: false };
      const live = decideRollout(input({ state, observed, rollout: { steps }, now, requests }));
      const restarted = decideRollout(
        input({ state: throughStatus(state), observed, rollout: { steps }, now, requests }),
      );
      expect(restarted).toEqual(live);
      state = live.state;
      observed = live.revisions.map((r) => obs(r.revision, r.replicas));
      now += 2 * MIN;
    }
    expect(state.stableRevision).toBe(B);
  });

  it("a rejection survives a restart: the same bad spec is not started again", () => {
    const aborted = decideRollout(
      input({
        state: settledOnA({ canaryRevision: B, stepIndex: 1, stepStartedAt: at(0), canaryWeight: 25 }),
        observed: [obs(A, 4), obs(B, 1)],
        requests: { abort: "a1" },
        rollout: { steps },
      }),
    );
    const restarted = decideRollout(
      input({
        state: throughStatus(aborted.state),
        observed: [obs(A, 4)],
        requests: { abort: "a1" },
        rollout: { steps },
        now: Date.parse(at(20 * SEC)),
      }),
    );
    expect(restarted.state.canaryRevision).toBeUndefined();
    expect(restarted.phase).toBe("Degraded");
    expect(restarted.events).toEqual([]);
  });
});
