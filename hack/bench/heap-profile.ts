/**
 * Where the operator's memory goes: starts the operator with --heapsnapshot-signal, takes a heap
 * snapshot with 0 ModelDeployments and one with N (default 300) settled, and prints retained self
 * size by constructor, plus the bytes held in managedFields. Bounded: N ≤ 1000, ~5 min.
 *
 *   node hack/bench/heap-profile.ts [--n 300] [--node-args "--max-semi-space-size=2"]
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { ARTIFACTS, DEFAULT_SETTINGS, log, rssBytes, scrape, startOperator, withCluster } from "./common.ts";
import { settle } from "./idle.ts";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

/** Self size by "type:name" (objects by constructor name; strings, arrays, code by type). */
export function summarize(file: string): Map<string, { count: number; bytes: number }> {
  const s = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const f = s.snapshot.meta.node_fields;
  const width = f.length;
  const iType = f.indexOf("type");
  const iName = f.indexOf("name");
  const iSize = f.indexOf("self_size");
  const types = s.snapshot.meta.node_types[0];
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + iType] as number] ?? "?";
    const name =
      type === "object" || type === "closure" ? (s.strings[s.nodes[i + iName] as number] ?? "?") : "";
    const key = `${type}${name ? `:${name}` : ""}`;
    const e = out.get(key) ?? { count: 0, bytes: 0 };
    e.count += 1;
    e.bytes += s.nodes[i + iSize] as number;
    out.set(key, e);
  }
  return out;
}

async function snapshot(pid: number, dir: string): Promise<string> {
  const before = new Set(readdirSync(dir).filter((f) => f.endsWith(".heapsnapshot")));
  process.kill(pid, "SIGUSR2");
  for (let i = 0; i < 600; i++) {
    await sleep(200);
    const added = readdirSync(dir).filter((f) => f.endsWith(".heapsnapshot") && !before.has(f));
    if (added[0]) {
      const file = join(dir, added[0]);
      // Complete when it parses (V8 writes it in chunks with pauses).
      for (let k = 0; k < 120; k++) {
        await sleep(1000);
        try {
          JSON.parse(readFileSync(file, "utf8"));
          break;
        } catch {}
      }
      return file;
    }
  }
  throw new Error("no heap snapshot in 120 s");
}

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
      return snapshot(op.pid, ARTIFACTS);
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
