// Where fake pod and node addresses live, and the fail-closed check that nothing can leave the
// machine (DESIGN §4). See hack/cluster/README.md for the picture.
//
// These machines have a default route: an address without a route of its own would leave the
// host. So every address a fake cluster hands out (pod IPs, node IPs, Service IPs) sits inside one
// network namespace that this harness creates, where all of them are local addresses. Fixture
// model servers started inside it answer for the fake pods; anything else is refused there.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseCidrAllowList } from "../../operator/src/prober/cidr.ts";

export const NETNS = "modelship-pods";
const HOST_VETH = "ms-veth0";
const NS_VETH = "ms-veth1";
const HOST_ADDR = "10.239.255.1";
export const NS_ADDR = "10.239.255.2";

/**
 * Pod IPs of cluster slot i are 10.(240+i).0.0/16, slots 0..6; fake node addresses are
 * 10.247.<slot>.1. Kept to a /13 on purpose: this machine's resolver lives in 10.255.0.0/16, and a
 * wider route would send DNS into the namespace (assertNoCollateral refuses that).
 */
export const POD_SUPERNET = "10.240.0.0/13";
export const SERVICE_CIDR = "10.96.0.0/16";
export const MAX_SLOTS = 7;

export function podCidrForSlot(slot: number): string {
  return `10.${240 + slot}.0.0/16`;
}

export function nodeIpForSlot(slot: number): string {
  return `10.247.${slot}.1`;
}

function ip(args: string[], opts: { netns?: string } = {}): string {
  const full = opts.netns ? ["netns", "exec", opts.netns, "ip", ...args] : args;
  return execFileSync("ip", full, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function tryIp(args: string[], opts: { netns?: string } = {}): boolean {
  try {
    ip(args, opts);
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates the namespace, the veth pair and the routes if missing. Idempotent and shared by every
 * local cluster on the machine (they use different pod ranges inside it).
 */
export function ensurePodNetwork(): void {
  assertNoCollateral();
  if (process.getuid?.() !== 0) {
    throw new Error(
      "modelship's local cluster needs root to create its network namespace (ip netns): fake pod IPs " +
        "must not route off this machine. Run as root, or point KUBECONFIG at an existing cluster.",
    );
  }
  if (
    !ip(["netns", "list"])
      .split("\n")
      .some((l) => l.split(" ")[0] === NETNS)
  ) {
    ip(["netns", "add", NETNS]);
  }
  if (!tryIp(["link", "show", HOST_VETH])) {
    ip(["link", "add", HOST_VETH, "type", "veth", "peer", "name", NS_VETH]);
    ip(["link", "set", NS_VETH, "netns", NETNS]);
  }
  if (!ip(["-4", "addr", "show", "dev", HOST_VETH]).includes(`${HOST_ADDR}/30`)) {
    ip(["addr", "add", `${HOST_ADDR}/30`, "dev", HOST_VETH]);
  }
  ip(["link", "set", HOST_VETH, "up"]);
  if (!ip(["-4", "addr", "show", "dev", NS_VETH], { netns: NETNS }).includes(`${NS_ADDR}/30`)) {
    ip(["addr", "add", `${NS_ADDR}/30`, "dev", NS_VETH], { netns: NETNS });
  }
  ip(["link", "set", NS_VETH, "up"], { netns: NETNS });
  ip(["link", "set", "lo", "up"], { netns: NETNS });
  // Inside the namespace every fake address is local ("AnyIP"): a listener on 0.0.0.0 answers
  // all of them, and a dial to one with no listener is refused on the spot. No default route there.
  for (const cidr of [POD_SUPERNET, SERVICE_CIDR]) {
    ip(["route", "replace", "local", cidr, "dev", "lo"], { netns: NETNS });
    ip(["route", "replace", cidr, "via", NS_ADDR, "dev", HOST_VETH]);
  }
  assertContained();
}

/** Removes what ensurePodNetwork made, by name. */
export function removePodNetwork(): void {
  for (const cidr of [POD_SUPERNET, SERVICE_CIDR]) tryIp(["route", "del", cidr, "via", NS_ADDR]);
  tryIp(["link", "del", HOST_VETH]);
  tryIp(["netns", "del", NETNS]);
}

/** What the kernel would do with a packet to `addr`, from `ip route get`. */
export function routeOf(addr: string): { dev: string; via?: string; local: boolean } {
  const out = ip(["route", "get", addr]);
  const dev = /\bdev (\S+)/.exec(out)?.[1] ?? "";
  const via = /\bvia (\S+)/.exec(out)?.[1];
  return { dev, ...(via ? { via } : {}), local: out.trimStart().startsWith("local") };
}

/**
 * Fail closed: a sample pod IP, node IP and Service IP of every slot must go into our namespace
 * (or stay on lo). Throws before anything that could dial them starts.
 */
export function assertContained(samples: string[] = defaultSamples()): void {
  for (const r of resolvers()) {
    if (routeOf(r).dev === HOST_VETH)
      throw new Error(`network safety: resolver ${r} routes into ${NETNS}; refusing to start`);
  }
  for (const addr of samples) {
    const r = routeOf(addr);
    const inNamespace = r.dev === HOST_VETH && r.via === NS_ADDR;
    if (!(inNamespace || r.dev === "lo")) {
      throw new Error(
        `network safety: ${addr} would route via ${r.via ?? "-"} dev ${r.dev}, not into netns ${NETNS}; refusing to start`,
      );
    }
  }
}

function defaultSamples(): string[] {
  return ["10.240.0.7", "10.244.3.7", "10.246.200.1", "10.247.0.1", "10.96.0.1", "10.96.200.9"];
}

export function inCidr(ip: string, cidr: string): boolean {
  return parseCidrAllowList([cidr]).allows(ip);
}

/**
 * Our routes must capture only fake addresses: refuse when a resolver or an address this host
 * already routes somewhere else would fall into them (that would break DNS or real traffic).
 */
export function assertNoCollateral(): void {
  for (const r of resolvers()) {
    for (const cidr of [POD_SUPERNET, SERVICE_CIDR]) {
      if (inCidr(r, cidr)) {
        throw new Error(
          `network safety: this machine's resolver ${r} is inside ${cidr}; refusing to route that range into ${NETNS}`,
        );
      }
    }
  }
}

function resolvers(): string[] {
  let found: string[] = [];
  try {
    found = readFileSync("/etc/resolv.conf", "utf8")
      .split("\n")
      .map((l) => /^nameserver\s+(\d+\.\d+\.\d+\.\d+)/.exec(l.trim())?.[1])
      .filter((x): x is string => x !== undefined);
  } catch {}
  return found;
}
