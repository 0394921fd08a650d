import { describe, expect, it } from "vitest";
import { deepFreeze } from "./deep-freeze.ts";

describe("deepFreeze", () => {
  it("freezes every object and array reachable from the value", () => {
    const v = deepFreeze({ a: { b: [1, { c: 2 }] }, d: "x" });
    expect(() => {
      (v.a.b[1] as { c: number }).c = 3;
    }).toThrow(TypeError);
    expect(() => {
      (v.a.b as unknown[]).push(4);
    }).toThrow(TypeError);
    expect(v).toEqual({ a: { b: [1, { c: 2 }] }, d: "x" });
  });

  it("returns primitives and null as they are", () => {
    expect(deepFreeze(null)).toBeNull();
    expect(deepFreeze(3)).toBe(3);
  });
});
