import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { REFERENCE_PATH, renderReference } from "./reference.ts";

describe("docs/api-reference.md", () => {
  const doc = renderReference();

  it("matches the committed file (run `node hack/gen/reference.ts`)", () => {
    expect(readFileSync(REFERENCE_PATH, "utf8")).toBe(doc);
  });

  it("has a row for nested, list-item and status fields with their defaults and rules", () => {
    expect(doc).toContain("- `spec.rollout.steps[].setWeight` (integer, optional)");
    expect(doc).toContain("- `spec.rollout.analysis.minSamples` (integer, optional, default `20`)");
    expect(doc).toContain("each step must have exactly one of setWeight, pause, analysis");
    expect(doc).toContain("- `spec.runtime.resources.limits` (map[string]int or string, optional)");
    expect(doc).toContain("- `spec.model.name` (string, required)");
    expect(doc).toContain("- `status.conditions[].lastTransitionTime` (string, required)");
  });

  it("describes every spec field", () => {
    const lines = doc.split("\n");
    const undocumented = lines.filter(
      (line, i) => line.startsWith("- `spec") && !(lines[i + 1] ?? "").startsWith("  "),
    );
    expect(undocumented).toEqual([]);
  });
});
