// spec.rollout.analysis.agreement: "does the new model still answer like the old one?". The prober
// sends the same request to a stable pod and a canary pod and compares the answers at a JSON path;
// minAgreement (an analysis field, overridable per step) gates the canary on the share that agree.
import { z } from "zod";
import { cel, httpPath, opaqueObject } from "./schema-helpers.ts";

export const AGREEMENT_COMPARISONS = ["Exact", "Numeric", "Text"] as const;
export type AgreementComparison = (typeof AGREEMENT_COMPARISONS)[number];

/** Pairs each canary needs before minAgreement is judged, when analysis.minAgreementSamples is absent. */
export const DEFAULT_MIN_AGREEMENT_SAMPLES = 10;
/** Pairs per probe interval, when agreement.pairsPerInterval is absent. */
export const DEFAULT_PAIRS_PER_INTERVAL = 1;

/**
 * The JSON path grammar of the prober (prober/checks.ts readJsonPath): names and array indexes,
 * `$.outputs[0].data` or `choices.0.message.content`; no filters, wildcards or slices.
 */
export const AGREEMENT_JSON_PATH_PATTERN =
  "^(\\$\\.?)?[A-Za-z0-9_-]+(\\[[0-9]+\\])*(\\.[A-Za-z0-9_-]+(\\[[0-9]+\\])*)*$";
const JSON_PATH_MESSAGE =
  "must be a path of names and array indexes like $.outputs[0].data (no filters or wildcards)";

const TOLERANCE_NEEDS_NUMERIC = "absoluteTolerance and relativeTolerance need compare: Numeric";
const OVERLAP_NEEDS_TEXT = "minTokenOverlap needs compare: Text";

const AgreementRequestSchema = z
  .object({
    path: httpPath("Path of the request, e.g. /v2/models/recommender/infer or /v1/chat/completions."),
    method: z.enum(["POST", "GET"]).default("POST").describe("HTTP method."),
    body: opaqueObject(
      "JSON request body sent as-is to both pods. For chat models make it deterministic: temperature 0, a fixed seed where the server supports it (vLLM, TGI, OpenAI), a small max_tokens.",
    ).optional(),
  })
  .describe("The request sent to both pods. Default: spec.health.inference's path, method and body.");

export const AgreementSchema = cel(
  z
    .object({
      request: AgreementRequestSchema.optional(),
      jsonPath: z
        .string()
        .min(1)
        .max(256)
        .regex(new RegExp(AGREEMENT_JSON_PATH_PATTERN), JSON_PATH_MESSAGE)
        .describe(
          "The part of the two answers to compare, e.g. $.outputs[0].data (OIP scores) or $.choices[0].message.content (chat text).",
        ),
      compare: z
        .enum(AGREEMENT_COMPARISONS)
        .describe(
          "Exact: the values are deep-equal (labels, classes, ids). Numeric: numbers, or arrays of numbers element by element, within |canary − stable| ≤ absoluteTolerance + relativeTolerance × |stable| (scores). Text: strings equal after Unicode NFKC, lower case and whitespace collapsing, or, with minTokenOverlap, sharing at least that fraction of word tokens (chat answers).",
        ),
      absoluteTolerance: z
        .number()
        .min(0)
        .max(1e12)
        .optional()
        .describe("Numeric: allowed absolute difference per number. Default 0."),
      relativeTolerance: z
        .number()
        .min(0)
        .max(1000)
        .optional()
        .describe("Numeric: allowed difference as a fraction of the stable's value (0.05 = 5%). Default 0."),
      minTokenOverlap: z
        .number()
        .min(0)
        .max(1)
        .optional()
        .describe(
          "Text: the answers agree when their word tokens overlap at least this much (token F1: 2·shared ÷ (tokens of both), 1 = same words). Absent: the normalised texts must be equal.",
        ),
      pairsPerInterval: z
        .int()
        .min(1)
        .max(10)
        .optional()
        .describe(
          "Stable/canary pairs compared per spec.health.intervalSeconds (each pair is two requests with the probe's timeout, and counts as this ModelDeployment's probes for fairness). Default 1.",
        ),
    })
    .superRefine((a, ctx) => {
      if ((a.absoluteTolerance !== undefined || a.relativeTolerance !== undefined) && a.compare !== "Numeric")
        ctx.addIssue({ code: "custom", path: ["compare"], message: TOLERANCE_NEEDS_NUMERIC });
      if (a.minTokenOverlap !== undefined && a.compare !== "Text")
        ctx.addIssue({ code: "custom", path: ["compare"], message: OVERLAP_NEEDS_TEXT });
    })
    .describe(
      "Output agreement: while a canary runs beside a stable revision, the prober sends the same request to a stable pod and a canary pod and compares the answers at jsonPath. status.health.canary shows agreementRate; minAgreement gates on it. Absent: no comparison.",
    ),
  [
    {
      rule: "(!has(self.absoluteTolerance) && !has(self.relativeTolerance)) || self.compare == 'Numeric'",
      message: TOLERANCE_NEEDS_NUMERIC,
      fieldPath: ".compare",
    },
    {
      rule: "!has(self.minTokenOverlap) || self.compare == 'Text'",
      message: OVERLAP_NEEDS_TEXT,
      fieldPath: ".compare",
    },
  ],
);
export type AgreementSpec = z.output<typeof AgreementSchema>;

/** The analysis gate fields (shared by spec.rollout.analysis and step overrides). */
export const agreementGateFields = {
  minAgreement: z
    .number()
    .min(0)
    .max(1)
    .describe(
      "Minimum share (0..1) of stable/canary pairs whose answers agree (spec.rollout.analysis.agreement, required with it); below it the canary fails. Judged once minAgreementSamples pairs are in; only while a stable revision serves beside the canary. Absent: agreement is measured and shown, not gated.",
    ),
  minAgreementSamples: z
    .int()
    .min(1)
    .max(100_000)
    .describe(
      `Stable/canary pairs compared before minAgreement is judged; fewer means Inconclusive. Default ${DEFAULT_MIN_AGREEMENT_SAMPLES}.`,
    ),
};

export const MIN_AGREEMENT_NEEDS_AGREEMENT = "minAgreement needs spec.rollout.analysis.agreement";
export const AGREEMENT_NEEDS_REQUEST =
  "rollout.analysis.agreement needs a request: set agreement.request or health.inference";

/** CEL on spec.rollout: a step's minAgreement needs the comparison. */
export const STEP_MIN_AGREEMENT_CEL =
  "!has(self.steps) || !self.steps.exists(s, has(s.analysis) && has(s.analysis.minAgreement)) || (has(self.analysis) && has(self.analysis.agreement))";
/** CEL on spec: agreement has a request to send. */
export const AGREEMENT_REQUEST_CEL =
  "!has(self.rollout) || !has(self.rollout.analysis) || !has(self.rollout.analysis.agreement) || has(self.rollout.analysis.agreement.request) || (has(self.health) && has(self.health.inference))";

/** `$.outputs[0].data` → `outputs[0].data`, the form the prober reads. */
export function agreementPath(jsonPath: string): string {
  return jsonPath.replace(/^\$\.?/, "");
}

/** What status.health.canary shows of agreement (api/status.ts). */
export const agreementHealthFields = {
  agreementRate: z
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe(
      "Canary: share of stable/canary answer pairs in the window that agreed (rollout.analysis.agreement).",
    ),
  agreementSamples: z.int().min(0).optional().describe("Canary: stable/canary answer pairs in the window."),
  lastDisagreement: z
    .string()
    .max(1024)
    .optional()
    .describe(
      "Canary: the newest pair that disagreed, both answers trimmed, e.g. 'stable pod a: [0.31]; canary pod b: [0.51]'.",
    ),
};
