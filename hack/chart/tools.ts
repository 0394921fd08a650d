// Finds the real tools the chart tests run: helm (built by hack/cluster/build-binaries.sh) and go
// (which builds Argo CD for the Lua tests).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CHART = join(ROOT, "charts", "modelship");

function versions(): Record<string, string> {
  const text = readFileSync(join(ROOT, "hack", "cluster", "versions.env"), "utf8");
  return Object.fromEntries(
    text
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#") && l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

/** helm: $MODELSHIP_BIN_DIR/helm, else the build cache dir of the pinned versions, else any cached build. */
export function findHelm(): { path?: string; reason: string } {
  const fromEnv = process.env.MODELSHIP_BIN_DIR;
  if (fromEnv) {
    const p = join(fromEnv, "helm");
    return existsSync(p) ? { path: p, reason: "" } : { reason: `MODELSHIP_BIN_DIR=${fromEnv} has no helm` };
  }
  const cache = join(homedir(), ".cache", "modelship", "bin");
  const v = versions();
  const goVersion = spawnSync("go", ["env", "GOVERSION"], { encoding: "utf8" }).stdout?.trim();
  const pinned = `k8s-${v.KUBE_VERSION}-etcd-${v.ETCD_VERSION}-kwok-${v.KWOK_VERSION}-helm-${v.HELM_VERSION}`;
  const candidates = [
    ...(goVersion ? [join(cache, `${pinned}-${goVersion}`, "helm")] : []),
    ...(existsSync(cache)
      ? readdirSync(cache)
          .filter((d) => d.includes(`helm-${v.HELM_VERSION}`))
          .map((d) => join(cache, d, "helm"))
      : []),
  ];
  const found = candidates.find((p) => existsSync(p));
  return found
    ? { path: found, reason: "" }
    : {
        reason: `helm not found (set MODELSHIP_BIN_DIR, or run hack/cluster/build-binaries.sh; looked in ${cache}/${pinned}-*)`,
      };
}

export function hasGo(): boolean {
  return spawnSync("go", ["version"], { encoding: "utf8" }).status === 0;
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Run {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd ?? ROOT,
    encoding: "utf8",
    env: { ...process.env, ...opts.env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
