import { describe, expect, it } from "vitest";
import { isSubset, needsApply, quantityValue, withAppliedHash } from "./drift.ts";

const desired = withAppliedHash({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "s", namespace: "n", labels: { a: "1" } },
  spec: { selector: { app: "x" }, ports: [{ name: "http", port: 8080, targetPort: "http" }] },
});

describe("needsApply", () => {
  it("is false for a live object that carries what we sent plus server defaults", () => {
    const live = {
      ...desired,
      metadata: { ...desired.metadata, uid: "u", resourceVersion: "9", labels: { a: "1" } },
      spec: {
        ...(desired.spec as object),
        clusterIP: "10.96.0.3",
        ports: [{ name: "http", port: 8080, targetPort: "http", protocol: "TCP" }],
      },
    };
    expect(needsApply(desired, live)).toBe(false);
  });

  it("is false for an object read from a LIST (items carry no apiVersion/kind)", () => {
    const { apiVersion: _v, kind: _k, ...listed } = desired;
    expect(needsApply(desired, listed)).toBe(false);
  });

  it("is true after a hand edit of a field we own", () => {
    const live = {
      ...desired,
      spec: { selector: { app: "other" }, ports: [{ name: "http", port: 8080, targetPort: "http" }] },
    };
    expect(needsApply(desired, live)).toBe(true);
  });

  it("is true when we stopped sending a field (the hash changed)", () => {
    const older = withAppliedHash({
      ...desired,
      metadata: { ...desired.metadata, labels: { a: "1", b: "2" } },
    });
    expect(needsApply(desired, older)).toBe(true);
  });

  it("is true for a missing child and for a hand-added container", () => {
    expect(needsApply(desired, undefined)).toBe(true);
    expect(isSubset({ c: [{ n: 1 }] }, { c: [{ n: 1 }, { n: 2 }] })).toBe(false);
  });
});

describe("quantities", () => {
  it.each([
    ["1000m", "1", true],
    ["2", 2, true],
    ["1Gi", "1073741824", true],
    ["1e3", "1k", true],
    ["500m", "0.5", true],
    ["500m", "1", false],
    ["http", "8080", false],
  ])("%s vs %s equal: %s", (a, b, eq) => {
    expect(isSubset(a, b)).toBe(eq);
  });
  it("rejects non-quantities", () => {
    expect(quantityValue("abc")).toBeUndefined();
  });
});
