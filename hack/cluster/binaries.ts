// Finds (or builds, the first time) the Go-built binaries: the control plane via build-binaries.sh,
// Argo CD via build-argocd.sh, Traefik via build-traefik.sh. Each script prints its cached bin directory.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** Resolves with the bin directory the script prints last; the build's progress streams to our stderr. */
function runBuild(script: string): Promise<string> {
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

/** etcd, kube-*, kubectl, kwok, helm. */
export function ensureBinaries(): Promise<string> {
  if (process.env.MODELSHIP_BIN_DIR) return Promise.resolve(process.env.MODELSHIP_BIN_DIR);
  return runBuild(join(here, "build-binaries.sh"));
}

/** argocd (every component by its run name) and its CRDs in `crds/`. */
export function ensureArgoCdBinaries(): Promise<string> {
  if (process.env.MODELSHIP_ARGOCD_BIN_DIR) return Promise.resolve(process.env.MODELSHIP_ARGOCD_BIN_DIR);
  return runBuild(join(here, "build-argocd.sh"));
}

/** traefik, the Gateway API implementation that e2e sends requests through. */
export function ensureTraefikBinary(): Promise<string> {
  if (process.env.MODELSHIP_TRAEFIK_BIN_DIR) return Promise.resolve(process.env.MODELSHIP_TRAEFIK_BIN_DIR);
  return runBuild(join(here, "build-traefik.sh"));
}
