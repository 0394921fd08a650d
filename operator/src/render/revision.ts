// A revision is the hash of everything that changes the pods. Fields that only steer the rollout
// (steps, analysis, replicas, health checks) are left out: changing them must not restart pods.
import { createHash } from "node:crypto";
import { API_VERSION, KIND, type ModelDeployment, parseModelDeployment } from "../api/index.ts";
import { canonicalJson } from "../lib/canonical-json.ts";

/** The parts of a spec that make a revision (what computeRevision hashes). */
export type RevisionSpec = Pick<ModelDeployment["spec"], "model" | "runtime" | "template">;

/** 10 hex chars: short enough for names and columns, 40 bits against collisions within one owner. */
export function computeRevision(spec: RevisionSpec): string {
  const identity = { model: spec.model, runtime: spec.runtime, template: spec.template ?? {} };
  return createHash("sha256").update(canonicalJson(identity)).digest("hex").slice(0, 10);
}

/** What each live revision runs, and the snapshots in status that were not trusted. */
export interface RevisionSpecs {
  specs: Record<string, RevisionSpec>;
  /** Snapshots dropped, with why: status alone never makes pods. */
  ignored: { revision: string; why: string }[];
}

/**
 * What each revision runs: the desired revision from the current spec, plus the snapshots in
 * status.revisionSpecs of revisions that already have pods. Status is writable by more people
 * than the spec, so a snapshot is trusted only when it is bound to pods this operator made: it
 * must still hash to its revision (content pinned) and a Deployment of that revision must exist
 * (`running`). A snapshot of a revision with no pods is reported and ignored.
 */
export function revisionSpecsOf(
  md: ModelDeployment,
  desired: string,
  running: ReadonlySet<string>,
): RevisionSpecs {
  const specs: Record<string, RevisionSpec> = {};
  const ignored: RevisionSpecs["ignored"] = [];
  const stored = (md.status as { revisionSpecs?: Record<string, unknown> } | undefined)?.revisionSpecs ?? {};
  for (const [rev, snap] of Object.entries(stored)) {
    if (rev === desired) continue;
    const parsed = parseModelDeployment({
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: { name: "x" },
      spec: snap,
    });
    if (!parsed.ok || computeRevision(parsed.value.spec) !== rev) {
      ignored.push({ revision: rev, why: "it is not a valid spec of that revision" });
    } else if (!running.has(rev)) {
      ignored.push({
        revision: rev,
        why: "no Deployment of that revision exists, and pods are made only from the spec",
      });
    } else {
      specs[rev] = snap as RevisionSpec;
    }
  }
  specs[desired] = {
    model: md.spec.model,
    runtime: md.spec.runtime,
    ...(md.spec.template ? { template: md.spec.template } : {}),
  };
  return { specs, ignored };
}
