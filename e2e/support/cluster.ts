// What e2e tests need from the cluster under test: a KubeConfig, kubectl, and (local clusters only)
// the control-plane handle for restarts and audit logs.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { promisify } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { inject } from "vitest";
import { type ClusterState, readState, waitForCrdsEstablished } from "../../hack/cluster/control-plane.ts";
import { installGatewayApiCrds as installGatewayCrdsOf } from "../../hack/cluster/gateway.ts";

const exec = promisify(execFile);

export function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(inject("kubeconfig"));
  return kc;
}

/** The local control plane, or undefined when the suite runs against $KUBECONFIG. */
export function localCluster(): ClusterState | undefined {
  const dir = inject("clusterStateDir");
  return dir ? readState(dir) : undefined;
}

export function kubectlPath(): string {
  const bin = inject("binDir");
  return bin ? join(bin, "kubectl") : "kubectl";
}

/** A PATH on which kubectl finds our plugin as `kubectl modelship` (what `npm link` installs). */
function pluginPath(): string {
  const dir = join(tmpdir(), `modelship-plugin-${process.pid}`);
  const link = join(dir, "kubectl-modelship");
  if (!existsSync(link)) {
    mkdirSync(dir, { recursive: true });
    symlinkSync(join(import.meta.dirname, "..", "..", "operator", "bin", "kubectl-modelship.js"), link);
  }
  return `${dir}${delimiter}${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`;
}

export async function kubectl(args: string[], input?: string): Promise<string> {
  // kubectl refuses flags before a plugin's name; the plugin reads KUBECONFIG from the environment.
  const full = args[0] === "modelship" ? args : ["--kubeconfig", inject("kubeconfig"), ...args];
  const child = exec(kubectlPath(), full, {
    maxBuffer: 32 * 1024 * 1024,
    env: { ...process.env, PATH: pluginPath(), KUBECONFIG: inject("kubeconfig") },
  });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  const { stdout } = await child;
  return stdout;
}

/** Waits until the named CRDs (e.g. "modeldeployments.modelship.dev") are Established. */
export function waitForCrds(names: string[]): void {
  waitForCrdsEstablished({ kubectl: kubectlPath(), kubeconfig: inject("kubeconfig") }, names);
}

/** Installs the Gateway API CRDs from the local harness's build cache (operators discover them at start). */
export async function installGatewayApiCrds(): Promise<void> {
  const cluster = localCluster();
  if (!cluster) throw new Error("the Gateway API CRDs come from the local harness's build cache");
  installGatewayCrdsOf(cluster);
}

/** Polls `fn` until it returns a value that is not undefined/false, or fails with `what`. */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
) {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

let nsCounter = 0;
/** A fresh namespace name per test file run. */
export function uniqueNamespace(prefix: string): string {
  nsCounter += 1;
  return `${prefix}-${process.pid}-${nsCounter}-${Date.now().toString(36)}`;
}
