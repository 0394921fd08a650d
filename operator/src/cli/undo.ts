// `undo`: the one command that edits spec. It sets spec.model.version and spec.runtime.image back
// to an earlier revision's, taken from status.history (which records only those two of the pod
// shape: it refuses when that is not enough to get the old revision back).
import type { HistoryEntry } from "../api/index.ts";
import type { Cluster, MergePatch } from "../kube/plugin-client.ts";
import { computeRevision } from "../render/revision.ts";
import { CliError } from "./errors.ts";
import type { Output } from "./output.ts";
import type { Style } from "./style.ts";
import { type ModelDeploymentView, toModelDeploymentView } from "./view.ts";

export type UndoTarget = { ok: true; entry: HistoryEntry } | { ok: false; problem: string };

/**
 * Default: the newest Promoted entry that is not the current stable (the revision that was stable
 * before it). With --to-revision: the newest entry whose revision is REV or starts with it.
 */
export function selectUndoTarget(md: ModelDeploymentView, toRevision?: string): UndoTarget {
  const history = md.status.history ?? [];
  const stable = md.status.stableRevision;
  if (toRevision === undefined) {
    const entry = history.find((h) => h.outcome === "Promoted" && h.revision !== stable);
    if (entry === undefined) {
      return {
        ok: false,
        problem:
          "status.history has no Promoted revision before the current stable; pick one with --to-revision (see kubectl modelship history)",
      };
    }
    return { ok: true, entry };
  }
  const matching = [...new Set(history.map((h) => h.revision))].filter((r) => r.startsWith(toRevision));
  if (matching.length === 0) {
    return {
      ok: false,
      problem: `revision ${toRevision} is not in status.history (see kubectl modelship history)`,
    };
  }
  if (matching.length > 1) {
    return { ok: false, problem: `revision prefix ${toRevision} is ambiguous: ${matching.join(", ")}` };
  }
  const entry = history.find((h) => h.revision === matching[0]);
  return entry
    ? { ok: true, entry }
    : { ok: false, problem: `revision ${toRevision} is not in status.history` };
}

export interface UndoPlan {
  target: HistoryEntry;
  patch: MergePatch;
  /** The revision the patched spec hashes to; equal to target.revision when the undo is exact. */
  resultRevision: string;
  notes: string[];
}

export type UndoResult = { ok: true; plan: UndoPlan } | { ok: false; problem: string };

export function planUndo(md: ModelDeploymentView, toRevision?: string, force = false): UndoResult {
  const spec = md.spec;
  if (spec === undefined) {
    return {
      ok: false,
      problem: `the current spec does not parse (${md.specProblem ?? "unknown"}); fix it first`,
    };
  }
  const picked = selectUndoTarget(md, toRevision);
  if (!picked.ok) return picked;
  const target = picked.entry;
  if (target.modelVersion === undefined || target.image === undefined) {
    return {
      ok: false,
      problem: `history entry for ${target.revision} lacks its ${target.modelVersion === undefined ? "model version" : "image"}, so it cannot be restored; edit spec (or revert in Git) by hand`,
    };
  }
  if (target.revision === md.desiredRevision) {
    return { ok: false, problem: `the spec already describes revision ${target.revision}; nothing to undo` };
  }
  const next = {
    ...spec,
    model: { ...spec.model, version: target.modelVersion },
    runtime: { ...spec.runtime, image: target.image },
  };
  const resultRevision = computeRevision(next);
  const notes: string[] = [];
  if (resultRevision !== target.revision) {
    const why = `other fields that shape the pods (model.uri, runtime command/args/env/resources, template) changed since ${target.revision}, and history does not record them: the result would be a new revision ${resultRevision}, not ${target.revision}`;
    if (!force) return { ok: false, problem: `${why}; revert in Git, edit spec by hand, or pass --force` };
    notes.push(`--force: ${why}`);
  }
  if (target.revision === md.status.rejectedRevision) {
    notes.push(
      `${target.revision} is the rejected revision: it will not start until kubectl modelship retry`,
    );
  }
  if (target.outcome === "Aborted") {
    notes.push(`${target.revision} was aborted before (${target.reason ?? "no reason recorded"})`);
  }
  // resourceVersion makes the patch conditional: a concurrent edit fails with 409 instead of
  // being overwritten by a spec computed from an older read.
  const patch: MergePatch = {
    metadata: md.resourceVersion ? { resourceVersion: md.resourceVersion } : {},
    spec: { model: { version: target.modelVersion }, runtime: { image: target.image } },
  };
  return { ok: true, plan: { target, patch, resultRevision, notes } };
}

export interface UndoOptions {
  toRevision?: string;
  dryRun: boolean;
  force: boolean;
}

export async function runUndo(
  name: string,
  options: UndoOptions,
  cluster: Cluster,
  out: Output,
  style: Style,
): Promise<void> {
  const md = toModelDeploymentView(await cluster.getModelDeployment(name), cluster.namespace);
  const result = planUndo(md, options.toRevision, options.force);
  const who = `modeldeployment ${md.namespace}/${md.name}`;
  if (!result.ok) throw new CliError(`${who}: cannot undo: ${result.problem}`);
  const { plan } = result;
  const spec = md.spec;
  out.err(
    style.yellow(
      "warning: undo CHANGES SPEC. If this object is managed from Git (Argo CD, Flux), revert the commit there instead: the next sync overwrites this edit and the app shows OutOfSync until then.",
    ),
  );
  for (const note of plan.notes) out.err(`note: ${note}`);
  out.line(`${who}: back to revision ${plan.target.revision} (${plan.target.outcome} ${plan.target.time})`);
  out.line(`  spec.model.version:  ${spec?.model.version ?? "?"} -> ${plan.target.modelVersion ?? "?"}`);
  out.line(`  spec.runtime.image:  ${spec?.runtime.image ?? "?"} -> ${plan.target.image ?? "?"}`);
  if (options.dryRun) {
    out.line("dry run: nothing changed");
    return;
  }
  await cluster.patchModelDeployment(name, plan.patch);
  const how =
    plan.resultRevision === md.status.stableRevision
      ? "back to the stable revision: the canary is withdrawn, no steps"
      : "a new rollout through the steps";
  out.line(`spec updated; the operator now rolls out ${plan.resultRevision} (${how})`);
  out.line(`follow it: kubectl modelship status ${name} -n ${md.namespace} --watch`);
}
