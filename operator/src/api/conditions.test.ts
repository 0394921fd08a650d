import { describe, expect, it } from "vitest";
import { toRfc3339 } from "../lib/time.ts";
import { findCondition, isTrue, removeCondition, setCondition } from "./conditions.ts";
import type { Condition } from "./status.ts";

const t0 = new Date("2026-11-01T10:00:00.123Z");
const t1 = new Date("2026-11-01T10:05:00.000Z");

describe("setCondition", () => {
  it("adds a new condition stamped with now, to seconds", () => {
    const out = setCondition(
      undefined,
      { type: "Available", status: "True", reason: "Ready", message: "3/3" },
      t0,
    );
    expect(out).toEqual([
      {
        type: "Available",
        status: "True",
        reason: "Ready",
        message: "3/3",
        lastTransitionTime: "2026-11-01T10:00:00Z",
      },
    ]);
  });

  it("keeps lastTransitionTime when only reason or message change", () => {
    const first = setCondition(
      [],
      { type: "Healthy", status: "True", reason: "ChecksPass", message: "a" },
      t0,
    );
    const second = setCondition(
      first,
      { type: "Healthy", status: "True", reason: "Other", message: "b" },
      t1,
    );
    expect(findCondition(second, "Healthy")).toMatchObject({
      reason: "Other",
      message: "b",
      lastTransitionTime: "2026-11-01T10:00:00Z",
    });
  });

  it("moves lastTransitionTime when the status changes", () => {
    const first = setCondition(
      [],
      { type: "Healthy", status: "True", reason: "ChecksPass", message: "" },
      t0,
    );
    const second = setCondition(
      first,
      { type: "Healthy", status: "False", reason: "ChecksFail", message: "" },
      t1,
    );
    expect(findCondition(second, "Healthy")?.lastTransitionTime).toBe("2026-11-01T10:05:00Z");
    expect(isTrue(second, "Healthy")).toBe(false);
  });

  it("replaces in place, keeps other conditions and does not mutate its input", () => {
    const list: Condition[] = [
      { type: "A", status: "True", reason: "R", message: "", lastTransitionTime: "2026-01-01T00:00:00Z" },
      { type: "B", status: "False", reason: "R", message: "", lastTransitionTime: "2026-01-01T00:00:00Z" },
    ];
    const snapshot = structuredClone(list);
    const out = setCondition(list, { type: "A", status: "False", reason: "S", message: "m" }, t1);
    expect(out.map((c) => c.type)).toEqual(["A", "B"]);
    expect(out[1]).toEqual(list[1]);
    expect(list).toEqual(snapshot);
  });

  it("records observedGeneration", () => {
    const out = setCondition(
      [],
      { type: "A", status: "True", reason: "R", message: "", observedGeneration: 7 },
      t0,
    );
    expect(out[0]?.observedGeneration).toBe(7);
  });
});

describe("findCondition / isTrue / removeCondition", () => {
  const list = setCondition([], { type: "Paused", status: "True", reason: "ManualPause", message: "" }, t0);
  it("finds by type and answers isTrue", () => {
    expect(findCondition(list, "Paused")?.reason).toBe("ManualPause");
    expect(findCondition(list, "Missing")).toBeUndefined();
    expect(isTrue(list, "Paused")).toBe(true);
    expect(isTrue(list, "Missing")).toBe(false);
    expect(isTrue(undefined, "Paused")).toBe(false);
  });
  it("removes by type", () => {
    expect(removeCondition(list, "Paused")).toEqual([]);
  });
  it("formats times as metav1.Time does", () => {
    expect(toRfc3339(t0.getTime(), "seconds")).toBe("2026-11-01T10:00:00Z");
  });
});
