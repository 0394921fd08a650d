// Stable JSON: object keys sorted and undefined fields dropped, so two values that mean the same
// serialize the same whatever their key order. Used to hash revisions and to compare objects.
// Revision names are hashes of this text: its output must never change (a new name is a new
// rollout). Built by appending rather than by entries/map/join: it runs on every child of every
// reconcile, and the intermediate arrays were most of its cost.

export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) {
    let out = "[";
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out += ",";
      // An item that has no JSON (undefined, a function, a hole) leaves its slot empty.
      if (i in v) out += (canonicalJson(v[i]) as string | undefined) ?? "";
    }
    return `${out}]`;
  }
  if (v && typeof v === "object") {
    let out = "{";
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x === undefined) continue;
      if (out.length > 1) out += ",";
      out += `${JSON.stringify(k)}:${canonicalJson(x)}`;
    }
    return `${out}}`;
  }
  return JSON.stringify(v);
}
