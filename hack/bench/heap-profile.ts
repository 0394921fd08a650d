/**
 * Where the operator's memory goes: starts the operator with --heapsnapshot-signal, takes a heap
 * snapshot with 0 ModelDeployments and one with N (default 300) settled, and prints retained self
 * size by constructor, plus the bytes held in managedFields. Bounded: N ≤ 1000, ~5 min.
 *
 *   node hack/bench/heap-profile.ts [--n 300] [--node-args "--max-semi-space-size=2"]
 */
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { ARTIFACTS, DEFAULT_SETTINGS, log, rssBytes, scrape, startOperator, withCluster } from "./common.ts";
import { summarize, takeSnapshot } from "./heap-snapshot.ts";
import { settle } from "./idle.ts";

const { values } = parseArgs({
  options: { n: { type: "string", default: "300" }, "node-args": { type: "string", default: "" } },
});
const n = Math.min(1000, Number(values.n));
await withCluster("heap", async (c) => {
  const op = await startOperator(c, {
    settings: DEFAULT_SETTINGS,
    args: ["--prober=false"],
    name: "heap",
    nodeArgs: [
      "--heapsnapshot-signal=SIGUSR2",
      `--diagnostic-dir=${ARTIFACTS}`,
      ...(values["node-args"] ?? "").split(" ").filter(Boolean),
    ],
  });
  try {
    const report = async (label: string) => {
      const m = await scrape(op.metricsUrl);
      log(
        `${label}: RSS ${(rssBytes(op.pid) / 2 ** 20).toFixed(1)} MiB, heap used ${((m.get("modelship_nodejs_heap_size_used_bytes") ?? 0) / 2 ** 20).toFixed(1)} MiB, heap total ${((m.get("modelship_nodejs_heap_size_total_bytes") ?? 0) / 2 ** 20).toFixed(1)} MiB, external ${((m.get("modelship_nodejs_external_memory_bytes") ?? 0) / 2 ** 20).toFixed(1)} MiB`,
      );
      return takeSnapshot(op.pid, ARTIFACTS);
    };
    const s0 = await report("empty");
    const got = await settle(c, "heap", n, 300_000);
    await sleep(3000);
    const s1 = await report(`${got} settled`);
    const a = summarize(s0);
    const b = summarize(s1);
    const rows = [...b].map(([k, v]) => ({
      k,
      bytes: v.bytes,
      delta: v.bytes - (a.get(k)?.bytes ?? 0),
      count: v.count,
    }));
    const total = (m: Map<string, { bytes: number }>) => [...m.values()].reduce((x, y) => x + y.bytes, 0);
    process.stdout.write(
      `snapshot live bytes: empty ${(total(a) / 2 ** 20).toFixed(1)} MiB, with ${got}: ${(total(b) / 2 ** 20).toFixed(1)} MiB\n`,
    );
    process.stdout.write("largest at empty (self size):\n");
    for (const r of [...a].sort((x, y) => y[1].bytes - x[1].bytes).slice(0, 12))
      process.stdout.write(`  ${(r[1].bytes / 2 ** 20).toFixed(2)} MiB  ${r[1].count}  ${r[0]}\n`);
    process.stdout.write(`largest growth with ${got} objects (self size):\n`);
    for (const r of rows.sort((x, y) => y.delta - x.delta).slice(0, 15))
      process.stdout.write(`  +${(r.delta / 2 ** 20).toFixed(2)} MiB  ${r.count}  ${r.k}\n`);
    // How much of the cache is managedFields (kept by the informers, never read).
    const raw = readFileSync(s1, "utf8");
    process.stdout.write(
      `"managedFields" string occurrences in snapshot: ${raw.split('"managedFields"').length - 1}\n`,
    );
  } finally {
    await op.stop();
  }
});
