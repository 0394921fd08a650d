// Time in the persisted state: RFC 3339 UTC strings with milliseconds, so status stays readable
// and a value read back equals the one written. `now` always comes in as an input.
import type { Rfc3339 } from "./types.ts";

export function toRfc3339(ms: number): Rfc3339 {
  return new Date(ms).toISOString();
}

/** Milliseconds of an RFC 3339 time; an unparsable value counts as `fallback` (usually now). */
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
