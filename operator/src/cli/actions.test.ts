import { describe, expect, it } from "vitest";
import { actionWarning, annotationPatch, requestId } from "./actions.ts";
import { canaryMidStep } from "./testing.ts";

describe("annotationPatch", () => {
  it.each([
    ["promote", { "modelship.dev/promote": "id-1" }],
    ["promoteFull", { "modelship.dev/promote-full": "id-1" }],
    ["abort", { "modelship.dev/abort": "id-1" }],
    ["retry", { "modelship.dev/retry": "id-1" }],
    ["pause", { "modelship.dev/paused": "true" }],
    ["resume", { "modelship.dev/paused": null }],
  ] as const)("%s touches only metadata.annotations", (action, annotations) => {
    expect(annotationPatch(action, "id-1")).toEqual({ metadata: { annotations } });
  });
});

describe("requestId", () => {
  it("is RFC 3339 UTC with milliseconds, and never repeats the previous id", () => {
    const now = Date.parse("2026-11-02T10:00:00.123Z");
    expect(requestId(now)).toBe("2026-11-02T10:00:00.123Z");
    expect(requestId(now, "2026-11-02T10:00:00.123Z")).toBe("2026-11-02T10:00:00.124Z");
  });
});

describe("actionWarning", () => {
  it("warns when the operator would ignore the request", () => {
    const raw = canaryMidStep();
    expect(actionWarning("promote", raw, "shop")).toBeUndefined();
    expect(actionWarning("retry", raw, "shop")).toContain("no rejected revision");
    expect(actionWarning("resume", raw, "shop")).toBe("not paused");
    const idle = canaryMidStep();
    Object.assign(idle.status, { canaryRevision: undefined });
    expect(actionWarning("abort", idle, "shop")).toContain("no canary in progress");
  });
});
