// Maps the parsed ModelDeployment (api/) onto the rollout state machine's plain inputs (rollout/).
// The state machine knows nothing of the CR's shape; this is the one place the two meet.
import { z } from "zod";
import { durationToMs, type ModelDeployment } from "../api/index.ts";
import type { ManualRequests, RolloutConfig, RolloutState, RolloutStep } from "../rollout/types.ts";

/** Annotations a person (or `kubectl modelship`) sets to act on a rollout; values are request ids. */
export const ANNOTATION = {
  promote: "modelship.dev/promote",
  promoteFull: "modelship.dev/promote-full",
  abort: "modelship.dev/abort",
  retry: "modelship.dev/retry",
  paused: "modelship.dev/paused",
} as const;

export function rolloutConfig(md: ModelDeployment, proberEnabled: boolean): RolloutConfig {
  const r = md.spec.rollout;
  const steps: RolloutStep[] = r.steps.map((s) => {
    if (s.setWeight !== undefined) return { setWeight: s.setWeight };
    if (s.pause !== undefined)
      return { pause: s.pause.duration ? { durationMs: durationToMs(s.pause.duration) } : {} };
    return { analysis: { ...(s.analysis ?? {}) } };
  });
  return {
    steps,
    progressDeadlineMs: r.progressDeadlineSeconds * 1000,
    scaleDownDelayMs: r.scaleDownDelaySeconds * 1000,
    traffic: r.traffic?.gatewayAPI ? "gatewayAPI" : "replicaRatio",
    analysisConfigured: proberEnabled,
    historyLimit: r.revisionHistoryLimit,
  };
}

export function manualRequests(md: ModelDeployment): ManualRequests {
  const a = md.metadata.annotations ?? {};
  const id = (k: string) => (a[k] && a[k].length > 0 ? a[k] : undefined);
  return {
    ...(id(ANNOTATION.promote) ? { promote: id(ANNOTATION.promote) } : {}),
    ...(id(ANNOTATION.promoteFull) ? { promoteFull: id(ANNOTATION.promoteFull) } : {}),
    ...(id(ANNOTATION.abort) ? { abort: id(ANNOTATION.abort) } : {}),
    ...(id(ANNOTATION.retry) ? { retry: id(ANNOTATION.retry) } : {}),
    paused: a[ANNOTATION.paused] === "true",
  };
}

// The persisted progress comes back from the API server: validate it like any input. Anything
// unreadable restarts from an empty state rather than crashing (the children still exist and
// the decision re-derives from them).
const time = z.string().min(1);
const RolloutStateSchema = z.looseObject({
  stableRevision: z.string().optional(),
  stableModelVersion: z.string().optional(),
  stableImage: z.string().optional(),
  canaryRevision: z.string().optional(),
  canaryModelVersion: z.string().optional(),
  canaryImage: z.string().optional(),
  stepIndex: z.int().min(0).default(0),
  stepStartedAt: time.optional(),
  canaryStartedAt: time.optional(),
  canaryWeight: z.number().min(0).max(100).default(0),
  pausedAt: time.optional(),
  withdrawal: z
    .object({
      revision: z.string(),
      modelVersion: z.string().optional(),
      image: z.string().optional(),
      cause: z.enum(["Abort", "Supersede", "Revert"]),
      reason: z.string(),
      message: z.string(),
      since: time,
      replicas: z.int().min(0),
    })
    .optional(),
  rejected: z.object({ revision: z.string(), reason: z.string(), message: z.string(), at: time }).optional(),
  pendingScaleDowns: z
    .array(z.object({ revision: z.string(), at: time, replicas: z.int().min(0) }))
    .default([]),
  handledRequests: z
    .object({ promote: z.string(), promoteFull: z.string(), abort: z.string(), retry: z.string() })
    .partial()
    .default({}),
  history: z
    .array(
      z.object({
        revision: z.string(),
        modelVersion: z.string().optional(),
        image: z.string().optional(),
        outcome: z.enum(["Promoted", "Aborted", "Superseded", "RolledBack"]),
        reason: z.string(),
        message: z.string(),
        time,
      }),
    )
    .default([]),
});

export function persistedState(raw: unknown): Partial<RolloutState> {
  if (raw === undefined) return {};
  const parsed = RolloutStateSchema.safeParse(raw);
  return parsed.success ? (parsed.data as Partial<RolloutState>) : {};
}
