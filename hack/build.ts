// Builds what the image runs: dist/main.js, the operator and its dependencies in one ES module.
//
//   node hack/build.ts            # npm run build; the Dockerfile's build stage runs exactly this
//
// One bundle rather than tsc output + node_modules, because of memory: @kubernetes/client-node's
// package index loads every generated API group (~20 MiB of source text in the heap), and
// tree-shaking keeps only the 8 we call. An operator with no objects starts at ~95 MiB RSS instead
// of ~135 (tsc output) or ~170 (type stripping from source); docs/benchmarks.md.
// Type checking is tsc's job (npm run typecheck), not this one's.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "rolldown";

/**
 * The node flags the image runs the bundle with (Dockerfile ENTRYPOINT; check-dockerfile.sh checks
 * they agree). --optimize-for-size: V8 grows the heap less eagerly and gives memory back sooner; at
 * 1k objects RSS is ~145 MiB instead of ~280, for more CPU (the prober needs
 * ~1.6x the CPU per probe; the measured trade and the flags tried instead: docs/benchmarks.md).
 */
export const NODE_FLAGS = ["--optimize-for-size"];

export const ROOT = join(import.meta.dirname, "..");
export const BUNDLE = join(ROOT, "dist", "main.js");

export async function buildOperator(file = BUNDLE): Promise<string> {
  await build({
    input: join(ROOT, "operator", "src", "main.ts"),
    platform: "node",
    logLevel: "warn",
    // Not minified and no source map: stack traces stay readable and nothing extra is loaded.
    // JSDoc is dropped (licence comments stay): client-node's generated models carry ~3.7 MB of
    // it, which the process would hold as source text (8.6 → 4.9 MB bundle).
    output: { format: "esm", file, comments: { legal: true, annotation: false, jsdoc: false } },
  });
  writeFileSync(file, asciiOnly(readFileSync(file, "utf8")));
  return file;
}

/**
 * Escapes every non-ASCII character as \uXXXX. V8 keeps a module's source for lazy compilation, and
 * Node decodes a file with one non-ASCII character (a "…" or "÷" in a message) into a string of two
 * bytes per character: 9.4 MB instead of 4.7 for this bundle. The escapes stand only in string,
 * template and regular-expression literals and comments, where they mean the same character.
 */
export function asciiOnly(source: string): string {
  return source.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

if (import.meta.main) {
  const t0 = performance.now();
  const file = await buildOperator();
  process.stderr.write(`built ${file} in ${Math.round(performance.now() - t0)} ms\n`);
}
