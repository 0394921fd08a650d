// promote / abort / retry / pause / resume: each only sets or removes one annotation with a merge
// patch on metadata.annotations. spec is never touched, so GitOps tools show no drift.
import { ANNOTATION } from "../api/index.ts";
import type { Cluster, MergePatch } from "../kube/plugin-client.ts";
import type { Output } from "./output.ts";
import { toModelDeploymentView } from "./view.ts";

export type Action = "promote" | "promoteFull" | "abort" | "retry" | "pause" | "resume";

/**
 * A fresh request id: RFC 3339 UTC with milliseconds. The operator acts on an id once, so a
 * repeat of the previous id (two requests in one millisecond) is moved on by 1 ms.
 */
export function requestId(now: number, previous?: string): string {
  const id = new Date(now).toISOString();
  return id === previous ? new Date(now + 1).toISOString() : id;
}

export function annotationPatch(action: Action, id: string): MergePatch {
  const value: string | null = action === "pause" ? "true" : action === "resume" ? null : id;
  const key = action === "pause" || action === "resume" ? ANNOTATION.paused : ANNOTATION[action];
  return { metadata: { annotations: { [key]: value } } };
}

/** What to tell the user before the request: a hint when the operator will ignore it. */
export function actionWarning(action: Action, raw: unknown, namespace: string): string | undefined {
  const md = toModelDeploymentView(raw, namespace);
  const s = md.status;
  const inCanary = s.canaryRevision !== undefined;
  switch (action) {
    case "promote":
    case "promoteFull":
    case "abort":
      return inCanary ? undefined : "no canary in progress: the operator will record and ignore this request";
    case "retry":
      return s.rejectedRevision !== undefined && s.rejectedRevision === md.desiredRevision
        ? undefined
        : "no rejected revision matches the current spec: the operator will record and ignore this request";
    case "pause":
      return md.annotations[ANNOTATION.paused] === "true" ? "already paused" : undefined;
    case "resume":
      return md.annotations[ANNOTATION.paused] === "true" ? undefined : "not paused";
  }
}

const DONE: Record<Action, string> = {
  promote: "promote requested: the current step ends",
  promoteFull: "full promotion requested: all remaining steps are skipped",
  abort: "abort requested: traffic returns to stable and the canary revision is rejected",
  retry: "retry requested: the rejected revision starts again",
  pause: "paused: no step advances until resume",
  resume: "resumed",
};

export async function runAction(
  action: Action,
  name: string,
  cluster: Cluster,
  out: Output,
  now: number,
): Promise<void> {
  // Read first: a missing object fails with "not found" instead of a patch error, and the user is
  // told when the operator would ignore the request.
  const raw = await cluster.getModelDeployment(name);
  const warning = actionWarning(action, raw, cluster.namespace);
  if (warning !== undefined) out.err(`warning: modeldeployment ${cluster.namespace}/${name}: ${warning}`);
  if ((action === "pause" || action === "resume") && warning !== undefined) return;
  const previous =
    action === "pause" || action === "resume"
      ? undefined
      : toModelDeploymentView(raw, cluster.namespace).annotations[ANNOTATION[action]];
  const id = requestId(now, previous);
  await cluster.patchModelDeployment(name, annotationPatch(action, id));
  const suffix = action === "pause" || action === "resume" ? "" : ` (id ${id})`;
  out.line(`modeldeployment ${cluster.namespace}/${name}: ${DONE[action]}${suffix}`);
  out.line(`follow it: kubectl modelship status ${name} -n ${cluster.namespace} --watch`);
}
