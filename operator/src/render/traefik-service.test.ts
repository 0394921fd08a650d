// The TraefikServices as the rollout drives them: weighted normally, mirroring during a shadow step.
import { describe, expect, it } from "vitest";
import { parseModelDeployment } from "../api/index.ts";
import { renderChildren } from "./children.ts";
import { renderTraefikServices } from "./traefik-service.ts";

const parsed = parseModelDeployment({
  apiVersion: "modelship.dev/v1alpha1",
  kind: "ModelDeployment",
  metadata: { name: "chat", namespace: "shop", uid: "u-1" },
  spec: {
    model: { name: "chat", version: "v1" },
    runtime: { image: "registry.example/chat:1" },
    rollout: { traffic: { traefik: {} }, steps: [{ shadow: { percent: 10 } }] },
  },
});
if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
const md = parsed.value;
const owner = { name: "chat", namespace: "shop", uid: "u-1" };
const tr = md.spec.rollout.traffic?.traefik;
if (tr === undefined) throw new Error("no traefik");
const port = 8080;

describe("renderTraefikServices", () => {
  it("a weighted <name> over -stable and -canary, and the same split as <name>-weighted", () => {
    const [inner, front] = renderTraefikServices(owner, md.spec, tr, { stable: 75, canary: 25 });
    const weighted = {
      services: [
        { kind: "Service", name: "chat-stable", port, weight: 75 },
        { kind: "Service", name: "chat-canary", port, weight: 25 },
      ],
    };
    expect(inner).toMatchObject({
      apiVersion: "traefik.io/v1alpha1",
      kind: "TraefikService",
      metadata: {
        name: "chat-weighted",
        namespace: "shop",
        ownerReferences: [{ uid: "u-1", controller: true }],
      },
      spec: { weighted },
    });
    expect(front).toMatchObject({ metadata: { name: "chat" }, spec: { weighted } });
    expect(front?.spec).not.toHaveProperty("mirroring");
  });

  it("during a shadow step <name> mirrors percent% to -canary over the weighted split", () => {
    const [inner, front] = renderTraefikServices(owner, md.spec, tr, { stable: 100, canary: 0 }, 10);
    // The canary at 0% is left out of the split (a Service without Ready endpoints would make
    // Traefik refuse the whole TraefikService); it is reached only as the mirror.
    expect(inner?.spec).toEqual({
      weighted: { services: [{ kind: "Service", name: "chat-stable", port, weight: 100 }] },
    });
    expect(front?.spec).toEqual({
      mirroring: {
        kind: "TraefikService",
        name: "chat-weighted",
        mirrors: [{ kind: "Service", name: "chat-canary", port, percent: 10 }],
      },
    });
  });

  it("serviceName names the front TraefikService", () => {
    const objs = renderTraefikServices(owner, md.spec, { serviceName: "front" }, { stable: 100, canary: 0 });
    expect(objs.map((o) => o.metadata.name)).toEqual(["front-weighted", "front"]);
  });

  it("renderChildren: the -stable/-canary Services and both TraefikServices, the weighted one first, no HTTPRoute", () => {
    const { objects } = renderChildren(
      md,
      owner,
      {
        revisions: [],
        traffic: {
          mode: "traefik",
          stableRevision: "a",
          canaryRevision: "b",
          weights: { stable: 100, canary: 0 },
          shadowPercent: 10,
        },
      },
      {},
      new Map(),
    );
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "Service/chat",
      "Service/chat-stable",
      "Service/chat-canary",
      "TraefikService/chat-weighted",
      "TraefikService/chat",
    ]);
  });
});
