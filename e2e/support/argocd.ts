// What the Argo CD e2e test does as a user: commit to the Git repository Argo CD reads, and run
// Argo CD's own CLI, logged in to argocd-server (hack/cluster/argocd.ts started it).
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import yaml from "js-yaml";
import { type ArgoCdState, git } from "../../hack/cluster/argocd.ts";

const exec = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `argocd ARGS` with the harness's logged-in config; resolves with the exit code (diff exits 1). */
export async function argocdCli(argo: ArgoCdState, args: string[], timeoutMs = 180_000): Promise<CliResult> {
  try {
    const { stdout, stderr } = await exec(
      join(argo.binDir, "argocd"),
      [...args, "--config", argo.cliConfig],
      {
        maxBuffer: 32 * 1024 * 1024,
        timeout: timeoutMs,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** `argocd ARGS` that must succeed; resolves with stdout. */
export async function argocd(argo: ArgoCdState, args: string[], timeoutMs?: number): Promise<string> {
  const r = await argocdCli(argo, args, timeoutMs);
  if (r.code !== 0) throw new Error(`argocd ${args.join(" ")} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

export interface AppStatus {
  sync: { status: string; revision?: string };
  health: { status: string };
  operationState?: { phase: string; message?: string; syncResult?: { resources?: SyncedResource[] } };
  resources?: { kind: string; name: string; namespace?: string; status?: string }[];
  history?: unknown[];
}
interface SyncedResource {
  kind: string;
  name: string;
  status: string;
  syncPhase?: string;
}

export async function appStatus(argo: ArgoCdState, app: string, refresh = false): Promise<AppStatus> {
  const out = await argocd(argo, ["app", "get", app, "-o", "json", ...(refresh ? ["--refresh"] : [])]);
  return (JSON.parse(out) as { status: AppStatus }).status;
}

export interface TreeNode {
  kind: string;
  name: string;
  namespace?: string;
  health?: { status: string; message?: string };
  parentRefs?: { kind: string; name: string }[];
}

/**
 * The resource tree, where Argo CD keeps each resource's health (and shows the operator's children).
 * The CLI prints it only as a table, so this reads argocd-server's API with the CLI's login token.
 */
export async function resourceTree(argo: ArgoCdState, app: string): Promise<TreeNode[]> {
  const config = yaml.load(readFileSync(argo.cliConfig, "utf8")) as { users?: { "auth-token"?: string }[] };
  const token = config.users?.find((u) => u["auth-token"])?.["auth-token"];
  if (!token) throw new Error(`no auth token in ${argo.cliConfig}: is the CLI logged in?`);
  const res = await fetch(`http://${argo.server}/api/v1/applications/${app}/resource-tree`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!res.ok) throw new Error(`resource-tree of ${app}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { nodes?: TreeNode[] }).nodes ?? [];
}

/** Writes files (path relative to the repository → content) and commits them, as a person would. */
export function commitFiles(argo: ArgoCdState, files: Record<string, string>, message: string): string {
  for (const [path, content] of Object.entries(files)) {
    const full = join(argo.repo, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  git(argo.repo, ["add", "-A"]);
  git(argo.repo, ["commit", "--quiet", "-m", message]);
  return git(argo.repo, ["rev-parse", "HEAD"]).trim();
}

/** `git revert HEAD`, as a person undoing the last commit. */
export function revertLastCommit(argo: ArgoCdState): string {
  git(argo.repo, ["revert", "--no-edit", "HEAD"]);
  return git(argo.repo, ["rev-parse", "HEAD"]).trim();
}
