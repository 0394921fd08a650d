// Finds (or builds, the first time) the control-plane binaries via build-binaries.sh.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const script = join(dirname(fileURLToPath(import.meta.url)), "build-binaries.sh");

/** Resolves with the cached bin directory; the build's progress streams to our stderr. */
export function ensureBinaries(): Promise<string> {
  if (process.env.MODELSHIP_BIN_DIR) return Promise.resolve(process.env.MODELSHIP_BIN_DIR);
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [script], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("exit", (code) =>
      code === 0
        ? resolve(out.trim().split("\n").pop() ?? "")
        : reject(new Error(`${script} failed (${code})`)),
    );
  });
}
