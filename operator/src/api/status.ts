// status of a ModelDeployment: written only by the operator, through the status subresource.
// Every field is optional so a brand-new object (no status yet) parses.
import { z } from "zod";
import { agreementHealthFields } from "./agreement.ts";
import { HeaderRouteSchema } from "./header-route.ts";
import { opaqueObject } from "./schema-helpers.ts";
import { ShadowStatusSchema } from "./shadow.ts";
import { streamHealthFields } from "./stream-status.ts";

const time = (description: string) => z.iso.datetime({ offset: true }).describe(description);

export const PHASES = ["Healthy", "Progressing", "Paused", "Degraded"] as const;
export type Phase = (typeof PHASES)[number];

export const HISTORY_OUTCOMES = ["Promoted", "Aborted", "Superseded", "RolledBack"] as const;
export type HistoryOutcome = (typeof HISTORY_OUTCOMES)[number];

export const VERDICTS = ["Pass", "Fail", "Inconclusive"] as const;
export type Verdict = (typeof VERDICTS)[number];

export const CONDITION_STATUSES = ["True", "False", "Unknown"] as const;

export const ConditionSchema = z
  .object({
    type: z
      .string()
      .min(1)
      .max(316)
      .describe(
        "Condition type, e.g. Available, Progressing, Healthy, Degraded, Paused, InvalidSpec, ReconcileError.",
      ),
    status: z.enum(CONDITION_STATUSES).describe("True, False or Unknown."),
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .describe("metadata.generation the condition was computed from."),
    lastTransitionTime: time("When status last changed."),
    reason: z.string().min(1).max(1024).describe("CamelCase machine-readable reason."),
    message: z.string().max(32768).describe("Human-readable details."),
  })
  .describe("A metav1.Condition.");
export type Condition = z.output<typeof ConditionSchema>;

const CheckHealthSchema = z
  .object({
    name: z
      .string()
      .max(300)
      .describe("The check: a preset's (e.g. model-ready), 'inference', or one of spec.health.checks."),
    samples: z
      .int()
      .min(0)
      .describe("Probes in the window that ran this check (a probe stops at its first failing check)."),
    successRate: z.number().min(0).max(1).optional().describe("Fraction of those it passed."),
    lastError: z.string().max(1024).optional().describe("This check's last failure, e.g. 'pod x: HTTP 503'."),
  })
  .describe("One check of the probe, over the window.");
export type CheckHealth = z.output<typeof CheckHealthSchema>;

const RevisionHealthSchema = z
  .object({
    revision: z.string().max(63).describe("Revision hash the numbers belong to."),
    successRate: z.number().min(0).max(1).optional().describe("Fraction of successful checks in the window."),
    p50Ms: z.number().min(0).optional().describe("Median inference latency, ms."),
    p95Ms: z.number().min(0).optional().describe("p95 inference latency, ms."),
    p99Ms: z.number().min(0).optional().describe("p99 inference latency, ms."),
    ...streamHealthFields,
    samples: z.int().min(0).optional().describe("Checks in the window."),
    consecutiveFailures: z.int().min(0).optional().describe("Failed evaluations in a row."),
    lastError: z.string().max(1024).optional().describe("Last failure seen, e.g. 'pod x: HTTP 503'."),
    lastProbeTime: time("When the window was last updated.").optional(),
    verdict: z.enum(VERDICTS).optional().describe("Pass, Fail, or Inconclusive (too few samples)."),
    checks: z
      .array(CheckHealthSchema)
      .max(16)
      .optional()
      .describe("Each check of the probe, in the order they run; every one counts in the verdict."),
    ...agreementHealthFields,
  })
  .describe("What the prober measured for one revision.");
export type RevisionHealth = z.output<typeof RevisionHealthSchema>;

const PendingScaleDownSchema = z
  .object({
    revision: z.string().max(63).describe("Revision whose pods are kept while requests drain."),
    at: time("When its Deployment is removed."),
    replicas: z.int().min(0).describe("Replicas it keeps until then."),
  })
  .describe("A revision that no longer gets traffic, kept until `at` so requests in flight drain.");
export type PendingScaleDown = z.output<typeof PendingScaleDownSchema>;

export const WITHDRAWAL_CAUSES = ["Abort", "Supersede", "Revert"] as const;
export type WithdrawalCause = (typeof WITHDRAWAL_CAUSES)[number];

const WithdrawalSchema = z
  .object({
    revision: z.string().max(63).describe("The canary being taken away."),
    cause: z
      .enum(WITHDRAWAL_CAUSES)
      .describe(
        "Abort (rejected), Supersede (a newer spec replaced it) or Revert (spec went back to stable).",
      ),
    reason: z.string().max(1024).describe("CamelCase reason."),
    message: z.string().max(4096).describe("Human-readable details."),
    since: time("When the withdrawal began."),
    replicas: z.int().min(0).describe("Replicas held while stable catches up (its size when it began)."),
  })
  .describe(
    "A canary leaving: stable is restored to full Ready capacity first, then traffic moves to stable, then the revision drains.",
  );
export type Withdrawal = z.output<typeof WithdrawalSchema>;

const RejectionSchema = z
  .object({
    reason: z.string().max(1024).describe("CamelCase reason of the abort."),
    message: z.string().max(4096).describe("Human-readable details."),
    at: time("When it was aborted."),
  })
  .describe("Why status.rejectedRevision was aborted.");

export const MANUAL_ADVANCES = ["promote", "promoteFull"] as const;
export type ManualAdvance = (typeof MANUAL_ADVANCES)[number];

const REQUEST_ID = z.string().max(256);
const HandledRequestsSchema = z
  .object({ promote: REQUEST_ID, promoteFull: REQUEST_ID, abort: REQUEST_ID, retry: REQUEST_ID })
  .partial()
  .describe("The last request id acted on per annotation, so a re-sync never acts on one twice.");
export type HandledRequests = z.output<typeof HandledRequestsSchema>;

/**
 * Facts with no explicit status field. Everything else the rollout remembers (stable, canary, step,
 * weight, times, rejected revision, history) IS the explicit fields above it: one source of truth.
 */
export const RolloutBookkeepingSchema = z
  .object({
    handledRequests: HandledRequestsSchema.optional(),
    pendingScaleDowns: z.array(PendingScaleDownSchema).max(16).optional(),
    withdrawal: WithdrawalSchema.optional(),
    rejection: RejectionSchema.optional(),
    manualAdvance: z
      .enum(MANUAL_ADVANCES)
      .optional()
      .describe("A person moved the current canary past a step (promote) or all of them (promoteFull)."),
  })
  .describe(
    "The operator's own bookkeeping for facts that have no explicit status field (requests already handled, revisions draining, a withdrawal under way), so a restarted operator continues exactly where it was. Read-only.",
  );
export type RolloutBookkeeping = z.output<typeof RolloutBookkeepingSchema>;

export const HistoryEntrySchema = z
  .object({
    revision: z.string().max(63).describe("Revision hash."),
    modelVersion: z.string().max(63).optional().describe("spec.model.version of that revision."),
    image: z.string().max(1024).optional().describe("spec.runtime.image of that revision."),
    outcome: z
      .enum(HISTORY_OUTCOMES)
      .describe("Promoted, Aborted, Superseded (replaced mid-rollout) or RolledBack."),
    reason: z.string().max(1024).optional().describe("CamelCase reason, e.g. SuccessRateBelowThreshold."),
    message: z.string().max(4096).optional().describe("Human-readable details."),
    time: time("When it happened."),
  })
  .describe("One finished revision.");
export type HistoryEntry = z.output<typeof HistoryEntrySchema>;

/** An aborted revision, as the engine holds it: status.rejectedRevision plus bookkeeping.rejection. */
export interface Rejection extends z.output<typeof RejectionSchema> {
  revision: string;
}

export const HISTORY_MAX_ITEMS = 50;

export const ModelDeploymentStatusSchema = z
  .object({
    observedGeneration: z.int().min(0).optional().describe("metadata.generation this status describes."),
    phase: z.enum(PHASES).optional().describe("Healthy, Progressing, Paused or Degraded."),
    message: z
      .string()
      .max(4096)
      .optional()
      .describe("One line on what is happening, e.g. 'canary 5d2a at 10%: 412 probes, 99.8% ok'."),
    stableRevision: z.string().max(63).optional().describe("Revision serving the bulk of traffic."),
    canaryRevision: z.string().max(63).optional().describe("Revision being rolled out, if any."),
    currentStepIndex: z
      .int()
      .min(0)
      .optional()
      .describe("Index into spec.rollout.steps of the step in progress."),
    canaryWeight: z.int().min(0).max(100).optional().describe("Percentage of traffic on the canary."),
    headerRoute: HeaderRouteSchema.optional().describe(
      "The header route in force: requests matching it go to the canary whatever canaryWeight says. Set by a headerRoute step, removed at promotion and abort.",
    ),
    shadow: ShadowStatusSchema.optional(),
    replicas: z.int().min(0).optional().describe("Total pods of all live revisions (scale subresource)."),
    readyReplicas: z.int().min(0).optional().describe("Ready pods of all live revisions."),
    selector: z
      .string()
      .max(4096)
      .optional()
      .describe("Label selector of all pods, for the scale subresource and HPAs."),
    rejectedRevision: z
      .string()
      .max(63)
      .optional()
      .describe("A revision that was aborted; it is not retried until the spec changes."),
    stepStartTime: time("When the current step started.").optional(),
    pauseStartTime: time("When the current pause started.").optional(),
    canaryStartTime: time("When the canary revision was first deployed.").optional(),
    history: z
      .array(HistoryEntrySchema)
      .max(HISTORY_MAX_ITEMS)
      .optional()
      .describe("Finished revisions, newest first, bounded by spec.rollout.revisionHistoryLimit."),
    bookkeeping: RolloutBookkeepingSchema.optional(),
    rolloutState: opaqueObject(
      "Deprecated: the bookkeeping of operator 0.1, read once to carry a rollout in flight across the upgrade and then removed. Never written.",
    ).optional(),
    revisionSpecs: opaqueObject(
      "What each live revision runs (model, runtime, template), by revision hash: old revisions keep their own pods while the spec already describes the next one. Read-only.",
    ).optional(),
    health: z
      .object({ stable: RevisionHealthSchema.optional(), canary: RevisionHealthSchema.optional() })
      .optional()
      .describe(
        "Prober measurements per live revision. Written when the verdict changes at once, otherwise at most every 10 s and only when the numbers moved (success rate by a point, p99 or TTFT p99 by a quarter and at least 25 ms), so a steady server costs no writes.",
      ),
    conditions: z
      .array(ConditionSchema)
      .max(32)
      .optional()
      .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] })
      .describe(
        "Standard conditions: Available, Progressing, Healthy, Degraded, Paused, InvalidSpec, and ReconcileError (True while a child object cannot be applied: ChildRejected, NameConflict, ApplyFailed).",
      ),
  })
  .describe("Observed state, written by the operator.");

export type ModelDeploymentStatus = z.output<typeof ModelDeploymentStatusSchema>;
