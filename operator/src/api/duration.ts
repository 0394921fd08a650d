// Durations are written the way kubectl and Argo users write them ("30s", "2m", "1h30m"):
// hours, minutes and seconds, each an integer, in that order, at least one present.

/** The same rule as a regular expression; RE2-compatible so the CRD can carry it as `pattern`. */
export const DURATION_PATTERN = "^([0-9]+h)?([0-9]+m)?([0-9]+s)?$";
export const DURATION_MAX_LENGTH = 32;

const DURATION_RE = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

export type DurationResult = { ok: true; ms: number } | { ok: false; error: string };

/** Parse "30s", "2m", "1h30m" (h, m, s in that order) into milliseconds, without throwing. */
export function parseDuration(text: string): DurationResult {
  const match = text.length <= DURATION_MAX_LENGTH ? DURATION_RE.exec(text) : null;
  if (text === "" || match === null) {
    return {
      ok: false,
      error: `invalid duration ${JSON.stringify(text)}: expected integers with units h, m, s in that order, e.g. "30s", "2m", "1h30m"`,
    };
  }
  const [, h = "0", m = "0", s = "0"] = match;
  const ms = ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000;
  if (!Number.isSafeInteger(ms)) {
    return { ok: false, error: `invalid duration ${JSON.stringify(text)}: too large` };
  }
  return { ok: true, ms };
}

/** Like parseDuration, for callers that already validated the text (it came through the schema). */
export function durationToMs(text: string): number {
  const result = parseDuration(text);
  if (!result.ok) throw new Error(result.error);
  return result.ms;
}
