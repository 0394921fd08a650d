import { describe, expect, it } from "vitest";
import { canonicalJson } from "./canonical-json.ts";

// Revision names are hashes of this text: these strings are what the first implementation (entries,
// sort, map, join) produced, and must stay byte for byte the same.
describe("canonicalJson", () => {
  it("sorts keys at every depth by UTF-16 code unit, whatever their order", () => {
    const v = { b: { d: [3, { z: 1, a: "x" }], c: null }, a: true, é: 1, B: 2, "a b": 'q"uote' };
    expect(canonicalJson(v)).toBe(
      '{"B":2,"a":true,"a b":"q\\"uote","b":{"c":null,"d":[3,{"a":"x","z":1}]},"é":1}',
    );
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
  });

  it("drops undefined fields, and leaves an empty slot for an array item without JSON", () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    // biome-ignore lint/suspicious/noSparseArray: a hole is one of the cases pinned
    expect(canonicalJson([1, undefined, , 3])).toBe("[1,,,3]");
  });

  it("writes empty values and numbers as JSON does", () => {
    expect(canonicalJson([[], {}, ""])).toBe('[[],{},""]');
    expect(canonicalJson([0, -0, 1.5, 1e21, Number.NaN])).toBe("[0,0,1.5,1e+21,null]");
  });
});
