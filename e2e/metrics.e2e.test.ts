// The operator's /metrics against real rollouts: every counter a dashboard or alert reads is produced
// by the path it names (a first deployment, promotions by analysis, by promote and by promoteFull,
// an abort with its reason, a child the API server refuses), read from events' fields, not text.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, kubectl, uniqueNamespace } from "./support/cluster.ts";
import {
  applyMd,
  core,
  createNamespace,
  getMd,
  installCrd,
  mdSpec,
  promote,
  waitForPhase,
} from "./support/mdep.ts";
import { type RunningOperator, startOperator } from "./support/operator.ts";

const ns = uniqueNamespace("metrics");
let operator: RunningOperator;

beforeAll(async () => {
  await installCrd();
  await createNamespace(ns);
  // Readiness gates the rollouts: the counters, not the prober, are under test here.
  operator = await startOperator({ name: "metrics", args: ["--prober=false"] });
});

afterAll(async () => {
  await operator?.stop();
  await core.deleteNamespace({ name: ns }).catch(() => {});
});

/** The operator's metrics address, from its own log line. */
function metricsUrl(): string {
  for (const line of operator.logs().split("\n")) {
    if (!line.includes('"serving /healthz, /readyz, /metrics"')) continue;
    return `http://${(JSON.parse(line) as { addr: string }).addr}/metrics`;
  }
  throw new Error("the operator did not log its metrics address");
}

async function counter(name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(metricsUrl(), { signal: AbortSignal.timeout(5_000) })).text();
  let total = 0;
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) total += Number(m[3]);
  }
  return total;
}

const spec = (version: string, steps: unknown[], extra: Record<string, unknown> = {}) =>
  mdSpec({
    model: { name: "recommender", version },
    replicas: 2,
    rollout: { steps, scaleDownDelaySeconds: 1, progressDeadlineSeconds: 60 },
    ...extra,
  });

async function promotedTo(name: string, version: string): Promise<void> {
  await eventually(
    `${name} promoted at ${version}`,
    async () => {
      const md = await getMd(ns, name);
      const head = md.status?.history?.[0] as { outcome?: string; modelVersion?: string } | undefined;
      return md.status?.phase === "Healthy" && head?.outcome === "Promoted" && head.modelVersion === version;
    },
    90_000,
  );
}

describe("rollout counters tell the truth", () => {
  it("counts a first deployment apart, then promotions by how they happened", async () => {
    const manualSteps = [{ setWeight: 50 }, { pause: {} }];
    await applyMd(ns, "counted", spec("v1", manualSteps));
    await waitForPhase(ns, "counted", "Healthy");
    expect(await counter("modelship_rollouts_promoted_total", { how: "firstDeployment" })).toBe(1);
    expect(await counter("modelship_rollouts_started_total")).toBe(0);

    // Every step runs on its own (a timed pause): promoted by analysis.
    await applyMd(ns, "counted", spec("v2", [{ setWeight: 50 }, { pause: { duration: "1s" } }]));
    await promotedTo("counted", "v2");
    expect(await counter("modelship_rollouts_promoted_total", { how: "analysis" })).toBe(1);

    // A promote gets past the pause that waits for one.
    await applyMd(ns, "counted", spec("v3", manualSteps));
    await eventually("at the pause", async () => (await getMd(ns, "counted")).status?.phase === "Paused");
    await promote(ns, "counted");
    await promotedTo("counted", "v3");
    expect(await counter("modelship_rollouts_promoted_total", { how: "manual" })).toBe(1);

    // promoteFull skips every remaining step.
    await applyMd(ns, "counted", spec("v4", manualSteps));
    await eventually(
      "canary started",
      async () => (await getMd(ns, "counted")).status?.canaryRevision !== undefined,
    );
    await kubectl([
      "annotate",
      "mdep",
      "counted",
      "-n",
      ns,
      `modelship.dev/promote-full=e2e-${Date.now()}`,
      "--overwrite",
    ]);
    await promotedTo("counted", "v4");
    expect(await counter("modelship_rollouts_promoted_total", { how: "full" })).toBe(1);

    expect(await counter("modelship_rollouts_started_total")).toBe(3);
    expect(await counter("modelship_rollouts_promoted_total")).toBe(4);
  });

  it("counts an abort by its reason, and a refused child by kind and reason", async () => {
    await applyMd(ns, "broken", spec("v1", []));
    await waitForPhase(ns, "broken", "Healthy");
    await applyMd(
      ns,
      "broken",
      spec("v2", [], {
        template: { metadata: { annotations: { "modelship.dev/kwok-fault": "ImagePullBackOff" } } },
      }),
    );
    await eventually(
      "aborted",
      async () => (await getMd(ns, "broken")).status?.rejectedRevision !== undefined,
    );
    expect(await counter("modelship_rollouts_aborted_total", { reason: "ImagePullBackOff" })).toBe(1);

    await applyMd(
      ns,
      "broken",
      spec("v3", [], {
        runtime: {
          image: "registry.invalid/recsys:1",
          resources: { requests: { cpu: "2" }, limits: { cpu: "1" } },
        },
      }),
    );
    await eventually(
      "refused child counted",
      async () =>
        (await counter("modelship_child_errors_total", { kind: "Deployment", reason: "ChildRejected" })) >= 1,
    );
  });
});
