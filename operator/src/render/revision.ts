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

/**
 * What each revision runs: the snapshots in status.revisionSpecs that still hash to their revision
 * (a tampered or stale one is dropped), plus the desired revision from the current spec. Every
 * live revision is rendered from what it was created with, never from the newer spec.
 */
export function revisionSpecsOf(md: ModelDeployment, desired: string): Record<string, RevisionSpec> {
  const out: Record<string, RevisionSpec> = {};
  const stored = (md.status as { revisionSpecs?: Record<string, unknown> } | undefined)?.revisionSpecs ?? {};
  for (const [rev, snap] of Object.entries(stored)) {
    const parsed = parseModelDeployment({
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: { name: "x" },
      spec: snap,
    });
    if (parsed.ok && computeRevision(parsed.value.spec) === rev) out[rev] = snap as RevisionSpec;
  }
  out[desired] = {
    model: md.spec.model,
    runtime: md.spec.runtime,
    ...(md.spec.template ? { template: md.spec.template } : {}),
  };
  return out;
}
