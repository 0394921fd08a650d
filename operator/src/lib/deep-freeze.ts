// Freezes a value and everything reachable from it, so a value shared between callers (a cached
// parse) cannot be changed by one of them behind the others' backs: a write throws (ES modules are
// strict) instead of silently changing what the next reader sees.

export function deepFreeze<T>(v: T): T {
  if (v === null || typeof v !== "object" || Object.isFrozen(v)) return v;
  Object.freeze(v);
  for (const x of Object.values(v as object)) deepFreeze(x);
  return v;
}
