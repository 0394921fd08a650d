// The prober's CIDR allow-list: every target is checked before any dial, so the prober cannot be
// pointed at addresses outside the pod networks (no SSRF).
import { isIPv4, isIPv6 } from "node:net";

/**
 * An allow-list of CIDR blocks (IPv4 and IPv6). The prober checks every target against it before any
 * dial, so a pod IP that someone points at the cloud metadata service or at the node's loopback is
 * refused instead of probed (no SSRF). IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) are judged as
 * the IPv4 address they carry.
 */
export interface CidrAllowList {
  /** The blocks as given, normalised, for messages. */
  readonly blocks: readonly string[];
  /** True when `ip` is an IP literal inside one of the blocks. Host names are never allowed. */
  allows(ip: string): boolean;
}

type Block = { family: 4; base: number; mask: number } | { family: 6; base: bigint; mask: bigint };

const ALL_V6 = (1n << 128n) - 1n;

function ipv4ToInt(ip: string): number {
  const parts = ip.split(".");
  let value = 0;
  for (const part of parts) value = value * 256 + Number(part);
  return value >>> 0;
}

function ipv6ToBigInt(ip: string): bigint {
  let text = ip;
  // Embedded IPv4 tail (::ffff:1.2.3.4): turn it into two hextets.
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    const v4 = ipv4ToInt(tail);
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head = "", rest] = text.split("::");
  const headParts = head === "" ? [] : head.split(":");
  const restParts = rest === undefined || rest === "" ? [] : rest.split(":");
  const missing = 8 - headParts.length - restParts.length;
  const hextets = rest === undefined ? headParts : [...headParts, ...Array(missing).fill("0"), ...restParts];
  let value = 0n;
  for (const h of hextets) value = (value << 16n) | BigInt(Number.parseInt(h, 16));
  return value;
}

/** `::ffff:a.b.c.d` → `a.b.c.d`; other addresses unchanged (brackets stripped). */
export function unmapIp(ip: string): string {
  const bare = ip.startsWith("[") && ip.endsWith("]") ? ip.slice(1, -1) : ip;
  const lower = bare.toLowerCase();
  if (lower.startsWith("::ffff:") && isIPv4(lower.slice(7))) return lower.slice(7);
  return bare;
}

function parseBlock(cidr: string): Block {
  const [addr = "", prefixText] = cidr.trim().split("/");
  if (isIPv4(addr)) {
    const prefix = prefixText === undefined ? 32 : Number(prefixText);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
      throw new Error(`invalid CIDR "${cidr}": IPv4 prefix length must be 0..32`);
    }
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    return { family: 4, base: (ipv4ToInt(addr) & mask) >>> 0, mask };
  }
  if (isIPv6(addr)) {
    const prefix = prefixText === undefined ? 128 : Number(prefixText);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > 128) {
      throw new Error(`invalid CIDR "${cidr}": IPv6 prefix length must be 0..128`);
    }
    const mask = prefix === 0 ? 0n : (ALL_V6 << BigInt(128 - prefix)) & ALL_V6;
    return { family: 6, base: ipv6ToBigInt(addr) & mask, mask };
  }
  throw new Error(`invalid CIDR "${cidr}": not an IPv4 or IPv6 address`);
}

/** Whether an IP literal lies in one of `blocks`; false for anything else (host names). */
function inBlocks(blocks: readonly Block[], ip: string): boolean {
  const bare = unmapIp(ip);
  if (isIPv4(bare)) {
    const v = ipv4ToInt(bare);
    return blocks.some((b) => b.family === 4 && (v & b.mask) >>> 0 === b.base);
  }
  if (isIPv6(bare)) {
    const v = ipv6ToBigInt(bare);
    return blocks.some((b) => b.family === 6 && (v & b.mask) === b.base);
  }
  return false;
}

/**
 * Addresses no pod of a tenant may stand for, refused even when an admin's allow-list covers them:
 * link-local ranges (where the cloud metadata services and the node's own agents answer) and the
 * metadata services that live elsewhere. A pod IP here means someone is aiming the prober.
 */
export const NEVER_PROBED: readonly { cidr: string; what: string }[] = Object.freeze([
  {
    cidr: "169.254.0.0/16",
    what: "an IPv4 link-local address (AWS, GCP, Azure, OCI metadata at 169.254.169.254)",
  },
  { cidr: "fe80::/10", what: "an IPv6 link-local address" },
  { cidr: "100.100.100.200/32", what: "the Alibaba Cloud metadata service" },
  { cidr: "fd00:ec2::254/128", what: "the AWS IPv6 metadata service" },
  { cidr: "168.63.129.16/32", what: "the Azure WireServer" },
]);

const NEVER_PROBED_BLOCKS = NEVER_PROBED.map((n) => ({ ...n, block: parseBlock(n.cidr) }));

/** Why `ip` must never be dialled (link-local, a metadata service); undefined for any other address. */
export function neverProbedReason(ip: string): string | undefined {
  return NEVER_PROBED_BLOCKS.find((n) => inBlocks([n.block], ip))?.what;
}

/**
 * Parses CIDR strings ("10.244.0.0/16", "127.0.0.1", "fd00::/8"); throws with the bad entry named.
 * The list never allows a NEVER_PROBED address, however wide it is.
 */
export function parseCidrAllowList(cidrs: readonly string[]): CidrAllowList {
  const blocks = cidrs.map(parseBlock);
  return {
    blocks: cidrs.map((c) => c.trim()),
    allows(ip: string): boolean {
      return inBlocks(blocks, ip) && neverProbedReason(ip) === undefined;
    },
  };
}
