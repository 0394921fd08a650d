import { describe, expect, it } from "vitest";
import { canaryMidStep, HISTORY, OLDER_REV, STABLE_REV } from "./testing.ts";
import { planUndo, selectUndoTarget } from "./undo.ts";
import { toModelDeploymentView } from "./view.ts";

const view = (raw: unknown = canaryMidStep()) => toModelDeploymentView(raw, "default");

describe("selectUndoTarget", () => {
  it("defaults to the last Promoted revision before the current stable", () => {
    const target = selectUndoTarget(view());
    expect(target).toMatchObject({ ok: true, entry: { revision: OLDER_REV, outcome: "Promoted" } });
  });

  it("takes --to-revision as a full revision or a unique prefix", () => {
    expect(selectUndoTarget(view(), STABLE_REV)).toMatchObject({ ok: true, entry: { revision: STABLE_REV } });
    expect(selectUndoTarget(view(), OLDER_REV.slice(0, 5))).toMatchObject({
      ok: true,
      entry: { revision: OLDER_REV },
    });
    expect(selectUndoTarget(view(), "")).toMatchObject({
      ok: false,
      problem: expect.stringContaining("ambiguous"),
    });
    expect(selectUndoTarget(view(), "ffffff")).toMatchObject({
      ok: false,
      problem: expect.stringContaining("not in status.history"),
    });
  });

  it("refuses when no earlier revision was promoted", () => {
    const raw = canaryMidStep();
    raw.status.history = [HISTORY[0] as (typeof HISTORY)[number]];
    expect(selectUndoTarget(view(raw))).toMatchObject({
      ok: false,
      problem: expect.stringContaining("no Promoted revision before the current stable"),
    });
  });
});

describe("planUndo", () => {
  it("patches only model.version and runtime.image, conditional on the resourceVersion read", () => {
    const result = planUndo(view());
    expect(result).toMatchObject({ ok: true });
    if (!result.ok) return;
    expect(result.plan.patch).toEqual({
      metadata: { resourceVersion: "812" },
      spec: { model: { version: "2026-09-01" }, runtime: { image: "registry.example/recsys-server:1.4.0" } },
    });
    expect(result.plan.resultRevision).toBe(OLDER_REV);
    expect(result.plan.notes).toEqual([]);
  });

  it("refuses when history lacks the image", () => {
    const raw = canaryMidStep();
    raw.status.history = HISTORY.map((h) =>
      h.revision === OLDER_REV ? { ...h, image: undefined } : h,
    ) as typeof HISTORY;
    expect(planUndo(view(raw))).toMatchObject({
      ok: false,
      problem: expect.stringContaining("lacks its image"),
    });
  });

  it("refuses, unless forced, when other pod fields changed so the old revision cannot be recreated", () => {
    const raw = canaryMidStep();
    Object.assign(raw, { spec: { ...raw.spec, runtime: { ...raw.spec.runtime, args: ["--threads=8"] } } });
    expect(planUndo(view(raw))).toMatchObject({
      ok: false,
      problem: expect.stringContaining(`the result would be a new revision`),
    });
    const forced = planUndo(view(raw), undefined, true);
    expect(forced).toMatchObject({ ok: true, plan: { notes: [expect.stringContaining("--force")] } });
  });

  it("refuses when the spec already is that revision", () => {
    const raw = canaryMidStep();
    Object.assign(raw, {
      spec: {
        ...raw.spec,
        model: { ...raw.spec.model, version: "2026-09-01" },
        runtime: { image: "registry.example/recsys-server:1.4.0" },
      },
    });
    expect(planUndo(view(raw))).toMatchObject({
      ok: false,
      problem: expect.stringContaining("nothing to undo"),
    });
  });
});
