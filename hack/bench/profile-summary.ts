/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`): self time by function and by file/package.
 *
 *   node hack/bench/profile-summary.ts <file.cpuprofile> [--top 25]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: "string", default: "25" } },
});
const file = positionals[0];
if (!file) throw new Error("usage: profile-summary.ts <file.cpuprofile>");
const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
for (let i = 0; i < p.samples.length; i++) {
  const id = p.samples[i] as number;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

const place = (url: string): string => {
  if (!url) return "(native/vm)";
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `pkg:${nm[1]}`;
  const src = /\/(operator\/src\/.*)$/.exec(url);
  if (src) return src[1] as string;
  if (url.startsWith("node:")) return url;
  return url.replace(/^file:\/\//, "");
};

const fn = new Map<string, number>();
const where = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id);
  if (!n) continue;
  const f = n.callFrame;
  const key = `${f.functionName || "(anonymous)"} ${place(f.url)}:${f.lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + us);
  const w = place(f.url);
  where.set(w, (where.get(w) ?? 0) + us);
}
const top = Number(values.top);
const pct = (us: number) => `${((us / total) * 100).toFixed(1)}%`;
process.stdout.write(
  `profile ${file}: ${(total / 1e6).toFixed(2)} s sampled over ${((p.endTime - p.startTime) / 1e6).toFixed(1)} s wall\n\nby file/package (self):\n`,
);
for (const [k, us] of [...where].sort((a, b) => b[1] - a[1]).slice(0, top))
  process.stdout.write(`  ${pct(us).padStart(6)}  ${(us / 1e6).toFixed(2)} s  ${k}\n`);
process.stdout.write("\nby function (self):\n");
for (const [k, us] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top))
  process.stdout.write(`  ${pct(us).padStart(6)}  ${(us / 1e6).toFixed(2)} s  ${k}\n`);
