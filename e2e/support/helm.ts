// helm against the cluster under test, and kubeconfigs that carry a ServiceAccount's token (the
// TokenRequest API), so the real operator can run on the host with exactly the chart's RBAC.
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import yaml from "js-yaml";
import { inject } from "vitest";
import { findHelm } from "../../hack/chart/tools.ts";
import { kubectl, kubectlPath } from "./cluster.ts";

const exec = promisify(execFile);
const root = join(import.meta.dirname, "..", "..");

/** helm's path, or why there is none: $MODELSHIP_BIN_DIR/helm first, then the build cache. */
export function helmPath(): { path?: string; reason: string } {
  const bin = inject("binDir");
  if (bin) {
    const prev = process.env.MODELSHIP_BIN_DIR;
    process.env.MODELSHIP_BIN_DIR = bin;
    try {
      const found = findHelm();
      if (found.path) return found;
    } finally {
      if (prev === undefined) delete process.env.MODELSHIP_BIN_DIR;
      else process.env.MODELSHIP_BIN_DIR = prev;
    }
  }
  return findHelm();
}

export async function helm(args: string[]): Promise<string> {
  const h = helmPath();
  if (!h.path) throw new Error(h.reason);
  const { stdout } = await exec(h.path, ["--kubeconfig", inject("kubeconfig"), ...args], {
    maxBuffer: 32 * 1024 * 1024,
    // helm caches repositories under $HOME; keep them out of the user's home.
    env: {
      ...process.env,
      HELM_CACHE_HOME: join(root, ".e2e-artifacts", "helm", "cache"),
      HELM_CONFIG_HOME: join(root, ".e2e-artifacts", "helm", "config"),
      HELM_DATA_HOME: join(root, ".e2e-artifacts", "helm", "data"),
    },
  });
  return stdout;
}

interface KubeconfigFile {
  clusters: { name: string; cluster: { server: string; "certificate-authority"?: string } }[];
}

/**
 * A kubeconfig whose only credential is a fresh ServiceAccount token from the TokenRequest API
 * (`kubectl create token`); server and CA are the admin kubeconfig's.
 */
export async function serviceAccountKubeconfig(namespace: string, sa: string, file: string): Promise<string> {
  const token = (await kubectl(["create", "token", sa, "-n", namespace, "--duration=2h"])).trim();
  const admin = yaml.load(readFileSync(inject("kubeconfig"), "utf8")) as KubeconfigFile;
  const cluster = admin.clusters[0]?.cluster;
  if (!cluster) throw new Error("admin kubeconfig has no cluster");
  const doc = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "under-test", cluster }],
    users: [{ name: `${namespace}:${sa}`, user: { token } }],
    contexts: [{ name: "sa", context: { cluster: "under-test", user: `${namespace}:${sa}` } }],
    "current-context": "sa",
  };
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, yaml.dump(doc), { mode: 0o600 });
  return file;
}

/** kubectl with another kubeconfig; resolves with exit code and output instead of throwing. */
export async function kubectlAs(
  kubeconfig: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(kubectlPath(), ["--kubeconfig", kubeconfig, ...args], {
      maxBuffer: 32 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}
