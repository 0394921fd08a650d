// A revision is the hash of everything that changes the pods. Fields that only steer the rollout
// (steps, analysis, replicas, health checks) are left out: changing them must not restart pods.
import { createHash } from "node:crypto";
import type { ModelDeploymentSpec } from "../api/index.ts";

/** Stable JSON: object keys sorted, so equal specs hash equally whatever their key order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

/** 10 hex chars: short enough for names and columns, 40 bits against collisions within one owner. */
export function computeRevision(spec: Pick<ModelDeploymentSpec, "model" | "runtime" | "template">): string {
  const identity = { model: spec.model, runtime: spec.runtime, template: spec.template ?? {} };
  return createHash("sha256").update(canonicalJson(identity)).digest("hex").slice(0, 10);
}
