import { describe, expect, it } from "vitest";
import { canaryReplicasFor, splitBothServing } from "./replica-split.ts";

describe("canaryReplicasFor", () => {
  it.each([
    {
      name: "replica ratio rounds half up: 50% of 5 is 3",
      weight: 50,
      total: 5,
      mode: "replicaRatio",
      want: 3,
    },
    {
      name: "replica ratio rounds down below half: 41% of 10 is 4",
      weight: 41,
      total: 10,
      mode: "replicaRatio",
      want: 4,
    },
    {
      name: "replica ratio gives at least one pod to a small weight",
      weight: 5,
      total: 4,
      mode: "replicaRatio",
      want: 1,
    },
    {
      name: "gateway rounds up so the canary is never under-sized",
      weight: 26,
      total: 4,
      mode: "gatewayAPI",
      want: 2,
    },
    { name: "gateway: 10% of 4 is 1", weight: 10, total: 4, mode: "gatewayAPI", want: 1 },
    { name: "weight 0 has no pods", weight: 0, total: 4, mode: "replicaRatio", want: 0 },
    { name: "weight 100 is the total", weight: 100, total: 7, mode: "gatewayAPI", want: 7 },
    { name: "a scaled-to-zero total gives nothing", weight: 50, total: 0, mode: "gatewayAPI", want: 0 },
  ] as const)("$name", ({ weight, total, mode, want }) => {
    expect(canaryReplicasFor(weight, total, mode)).toBe(want);
  });
});

describe("splitBothServing", () => {
  it.each([
    {
      name: "raising the canary: stable waits for the canary's Ready pods",
      stable: { target: 2, current: 3, ready: 3 },
      canary: { target: 2, current: 1, ready: 1 },
      want: { stable: 3, canary: 2 },
    },
    {
      name: "raising the canary: stable shrinks once the canary is Ready",
      stable: { target: 2, current: 3, ready: 3 },
      canary: { target: 2, current: 2, ready: 2 },
      want: { stable: 2, canary: 2 },
    },
    {
      name: "lowering the canary: the canary waits for stable's Ready pods",
      stable: { target: 3, current: 2, ready: 2 },
      canary: { target: 1, current: 2, ready: 2 },
      want: { stable: 3, canary: 2 },
    },
    {
      name: "stable grows back when canary pods stop being Ready",
      stable: { target: 2, current: 2, ready: 2 },
      canary: { target: 2, current: 2, ready: 0 },
      want: { stable: 4, canary: 2 },
    },
    {
      name: "the canary never grows past its current size to make up for stable",
      stable: { target: 3, current: 3, ready: 0 },
      canary: { target: 1, current: 1, ready: 1 },
      want: { stable: 3, canary: 1 },
    },
  ])("$name", ({ stable, canary, want }) => {
    expect(splitBothServing(4, stable, canary)).toEqual(want);
  });
});
