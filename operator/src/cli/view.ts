// What the CLI reads from the API, validated once (zod at the boundary) into the plain shapes the
// pure views take. Lenient on purpose: a spec the operator rejects (InvalidSpec) or a status from
// another operator version must still be shown, with what could not be read named.
import { z } from "zod";
import {
  formatIssues,
  formatPath,
  type ModelDeploymentSpec,
  ModelDeploymentSpecSchema,
  type ModelDeploymentStatus,
  ModelDeploymentStatusSchema,
} from "../api/index.ts";
import { LABEL_REVISION } from "../render/labels.ts";
import { computeRevision } from "../render/revision.ts";
import { loadState } from "../rollout/persisted-state.ts";
import type { RolloutState } from "../rollout/types.ts";

export interface ModelDeploymentView {
  name: string;
  namespace: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  annotations: Record<string, string>;
  /** Undefined when the spec does not parse; specProblem then says why. */
  spec?: ModelDeploymentSpec;
  specProblem?: string;
  /** The revision the current spec hashes to (what the operator is asked to run). */
  desiredRevision?: string;
  status: ModelDeploymentStatus;
  statusProblem?: string;
  /** The state machine's own record (handled request ids, withdrawals, drains). */
  state: Partial<RolloutState>;
}

/** One revision's Deployment: replicas the operator asked for and what is Ready. */
export interface RevisionPods {
  deployment: string;
  revision: string;
  desired: number;
  ready: number;
  available: number;
  updated: number;
}

const MetadataSchema = z.looseObject({
  name: z.string().min(1),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  generation: z.int().optional(),
  resourceVersion: z.string().optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

const RawObjectSchema = z.looseObject({
  metadata: MetadataSchema,
  spec: z.unknown().optional(),
  // A brand-new object has no status yet; that is a state to show, not an error.
  status: z.unknown().optional(),
});

function issues(error: z.ZodError): string {
  return formatIssues(error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })));
}

/** Throws an Error naming the problem only when the object has no usable metadata at all. */
export function toModelDeploymentView(raw: unknown, fallbackNamespace: string): ModelDeploymentView {
  const top = RawObjectSchema.safeParse(raw);
  if (!top.success) throw new Error(`not a ModelDeployment object: ${issues(top.error)}`);
  const { metadata } = top.data;
  const view: ModelDeploymentView = {
    name: metadata.name,
    namespace: metadata.namespace ?? fallbackNamespace,
    annotations: metadata.annotations ?? {},
    status: {},
    state: {},
  };
  if (metadata.uid !== undefined) view.uid = metadata.uid;
  if (metadata.generation !== undefined) view.generation = metadata.generation;
  if (metadata.resourceVersion !== undefined) view.resourceVersion = metadata.resourceVersion;

  const spec = ModelDeploymentSpecSchema.safeParse(top.data.spec);
  if (spec.success) {
    view.spec = spec.data;
    view.desiredRevision = computeRevision(spec.data);
  } else {
    view.specProblem = issues(spec.error);
  }
  if (top.data.status !== undefined) {
    const status = ModelDeploymentStatusSchema.safeParse(top.data.status);
    if (status.success) {
      view.status = status.data;
      view.state = loadState(status.data);
    } else {
      view.statusProblem = issues(status.error);
    }
  }
  return view;
}

const DeploymentSchema = z.looseObject({
  metadata: z.looseObject({
    name: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    ownerReferences: z.array(z.looseObject({ uid: z.string().optional() })).optional(),
  }),
  spec: z.looseObject({ replicas: z.int().optional() }).optional(),
  status: z
    .looseObject({
      readyReplicas: z.int().optional(),
      availableReplicas: z.int().optional(),
      updatedReplicas: z.int().optional(),
    })
    .optional(),
});

/**
 * The revision Deployments of one ModelDeployment, oldest label order kept. When the owner's uid is
 * known, Deployments owned by something else (a same-named leftover) are left out.
 */
export function toRevisionPods(deployments: readonly unknown[], ownerUid?: string): RevisionPods[] {
  const out: RevisionPods[] = [];
  for (const raw of deployments) {
    const d = DeploymentSchema.safeParse(raw);
    if (!d.success) continue;
    const { metadata, spec, status } = d.data;
    const revision = metadata.labels?.[LABEL_REVISION];
    if (revision === undefined) continue;
    if (ownerUid !== undefined && !(metadata.ownerReferences ?? []).some((r) => r.uid === ownerUid)) continue;
    out.push({
      deployment: metadata.name ?? "",
      revision,
      desired: spec?.replicas ?? 1,
      ready: status?.readyReplicas ?? 0,
      available: status?.availableReplicas ?? 0,
      updated: status?.updatedReplicas ?? 0,
    });
  }
  return out;
}
