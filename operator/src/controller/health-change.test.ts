import { describe, expect, it } from "vitest";
import { meaningfulChange, verdictChanged } from "./health-change.ts";

const base = { revision: "r1", verdict: "Pass", successRate: 1, p99Ms: 200, consecutiveFailures: 0 };
const fast = { ...base, p99Ms: 3 };

describe("meaningfulChange", () => {
  it.each([
    ["same numbers", base, false],
    ["p99 jitter 200 → 240 ms", { ...base, p99Ms: 240 }, false],
    ["p99 200 → 250 ms (a quarter)", { ...base, p99Ms: 250 }, true],
    ["success 1 → 0.995", { ...base, successRate: 0.995 }, false],
    ["success 1 → 0.98", { ...base, successRate: 0.98 }, true],
    ["verdict flips", { ...base, verdict: "Fail" }, true],
    ["failures start", { ...base, consecutiveFailures: 1 }, true],
    ["new revision", { ...base, revision: "r2" }, true],
  ])("%s → %s", (_name, after, expected) => {
    expect(meaningfulChange(base, after)).toBe(expected);
  });

  it("a fast server's p99 must move by 25 ms, not just double (a GC pause is not news)", () => {
    expect(meaningfulChange(fast, { ...fast, p99Ms: 9 })).toBe(false);
    expect(meaningfulChange(fast, { ...fast, p99Ms: 27 })).toBe(false);
    expect(meaningfulChange(fast, { ...fast, p99Ms: 28 })).toBe(true);
  });

  it("does not flap for values hovering around a fixed boundary", () => {
    let last = { ...base, p99Ms: 7.4 };
    let writes = 0;
    for (const p99 of [7.6, 7.4, 7.6, 7.5, 7.4, 7.6]) {
      const next = { ...base, p99Ms: p99 };
      if (meaningfulChange(last, next)) {
        writes++;
        last = next;
      }
    }
    expect(writes).toBe(0);
  });

  it("verdictChanged ignores numbers", () => {
    expect(verdictChanged(base, { ...base, p99Ms: 900 })).toBe(false);
    expect(verdictChanged(base, { ...base, verdict: "Inconclusive" })).toBe(true);
  });
});
