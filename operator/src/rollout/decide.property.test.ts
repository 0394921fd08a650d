// Random sequences of cluster observations, verdicts, spec changes, HPA totals and manual requests:
// every decision must be deterministic, survive a restart (state through JSON), and never take
// Ready capacity away from the side that serves traffic.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Verdict } from "../api/status.ts";
import { decideRollout } from "./decide.ts";
import { loadState, saveState } from "./persisted-state.ts";
import { canaryReplicasFor } from "./replica-split.ts";
import { A, B, C, config, obs, T0 } from "./testing.ts";
import type {
  PlannedStep,
  RevisionObservation,
  RevisionVerdict,
  RolloutDecision,
  RolloutInput,
  TrafficMode,
} from "./types.ts";

const REVISIONS = [A, B, C] as const;

const roundArb = fc.record({
  dtMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 15 * 60_000 })),
  // Mostly the same spec as before (undefined = unchanged), sometimes a new or reverted one.
  desired: fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 8 },
    { arbitrary: fc.constantFrom(...REVISIONS), weight: 1 },
  ),
  total: fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 6 },
    { arbitrary: fc.integer({ min: 1, max: 8 }), weight: 1 },
  ),
  // Mostly all Ready, sometimes anything from none to all.
  readyPercent: fc.array(
    fc.oneof(
      { arbitrary: fc.constant(100), weight: 3 },
      { arbitrary: fc.integer({ min: 0, max: 100 }), weight: 2 },
    ),
    {
      minLength: 3,
      maxLength: 3,
    },
  ),
  verdicts: fc.array(
    fc.oneof(
      { arbitrary: fc.constant<Verdict>("Pass"), weight: 12 },
      { arbitrary: fc.constantFrom<Verdict>("Inconclusive", "Fail"), weight: 1 },
    ),
    { minLength: 3, maxLength: 3 },
  ),
  warm: fc.array(
    fc.oneof({ arbitrary: fc.constant(true), weight: 8 }, { arbitrary: fc.constant(false), weight: 1 }),
    {
      minLength: 3,
      maxLength: 3,
    },
  ),
  failure: fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 20 },
    { arbitrary: fc.constantFrom("CrashLoopBackOff", "Unschedulable"), weight: 1 },
  ),
  request: fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 12 },
    { arbitrary: fc.constantFrom("promote", "promoteFull", "abort", "retry"), weight: 1 },
  ),
  paused: fc.oneof({ arbitrary: fc.constant(false), weight: 6 }, { arbitrary: fc.constant(true), weight: 1 }),
});
type Round = typeof roundArb extends fc.Arbitrary<infer R> ? R : never;

const stepsArb: fc.Arbitrary<PlannedStep[]> = fc.array(
  fc.oneof(
    fc.record({ setWeight: fc.constantFrom(0, 10, 25, 50, 100) }),
    fc.record({
      pause: fc.oneof(fc.constant({}), fc.record({ durationMs: fc.integer({ min: 0, max: 300_000 }) })),
    }),
    fc.constant({ analysis: {} }),
  ),
  { minLength: 1, maxLength: 5 },
);

function ready(input: RolloutInput, revision: string | undefined): number {
  if (revision === undefined) return 0;
  if (input.health[revision]?.warmedUp === false) return 0;
  return input.observed.find((o) => o.revision === revision)?.readyReplicas ?? 0;
}

function servingRevisions(d: RolloutDecision): string[] {
  const t = d.traffic;
  if (t.mode === "replicaRatio") {
    return t.serviceSelector.revision === undefined
      ? d.revisions.map((r) => r.revision)
      : [t.serviceSelector.revision];
  }
  const out: string[] = [];
  if (t.weights.stable > 0 && t.stableRevision !== undefined) out.push(t.stableRevision);
  if (t.weights.canary > 0 && t.canaryRevision !== undefined) out.push(t.canaryRevision);
  return out;
}

function checkCapacity(input: RolloutInput, d: RolloutDecision, previous: RolloutDecision | undefined): void {
  const total = Math.max(0, input.totalReplicas);
  const desired = (r: string) => d.revisions.find((x) => x.revision === r)?.replicas ?? 0;
  const spec = (r: string) => input.observed.find((o) => o.revision === r)?.specReplicas ?? 0;
  const serving = servingRevisions(d);
  const t = d.traffic;

  if (t.mode === "replicaRatio") {
    // A serving revision is scaled down only as far as the other serving revisions' Ready pods cover.
    for (const r of serving) {
      if (desired(r) >= spec(r)) continue;
      const others = serving
        .filter((q) => q !== r)
        .reduce((n, q) => n + Math.min(ready(input, q), desired(q)), 0);
      expect(desired(r) + others, `scale-down of ${r}`).toBeGreaterThanOrEqual(total);
    }
    // Pinning the Service to a revision it was not pinned to needs that revision Ready for everything.
    const pinned = t.serviceSelector.revision;
    const before =
      previous?.traffic.mode === "replicaRatio" ? previous.traffic.serviceSelector.revision : undefined;
    if (pinned !== undefined && pinned !== before && previous?.state.stableRevision !== undefined) {
      expect(ready(input, pinned), `traffic pinned to ${pinned}`).toBeGreaterThanOrEqual(total);
    }
  } else {
    if (t.stableRevision !== undefined && d.state.stableRevision !== undefined) {
      expect(desired(t.stableRevision), "gateway stable keeps full capacity").toBe(total);
    }
    const prev = previous?.traffic.mode === "gatewayAPI" ? previous.traffic : undefined;
    if (prev !== undefined && prev.stableRevision !== undefined) {
      if (t.weights.canary > prev.weights.canary && t.canaryRevision !== undefined) {
        expect(ready(input, t.canaryRevision)).toBeGreaterThanOrEqual(
          canaryReplicasFor(t.weights.canary, total, "gatewayAPI"),
        );
      }
      const stableGained = t.stableRevision !== prev.stableRevision || t.weights.stable > prev.weights.stable;
      if (stableGained && t.stableRevision !== undefined) {
        expect(ready(input, t.stableRevision)).toBeGreaterThanOrEqual(
          canaryReplicasFor(t.weights.stable, total, "gatewayAPI"),
        );
      }
    }
  }
}

function checkShape(d: RolloutDecision): void {
  const names = d.revisions.map((r) => r.revision);
  expect(new Set(names).size).toBe(names.length);
  for (const r of d.revisions) expect(Number.isInteger(r.replicas) && r.replicas >= 0).toBe(true);
  if (d.traffic.mode === "gatewayAPI") expect(d.traffic.weights.stable + d.traffic.weights.canary).toBe(100);
  expect(d.canaryWeight).toBeGreaterThanOrEqual(0);
  expect(d.canaryWeight).toBeLessThanOrEqual(100);
}

function nextInput(
  previous: RolloutDecision | undefined,
  last: Pick<RolloutInput, "now"> & Partial<RolloutInput>,
  round: Round,
  i: number,
  mode: TrafficMode,
  steps: PlannedStep[],
): RolloutInput {
  const observed: RevisionObservation[] = (previous?.revisions ?? []).map((r) => {
    const k = REVISIONS.indexOf(r.revision as (typeof REVISIONS)[number]);
    const pct = round.readyPercent[k] ?? 100;
    const failure =
      round.failure !== undefined && r.role === "canary"
        ? { reason: round.failure, message: "simulated" }
        : undefined;
    return obs(r.revision, r.replicas, Math.floor((r.replicas * pct) / 100), failure);
  });
  const health: Record<string, RevisionVerdict> = {};
  REVISIONS.forEach((r, k) => {
    health[r] = {
      verdict: round.verdicts[k] ?? "Pass",
      message: "simulated",
      warmedUp: round.warm[k] ?? true,
    };
  });
  const requests: RolloutInput["requests"] = { paused: round.paused };
  if (round.request !== undefined) requests[round.request] = `id-${i}`;
  return {
    desiredRevision: round.desired ?? last.desiredRevision ?? A,
    generation: 1,
    rollout: config({ steps, traffic: mode, abortScaleDownDelayMs: 5_000 }),
    totalReplicas: round.total ?? last.totalReplicas ?? 4,
    state: previous?.state ?? {},
    observed,
    health,
    requests,
    now: last.now + round.dtMs,
  };
}

describe("decideRollout over random histories", () => {
  it("is deterministic, restart-safe, and never cuts Ready capacity on the serving side", () => {
    // The generator must reach the interesting states, or the property proves little.
    const seen = { split: 0, promoted: 0, aborted: 0, superseded: 0 };
    fc.assert(
      fc.property(
        fc.constantFrom<TrafficMode>("replicaRatio", "gatewayAPI"),
        stepsArb,
        fc.array(roundArb, { minLength: 20, maxLength: 60, size: "max" }),
        (mode, steps, rounds) => {
          let previous: RolloutDecision | undefined;
          let last: Pick<RolloutInput, "now"> & Partial<RolloutInput> = { now: T0, desiredRevision: A };
          rounds.forEach((round, i) => {
            const input = nextInput(previous, last, round, i, mode, steps);
            const d = decideRollout(input);
            // Deterministic, and what the status stores (JSON) gives the same decision after a restart.
            expect(decideRollout(structuredClone(input))).toEqual(d);
            expect(decideRollout({ ...input, state: JSON.parse(JSON.stringify(input.state)) })).toEqual(d);
            // ...and so does the state as status holds it (explicit fields + bookkeeping).
            if (previous) {
              const status = JSON.parse(JSON.stringify(saveState(previous.state)));
              expect(decideRollout({ ...input, state: loadState(status) })).toEqual(d);
            }
            expect(JSON.parse(JSON.stringify(d.state))).toEqual(d.state);
            checkShape(d);
            checkCapacity(input, d, previous);
            if (d.canaryWeight > 0 && d.canaryWeight < 100) seen.split++;
            for (const e of d.events) {
              if (e.reason === "Promoted") seen.promoted++;
              if (e.reason === "RolloutAborted") seen.aborted++;
              if (e.reason === "Superseded" || e.reason === "SpecReverted") seen.superseded++;
            }
            previous = d;
            last = input;
          });
        },
      ),
      { numRuns: 200 },
    );
    expect(seen.split).toBeGreaterThan(100);
    expect(seen.promoted).toBeGreaterThan(100);
    expect(seen.aborted).toBeGreaterThan(20);
    expect(seen.superseded).toBeGreaterThan(20);
  }, 60_000);
});
