// The status a reconcile writes, as pure functions of what it decided: the rollout's state in the
// explicit fields (rollout/persisted-state.ts), counts from the children, and the conditions this
// writer owns. Strings are cut to the CRD's limits here, so a long message can never make the
// API server refuse the whole status write.
import {
  type Condition,
  ConditionType,
  type ModelDeploymentStatus,
  removeCondition,
  setCondition,
} from "../api/index.ts";
import { SpecReason } from "../api/reasons.ts";
import { canonicalJson } from "../lib/canonical-json.ts";
import { saveState } from "../rollout/persisted-state.ts";
import type { RolloutDecision } from "../rollout/types.ts";

/** The status fields this writer owns: all but status.health (the prober's) and its Healthy condition. */
export type OwnedStatus = Omit<ModelDeploymentStatus, "health">;

/** Conditions this writer owns (the prober owns Healthy). */
export const OWN_CONDITIONS: ReadonlySet<string> = new Set<string>([
  ConditionType.Available,
  ConditionType.Progressing,
  ConditionType.Degraded,
  ConditionType.Paused,
  ConditionType.InvalidSpec,
  ConditionType.ReconcileError,
]);

/** CRD maxLength of the free-text fields. */
const MAX = { message: 4096, reason: 1024, modelVersion: 63, conditionMessage: 32768 } as const;

export interface StatusInputs {
  /** The status read (or the one last written, until the cache shows it). */
  current: OwnedStatus | undefined;
  generation: number;
  decision: RolloutDecision;
  /** Live revisions' replica counts. */
  replicas: number;
  readyReplicas: number;
  /** Label selector of all pods (scale subresource). */
  selector: string;
  /** What each live revision runs. */
  revisionSpecs: Record<string, unknown>;
  now: number;
}

/** The whole owned status after a reconcile that decided. */
export function composeStatus(i: StatusInputs): OwnedStatus {
  const at = new Date(i.now);
  let conditions = ownConditions(i.current);
  for (const c of i.decision.conditions) {
    conditions = setCondition(conditions, { ...c, observedGeneration: i.generation }, at);
  }
  conditions = setCondition(
    conditions,
    {
      type: ConditionType.InvalidSpec,
      status: "False",
      reason: SpecReason.Valid,
      message: "spec is valid",
      observedGeneration: i.generation,
    },
    at,
  );
  // Every child is in place: a ReconcileError from an earlier pass is over.
  conditions = removeCondition(conditions, ConditionType.ReconcileError);
  const persisted = saveState(i.decision.state);
  const history = (persisted.history ?? []).map((h) => ({
    ...h,
    ...(h.modelVersion !== undefined ? { modelVersion: cut(h.modelVersion, MAX.modelVersion) } : {}),
    ...(h.reason !== undefined ? { reason: cut(h.reason, MAX.reason) } : {}),
    ...(h.message !== undefined ? { message: cut(h.message, MAX.message) } : {}),
  }));
  const bookkeeping = { ...(persisted.bookkeeping ?? {}) };
  if (bookkeeping.withdrawal) {
    const w = bookkeeping.withdrawal;
    bookkeeping.withdrawal = {
      ...w,
      reason: cut(w.reason, MAX.reason),
      message: cut(w.message, MAX.message),
    };
  }
  if (bookkeeping.rejection) {
    const r = bookkeeping.rejection;
    bookkeeping.rejection = { ...r, reason: cut(r.reason, MAX.reason), message: cut(r.message, MAX.message) };
  }
  return {
    observedGeneration: i.generation,
    phase: i.decision.phase,
    message: cut(i.decision.message, MAX.message),
    ...persisted,
    ...(history.length > 0 ? { history } : {}),
    // Never an empty object: server-side apply turns a map emptied by its owner into null, which
    // the schema (type: object) then refuses, failing the whole status write.
    ...(Object.keys(bookkeeping).length > 0 ? { bookkeeping } : {}),
    replicas: i.replicas,
    readyReplicas: i.readyReplicas,
    selector: i.selector,
    revisionSpecs: i.revisionSpecs,
    conditions: conditions.map(cutCondition),
  };
}

/** Why a reconcile stopped before the decision could be carried out. */
export interface Stop {
  /** InvalidSpec: a guard objected to the spec. ReconcileError: a child could not be put in place. */
  condition: typeof ConditionType.InvalidSpec | typeof ConditionType.ReconcileError;
  reason: string;
  message: string;
}

/**
 * The reconcile stopped (a guard objected, or a child could not be applied): the stop's condition
 * and Degraded say why; every other field stays as it was, so the rollout's memory does not move
 * past what is really in the cluster, and the running revision keeps serving.
 */
export function composeStoppedStatus(
  current: OwnedStatus | undefined,
  generation: number,
  stop: Stop,
  now: number,
): OwnedStatus {
  const at = new Date(now);
  let conditions = ownConditions(current);
  for (const type of [stop.condition, ConditionType.Degraded]) {
    conditions = setCondition(
      conditions,
      { type, status: "True", reason: stop.reason, message: stop.message, observedGeneration: generation },
      at,
    );
  }
  return {
    ...ownedFields(current),
    observedGeneration: generation,
    phase: "Degraded",
    message: cut(`${stop.reason}: ${stop.message}`, MAX.message),
    conditions: conditions.map(cutCondition),
  };
}

/** The part of a status this writer owns (not status.health, not the prober's conditions). */
export function ownedFields(s: OwnedStatus | undefined): OwnedStatus {
  if (!s) return {};
  const { health: _health, ...rest } = s as ModelDeploymentStatus;
  return { ...rest, conditions: ownConditions(s) };
}

export function statusEqual(a: OwnedStatus, b: OwnedStatus): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function ownConditions(s: OwnedStatus | undefined): Condition[] {
  return (s?.conditions ?? []).filter((c) => OWN_CONDITIONS.has(c.type));
}

function cutCondition(c: Condition): Condition {
  return { ...c, reason: cut(c.reason, MAX.reason), message: cut(c.message, MAX.conditionMessage) };
}

/** Cut to the CRD's limit, marking the cut so a reader knows there was more. */
function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
