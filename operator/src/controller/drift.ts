// Decides whether a child needs a write. Server-side apply of an unchanged object is still a
// PATCH request, so the operator first compares: an unchanged child costs zero writes.
//   - hash annotation: catches fields we stopped sending (apply removes them; a subset test cannot see it)
//   - subset test: catches hand edits of fields we own (live differs from what we sent)
import { createHash } from "node:crypto";
import { canonicalJson } from "../lib/canonical-json.ts";
import type { ApplyObject } from "../render/types.ts";

export const APPLIED_HASH = "modelship.dev/applied-hash";

/** Returns the object with its content hash stamped as an annotation (what kube/ applies). */
export function withAppliedHash<T extends ApplyObject>(obj: T): T {
  const hash = createHash("sha256").update(canonicalJson(obj)).digest("hex").slice(0, 16);
  return {
    ...obj,
    metadata: { ...obj.metadata, annotations: { ...(obj.metadata.annotations ?? {}), [APPLIED_HASH]: hash } },
  };
}

/** True when `live` does not already carry everything `desired` says. */
export function needsApply(desired: ApplyObject, live: unknown): boolean {
  return driftOf(desired, live) !== undefined;
}

/** Why a write is needed (for the debug log), or undefined when the live object is up to date. */
export function driftOf(desired: ApplyObject, live: unknown): string | undefined {
  if (!live || typeof live !== "object") return "missing";
  const annotations = (live as { metadata?: { annotations?: Record<string, string> } }).metadata?.annotations;
  if (annotations?.[APPLIED_HASH] !== desired.metadata.annotations?.[APPLIED_HASH])
    return "changed since last apply";
  // Items of a LIST response carry no apiVersion/kind (watch events do): compare content only.
  const { apiVersion: _v, kind: _k, ...content } = desired;
  return firstDifference(content, live, "");
}

function firstDifference(want: unknown, have: unknown, path: string): string | undefined {
  if (want === undefined) return undefined;
  if (Array.isArray(want)) {
    if (!Array.isArray(have) || have.length !== want.length) return `${path}: list length`;
    for (let i = 0; i < want.length; i++) {
      const d = firstDifference(want[i], have[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (want !== null && typeof want === "object") {
    if (have === null || typeof have !== "object" || Array.isArray(have)) return `${path}: not an object`;
    for (const [k, w] of Object.entries(want as Record<string, unknown>)) {
      const d = firstDifference(w, (have as Record<string, unknown>)[k], `${path}.${k}`);
      if (d) return d;
    }
    return undefined;
  }
  return isSubset(want, have) ? undefined : `${path}: ${JSON.stringify(want)} != ${JSON.stringify(have)}`;
}

/** Every leaf of `want` equals the same leaf of `have`; lists must match in length and order. */
export function isSubset(want: unknown, have: unknown): boolean {
  if (want === undefined) return true;
  if (Array.isArray(want)) {
    return Array.isArray(have) && have.length === want.length && want.every((w, i) => isSubset(w, have[i]));
  }
  if (want !== null && typeof want === "object") {
    if (have === null || typeof have !== "object" || Array.isArray(have)) return false;
    const h = have as Record<string, unknown>;
    return Object.entries(want as Record<string, unknown>).every(([k, w]) => isSubset(w, h[k]));
  }
  if (want === have) return true;
  // The API server canonicalises quantities ("1000m" -> "1", 2 -> "2").
  if (
    (typeof want === "string" || typeof want === "number") &&
    (typeof have === "string" || typeof have === "number")
  ) {
    const a = quantityValue(String(want));
    const b = quantityValue(String(have));
    return a !== undefined && b !== undefined && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));
  }
  return false;
}

const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes quantity as a number, or undefined when the text is not one. */
export function quantityValue(s: string): number | undefined {
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/.exec(s);
  if (!m) return undefined;
  const base = Number(m[1]);
  if (m[2]) return base * 10 ** Number(m[2].slice(1));
  return base * (SUFFIX[m[3] ?? ""] ?? 1);
}
