// Operator memory with N ModelDeployments and their children (Deployments, Services, pods on kwok)
// in its caches: RSS and V8 heap from its /metrics, at 1k and (full run) 10k. The full run goes from
// 1k to 10k in waves of 1k, so the growth per 1,000 objects is on record; the steady state (a minute
// of idling) is sampled at 1k and at the last wave. Each wave is bounded; if its cap hits, what was
// reached is reported. The controller-manager runs at QPS 200 here: at its default 20, ReplicaSets
// and pods for 10k objects take half an hour to appear, and the operator's caches are what is measured.
import { setTimeout as sleep } from "node:timers/promises";
import {
  DEFAULT_SETTINGS,
  log,
  machine,
  round,
  rssBytes,
  scrape,
  startOperator,
  withCluster,
} from "./common.ts";
import { settle } from "./idle.ts";

const MiB = 2 ** 20;
/** Idle time after a step before the steady-state sample. */
const STEADY_AFTER_MS = 60_000;

export async function runMemory(opts: {
  quick: boolean;
  cpuProf: boolean;
}): Promise<Record<string, unknown>> {
  const steps = opts.quick ? [1000] : Array.from({ length: 10 }, (_, i) => (i + 1) * 1000);
  const steady = new Set([1000, steps.at(-1)]);
  const settings = DEFAULT_SETTINGS;
  return withCluster(
    "memory",
    async (c) => {
      const before = await machine(c);
      const op = await startOperator(c, {
        settings,
        args: ["--prober=false"],
        name: "memory",
        cpuProf: opts.cpuProf,
      });
      const rows: Record<string, unknown>[] = [];
      try {
        const m = await scrape(op.metricsUrl);
        rows.push({
          target: 0,
          reached: 0,
          rssMiB: round((m.get("modelship_process_resident_memory_bytes") ?? 0) / MiB, 1),
          heapUsedMiB: round((m.get("modelship_nodejs_heap_size_used_bytes") ?? 0) / MiB, 1),
        });
        let have = 0;
        for (const target of steps) {
          const t0 = performance.now();
          // A wave of 1k on a 2-core box: the cap is what keeps the run bounded.
          const cap = 400_000;
          const got = await settle(c, `mem-${target}`, target - have, cap);
          have += got;
          // Right after the burst V8 still holds the heap it grew while creating; a minute later its
          // memory reducer has had idle time to compact and give pages back. Both are reported; the
          // goal is judged on the steady state, which is what the operator runs at.
          await sleep(5000);
          const scrapeStart = performance.now();
          const burst = await scrape(op.metricsUrl);
          // How long /metrics took to answer: the operator's responsiveness right after the burst.
          const scrapeMs = round(performance.now() - scrapeStart, 0);
          const seconds = round((performance.now() - t0) / 1000, 0);
          if (steady.has(target)) await sleep(STEADY_AFTER_MS);
          const mm = steady.has(target) ? await scrape(op.metricsUrl) : burst;
          const row = {
            target,
            reached: have,
            steady: steady.has(target),
            scrapeMs,
            seconds,
            rssMiB: round((mm.get("modelship_process_resident_memory_bytes") ?? 0) / MiB, 1),
            procRssMiB: round(rssBytes(op.pid) / MiB, 1),
            heapUsedMiB: round((mm.get("modelship_nodejs_heap_size_used_bytes") ?? 0) / MiB, 1),
            heapTotalMiB: round((mm.get("modelship_nodejs_heap_size_total_bytes") ?? 0) / MiB, 1),
            afterBurst: {
              rssMiB: round((burst.get("modelship_process_resident_memory_bytes") ?? 0) / MiB, 1),
              heapUsedMiB: round((burst.get("modelship_nodejs_heap_size_used_bytes") ?? 0) / MiB, 1),
              heapTotalMiB: round((burst.get("modelship_nodejs_heap_size_total_bytes") ?? 0) / MiB, 1),
            },
          };
          log(`memory: ${JSON.stringify(row)}`);
          rows.push(row);
          if (got < target - (have - got)) break;
        }
      } finally {
        await op.stop();
      }
      return {
        benchmark: "memory",
        date: new Date().toISOString(),
        machine: before,
        loadAverageAfter: (await machine()).loadAverage,
        settings: { ...settings, prober: false },
        goal: { rssMiB: { "1000": 150, "10000": 800 } },
        definition:
          "RSS and heap from the operator's /metrics: 5 s after each wave of 1k objects is Available (afterBurst), and, where steady is true, after a further minute of idling (the value judged against the goal); growthPer1kMiB: RSS growth per 1,000 objects between the 1k and the last wave, right after each burst",
        ...growth(rows),
        results: rows,
      };
    },
    3,
    { controllerManagerQps: 200 },
  );
}

/** RSS growth per 1,000 objects from the first to the last wave, both right after their burst. */
function growth(rows: Record<string, unknown>[]): { growthPer1kMiB?: number } {
  type Row = { reached: number; afterBurst?: { rssMiB: number } };
  const waves = (rows as Row[]).filter((r) => r.afterBurst && r.reached > 0);
  const first = waves[0];
  const last = waves.at(-1);
  if (!first?.afterBurst || !last?.afterBurst || last.reached === first.reached) return {};
  return {
    growthPer1kMiB: round(
      ((last.afterBurst.rssMiB - first.afterBurst.rssMiB) * 1000) / (last.reached - first.reached),
      1,
    ),
  };
}
