// Pure helpers over metav1.Condition lists. lastTransitionTime moves only when status changes,
// so a resync that recomputes the same conditions writes nothing.
import { toRfc3339 } from "../lib/time.ts";
import type { Condition } from "./status.ts";

/** Condition types the operator sets. */
export const ConditionType = {
  Available: "Available",
  Progressing: "Progressing",
  Healthy: "Healthy",
  Degraded: "Degraded",
  Paused: "Paused",
  InvalidSpec: "InvalidSpec",
  /** A child object could not be applied or pruned (True), with the API server's words. */
  ReconcileError: "ReconcileError",
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

export type ConditionUpdate = Omit<Condition, "lastTransitionTime">;

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === "True";
}

/**
 * Return a new list with `update` applied. The list keeps its order (a new type is appended);
 * lastTransitionTime is `now` for a new condition or a changed status, else the old one.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  now: Date,
): Condition[] {
  const list = conditions ?? [];
  const previous = findCondition(list, update.type);
  const lastTransitionTime =
    previous !== undefined && previous.status === update.status
      ? previous.lastTransitionTime
      : toRfc3339(now.getTime(), "seconds");
  const next: Condition = { ...update, lastTransitionTime };
  if (previous === undefined) return [...list, next];
  return list.map((c) => (c.type === update.type ? next : c));
}

export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}
