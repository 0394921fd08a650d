import { describe, expect, it } from "vitest";
import { inCidr, MAX_SLOTS, nodeIpForSlot, POD_SUPERNET, podCidrForSlot, SERVICE_CIDR } from "./network.ts";

describe("fake address ranges", () => {
  it("puts every slot's pods and nodes inside the routed supernet", () => {
    for (let i = 0; i < MAX_SLOTS; i++) {
      expect(inCidr(podCidrForSlot(i).replace("0.0/16", "3.7"), POD_SUPERNET)).toBe(true);
      expect(inCidr(nodeIpForSlot(i), POD_SUPERNET)).toBe(true);
    }
  });
  it("keeps node addresses out of every pod range", () => {
    for (let i = 0; i < MAX_SLOTS; i++) {
      for (let j = 0; j < MAX_SLOTS; j++) expect(inCidr(nodeIpForSlot(i), podCidrForSlot(j))).toBe(false);
    }
  });
  it("does not capture this workplace's resolver range (10.255/16) or public space", () => {
    expect(inCidr("10.255.255.53", POD_SUPERNET)).toBe(false);
    expect(inCidr("8.8.8.8", POD_SUPERNET)).toBe(false);
    expect(inCidr("10.96.0.1", SERVICE_CIDR)).toBe(true);
    expect(inCidr("10.97.0.1", SERVICE_CIDR)).toBe(false);
  });
});
