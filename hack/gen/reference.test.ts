import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { REFERENCE_PATH, renderReference } from "./reference.ts";

describe("docs/api-reference.md", () => {
  const doc = renderReference();

  it("matches the committed file (run `node hack/gen/reference.ts`)", () => {
    expect(readFileSync(REFERENCE_PATH, "utf8")).toBe(doc);
  });

  it("has a row for nested, list-item and status fields with their defaults and rules", () => {
    expect(doc).toContain("| `spec.rollout.steps[].setWeight` | integer |");
    expect(doc).toMatch(/\| `spec\.rollout\.analysis\.minSamples` \| integer \| {2}\| `20` \|/);
    expect(doc).toContain("each step must have exactly one of setWeight, pause, analysis");
    expect(doc).toContain("| `spec.runtime.resources.limits` | map[string]int or string |");
    expect(doc).toContain("| `spec.model.name` | string | yes |");
    expect(doc).toContain("| `status.conditions[].lastTransitionTime` | string | yes |");
  });

  it("leaves no row without a description for spec fields", () => {
    const undocumented = doc
      .split("\n")
      .filter((line) => line.startsWith("| `spec"))
      .filter((line) => line.trimEnd().endsWith("|  |"));
    expect(undocumented).toEqual([]);
  });
});
