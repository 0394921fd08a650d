// Where the time of one apply → Available goes (issue #16: N=1 is above its 1.25× goal against the
// floor). Runs a single create R times, floor and operator alternating as create.ts does, and lays
// each run's API writes from the apiserver's audit log (every write in the run's own namespace, with
// the apiserver's receive timestamp) on one time line that starts at the run's first create. The
// median of each step over the runs shows which hops the operator adds to the floor's path:
//   operator: ModelDeployment create → (watch, queue, reconcile) → Deployment + Service create →
//             …the same controller-manager/scheduler/kwok path as the floor… → Deployment status →
//             (watch, reconcile) → ModelDeployment status Healthy → (watch) the client sees it.
// Not run by run.ts or hack/test:
//   node hack/bench/trace-create.ts [--runs 9]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { ClusterState } from "../cluster/control-plane.ts";
import {
  type AuditEvent,
  DEFAULT_SETTINGS,
  log,
  machine,
  percentile,
  round,
  startOperator,
  withCluster,
  writeResult,
} from "./common.ts";
import { floor, operator, type Side } from "./create.ts";

/** One write on the run's time line: ms since the run's first create, what was written, by whom. */
export interface Step {
  atMs: number;
  what: string;
  user: string;
}

/**
 * The run's writes in `ns`, in order, from the user's create (`anchor`, e.g. "create deployments"):
 * what the controller-manager writes for the new namespace itself (its ServiceAccount, the root CA
 * ConfigMap) comes before it and is left out.
 */
export function timeline(auditLines: string[], ns: string, anchor: string): Step[] {
  const writes = auditLines
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditEvent)
    .filter((e) => e.stage === "ResponseComplete" && e.objectRef?.namespace === ns)
    .map((e) => ({
      t: Date.parse(e.requestReceivedTimestamp) + microsOf(e.requestReceivedTimestamp) / 1000,
      what: `${e.verb} ${e.objectRef?.resource ?? "?"}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ""}`,
      user: e.user.username,
    }))
    .sort((a, b) => a.t - b.t);
  const start = writes.findIndex((w) => w.what === anchor);
  if (start < 0) return [];
  const t0 = writes[start]?.t ?? 0;
  return writes.slice(start).map((w) => ({ atMs: round(w.t - t0, 1), what: w.what, user: w.user }));
}

/** Date.parse keeps milliseconds; the audit log has microseconds: the part below the millisecond. */
function microsOf(ts: string): number {
  const m = /\.(\d+)Z$/.exec(ts);
  if (!m?.[1]) return 0;
  return Number(m[1].padEnd(6, "0").slice(3, 6));
}

/**
 * Names the k-th occurrence of each write ("update deployments/status #2") so runs line up step by
 * step, and keeps the step's time: the key a median over runs is taken by.
 */
export function keyed(steps: Step[]): Map<string, number> {
  const seen = new Map<string, number>();
  const out = new Map<string, number>();
  for (const s of steps) {
    const k = (seen.get(s.what) ?? 0) + 1;
    seen.set(s.what, k);
    out.set(`${s.what} #${k}`, s.atMs);
  }
  return out;
}

/** Median time of each step over runs, in the order of the first run; steps not in every run are marked. */
export function medianSteps(runs: Step[][]): { step: string; medianMs: number; inRuns: number }[] {
  const maps = runs.map(keyed);
  const order = [...new Set(maps.flatMap((m) => [...m.keys()]))];
  return order
    .map((step) => {
      const xs = maps.map((m) => m.get(step)).filter((x): x is number => x !== undefined);
      return { step, medianMs: round(percentile(xs, 50), 1), inRuns: xs.length };
    })
    .sort((a, b) => a.medianMs - b.medianMs);
}

async function traceRuns(c: ClusterState, runs: number) {
  const settings = DEFAULT_SETTINGS;
  const op = await startOperator(c, { settings, args: ["--prober=false"], name: "trace" });
  const floorRuns: { side: Side; steps: Step[] }[] = [];
  const opRuns: { side: Side; steps: Step[] }[] = [];
  try {
    // One warm-up each: the first create of a kind pays for discovery and connection set-up.
    await floor(c, "warm-floor", 1, settings);
    await operator(c, "warm-op", 1);
    for (let r = 0; r < runs; r++) {
      log(`trace: run ${r + 1}/${runs}`);
      const f = await floor(c, `floor-${r}`, 1, settings);
      const o = await operator(c, `op-${r}`, 1);
      // The audit log is written as requests complete; a moment lets the last lines land.
      await new Promise((r) => setTimeout(r, 300));
      const lines = readFileSync(c.auditLog, "utf8").split("\n");
      floorRuns.push({ side: f, steps: timeline(lines, `floor-${r}`, "create deployments") });
      opRuns.push({ side: o, steps: timeline(lines, `op-${r}`, "create modeldeployments") });
    }
  } finally {
    await op.stop();
  }
  return { floorRuns, opRuns };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: "string", default: "9" } } });
  const runs = Math.max(3, Math.min(50, Number(values.runs)));
  const result = await withCluster("trace", async (c) => {
    const before = await machine(c);
    const { floorRuns, opRuns } = await traceRuns(c, runs);
    const total = (xs: { side: Side }[]) =>
      round(
        percentile(
          xs.map((x) => x.side.totalMs),
          50,
        ),
        0,
      );
    return {
      benchmark: "trace-create",
      date: new Date().toISOString(),
      machine: before,
      loadAverageAfter: (await machine()).loadAverage,
      settings: { ...DEFAULT_SETTINGS, prober: false, replicas: 1, runs },
      definition:
        "one object created, R runs alternating floor and operator after one warm-up each; steps: every write in the run's namespace from the apiserver audit log (receive time), ms since the run's first create, median over runs; total: the client's watch seeing Available (create.ts), median",
      floor: { totalMs: total(floorRuns), steps: medianSteps(floorRuns.map((r) => r.steps)) },
      operator: { totalMs: total(opRuns), steps: medianSteps(opRuns.map((r) => r.steps)) },
      runs: { floor: floorRuns, operator: opRuns },
    };
  });
  const file = writeResult("trace-create", result);
  const table = (name: string, side: { totalMs: number; steps: { step: string; medianMs: number }[] }) => [
    `${name}: seen Available by the client after ${side.totalMs} ms (median)`,
    ...side.steps.map((s) => `  ${String(s.medianMs).padStart(7)} ms  ${s.step}`),
  ];
  process.stdout.write(
    [
      ...table("floor", result.floor),
      "",
      ...table("operator", result.operator),
      "",
      `JSON: ${file}`,
      "",
    ].join("\n"),
  );
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    process.stderr.write(`trace failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  });
}
