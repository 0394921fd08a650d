// The whole ModelDeployment object and the one parse function the operator uses on what it reads.
import { z } from "zod";
import { API_VERSION, KIND } from "./group.ts";
import { ModelDeploymentSpecSchema } from "./spec.ts";
import { ModelDeploymentStatusSchema } from "./status.ts";

// metadata is the API server's; we read the few fields we use and keep the rest untouched.
const ObjectMetaSchema = z.looseObject({
  name: z.string().min(1),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  generation: z.int().optional(),
  resourceVersion: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

export const ModelDeploymentSchema = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(KIND),
  metadata: ObjectMetaSchema,
  spec: ModelDeploymentSpecSchema,
  status: ModelDeploymentStatusSchema.optional(),
});

export type ModelDeployment = z.output<typeof ModelDeploymentSchema>;
/** What a user may write: defaults not yet applied. */
export type ModelDeploymentInput = z.input<typeof ModelDeploymentSchema>;

export interface ParseIssue {
  /** Where, in kubectl's notation: "spec.rollout.steps[2].setWeight". */
  path: string;
  message: string;
}

export type ParseResult = { ok: true; value: ModelDeployment } | { ok: false; issues: ParseIssue[] };

/** Validate an object read from the API (or a file) and apply in-memory defaults. Never throws. */
export function parseModelDeployment(obj: unknown): ParseResult {
  const result = ModelDeploymentSchema.safeParse(obj);
  if (result.success) return { ok: true, value: result.data };
  return {
    ok: false,
    issues: result.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
  };
}

/** One line for a condition message or an Event: "spec.replicas: Too small: expected ...; ...". */
export function formatIssues(issues: readonly ParseIssue[]): string {
  return issues.map((i) => (i.path === "" ? i.message : `${i.path}: ${i.message}`)).join("; ");
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? String(segment) : `.${String(segment)}`;
  }
  return out;
}
