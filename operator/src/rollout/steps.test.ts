import { describe, expect, it } from "vitest";
import type { RolloutStep } from "../api/index.ts";
import { describeStep, planStep } from "./steps.ts";

describe("planStep and describeStep", () => {
  it.each<[string, RolloutStep, string]>([
    ["a weight reads as a percentage", { setWeight: 10 }, "setWeight 10%"],
    ["a dark canary is weight 0", { setWeight: 0 }, "setWeight 0%"],
    ["a timed pause reads in the status-message notation", { pause: { duration: "90s" } }, "pause 1m30s"],
    ["an hour reads as 1h", { pause: { duration: "1h" } }, "pause 1h"],
    ["a pause without a duration waits for a person", { pause: {} }, "pause until promoted"],
    ["an analysis step without overrides", { analysis: {} }, "analysis"],
    [
      "an analysis step names its overrides",
      { analysis: { minSamples: 50, successRate: 0.995 } },
      "analysis (minSamples 50, successRate 0.995)",
    ],
  ])("%s", (_, step, text) => {
    expect(describeStep(planStep(step))).toBe(text);
  });

  it("past the last step comes the promotion", () => {
    expect(describeStep(undefined)).toBe("promotion");
  });

  it("plans durations in ms and leaves a manual pause without one", () => {
    expect(planStep({ pause: { duration: "2m" } })).toEqual({ pause: { durationMs: 120_000 } });
    expect(planStep({ pause: {} })).toEqual({ pause: {} });
  });
});
