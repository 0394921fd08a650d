// Traefik beside a local control plane, as the Gateway API implementation that carries real
// requests to the fixture model servers. It runs as a process on the host, pointed at the local
// apiserver, with one entryPoint on a free 127.0.0.1 port; the harness installs a GatewayClass for it
// and a Gateway whose listener has that port. Traefik routes to Service endpoints, i.e. pod IPs: on
// the host those route into the harness network namespace, exactly as the prober's dials do
// (network.ts), so it is checked the same way (fail closed) before Traefik starts.
// Traefik's CRD provider runs beside its Gateway provider, with Traefik's own CRDs (traefik.io) from
// its module source: a ModelDeployment with rollout.traffic.traefik renders TraefikServices, which an
// HTTPRoute on the same Gateway reaches as a backendRef of kind TraefikService (group traefik.io).
import { execFileSync, spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import {
  alive,
  type ClusterState,
  freePort,
  clusterKubectl as kubectl,
  kubectlOf,
  recordAddonPids,
  stopAddon,
  waitForCrdsEstablished,
} from "./control-plane.ts";
import { assertContained } from "./network.ts";

export const GATEWAY_CONTROLLER = "traefik.io/gateway-controller";

export interface GatewayState {
  dir: string;
  /** Where traefik lives (hack/cluster/build-traefik.sh). */
  binDir: string;
  pid: number;
  /** The entryPoint's port on 127.0.0.1, which is also the Gateway listener's port. */
  port: number;
  /** What a ModelDeployment's `traffic.gatewayAPI.parentRefs` (or a test's HTTPRoute) names. */
  gateway: { name: string; namespace: string };
  gatewayClass: string;
  /** http://127.0.0.1:<port>: where clients send requests through the gateway. */
  url: string;
  logFile: string;
}

const ADDON = "gateway";

export function gatewayDir(cluster: ClusterState): string {
  return join(cluster.dir, "gateway");
}

export function readGatewayState(cluster: ClusterState): GatewayState | undefined {
  const file = join(gatewayDir(cluster), "state.json");
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as GatewayState) : undefined;
}

/** The Gateway API CRDs (standard channel) from the build cache; idempotent. */
export function installGatewayApiCrds(cluster: ClusterState): void {
  kubectl(cluster, [
    "apply",
    "--server-side",
    "--force-conflicts",
    "-f",
    join(cluster.binDir, "gateway-api-crds"),
  ]);
  waitForCrdsEstablished(kubectlOf(cluster), [
    "gatewayclasses.gateway.networking.k8s.io",
    "gateways.gateway.networking.k8s.io",
    "httproutes.gateway.networking.k8s.io",
  ]);
}

/** The file of every traefik.io CRD in Traefik's module source, as its docs publish them. */
const TRAEFIK_CRD_PATH = "docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml";

/**
 * Traefik's CRDs: the copy build-traefik.sh puts beside the binary, else the same file from the
 * module cache (`go mod download` resolves it there; the build already fetched the module).
 */
export function traefikCrdFile(binDir: string): string {
  const copied = join(binDir, "traefik-crds.yaml");
  if (existsSync(copied)) return copied;
  const versions = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "versions.env"), "utf8");
  const version = /^TRAEFIK_VERSION=(\S+)$/m.exec(versions)?.[1];
  if (!version) throw new Error("hack/cluster/versions.env names no TRAEFIK_VERSION");
  const out = execFileSync("go", ["mod", "download", "-json", `github.com/traefik/traefik/v3@${version}`], {
    encoding: "utf8",
    env: { ...process.env, GOTOOLCHAIN: "local", GOWORK: "off", GOFLAGS: "-mod=mod" },
    timeout: 300_000,
  });
  const dir = (JSON.parse(out) as { Dir?: string }).Dir;
  const file = dir ? join(dir, TRAEFIK_CRD_PATH) : "";
  if (!existsSync(file)) throw new Error(`Traefik's CRDs not found in its module (${file || out})`);
  return file;
}

/** Traefik's CRDs (traefikservices, ingressroutes, …), which its CRD provider lists at start; idempotent. */
export function installTraefikCrds(cluster: ClusterState, binDir: string): void {
  kubectl(cluster, ["apply", "--server-side", "--force-conflicts", "-f", traefikCrdFile(binDir)]);
  waitForCrdsEstablished(kubectlOf(cluster), [
    "traefikservices.traefik.io",
    "ingressroutes.traefik.io",
    "middlewares.traefik.io",
  ]);
}

function gatewayObjects(s: GatewayState): unknown[] {
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: s.gateway.namespace } },
    {
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "GatewayClass",
      metadata: { name: s.gatewayClass },
      spec: { controllerName: GATEWAY_CONTROLLER },
    },
    {
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "Gateway",
      metadata: { name: s.gateway.name, namespace: s.gateway.namespace },
      spec: {
        gatewayClassName: s.gatewayClass,
        // Traefik serves a listener on the entryPoint with the same port.
        listeners: [
          { name: "http", protocol: "HTTP", port: s.port, allowedRoutes: { namespaces: { from: "All" } } },
        ],
      },
    },
  ];
}

function traefikArgs(s: GatewayState): string[] {
  return [
    `--entryPoints.web.address=127.0.0.1:${s.port}`,
    "--providers.kubernetesgateway=true",
    // Endpoints (pod IPs, contained in the harness namespace), never a Service's ClusterIP.
    "--providers.kubernetesgateway.nativeLBByDefault=false",
    "--providers.kubernetesgateway.statusAddress.ip=127.0.0.1",
    // TraefikServices (weighted, mirroring), reachable from HTTPRoutes as kind TraefikService.
    "--providers.kubernetescrd=true",
    // Weight changes reach the data plane this long after the route changes (default 2 s).
    "--providers.providersThrottleDuration=500ms",
    // Nothing calls home; the dashboard, API, ping and metrics stay off (their defaults).
    "--global.checkNewVersion=false",
    "--global.sendAnonymousUsage=false",
    "--log.level=INFO",
  ];
}

/**
 * The TCP listeners of `pid` as "addr:port": its socket inodes (/proc/<pid>/fd) matched against
 * the LISTEN rows of /proc/net/tcp{,6}. Loopback shows as 127.0.0.1 or ::1; anything else as is.
 */
export function listenersOf(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let link = "";
    try {
      link = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {}
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    if (inode) inodes.add(inode);
  }
  const out: string[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!existsSync(table)) continue;
    for (const row of readFileSync(table, "utf8").split("\n").slice(1)) {
      const f = row.trim().split(/\s+/);
      const [local, state, inode] = [f[1] ?? "", f[3], f[9] ?? ""];
      if (state !== "0A" || !inodes.has(inode)) continue; // 0A: LISTEN
      const [hex = "", portHex = "0"] = local.split(":");
      out.push(`${procAddress(hex)}:${Number.parseInt(portHex, 16)}`);
    }
  }
  return out;
}

/** /proc/net/tcp addresses are hex words in host (little-endian) order. */
function procAddress(hex: string): string {
  if (hex.length === 8) {
    return [6, 4, 2, 0].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)).join(".");
  }
  if (hex === "00000000000000000000000001000000") return "::1";
  return `[${hex}]`;
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: "127.0.0.1", port });
    sock.once("connect", () => {
      sock.destroy();
      resolve(true);
    });
    sock.once("error", () => resolve(false));
  });
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

function gatewayProgrammed(cluster: ClusterState, s: GatewayState): Condition | undefined {
  const gw = JSON.parse(
    kubectl(cluster, ["get", "gateway", s.gateway.name, "-n", s.gateway.namespace, "-o", "json"]),
  ) as { status?: { conditions?: Condition[] } };
  return gw.status?.conditions?.find((c) => c.type === "Programmed");
}

export interface StartGatewayOptions {
  cluster: ClusterState;
  /** From ensureTraefikBinary(). */
  binDir: string;
}

/**
 * Starts Traefik beside `cluster`, installs the Gateway API CRDs, a GatewayClass and a Gateway, and
 * resolves once the Gateway is Programmed and the listener accepts connections.
 */
export async function startGateway(opts: StartGatewayOptions): Promise<GatewayState> {
  const { cluster } = opts;
  // Fail closed: Traefik dials pod IPs of this cluster; they must go into the harness namespace.
  assertContained([cluster.podCidr.replace(/0\.0\/16$/, "3.7"), cluster.nodeIp, "10.96.0.1"]);
  const dir = gatewayDir(cluster);
  const prev = readGatewayState(cluster);
  if (prev && alive(prev.pid)) throw new Error(`Traefik is already running beside ${cluster.name} (${dir})`);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const s: GatewayState = {
    dir,
    binDir: opts.binDir,
    pid: 0,
    port,
    gateway: { name: "modelship", namespace: "modelship-gateway" },
    gatewayClass: "modelship-traefik",
    url: `http://127.0.0.1:${port}`,
    logFile: join(dir, "traefik.log"),
  };

  installGatewayApiCrds(cluster);
  installTraefikCrds(cluster, opts.binDir);
  kubectl(
    cluster,
    ["apply", "--server-side", "--force-conflicts", "--field-manager=modelship-harness", "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "List", items: gatewayObjects(s) }),
  );

  const log = openSync(s.logFile, "a");
  const child = spawn(join(opts.binDir, "traefik"), traefikArgs(s), {
    detached: true,
    stdio: ["ignore", log, log],
    // Only what it needs: the local apiserver's kubeconfig (Traefik reads KUBECONFIG when set).
    env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: cluster.kubeconfig },
    cwd: dir,
  });
  closeSync(log);
  child.unref();
  if (!child.pid) throw new Error("could not start traefik");
  s.pid = child.pid;
  writeFileSync(join(dir, "state.json"), `${JSON.stringify(s, null, 2)}\n`);
  recordAddonPids(cluster.dir, ADDON, { traefik: s.pid });

  const deadline = Date.now() + 90_000;
  let last: Condition | undefined;
  for (;;) {
    if (!alive(s.pid)) {
      const tail = readFileSync(s.logFile, "utf8").split("\n").slice(-20).join("\n");
      throw new Error(`traefik exited while starting; last lines of ${s.logFile}:\n${tail}`);
    }
    last = gatewayProgrammed(cluster, s);
    if (last?.status === "True" && (await tcpOpen(port))) break;
    if (Date.now() > deadline) {
      await stopGateway(cluster);
      throw new Error(
        `Gateway ${s.gateway.namespace}/${s.gateway.name} not Programmed after 90 s ` +
          `(${last ? `${last.reason}: ${last.message}` : "no status"}); see ${s.logFile}`,
      );
    }
    await sleep(250);
  }
  // Whatever Traefik listens on must be loopback only: no dashboard, ping or metrics elsewhere.
  const listeners = listenersOf(s.pid);
  const open = listeners.filter((a) => !a.startsWith("127.0.0.1:") && !a.startsWith("::1:"));
  if (open.length > 0) {
    await stopGateway(cluster);
    throw new Error(`traefik listens beyond loopback (${open.join(", ")}); stopped it`);
  }
  if (!listeners.includes(`127.0.0.1:${port}`)) {
    await stopGateway(cluster);
    throw new Error(`traefik's listeners (${listeners.join(", ")}) do not include 127.0.0.1:${port}`);
  }
  return s;
}

/** Stops what startGateway started, by PID. The Gateway objects go with the cluster. */
export async function stopGateway(cluster: ClusterState): Promise<void> {
  await stopAddon(cluster.dir, ADDON);
}
