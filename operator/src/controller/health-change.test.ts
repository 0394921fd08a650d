import { describe, expect, it } from "vitest";
import { meaningfulChange, verdictChanged } from "./health-change.ts";

const base = { revision: "r1", verdict: "Pass", successRate: 1, p99Ms: 20, consecutiveFailures: 0 };

describe("meaningfulChange", () => {
  it.each([
    ["same numbers", base, false],
    ["p99 jitter 20 → 24 ms", { ...base, p99Ms: 24 }, false],
    ["p99 20 → 26 ms (a quarter)", { ...base, p99Ms: 26 }, true],
    ["success 1 → 0.995", { ...base, successRate: 0.995 }, false],
    ["success 1 → 0.98", { ...base, successRate: 0.98 }, true],
    ["verdict flips", { ...base, verdict: "Fail" }, true],
    ["failures start", { ...base, consecutiveFailures: 1 }, true],
    ["new revision", { ...base, revision: "r2" }, true],
  ])("%s → %s", (_name, after, expected) => {
    expect(meaningfulChange(base, after)).toBe(expected);
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
