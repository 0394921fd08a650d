// A model that loads for longer than the progress deadline is not stuck while it is within its
// startup budget (runtime.startupTimeoutSeconds); one that never becomes Ready is rolled back when
// the budget is spent, with a reason that says so. kwok stages give the fake pods a server that
// loads: SlowStart (Ready after modelship.dev/kwok-ready-after) and NeverReady.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, kubectl, uniqueNamespace } from "./support/cluster.ts";
import { applyMd, condition, core, createNamespace, getMd, installCrd, mdSpec } from "./support/mdep.ts";
import { type RunningOperator, startOperator } from "./support/operator.ts";

const ns = uniqueNamespace("startup");
let operator: RunningOperator;

// A progress deadline far shorter than the loading time, as with an LLM on a 10-minute default.
const PROGRESS_DEADLINE_S = 6;
const spec = (
  version: string,
  extra: { startupTimeoutSeconds?: number; annotations?: Record<string, string> },
) =>
  mdSpec({
    // The fixture model server serves "recommender": the prober must find the model once loaded.
    model: { name: "recommender", version },
    replicas: 2,
    runtime: {
      preset: "openInference",
      image: "registry.invalid/llm:1",
      startupTimeoutSeconds: extra.startupTimeoutSeconds ?? 60,
    },
    rollout: {
      steps: [{ setWeight: 50 }],
      scaleDownDelaySeconds: 2,
      progressDeadlineSeconds: PROGRESS_DEADLINE_S,
      analysis: { minSamples: 4 },
    },
    ...(extra.annotations ? { template: { metadata: { annotations: extra.annotations } } } : {}),
  });

async function events(): Promise<string> {
  return kubectl(["get", "events", "-n", ns, "--field-selector", "involvedObject.name=llm", "-o", "json"]);
}

beforeAll(async () => {
  await installCrd();
  await createNamespace(ns);
  operator = await startOperator({ name: "startup" });
  await applyMd(ns, "llm", spec("v1", {}));
  await eventually("v1 Healthy", async () => (await getMd(ns, "llm")).status?.phase === "Healthy", 60_000);
});

afterAll(async () => {
  await operator?.stop();
  await core.deleteNamespace({ name: ns }).catch(() => {});
});

describe("startup budget", () => {
  it("a canary loading for longer than the progress deadline is not rolled back, and says it is loading", async () => {
    const applied = Date.now();
    await applyMd(
      ns,
      "llm",
      spec("v2", {
        annotations: { "modelship.dev/kwok-fault": "SlowStart", "modelship.dev/kwok-ready-after": "16s" },
      }),
    );
    // Past the progress deadline, still loading: Progressing, with the budget left in the message.
    const loading = await eventually("loading past the deadline", async () => {
      const m = await getMd(ns, "llm");
      return Date.now() - applied > (PROGRESS_DEADLINE_S + 2) * 1000 &&
        /loading model, \S+ of the startup budget left/.test(m.status?.message ?? "")
        ? m
        : undefined;
    });
    expect(loading.status?.phase).toBe("Progressing");
    expect(loading.status?.rejectedRevision).toBeUndefined();
    const promoted = await eventually(
      "v2 promoted once loaded",
      async () => {
        const m = await getMd(ns, "llm");
        return m.status?.phase === "Healthy" && m.status.history?.some((h) => h.outcome === "Promoted")
          ? m
          : undefined;
      },
      90_000,
    ).catch(async (err) => {
      process.stderr.write(JSON.stringify((await getMd(ns, "llm")).status, null, 1));
      process.stderr.write(await kubectl(["get", "pods", "-n", ns, "-o", "yaml"]));
      throw err;
    });
    // It took longer than the progress deadline: the deadline did not cut it.
    expect(Date.now() - applied).toBeGreaterThan(16_000);
    expect(promoted.status?.rejectedRevision).toBeUndefined();
    expect(await events()).not.toMatch(/ProgressDeadlineExceeded|StartupBudgetExceeded/);
  });

  it("a canary that never becomes Ready is rolled back when its startup budget is spent, saying so", async () => {
    const stable = (await getMd(ns, "llm")).status?.stableRevision;
    const BUDGET_S = 15;
    const applied = Date.now();
    await applyMd(
      ns,
      "llm",
      spec("v3", {
        startupTimeoutSeconds: BUDGET_S,
        annotations: { "modelship.dev/kwok-fault": "NeverReady" },
      }),
    );
    const md = await eventually(
      "rolled back",
      async () => {
        const m = await getMd(ns, "llm");
        return m.status?.phase === "Degraded" && m.status.rejectedRevision ? m : undefined;
      },
      90_000,
    );
    // Not at the 6 s progress deadline: only once the 15 s budget was spent (kwok's start times
    // have whole seconds, so the budget may end up to a second before our clock says).
    expect(Date.now() - applied).toBeGreaterThanOrEqual((BUDGET_S - 1) * 1000);
    expect(md.status?.stableRevision).toBe(stable);
    expect(condition(md, "Degraded")?.reason).toBe("StartupBudgetExceeded");
    expect(md.status?.message).toMatch(
      /not Ready after its startup budget of 15s \(runtime\.startupTimeoutSeconds\)/,
    );
    const last = md.status?.history?.[0];
    expect(last).toMatchObject({ outcome: "Aborted", reason: "StartupBudgetExceeded" });
    expect(await events()).toMatch(/StartupBudgetExceeded/);
  });
});
