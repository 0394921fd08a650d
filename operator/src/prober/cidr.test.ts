import { describe, expect, it } from "vitest";
import { parseCidrAllowList } from "./cidr.ts";

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
