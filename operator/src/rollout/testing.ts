// Builders for the rollout tests: a plain input with sensible defaults, and a "cluster" that turns a
// decision into the next observations. Pure; imported by *.test.ts only.

import type { WorkloadReason } from "../api/reasons.ts";
import { toRfc3339 } from "../lib/time.ts";
import { decideRollout } from "./decide.ts";
import type {
  RevisionObservation,
  RevisionVerdict,
  RolloutConfig,
  RolloutDecision,
  RolloutInput,
  RolloutState,
} from "./types.ts";

export const T0 = Date.parse("2026-11-01T10:00:00.000Z");
export const at = (ms: number) => toRfc3339(T0 + ms);
export const SEC = 1_000;
export const MIN = 60_000;

export const A = "aaaa1111";
export const B = "bbbb2222";
export const C = "cccc3333";

export function config(over: Partial<RolloutConfig> = {}): RolloutConfig {
  return {
    steps: [],
    progressDeadlineMs: 10 * MIN,
    startupBudgetMs: 30 * MIN,
    scaleDownDelayMs: 30 * SEC,
    traffic: "replicaRatio",
    analysisConfigured: true,
    ...over,
  };
}

export const pass = (message = "ok"): RevisionVerdict => ({ verdict: "Pass", message });
export const fail = (message = "success rate 0.80 < 0.99"): RevisionVerdict => ({
  verdict: "Fail",
  message,
  evidence: [{ metric: "successRate", value: 0.8, threshold: 0.99, samples: 40, ok: false }],
});
export const inconclusive = (message = "3 of 20 samples needed"): RevisionVerdict => ({
  verdict: "Inconclusive",
  message,
});

export function obs(
  revision: string,
  specReplicas: number,
  readyReplicas = specReplicas,
  /** Any reason string: tests also feed reasons the classification does not know. */
  failure?: { reason: string; message: string },
): RevisionObservation {
  const o: RevisionObservation = {
    revision,
    specReplicas,
    readyReplicas,
    availableReplicas: readyReplicas,
    updatedReplicas: specReplicas,
  };
  if (failure !== undefined)
    o.failure = { reason: failure.reason as WorkloadReason, message: failure.message };
  return o;
}

export type InputOverrides = Partial<Omit<RolloutInput, "rollout" | "requests">> & {
  rollout?: Partial<RolloutConfig>;
  requests?: Partial<RolloutInput["requests"]>;
};

/** Every observed revision passes unless `health` says otherwise. */
export function input(over: InputOverrides = {}): RolloutInput {
  const observed = over.observed ?? [];
  const health: Record<string, RevisionVerdict> = Object.fromEntries(
    observed.map((o) => [o.revision, pass()]),
  );
  return {
    desiredRevision: over.desiredRevision ?? B,
    desiredModelVersion: over.desiredModelVersion ?? "v2",
    desiredImage: over.desiredImage ?? "registry.example/server:2",
    generation: over.generation ?? 1,
    totalReplicas: over.totalReplicas ?? 4,
    state: over.state ?? {},
    observed,
    health: { ...health, ...over.health },
    now: over.now ?? T0,
    rollout: config(over.rollout),
    requests: { paused: false, ...over.requests },
  };
}

/** Stable A serving alone at full size. */
export function settledOnA(over: Partial<RolloutState> = {}): Partial<RolloutState> {
  return {
    stableRevision: A,
    stableModelVersion: "v1",
    stableImage: "registry.example/server:1",
    stepIndex: 0,
    canaryWeight: 0,
    pendingScaleDowns: [],
    handledRequests: {},
    history: [],
    ...over,
  };
}

/** Canary B beside stable A at `stepIndex`, started at T0. */
export function canaryOfB(over: Partial<RolloutState> = {}): Partial<RolloutState> {
  return settledOnA({
    canaryRevision: B,
    canaryModelVersion: "v2",
    canaryImage: "registry.example/server:2",
    stepStartedAt: at(0),
    canaryStartedAt: at(0),
    ...over,
  });
}

export const replicasOf = (d: RolloutDecision, revision: string): number | undefined =>
  d.revisions.find((r) => r.revision === revision)?.replicas;

/** The cluster after applying a decision: each revision at its replicas, `ready(revision, spec)` of them Ready. */
export function applied(
  d: RolloutDecision,
  ready: (revision: string, spec: number) => number = (_r, spec) => spec,
): RevisionObservation[] {
  return d.revisions.map((r) =>
    obs(r.revision, r.replicas, Math.min(r.replicas, ready(r.revision, r.replicas))),
  );
}

/** Feeds each decision's state and applied children into the next decision, `rounds` times. */
export function settle(
  start: RolloutInput,
  rounds = 6,
  stepMs = 0,
): { decision: RolloutDecision; input: RolloutInput } {
  let current = start;
  let decision = decideRollout(current);
  for (let i = 1; i < rounds; i++) {
    current = { ...current, state: decision.state, observed: applied(decision), now: current.now + stepMs };
    decision = decideRollout(current);
  }
  return { decision, input: current };
}
