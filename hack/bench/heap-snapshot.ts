// Heap snapshots of the operator process: taken by signal (`node --heapsnapshot-signal=SIGUSR2
// --diagnostic-dir=<dir>`), summarised by constructor. V8 runs a full GC before it writes one, so
// the sum of self sizes is the heap in use after a GC.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

export type HeapSummary = Map<string, { count: number; bytes: number }>;

/** Self size by "type:name" (objects by constructor name; strings, arrays, code by type). */
export function summarize(file: string): HeapSummary {
  const s = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const f = s.snapshot.meta.node_fields;
  const width = f.length;
  const iType = f.indexOf("type");
  const iName = f.indexOf("name");
  const iSize = f.indexOf("self_size");
  const types = s.snapshot.meta.node_types[0];
  const out: HeapSummary = new Map();
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

/** Signals `pid` and waits (bounded) for its new snapshot in `dir` to be complete. */
export async function takeSnapshot(pid: number, dir: string): Promise<string> {
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
