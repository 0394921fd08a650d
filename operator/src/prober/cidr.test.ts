import { describe, expect, it } from "vitest";
import { NEVER_PROBED, neverProbedReason, parseCidrAllowList } from "./cidr.ts";

describe("parseCidrAllowList", () => {
  const list = parseCidrAllowList(["10.244.0.0/16", "127.0.0.0/8", "192.168.1.7", "fd00:10::/32"]);

  it.each([
    ["an address inside a /16", "10.244.3.7", true],
    ["the first address of a /16", "10.244.0.0", true],
    ["just outside the /16", "10.245.0.1", false],
    ["loopback inside 127/8", "127.0.0.3", true],
    ["a /32 given without prefix", "192.168.1.7", true],
    ["the neighbour of a /32", "192.168.1.8", false],
    ["the cloud metadata address", "169.254.169.254", false],
    ["an IPv4-mapped IPv6 address of an allowed IPv4", "::ffff:10.244.1.1", true],
    ["an IPv4-mapped IPv6 address of a refused IPv4", "::ffff:169.254.169.254", false],
    ["an IPv6 address inside the ULA block", "fd00:10::1", true],
    ["an IPv6 address outside it", "fd00:11::1", false],
    ["IPv6 loopback (not listed)", "::1", false],
    ["a host name is never allowed", "localhost", false],
    ["a URL is never allowed", "http://10.244.0.1/", false],
  ])("%s: %s → %s", (_name, ip, allowed) => {
    expect(list.allows(ip)).toBe(allowed);
  });

  it("allows everything IPv4 with 0.0.0.0/0 but no IPv6", () => {
    const all = parseCidrAllowList(["0.0.0.0/0"]);
    expect(all.allows("8.8.8.8")).toBe(true);
    expect(all.allows("2001:db8::1")).toBe(false);
  });

  describe("never probed, however wide the list an admin gives", () => {
    const widest = parseCidrAllowList(["0.0.0.0/0", "::/0", "169.254.0.0/16", "fe80::/10"]);
    it.each([
      ["the cloud metadata address", "169.254.169.254"],
      ["any IPv4 link-local address", "169.254.0.1"],
      ["the top of IPv4 link-local", "169.254.255.255"],
      ["an IPv4-mapped form of the metadata address", "::ffff:169.254.169.254"],
      ["an IPv6 link-local address", "fe80::1"],
      ["the top of fe80::/10", "febf:ffff::1"],
      ["Alibaba Cloud metadata", "100.100.100.200"],
      ["the AWS IPv6 metadata address", "fd00:ec2::254"],
      ["the AWS IPv6 metadata address, spelled out", "fd00:0ec2:0000:0000:0000:0000:0000:0254"],
      ["the Azure WireServer", "168.63.129.16"],
    ])("%s (%s)", (_name, ip) => {
      expect(widest.allows(ip)).toBe(false);
      expect(neverProbedReason(ip)).toBeDefined();
    });

    it.each([
      ["the neighbour below link-local", "169.253.255.255"],
      ["the neighbour above link-local", "169.255.0.0"],
      ["an address just outside fe80::/10", "fec0::1"],
      ["Alibaba's neighbour", "100.100.100.201"],
      ["the AWS IPv6 metadata's neighbour", "fd00:ec2::253"],
      ["a pod IP", "10.244.3.7"],
    ])("but not %s (%s)", (_name, ip) => {
      expect(neverProbedReason(ip)).toBeUndefined();
      expect(widest.allows(ip)).toBe(true);
    });

    it("names each refused block once", () => {
      expect(new Set(NEVER_PROBED.map((n) => n.cidr)).size).toBe(NEVER_PROBED.length);
    });
  });

  it("refuses nothing-allowed lists for every address", () => {
    expect(parseCidrAllowList([]).allows("127.0.0.1")).toBe(false);
  });

  it.each([["10.0.0.0/33"], ["10.0.0/8"], ["fd00::/129"], ["pods"]])(
    "rejects %s with the bad entry named",
    (bad) => {
      expect(() => parseCidrAllowList([bad])).toThrow(bad);
    },
  );
});
