// The rollout's memory is the ModelDeployment's status: the explicit fields (stable, canary, step,
// weight, times, rejected revision, history) plus status.bookkeeping for the few facts that have no
// explicit field. loadState reads it back, saveState writes it; nothing is stored twice.
// Status comes back from the API server, so it is validated like any input: an unreadable part is
// dropped (the engine re-derives from the children) rather than crashing the reconcile.
import { z } from "zod";
import { HeaderRouteSchema } from "../api/header-route.ts";
import { ShadowStatusSchema } from "../api/shadow.ts";
import {
  HISTORY_OUTCOMES,
  HistoryEntrySchema,
  type ModelDeploymentStatus,
  RolloutBookkeepingSchema,
  WITHDRAWAL_CAUSES,
} from "../api/status.ts";
import type { RolloutState } from "./types.ts";

/** The status fields saveState owns. */
export type PersistedStatus = Pick<
  ModelDeploymentStatus,
  | "stableRevision"
  | "canaryRevision"
  | "currentStepIndex"
  | "canaryWeight"
  | "rejectedRevision"
  | "stepStartTime"
  | "pauseStartTime"
  | "canaryStartTime"
  | "headerRoute"
  | "shadow"
  | "history"
  | "bookkeeping"
>;

/** What a revision runs, from status.revisionSpecs (only the two facts history and messages name). */
interface RevisionFacts {
  modelVersion?: string;
  image?: string;
}

const time = z.string().min(1);
const revision = z.string().min(1).max(63);
const ExplicitSchema = z.looseObject({
  stableRevision: revision.optional().catch(undefined),
  canaryRevision: revision.optional().catch(undefined),
  currentStepIndex: z.int().min(0).optional().catch(undefined),
  canaryWeight: z.number().min(0).max(100).optional().catch(undefined),
  rejectedRevision: revision.optional().catch(undefined),
  stepStartTime: time.optional().catch(undefined),
  pauseStartTime: time.optional().catch(undefined),
  canaryStartTime: time.optional().catch(undefined),
  headerRoute: HeaderRouteSchema.optional().catch(undefined),
  shadow: ShadowStatusSchema.optional().catch(undefined),
  history: z.array(HistoryEntrySchema).optional().catch(undefined),
  bookkeeping: RolloutBookkeepingSchema.optional().catch(undefined),
  revisionSpecs: z.record(z.string(), z.unknown()).optional().catch(undefined),
  rolloutState: z.unknown().optional(),
});

/**
 * status.rolloutState as operator 0.1 wrote it: the whole state, explicit fields included. Read only
 * to carry a rollout in flight across the upgrade; the first status write drops it.
 */
const LegacyStateSchema = z.object({
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
      cause: z.enum(WITHDRAWAL_CAUSES),
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
        outcome: z.enum(HISTORY_OUTCOMES),
        reason: z.string(),
        message: z.string(),
        time,
      }),
    )
    .default([]),
});

/** The rollout state a status describes; `{}` for a new resource or an unreadable status. */
export function loadState(status: unknown): Partial<RolloutState> {
  const parsed = ExplicitSchema.safeParse(status ?? {});
  if (!parsed.success) return {};
  const s = parsed.data;
  if (s.bookkeeping === undefined && s.rolloutState !== undefined) return loadLegacy(s.rolloutState);
  const facts = (rev: string | undefined) => revisionFacts(s.revisionSpecs, rev);
  const b = s.bookkeeping ?? {};
  const out: Partial<RolloutState> = {
    stepIndex: s.currentStepIndex ?? 0,
    canaryWeight: s.canaryWeight ?? 0,
    pendingScaleDowns: b.pendingScaleDowns ?? [],
    handledRequests: b.handledRequests ?? {},
    history: s.history ?? [],
  };
  if (s.stableRevision !== undefined) {
    out.stableRevision = s.stableRevision;
    const f = facts(s.stableRevision);
    if (f.modelVersion !== undefined) out.stableModelVersion = f.modelVersion;
    if (f.image !== undefined) out.stableImage = f.image;
  }
  if (s.canaryRevision !== undefined) {
    out.canaryRevision = s.canaryRevision;
    const f = facts(s.canaryRevision);
    if (f.modelVersion !== undefined) out.canaryModelVersion = f.modelVersion;
    if (f.image !== undefined) out.canaryImage = f.image;
  }
  if (s.stepStartTime !== undefined) out.stepStartedAt = s.stepStartTime;
  if (s.canaryStartTime !== undefined) out.canaryStartedAt = s.canaryStartTime;
  if (s.pauseStartTime !== undefined) out.pausedAt = s.pauseStartTime;
  if (s.headerRoute !== undefined && s.canaryRevision !== undefined) out.headerRoute = s.headerRoute;
  if (s.shadow !== undefined && s.canaryRevision !== undefined) out.shadow = s.shadow;
  if (s.rejectedRevision !== undefined) {
    out.rejected = {
      revision: s.rejectedRevision,
      reason: b.rejection?.reason ?? "",
      message: b.rejection?.message ?? "",
      at: b.rejection?.at ?? s.stepStartTime ?? new Date(0).toISOString(),
    };
  }
  if (b.withdrawal !== undefined) out.withdrawal = b.withdrawal;
  if (b.manualAdvance !== undefined) out.manualAdvance = b.manualAdvance;
  return out;
}

function loadLegacy(raw: unknown): Partial<RolloutState> {
  // z.object strips keys 0.1 never wrote, so nothing unknown leaks into the new status.
  const parsed = LegacyStateSchema.safeParse(raw);
  return parsed.success ? dropUndefined<Partial<RolloutState>>(parsed.data) : {};
}

/** The status fields that hold `state` (stable/canary model and image live in status.revisionSpecs). */
export function saveState(state: RolloutState): PersistedStatus {
  const bookkeeping = dropUndefined({
    handledRequests: Object.keys(state.handledRequests).length > 0 ? state.handledRequests : undefined,
    pendingScaleDowns: state.pendingScaleDowns.length > 0 ? state.pendingScaleDowns : undefined,
    withdrawal: state.withdrawal,
    rejection: state.rejected
      ? { reason: state.rejected.reason, message: state.rejected.message, at: state.rejected.at }
      : undefined,
    manualAdvance: state.manualAdvance,
  });
  return dropUndefined({
    stableRevision: state.stableRevision,
    canaryRevision: state.canaryRevision !== state.stableRevision ? state.canaryRevision : undefined,
    currentStepIndex: state.stepIndex,
    canaryWeight: state.canaryWeight,
    rejectedRevision: state.rejected?.revision,
    stepStartTime: state.stepStartedAt,
    pauseStartTime: state.pausedAt,
    canaryStartTime: state.canaryStartedAt,
    headerRoute: state.headerRoute,
    shadow: state.shadow,
    // Absent rather than empty, like bookkeeping: apply turns an emptied field into null.
    history: state.history.length > 0 ? state.history : undefined,
    bookkeeping: Object.keys(bookkeeping).length > 0 ? bookkeeping : undefined,
  });
}

/** What a revision runs, from status.revisionSpecs (read leniently: it is the API server's copy). */
export function revisionFacts(
  specs: Record<string, unknown> | undefined,
  rev: string | undefined,
): RevisionFacts {
  if (rev === undefined) return {};
  const snap = specs?.[rev] as { model?: { version?: unknown }; runtime?: { image?: unknown } } | undefined;
  const out: RevisionFacts = {};
  if (typeof snap?.model?.version === "string") out.modelVersion = snap.model.version;
  if (typeof snap?.runtime?.image === "string") out.image = snap.runtime.image;
  return out;
}

/** exactOptionalPropertyTypes: an absent field is absent, never `undefined`. */
function dropUndefined<T extends object>(o: { [K in keyof T]: T[K] | undefined }): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
