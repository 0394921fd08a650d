// A real local Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and kwok (fake nodes whose pods become Running/Ready without a kubelet).
// Every process runs detached with its PID recorded in the cluster's state.json, so `down` can
// stop exactly what `up` started, and a test can restart the apiserver mid-run.
import { spawn, spawnSync } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { request } from "node:https";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { stagesWithFaults } from "./kwok-faults.ts";
import {
  assertContained,
  ensurePodNetwork,
  MAX_SLOTS,
  nodeIpForSlot,
  podCidrForSlot,
  SERVICE_CIDR,
} from "./network.ts";

export type Component = "etcd" | "kube-apiserver" | "kube-controller-manager" | "kube-scheduler" | "kwok";

export interface ClusterState {
  name: string;
  dir: string;
  binDir: string;
  slot: number;
  podCidr: string;
  nodeIp: string;
  ports: { etcdClient: number; etcdPeer: number; apiserver: number };
  token: string;
  kubeconfig: string;
  /** A second admin identity ("modelship-operator") so audit logs tell the operator's writes apart. */
  operatorKubeconfig: string;
  /** A third admin identity ("argo-rollouts-peer") for the benchmark peer, counted apart in the same way. */
  peerKubeconfig: string;
  auditLog: string;
  pids: Partial<Record<Component, number>>;
  args: Partial<Record<Component, string[]>>;
}

export function clustersRoot(): string {
  return join(process.env.TMPDIR ?? "/tmp", "modelship-clusters");
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/** Whether a process we started is still running (signal 0 probes without touching it). */
export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Claims the lowest free slot (a pod range) with an O_EXCL file; reclaims slots of dead clusters. */
function claimSlot(name: string): number {
  const slots = join(clustersRoot(), ".slots");
  mkdirSync(slots, { recursive: true });
  for (let i = 0; i < MAX_SLOTS; i++) {
    const file = join(slots, String(i));
    if (existsSync(file)) {
      const owner = readFileSync(file, "utf8").trim();
      const state = readState(join(clustersRoot(), owner));
      if (state && Object.values(state.pids).some(alive)) continue;
      rmSync(file, { force: true });
    }
    try {
      writeFileSync(file, name, { flag: "wx" });
      return i;
    } catch {}
  }
  throw new Error(`all ${MAX_SLOTS} local cluster slots are in use; tear one down with hack/cluster/down`);
}

/** kubectl of this cluster's build against this cluster, synchronously; throws with its output on failure. */
export function clusterKubectl(cluster: ClusterState, args: string[], input?: string): string {
  const r = spawnSync(join(cluster.binDir, "kubectl"), ["--kubeconfig", cluster.kubeconfig, ...args], {
    encoding: "utf8",
    maxBuffer: 32 * 1024 * 1024,
    ...(input !== undefined ? { input } : {}),
  });
  if (r.status !== 0)
    throw new Error(`kubectl ${args.join(" ")} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/**
 * Waits until every named CRD (e.g. "modeldeployments.modelship.dev") is Established. Not
 * `kubectl wait --for=condition=Established`: right after an apply a CRD may have no status yet,
 * and kubectl 1.36 then fails at once ("accessor error") instead of waiting. Reads the condition
 * itself, every 200 ms, until `timeoutMs`.
 */
export function waitForCrdsEstablished(
  at: { kubectl: string; kubeconfig: string },
  names: string[],
  timeoutMs = 60_000,
): void {
  const deadline = Date.now() + timeoutMs;
  let pending = names;
  for (;;) {
    const r = spawnSync(
      at.kubectl,
      ["--kubeconfig", at.kubeconfig, "get", ...pending.map((n) => `crd/${n}`), "-o", "json"],
      { encoding: "utf8", maxBuffer: 32 * 1024 * 1024 },
    );
    if (r.status === 0) {
      const out = JSON.parse(r.stdout) as CrdStatus & { items?: CrdStatus[] };
      const established = new Set((out.items ?? [out]).filter(isEstablished).map((c) => c.metadata?.name));
      pending = pending.filter((n) => !established.has(n));
      if (pending.length === 0) return;
    }
    if (Date.now() > deadline)
      throw new Error(`CRDs not Established within ${timeoutMs} ms: ${pending.join(", ")} ${r.stderr ?? ""}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  }
}

type CrdStatus = {
  metadata?: { name?: string };
  status?: { conditions?: { type: string; status: string }[] };
};
const isEstablished = (c: CrdStatus) =>
  c.status?.conditions?.some((x) => x.type === "Established" && x.status === "True") === true;

/** kubectl of this cluster's build and the admin kubeconfig, for waitForCrdsEstablished. */
export const kubectlOf = (c: ClusterState) => ({
  kubectl: join(c.binDir, "kubectl"),
  kubeconfig: c.kubeconfig,
});

export function readState(dir: string): ClusterState | undefined {
  const file = join(dir, "state.json");
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as ClusterState) : undefined;
}

function saveState(s: ClusterState): void {
  writeFileSync(join(s.dir, "state.json"), `${JSON.stringify(s, null, 2)}\n`);
}

function launch(s: ClusterState, c: Component, args: string[]): void {
  const log = openSync(join(s.dir, "logs", `${c}.log`), "a");
  const bin = join(s.binDir, c);
  const child = spawn(bin, args, { detached: true, stdio: ["ignore", log, log] });
  closeSync(log);
  child.unref();
  if (!child.pid) throw new Error(`could not start ${bin}`);
  s.pids[c] = child.pid;
  s.args[c] = args;
  saveState(s);
}

export const OPERATOR_USER = "modelship-operator";
/** The identity hack/bench runs Argo Rollouts as, beside the operator (hack/bench/peer.ts). */
export const PEER_USER = "argo-rollouts-peer";

function kubeconfigYaml(s: ClusterState, caFile: string, token: string): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    `- name: ${s.name}`,
    "  cluster:",
    `    server: https://127.0.0.1:${s.ports.apiserver}`,
    `    certificate-authority: ${caFile}`,
    "users:",
    "- name: admin",
    "  user:",
    `    token: ${token}`,
    "contexts:",
    `- name: ${s.name}`,
    "  context:",
    `    cluster: ${s.name}`,
    "    user: admin",
    `current-context: ${s.name}`,
    "",
  ].join("\n");
}

/** GET a path on the apiserver as admin; resolves with the status code (0 when unreachable). */
export function apiGet(s: ClusterState, path: string): Promise<{ code: number; body: string }> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: s.ports.apiserver,
        path,
        headers: { authorization: `Bearer ${s.token}` },
        rejectUnauthorized: false,
        timeout: 5000,
      },
      (res) => {
        let body = "";
        res.on("data", (d: Buffer) => {
          body += d.toString();
        });
        res.on("end", () => resolve({ code: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", () => resolve({ code: 0, body: "" }));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

async function waitFor(what: string, s: ClusterState, c: Component, ok: () => Promise<boolean>, ms: number) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await ok()) return;
    if (!alive(s.pids[c])) {
      const log = join(s.dir, "logs", `${c}.log`);
      const tail = existsSync(log) ? readFileSync(log, "utf8").split("\n").slice(-15).join("\n") : "";
      throw new Error(`${c} exited while waiting for ${what}; last lines of ${log}:\n${tail}`);
    }
    await sleep(200);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what} (logs in ${s.dir}/logs)`);
}

function apiserverArgs(s: ClusterState): string[] {
  const d = s.dir;
  return [
    `--etcd-servers=http://127.0.0.1:${s.ports.etcdClient}`,
    "--bind-address=127.0.0.1",
    // Without it the apiserver advertises the default-route interface.
    "--advertise-address=127.0.0.1",
    `--secure-port=${s.ports.apiserver}`,
    `--cert-dir=${join(d, "pki")}`,
    `--token-auth-file=${join(d, "pki", "tokens.csv")}`,
    "--authorization-mode=Node,RBAC",
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${join(d, "pki", "sa.key")}`,
    `--service-account-signing-key-file=${join(d, "pki", "sa.key")}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    "--allow-privileged=true",
    // As hardened clusters and OpenShift run: setting blockOwnerDeletion on a child needs `update` on
    // the owner's finalizers subresource, so the chart's RBAC is proven under it (helm-rbac e2e).
    "--enable-admission-plugins=OwnerReferencesPermissionEnforcement",
    // The "kubernetes" Service would otherwise get 127.0.0.1 endpoints, which are invalid.
    "--endpoint-reconciler-type=none",
    // Writes by user agent, for tests and benchmarks that count what the operator writes.
    `--audit-policy-file=${join(d, "audit-policy.yaml")}`,
    `--audit-log-path=${s.auditLog}`,
    "--audit-log-maxsize=200",
    "--audit-log-format=json",
  ];
}

const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  verbs: [create, update, patch, delete, deletecollection]
- level: None
`;

export interface StartOptions {
  name: string;
  binDir: string;
  nodes?: number;
  /**
   * The controller-manager's client QPS (burst 2×); its default of 20 makes a benchmark of 10k objects
   * wait ~30 minutes for ReplicaSets and pods. Unset: the default, as a real cluster has it.
   */
  controllerManagerQps?: number;
}

/** Starts a new cluster and resolves when nodes are Ready. */
export async function startCluster(opts: StartOptions): Promise<ClusterState> {
  ensurePodNetwork();
  const dir = join(clustersRoot(), opts.name);
  const prev = readState(dir);
  if (prev && Object.values(prev.pids).some(alive)) {
    throw new Error(
      `cluster ${opts.name} is already running (${dir}); run hack/cluster/down ${opts.name} first`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "logs"), { recursive: true });
  mkdirSync(join(dir, "pki"), { recursive: true });
  mkdirSync(join(dir, "etcd"), { recursive: true });
  const slot = claimSlot(opts.name);
  const s: ClusterState = {
    name: opts.name,
    dir,
    binDir: opts.binDir,
    slot,
    podCidr: podCidrForSlot(slot),
    nodeIp: nodeIpForSlot(slot),
    ports: { etcdClient: await freePort(), etcdPeer: await freePort(), apiserver: await freePort() },
    token: randomBytes(24).toString("hex"),
    kubeconfig: join(dir, "kubeconfig.yaml"),
    operatorKubeconfig: join(dir, "operator-kubeconfig.yaml"),
    peerKubeconfig: join(dir, "peer-kubeconfig.yaml"),
    auditLog: join(dir, "logs", "audit.log"),
    pids: {},
    args: {},
  };
  // Fail closed before anything that could dial a fake address starts.
  assertContained([s.podCidr.replace(/0\.0\/16$/, "3.7"), s.nodeIp, "10.96.0.1"]);

  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  writeFileSync(join(dir, "pki", "sa.key"), privateKey.export({ type: "pkcs1", format: "pem" }));
  const operatorToken = randomBytes(24).toString("hex");
  const peerToken = randomBytes(24).toString("hex");
  writeFileSync(
    join(dir, "pki", "tokens.csv"),
    [
      `${s.token},admin,admin,"system:masters"`,
      `${operatorToken},${OPERATOR_USER},${OPERATOR_USER},"system:masters"`,
      `${peerToken},${PEER_USER},${PEER_USER},"system:masters"`,
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "audit-policy.yaml"), AUDIT_POLICY);
  saveState(s);

  const etcdUrl = `http://127.0.0.1:${s.ports.etcdClient}`;
  const peerUrl = `http://127.0.0.1:${s.ports.etcdPeer}`;
  launch(s, "etcd", [
    `--data-dir=${join(dir, "etcd")}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=default=${peerUrl}`,
    "--unsafe-no-fsync=true",
    "--quota-backend-bytes=8589934592",
  ]);
  launch(s, "kube-apiserver", apiserverArgs(s));
  await waitFor(
    "the apiserver's /readyz",
    s,
    "kube-apiserver",
    async () => (await apiGet(s, "/readyz")).code === 200,
    90_000,
  );

  // The apiserver signed its own serving cert into --cert-dir; clients trust exactly that.
  writeFileSync(s.kubeconfig, kubeconfigYaml(s, join(dir, "pki", "apiserver.crt"), s.token));
  writeFileSync(s.operatorKubeconfig, kubeconfigYaml(s, join(dir, "pki", "apiserver.crt"), operatorToken));
  writeFileSync(s.peerKubeconfig, kubeconfigYaml(s, join(dir, "pki", "apiserver.crt"), peerToken));
  launch(s, "kube-controller-manager", [
    `--kubeconfig=${s.kubeconfig}`,
    "--leader-elect=false",
    "--bind-address=127.0.0.1",
    "--secure-port=0",
    `--service-account-private-key-file=${join(dir, "pki", "sa.key")}`,
    `--root-ca-file=${join(dir, "pki", "apiserver.crt")}`,
    "--use-service-account-credentials=false",
    "--controllers=*,-nodeipam",
    // Fake nodes never run kubelets: keep their pods instead of evicting them.
    "--node-monitor-grace-period=1h",
    ...(opts.controllerManagerQps
      ? [`--kube-api-qps=${opts.controllerManagerQps}`, `--kube-api-burst=${2 * opts.controllerManagerQps}`]
      : []),
  ]);
  launch(s, "kube-scheduler", [
    `--kubeconfig=${s.kubeconfig}`,
    "--leader-elect=false",
    "--bind-address=127.0.0.1",
    "--secure-port=0",
  ]);
  const stages = join(dir, "kwok-stages.yaml");
  writeFileSync(stages, stagesWithFaults(readFileSync(join(s.binDir, "kwok-stages.yaml"), "utf8")));
  launch(s, "kwok", [
    `--kubeconfig=${s.kubeconfig}`,
    `--config=${stages}`,
    "--manage-all-nodes=true",
    `--cidr=${s.podCidr}`,
    `--node-ip=${s.nodeIp}`,
  ]);
  await createNodes(s, opts.nodes ?? 2);
  return s;
}

async function createNodes(s: ClusterState, n: number): Promise<void> {
  const nodes = Array.from({ length: n }, (_, i) => ({
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: `kwok-node-${i}`,
      labels: { "kubernetes.io/hostname": `kwok-node-${i}`, type: "kwok" },
      annotations: { "kwok.x-k8s.io/node": "fake" },
    },
  }));
  const file = join(s.dir, "nodes.json");
  writeFileSync(file, JSON.stringify({ apiVersion: "v1", kind: "List", items: nodes }));
  await run(join(s.binDir, "kubectl"), ["--kubeconfig", s.kubeconfig, "apply", "-f", file]);
  await waitFor(
    "nodes to be Ready",
    s,
    "kwok",
    async () => {
      const r = await apiGet(s, "/api/v1/nodes");
      if (r.code !== 200) return false;
      const list = JSON.parse(r.body) as {
        items: { status?: { conditions?: { type: string; status: string }[] } }[];
      };
      const ready = list.items.filter((nd) =>
        nd.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
      );
      return ready.length >= n;
    },
    60_000,
  );
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(" ")}: ${err}`)),
    );
  });
}

export async function stopPid(pid: number | undefined, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (!alive(pid) || !pid) return;
  process.kill(pid, signal);
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
  if (alive(pid)) process.kill(pid, "SIGKILL");
}

/**
 * Records processes started beside a cluster (Argo CD, Redis) in `<dir>/addons/<addon>.json`, so
 * `down` and the e2e teardown stop them by PID even when their starter did not get to.
 */
export function recordAddonPids(dir: string, addon: string, pids: Record<string, number>): void {
  mkdirSync(join(dir, "addons"), { recursive: true });
  writeFileSync(join(dir, "addons", `${addon}.json`), `${JSON.stringify(pids, null, 2)}\n`);
}

/** Stops one addon's recorded processes, last started first, and forgets them. */
export async function stopAddon(dir: string, addon: string): Promise<void> {
  const file = join(dir, "addons", `${addon}.json`);
  if (!existsSync(file)) return;
  const pids = Object.values(JSON.parse(readFileSync(file, "utf8")) as Record<string, number>);
  for (const pid of pids.reverse()) await stopPid(pid);
  rmSync(file, { force: true });
}

/** Kills the apiserver (as a crash would) and starts it again with the same flags. */
export async function restartApiserver(s: ClusterState, downMs = 0): Promise<void> {
  await stopPid(s.pids["kube-apiserver"], "SIGKILL");
  if (downMs > 0) await sleep(downMs);
  launch(s, "kube-apiserver", s.args["kube-apiserver"] ?? apiserverArgs(s));
  await waitFor(
    "the apiserver's /readyz",
    s,
    "kube-apiserver",
    async () => (await apiGet(s, "/readyz")).code === 200,
    90_000,
  );
}

/** Stops every process this cluster started (by PID), frees its slot and, unless kept, its files. */
export async function stopCluster(given: ClusterState, opts: { keepFiles?: boolean } = {}): Promise<void> {
  // state.json on disk has the current PIDs: a restarted apiserver is a new process, and a copy of
  // the state taken at start (the e2e setup's) would miss it and leak it.
  const s = readState(given.dir) ?? given;
  // An operator the demo left running against this cluster (its PID file is written by hack/demo).
  const opPid = join(s.dir, "operator.pid");
  if (existsSync(opPid)) await stopPid(Number(readFileSync(opPid, "utf8")));
  const addons = join(s.dir, "addons");
  if (existsSync(addons)) {
    for (const f of readdirSync(addons)) await stopAddon(s.dir, f.replace(/\.json$/, ""));
  }
  const order: Component[] = ["kwok", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"];
  for (const c of order) await stopPid(s.pids[c]);
  rmSync(join(clustersRoot(), ".slots", String(s.slot)), { force: true });
  if (!opts.keepFiles) rmSync(s.dir, { recursive: true, force: true });
}
