// Shared CLI behaviour of the generators: write the file, or with --check compare it with the
// committed one and exit 1 with a short diff so CI says what to regenerate.
import { readFileSync, writeFileSync } from "node:fs";

export function firstDifference(expected: string, actual: string): string {
  const want = expected.split("\n");
  const got = actual.split("\n");
  const total = Math.max(want.length, got.length);
  for (let i = 0; i < total; i++) {
    if (want[i] !== got[i]) {
      return `line ${i + 1}:\n  generated: ${JSON.stringify(want[i] ?? "<end of file>")}\n  committed: ${JSON.stringify(got[i] ?? "<end of file>")}`;
    }
  }
  return "no difference";
}

export function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Run as a CLI: returns the process exit code. */
export function writeOrCheck(options: {
  path: string;
  content: string;
  command: string;
  argv: readonly string[];
}): number {
  const { path, content, command, argv } = options;
  if (argv.includes("--check")) {
    const committed = readIfExists(path);
    if (committed === content) return 0;
    const detail = committed === undefined ? "file is missing" : firstDifference(content, committed);
    process.stderr.write(`${path} is out of date (${detail}).\nRegenerate it with: ${command}\n`);
    return 1;
  }
  writeFileSync(path, content);
  process.stdout.write(`wrote ${path}\n`);
  return 0;
}
