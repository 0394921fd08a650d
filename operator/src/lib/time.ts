// Time as the API and people read it. One format everywhere: RFC 3339 UTC with milliseconds
// (Date#toISOString), so a time written to status reads back equal; `now` always comes in as an input.

/** An RFC 3339 time in UTC with milliseconds, e.g. "2026-12-02T04:12:01.123Z". */
export type Rfc3339 = string;

/**
 * RFC 3339 UTC. Milliseconds by default (rollout times: a step that starts and ends within a second
 * still orders); "seconds" where the field is a metav1.Time (conditions), whose precision is seconds.
 */
export function toRfc3339(ms: number, precision: "ms" | "seconds" = "ms"): Rfc3339 {
  const iso = new Date(ms).toISOString();
  return precision === "ms" ? iso : `${iso.slice(0, 19)}Z`;
}

/** Milliseconds of an RFC 3339 time; an unparsable or absent value counts as `fallback` (usually now). */
export function toMs(time: Rfc3339 | undefined, fallback: number): number {
  if (time === undefined) return fallback;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? fallback : ms;
}

/** "1h5m", "2m", "1m12s", "45s", "0s": what a person reads in a status message. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const parts = [h > 0 ? `${h}h` : "", m > 0 ? `${m}m` : "", s > 0 ? `${s}s` : ""].join("");
  return parts === "" ? "0s" : parts;
}
