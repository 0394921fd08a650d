// Shadow steps and Traefik traffic at the schema: bounds, and refused where nothing can mirror.
import { describe, expect, it } from "vitest";
import { parseModelDeployment } from "./index.ts";

const parse = (rollout: Record<string, unknown>) =>
  parseModelDeployment({
    apiVersion: "modelship.dev/v1alpha1",
    kind: "ModelDeployment",
    metadata: { name: "chat", namespace: "shop" },
    spec: { model: { name: "chat", version: "v1" }, runtime: { image: "registry.example/chat:1" }, rollout },
  });
const messages = (r: ReturnType<typeof parse>) => (r.ok ? [] : r.issues.map((i) => i.message));

describe("shadow steps", () => {
  it("are accepted with Gateway API or Traefik traffic", () => {
    const steps = [{ shadow: { percent: 10, duration: "5m" } }, { setWeight: 20 }];
    expect(parse({ steps, traffic: { traefik: {} } }).ok).toBe(true);
    expect(parse({ steps, traffic: { gatewayAPI: { parentRefs: [{ name: "gw" }] } } }).ok).toBe(true);
  });

  it("are refused in replica-ratio mode, which cannot mirror", () => {
    expect(messages(parse({ steps: [{ shadow: { percent: 10 } }] }))).toContain(
      "shadow steps need spec.rollout.traffic.gatewayAPI or spec.rollout.traffic.traefik (one Service cannot mirror)",
    );
  });

  it("bound percent to 1..100 and the duration to 168h; one action per step", () => {
    const traffic = { traefik: {} };
    expect(parse({ steps: [{ shadow: { percent: 0 } }], traffic }).ok).toBe(false);
    expect(parse({ steps: [{ shadow: { percent: 101 } }], traffic }).ok).toBe(false);
    expect(parse({ steps: [{ shadow: { percent: 1 } }], traffic }).ok).toBe(true);
    expect(
      messages(parse({ steps: [{ shadow: { percent: 5, duration: "169h" } }], traffic })).join(),
    ).toContain("at most 168h");
    expect(messages(parse({ steps: [{ shadow: { percent: 5 }, setWeight: 5 }], traffic }))).toContain(
      "each step must have exactly one of setWeight, pause, analysis, headerRoute, shadow",
    );
  });
});

describe("spec.rollout.traffic.traefik", () => {
  it("is one provider or the other, not both", () => {
    const both = { traefik: {}, gatewayAPI: { parentRefs: [{ name: "gw" }] } };
    expect(messages(parse({ traffic: both }))).toContain("set at most one of gatewayAPI and traefik");
  });

  it("takes a DNS-1123 serviceName with room for the -weighted suffix", () => {
    expect(parse({ traffic: { traefik: { serviceName: "chat-front" } } }).ok).toBe(true);
    expect(parse({ traffic: { traefik: { serviceName: "Chat_Front" } } }).ok).toBe(false);
    expect(parse({ traffic: { traefik: { serviceName: "a".repeat(245) } } }).ok).toBe(false);
  });

  it("does not take header routes (a TraefikService cannot match headers)", () => {
    const steps = [{ headerRoute: { matches: [{ headers: [{ name: "x-canary", value: "1" }] }] } }];
    expect(parse({ steps, traffic: { traefik: {} } }).ok).toBe(false);
  });
});
