import { describe, expect, it } from "vitest";
import { DURATION_PATTERN, durationToMs, parseDuration } from "./duration.ts";

describe("parseDuration", () => {
  it.each([
    ["0s", 0],
    ["30s", 30_000],
    ["2m", 120_000],
    ["1h", 3_600_000],
    ["1h30m", 5_400_000],
    ["1h0m5s", 3_605_000],
    ["90s", 90_000],
    ["2m30s", 150_000],
  ])("reads %s as %i ms", (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, ms });
  });

  it.each([
    "",
    "30",
    "s",
    "1.5s",
    "30m1h",
    "-1s",
    " 30s",
    "30S",
    "1d",
    "5ms",
    "1h 30m",
    `${"9".repeat(40)}s`,
  ])("rejects %j with a message that quotes the input", (text) => {
    const result = parseDuration(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain(JSON.stringify(text));
  });

  it("agrees with the pattern the CRD publishes", () => {
    const re = new RegExp(DURATION_PATTERN);
    for (const text of ["30s", "1h30m", "2m", "30", "1.5s", "30m1h"]) {
      expect(re.test(text)).toBe(parseDuration(text).ok);
    }
  });

  it("durationToMs throws the same message for bad input", () => {
    expect(durationToMs("2m")).toBe(120_000);
    expect(() => durationToMs("2 minutes")).toThrow(/invalid duration "2 minutes"/);
  });
});
