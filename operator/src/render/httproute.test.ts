// The HTTPRoute as the rollout drives it: weights, and a header route in force as its own rule.
import { describe, expect, it } from "vitest";
import { type HeaderRoute, parseModelDeployment } from "../api/index.ts";
import { renderHttpRoute } from "./httproute.ts";

const parsed = parseModelDeployment({
  apiVersion: "modelship.dev/v1alpha1",
  kind: "ModelDeployment",
  metadata: { name: "chat", namespace: "shop", uid: "u-1" },
  spec: {
    model: { name: "chat", version: "v1" },
    runtime: { image: "registry.example/chat:1" },
    rollout: { traffic: { gatewayAPI: { parentRefs: [{ name: "gw" }] } } },
  },
});
if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
const md = parsed.value;
const owner = { name: "chat", namespace: "shop", uid: "u-1" };
const gw = md.spec.rollout.traffic?.gatewayAPI;
if (gw === undefined) throw new Error("no gatewayAPI");

type Rule = {
  matches?: { path: unknown; headers: unknown[] }[];
  backendRefs: { name: string; weight: number }[];
};
const rules = (o: object) => (o as { spec: { rules: Rule[] } }).spec.rules;

describe("renderHttpRoute", () => {
  it("one weighted rule over the -stable and -canary Services", () => {
    const r = rules(renderHttpRoute(owner, md.spec, gw, { stable: 80, canary: 20 }));
    expect(r).toHaveLength(1);
    expect(r[0]?.backendRefs.map((b) => [b.name, b.weight])).toEqual([
      ["chat-stable", 80],
      ["chat-canary", 20],
    ]);
  });

  it("a shadow puts the standard RequestMirror filter (percent) on the weighted rule, to the canary Service", () => {
    const route = renderHttpRoute(owner, md.spec, gw, { stable: 100, canary: 0 }, undefined, 15);
    const rule = (route as { spec: { rules: Record<string, unknown>[] } }).spec.rules[0];
    expect(rule?.filters).toEqual([
      {
        type: "RequestMirror",
        requestMirror: {
          backendRef: { group: "", kind: "Service", name: "chat-canary", port: 8080 },
          percent: 15,
        },
      },
    ]);
    const plain = renderHttpRoute(owner, md.spec, gw, { stable: 100, canary: 0 });
    expect((plain as { spec: { rules: Record<string, unknown>[] } }).spec.rules[0]).not.toHaveProperty(
      "filters",
    );
  });

  it("a header route comes first, every match to the canary only, written as the API server defaults it", () => {
    const route: HeaderRoute = {
      matches: [
        { headers: [{ name: "x-canary", value: "always", type: "Exact" }] },
        {
          headers: [
            { name: "x-tenant", value: "^team-a", type: "RegularExpression" },
            { name: "x-beta", value: "1", type: "Exact" },
          ],
        },
      ],
    };
    const r = rules(renderHttpRoute(owner, md.spec, gw, { stable: 100, canary: 0 }, route));
    expect(r).toHaveLength(2);
    expect(r[0]?.matches).toEqual([
      {
        path: { type: "PathPrefix", value: "/" },
        headers: [{ type: "Exact", name: "x-canary", value: "always" }],
      },
      {
        path: { type: "PathPrefix", value: "/" },
        headers: [
          { type: "RegularExpression", name: "x-tenant", value: "^team-a" },
          { type: "Exact", name: "x-beta", value: "1" },
        ],
      },
    ]);
    expect(r[0]?.backendRefs.map((b) => [b.name, b.weight])).toEqual([["chat-canary", 1]]);
    expect(r[1]?.backendRefs.map((b) => [b.name, b.weight])).toEqual([
      ["chat-stable", 100],
      ["chat-canary", 0],
    ]);
  });

  it("no matches, no header rule", () => {
    expect(
      rules(renderHttpRoute(owner, md.spec, gw, { stable: 100, canary: 0 }, { matches: [] })),
    ).toHaveLength(1);
  });
});
