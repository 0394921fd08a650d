// Argo CD beside a local control plane: Redis (Debian's redis-server), argocd-repo-server,
// argocd-application-controller and argocd-server run as processes on 127.0.0.1, pointed at the
// local apiserver, reading a Git repository on local disk (file:// URL, as Argo CD's own e2e suite
// does). modelship's part of the configuration is what docs/argocd.md tells users: the chart's
// argocd-cm keys. Every process is recorded by PID with the cluster, so `down` stops exactly these.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { argoCdConfigMap, chartArgoCdKeys } from "./argocd-cm.ts";
import {
  type ClusterState,
  clusterKubectl,
  freePort,
  kubectlOf,
  recordAddonPids,
  stopAddon,
  waitForCrdsEstablished,
} from "./control-plane.ts";

export type ArgoCdComponent =
  | "redis-server"
  | "argocd-repo-server"
  | "argocd-application-controller"
  | "argocd-server";

export interface ArgoCdState {
  dir: string;
  /** Where argocd and its per-component symlinks live (hack/cluster/build-argocd.sh). */
  binDir: string;
  namespace: string;
  ports: Record<
    "redis" | "repoServer" | "repoServerMetrics" | "server" | "serverMetrics" | "controllerMetrics",
    number
  >;
  pids: Partial<Record<ArgoCdComponent, number>>;
  /** Working copy of the Git repository that Applications read, at `repoUrl` (file://). */
  repo: string;
  repoUrl: string;
  /** The destination server of Applications: the local apiserver, registered as a cluster. */
  destination: string;
  /** argocd-server's gRPC/HTTP address (plaintext, loopback). */
  server: string;
  password: string;
  /** The argocd CLI's config after `argocd login`: pass `--config` with it. */
  cliConfig: string;
}

const ADDON = "argocd";
// Nothing listens here: addresses Argo CD would otherwise default to in-cluster DNS names (Dex, the
// commit server) point at a refused loopback port, so no setting can make them leave the machine.
const NOWHERE = "127.0.0.1:1";

export function argoCdDir(cluster: ClusterState): string {
  return join(cluster.dir, "argocd");
}

export function readArgoCdState(cluster: ClusterState): ArgoCdState | undefined {
  const file = join(argoCdDir(cluster), "state.json");
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as ArgoCdState) : undefined;
}

function save(s: ArgoCdState, cluster: ClusterState): void {
  writeFileSync(join(s.dir, "state.json"), `${JSON.stringify(s, null, 2)}\n`);
  recordAddonPids(cluster.dir, ADDON, s.pids as Record<string, number>);
}

function which(cmd: string): string | undefined {
  const r = spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function sh(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...opts });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Environment of every Argo CD process: no /app/config paths, no GPG, temp files under its dir. */
function componentEnv(s: ArgoCdState, cluster: ClusterState): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: join(s.dir, "home"),
    TMPDIR: join(s.dir, "tmp"),
    KUBECONFIG: cluster.kubeconfig,
    ARGOCD_GPG_ENABLED: "false",
    ARGOCD_GNUPGHOME: join(s.dir, "gnupg"),
    ARGOCD_SSH_DATA_PATH: join(s.dir, "ssh"),
    ARGOCD_TLS_DATA_PATH: join(s.dir, "tls"),
  };
}

function launch(s: ArgoCdState, cluster: ClusterState, c: ArgoCdComponent, bin: string, args: string[]) {
  const log = openSync(join(s.dir, "logs", `${c}.log`), "a");
  const child = spawn(bin, args, {
    detached: true,
    stdio: ["ignore", log, log],
    env: componentEnv(s, cluster),
    cwd: s.dir,
  });
  closeSync(log);
  child.unref();
  if (!child.pid) throw new Error(`could not start ${bin}`);
  s.pids[c] = child.pid;
  save(s, cluster);
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: "127.0.0.1", port });
    sock.once("connect", () => {
      sock.destroy();
      resolve(true);
    });
    sock.once("error", () => resolve(false));
    sock.setTimeout(2000, () => {
      sock.destroy();
      resolve(false);
    });
  });
}

function httpOk(port: number, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

async function waitUntil(s: ArgoCdState, c: ArgoCdComponent, ok: () => Promise<boolean>, ms: number) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await ok()) return;
    if (!alive(s.pids[c])) {
      const log = join(s.dir, "logs", `${c}.log`);
      const tail = existsSync(log) ? readFileSync(log, "utf8").split("\n").slice(-20).join("\n") : "";
      throw new Error(`${c} exited while starting; last lines of ${log}:\n${tail}`);
    }
    await sleep(250);
  }
  throw new Error(`${c} not ready after ${ms} ms (logs in ${s.dir}/logs)`);
}

/** Git with a fixed identity and no user or system config, so commits work on any machine. */
export function git(repo: string, args: string[]): string {
  return sh(
    "git",
    ["-C", repo, "-c", "user.name=modelship e2e", "-c", "user.email=e2e@modelship.invalid", ...args],
    {
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" },
    },
  );
}

/** The Kubernetes objects Argo CD needs in its namespace, modelship's argocd-cm keys included. */
function argoCdObjects(s: ArgoCdState, cluster: ClusterState, helm: string, passwordHash: string) {
  const labels = { "app.kubernetes.io/part-of": "argocd" };
  const cm = (name: string, data: Record<string, string> = {}) => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: s.namespace, labels: { ...labels, "app.kubernetes.io/name": name } },
    data,
  });
  const ca = readFileSync(join(cluster.dir, "pki", "apiserver.crt")).toString("base64");
  return [
    argoCdConfigMap(chartArgoCdKeys(helm), {
      // A process outside the cluster has no in-cluster config: the apiserver is a registered cluster.
      "cluster.inClusterEnabled": "false",
      "admin.enabled": "true",
    }),
    cm("argocd-rbac-cm"),
    cm("argocd-cmd-params-cm"),
    cm("argocd-ssh-known-hosts-cm"),
    cm("argocd-tls-certs-cm"),
    cm("argocd-gpg-keys-cm"),
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "argocd-secret", namespace: s.namespace, labels },
      stringData: {
        "server.secretkey": randomBytes(32).toString("base64"),
        "admin.password": passwordHash,
        "admin.passwordMtime": new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      },
    },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: "cluster-local",
        namespace: s.namespace,
        labels: { ...labels, "argocd.argoproj.io/secret-type": "cluster" },
      },
      stringData: {
        name: "local",
        server: s.destination,
        config: JSON.stringify({ bearerToken: cluster.token, tlsClientConfig: { caData: ca } }),
      },
    },
    {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "AppProject",
      metadata: { name: "default", namespace: s.namespace },
      spec: {
        sourceRepos: ["*"],
        destinations: [{ server: "*", namespace: "*" }],
        clusterResourceWhitelist: [{ group: "*", kind: "*" }],
      },
    },
  ];
}

export interface StartArgoCdOptions {
  cluster: ClusterState;
  /** From ensureArgoCdBinaries(). */
  binDir: string;
}

/** Starts Argo CD beside `cluster` and resolves once argocd-server answers and the CLI is logged in. */
export async function startArgoCd(opts: StartArgoCdOptions): Promise<ArgoCdState> {
  const { cluster } = opts;
  const redis = which("redis-server");
  if (!redis) {
    throw new Error(
      "redis-server is not installed (Debian: apt-get install redis-server; hack/cluster/up --argocd does it)",
    );
  }
  const dir = argoCdDir(cluster);
  const prev = readArgoCdState(cluster);
  if (prev && Object.values(prev.pids).some(alive)) {
    throw new Error(`Argo CD is already running beside ${cluster.name} (${dir})`);
  }
  for (const d of ["logs", "home", "tmp", "gnupg", "ssh", "tls", "redis", "ui", "git"]) {
    mkdirSync(join(dir, d), { recursive: true });
  }
  writeFileSync(join(dir, "ssh", "ssh_known_hosts"), "");
  const repo = join(dir, "git", "models");
  const s: ArgoCdState = {
    dir,
    binDir: opts.binDir,
    namespace: "argocd",
    ports: {
      redis: await freePort(),
      repoServer: await freePort(),
      repoServerMetrics: await freePort(),
      server: await freePort(),
      serverMetrics: await freePort(),
      controllerMetrics: await freePort(),
    },
    pids: {},
    repo,
    repoUrl: `file://${repo}`,
    destination: `https://127.0.0.1:${cluster.ports.apiserver}`,
    server: "",
    password: randomBytes(12).toString("hex"),
    cliConfig: join(dir, "cli-config"),
  };
  s.server = `127.0.0.1:${s.ports.server}`;
  save(s, cluster);

  // A Git repository with one commit, so Argo CD can resolve HEAD before the first real commit.
  if (!existsSync(join(repo, ".git"))) {
    mkdirSync(repo, { recursive: true });
    git(repo, ["init", "--quiet", "--initial-branch=main"]);
    writeFileSync(join(repo, "README.md"), "Manifests that the local Argo CD syncs (written by tests).\n");
    git(repo, ["add", "-A"]);
    git(repo, ["commit", "--quiet", "-m", "an empty repository"]);
  }

  const kubectl = (args: string[], input?: string) => clusterKubectl(cluster, args, input);
  kubectl(
    ["apply", "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: s.namespace } }),
  );
  // The Application CRD is larger than client-side apply's annotation allows.
  const crds = join(opts.binDir, "crds");
  for (const f of readdirSync(crds))
    kubectl(["apply", "--server-side", "--force-conflicts", "-f", join(crds, f)]);
  waitForCrdsEstablished(kubectlOf(cluster), ["applications.argoproj.io", "appprojects.argoproj.io"]);
  const argocd = join(opts.binDir, "argocd");
  const hash = sh(argocd, ["account", "bcrypt", "--password", s.password]).trim();
  const objects = argoCdObjects(s, cluster, join(cluster.binDir, "helm"), hash);
  kubectl(
    ["apply", "--server-side", "--force-conflicts", "--field-manager=modelship-harness", "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
  );

  const redisUrl = `127.0.0.1:${s.ports.redis}`;
  const repoServer = `127.0.0.1:${s.ports.repoServer}`;
  launch(s, cluster, "redis-server", redis, [
    "--bind",
    "127.0.0.1",
    "--port",
    String(s.ports.redis),
    "--protected-mode",
    "yes",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    join(dir, "redis"),
  ]);
  await waitUntil(s, "redis-server", () => tcpOpen(s.ports.redis), 30_000);
  launch(s, cluster, "argocd-repo-server", join(opts.binDir, "argocd-repo-server"), [
    "--address",
    "127.0.0.1",
    "--port",
    String(s.ports.repoServer),
    "--metrics-address",
    "127.0.0.1",
    "--metrics-port",
    String(s.ports.repoServerMetrics),
    "--disable-tls",
    "--redis",
    redisUrl,
  ]);
  launch(s, cluster, "argocd-application-controller", join(opts.binDir, "argocd-application-controller"), [
    "--namespace",
    s.namespace,
    "--redis",
    redisUrl,
    "--repo-server",
    repoServer,
    "--repo-server-plaintext",
    "--commit-server",
    NOWHERE,
    // Argo CD binds this one to 0.0.0.0 (no address flag); it is a listener, nothing dials out.
    "--metrics-port",
    String(s.ports.controllerMetrics),
  ]);
  launch(s, cluster, "argocd-server", join(opts.binDir, "argocd-server"), [
    "--namespace",
    s.namespace,
    "--insecure",
    "--address",
    "127.0.0.1",
    "--port",
    String(s.ports.server),
    "--metrics-address",
    "127.0.0.1",
    "--metrics-port",
    String(s.ports.serverMetrics),
    "--redis",
    redisUrl,
    "--repo-server",
    repoServer,
    "--repo-server-plaintext",
    "--dex-server",
    `http://${NOWHERE}`,
    "--dex-server-plaintext",
    "--staticassets",
    join(dir, "ui"),
  ]);
  await waitUntil(s, "argocd-repo-server", () => tcpOpen(s.ports.repoServer), 60_000);
  await waitUntil(
    s,
    "argocd-application-controller",
    () => httpOk(s.ports.controllerMetrics, "/healthz"),
    60_000,
  );
  await waitUntil(s, "argocd-server", () => httpOk(s.ports.server, "/healthz?full=true"), 60_000);
  sh(argocd, [
    "login",
    s.server,
    "--username",
    "admin",
    "--password",
    s.password,
    "--plaintext",
    "--config",
    s.cliConfig,
  ]);
  return s;
}

/** Stops what startArgoCd started, by PID, last started first. */
export async function stopArgoCd(cluster: ClusterState): Promise<void> {
  await stopAddon(cluster.dir, ADDON);
}
