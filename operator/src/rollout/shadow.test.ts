import { describe, expect, it } from "vitest";
import { decideRollout } from "./decide.ts";
import { A, at, B, canaryOfB, fail, input, MIN, obs, replicasOf } from "./testing.ts";
import type { PlannedStep, TrafficMode } from "./types.ts";

// A shadow step: mirror a share of live requests to the canary for the step's duration while it
// serves no answers; cleared when the step ends, at promotion and at abort.
describe.each<TrafficMode>(["gatewayAPI", "traefik"])("shadow step (%s)", (traffic) => {
  const steps: PlannedStep[] = [
    { shadow: { percent: 50, durationMs: 10 * MIN } },
    { setWeight: 20 },
    { pause: {} },
  ];
  const rollout = { steps, traffic };

  it("sizes the canary for the mirrored share and waits for those pods before mirroring", () => {
    const d = decideRollout(input({ state: canaryOfB(), observed: [obs(A, 4), obs(B, 1)], rollout }));
    // 50% of 4 replicas: the canary grows to 2 before copies reach it.
    expect(replicasOf(d, B)).toBe(2);
    expect(d.state.shadow).toBeUndefined();
    expect(d.traffic).not.toHaveProperty("shadowPercent");
    expect(d.message).toContain("canary 1/2 ready to mirror 50%");
  });

  it("mirrors once the canary has them, with no served traffic, and holds for the duration", () => {
    const d = decideRollout(
      input({ state: canaryOfB(), observed: [obs(A, 4), obs(B, 2)], rollout, now: Date.parse(at(3 * MIN)) }),
    );
    expect(d.state.shadow).toEqual({ percent: 50 });
    expect(d.state.stepIndex).toBe(0);
    // The duration counts from when the mirror started, not from when the step began.
    expect(d.state.stepStartedAt).toBe(at(3 * MIN));
    expect(d.traffic).toMatchObject({
      mode: traffic,
      weights: { stable: 100, canary: 0 },
      shadowPercent: 50,
    });
    expect(d.message).toContain("mirroring 50%");
    expect(d.phase).toBe("Progressing");
    const later = decideRollout(
      input({
        state: canaryOfB({ shadow: { percent: 50 }, stepStartedAt: at(3 * MIN) }),
        observed: [obs(A, 4), obs(B, 2)],
        rollout,
        now: Date.parse(at(12 * MIN)),
      }),
    );
    expect(later.state.stepIndex).toBe(0);
    expect(later.traffic).toMatchObject({ shadowPercent: 50 });
    expect(later.requeueAfterMs).toBe(MIN);
    expect(later.message).toContain("mirroring 50%, step 1/3, shadowing 9m of 10m");
  });

  it("a manual pause keeps the mirror and the pods it needs", () => {
    const d = decideRollout(
      input({
        state: canaryOfB({ shadow: { percent: 50 } }),
        observed: [obs(A, 4), obs(B, 2)],
        rollout,
        requests: { paused: true },
      }),
    );
    expect(d.traffic).toMatchObject({ shadowPercent: 50 });
    expect(replicasOf(d, B)).toBe(2);
  });

  it("ends with its step: the next step serves weight and mirrors nothing", () => {
    const d = decideRollout(
      input({
        state: canaryOfB({ shadow: { percent: 50 }, stepStartedAt: at(0) }),
        observed: [obs(A, 4), obs(B, 2)],
        rollout,
        now: Date.parse(at(10 * MIN)),
      }),
    );
    expect(d.state.stepIndex).toBe(2);
    expect(d.state.canaryWeight).toBe(20);
    expect(d.state.shadow).toBeUndefined();
    expect(d.traffic).not.toHaveProperty("shadowPercent");
    expect(d.events.map((e) => e.message).join("\n")).toContain(
      "mirrored 50% of live requests to canary bbbb222",
    );
  });

  it("a shadow without a duration waits for a person (Paused), and promote ends it", () => {
    const hold = { steps: [{ shadow: { percent: 10 } }, { setWeight: 50 }] as PlannedStep[], traffic };
    const waiting = decideRollout(
      input({
        state: canaryOfB({ shadow: { percent: 10 } }),
        observed: [obs(A, 4), obs(B, 1)],
        rollout: hold,
      }),
    );
    expect(waiting.phase).toBe("Paused");
    expect(waiting.traffic).toMatchObject({ shadowPercent: 10 });
    const promoted = decideRollout(
      input({
        state: canaryOfB({ shadow: { percent: 10 } }),
        observed: [obs(A, 4), obs(B, 1)],
        rollout: hold,
        requests: { promote: "p1" },
      }),
    );
    expect(promoted.state.stepIndex).toBe(1);
    expect(promoted.state.shadow).toBeUndefined();
  });

  it("promoteFull and abort clear the mirror at once", () => {
    const full = decideRollout(
      input({
        state: canaryOfB({ shadow: { percent: 50 } }),
        observed: [obs(A, 4), obs(B, 2)],
        rollout,
        requests: { promoteFull: "f1" },
      }),
    );
    expect(full.state.shadow).toBeUndefined();
    expect(full.traffic).not.toHaveProperty("shadowPercent");
    const aborted = decideRollout(
      input({
        state: canaryOfB({ shadow: { percent: 50 } }),
        observed: [obs(A, 4), obs(B, 2)],
        rollout,
        requests: { abort: "a1" },
      }),
    );
    expect(aborted.state.rejected?.revision).toBe(B);
    expect(aborted.state.shadow).toBeUndefined();
    expect(aborted.traffic).not.toHaveProperty("shadowPercent");
  });

  it("the analysis keeps judging the shadowed canary: a Fail aborts it and clears the mirror", () => {
    const d = decideRollout(
      input({
        state: canaryOfB({ shadow: { percent: 50 } }),
        observed: [obs(A, 4), obs(B, 2)],
        health: { [B]: fail() },
        rollout,
      }),
    );
    expect(d.state.rejected?.revision).toBe(B);
    expect(d.state.shadow).toBeUndefined();
    expect(d.traffic).toMatchObject({ weights: { stable: 100, canary: 0 } });
    expect(d.traffic).not.toHaveProperty("shadowPercent");
  });
});
