// Operator memory with N ModelDeployments and their children (Deployments, Services, pods on kwok)
// in its caches: RSS and V8 heap from its /metrics, at 1k and (full run) 10k. Each step is bounded;
// if the cap hits, what was reached is reported.
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
  const steps = opts.quick ? [1000] : [1000, 10_000];
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
          // 10k objects on a 2-core box: the cap is what keeps the run bounded.
          const cap = target >= 10_000 ? 600_000 : 400_000;
          const got = await settle(c, `mem-${target}`, target - have, cap);
          have += got;
          // Right after the burst V8 still holds the heap it grew while creating; a minute later its
          // memory reducer has had idle time to compact and give pages back. Both are reported; the
          // goal is judged on the steady state, which is what the operator runs at.
          await sleep(5000);
          const burst = await scrape(op.metricsUrl);
          const seconds = round((performance.now() - t0) / 1000, 0);
          await sleep(STEADY_AFTER_MS);
          const mm = await scrape(op.metricsUrl);
          const row = {
            target,
            reached: have,
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
        results: rows,
      };
    },
    3,
  );
}
