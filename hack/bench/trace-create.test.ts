// The create trace's audit-log reading: one run's writes on a time line, and the median over runs.
import { describe, expect, it } from "vitest";
import { medianSteps, timeline } from "./trace-create.ts";

const line = (ts: string, verb: string, resource: string, ns: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    stage: "ResponseComplete",
    verb,
    user: { username: "u" },
    objectRef: { resource, namespace: ns, ...extra },
    requestReceivedTimestamp: ts,
  });

describe("trace-create", () => {
  it("keeps the run's namespace only, orders by receive time with microseconds, starts at the user's create", () => {
    const steps = timeline(
      [
        line("2026-12-03T07:00:00.000100Z", "create", "serviceaccounts", "op-0"),
        line("2026-12-03T07:00:00.100500Z", "create", "deployments", "op-0"),
        line("2026-12-03T07:00:00.000250Z", "create", "modeldeployments", "op-0"),
        line("2026-12-03T07:00:00.050000Z", "create", "deployments", "floor-0"),
        line("2026-12-03T07:00:00.300000Z", "update", "modeldeployments", "op-0", { subresource: "status" }),
        "",
      ],
      "op-0",
      "create modeldeployments",
    );
    expect(steps).toEqual([
      { atMs: 0, what: "create modeldeployments", user: "u" },
      { atMs: 100.3, what: "create deployments", user: "u" },
      { atMs: 299.8, what: "update modeldeployments/status", user: "u" },
    ]);
  });

  it("lines runs up by the k-th occurrence of each write and takes the median", () => {
    const run = (a: number, b: number, c: number) => [
      { atMs: 0, what: "create x", user: "u" },
      { atMs: a, what: "update x/status", user: "u" },
      { atMs: b, what: "update x/status", user: "u" },
      ...(c ? [{ atMs: c, what: "create y", user: "u" }] : []),
    ];
    expect(medianSteps([run(10, 50, 20), run(30, 70, 0), run(20, 60, 40)])).toEqual([
      { step: "create x #1", medianMs: 0, inRuns: 3 },
      { step: "update x/status #1", medianMs: 20, inRuns: 3 },
      { step: "create y #1", medianMs: expect.any(Number), inRuns: 2 },
      { step: "update x/status #2", medianMs: 60, inRuns: 3 },
    ]);
  });
});
