// Children against a real API server: one it refuses, and names someone else holds. Every failure
// shows on the resource (ReconcileError, Degraded, a Warning Event) while what runs keeps running;
// a foreign object is never taken over; names people give models get valid children.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeRevision, type RevisionSpec } from "../operator/src/render/revision.ts";
import {
  eventually,
  installGatewayApiCrds,
  kubectl,
  localCluster,
  uniqueNamespace,
} from "./support/cluster.ts";
import {
  applyMd,
  condition,
  core,
  createNamespace,
  getMd,
  installCrd,
  type Md,
  mdSpec,
  readyPodsOf,
  waitForPhase,
} from "./support/mdep.ts";
import { type RunningOperator, startOperator } from "./support/operator.ts";

const ns = uniqueNamespace("children");
let operator: RunningOperator;

beforeAll(async () => {
  await installCrd();
  await createNamespace(ns);
  // The HTTPRoute case needs the Gateway API; the operator discovers it at start.
  if (localCluster()) await installGatewayApiCrds();
  // A short resync: a foreign object is not in the operator's caches, so only a resync (or the
  // NameConflict recheck) sees it go.
  operator = await startOperator({ name: "children", args: ["--resync-seconds=5"] });
});

afterAll(async () => {
  await operator?.stop();
  await core.deleteNamespace({ name: ns }).catch(() => {});
});

const v = (version: string, extra: Record<string, unknown> = {}) =>
  mdSpec({ model: { name: "recommender", version }, replicas: 2, ...extra });

async function reconcileError(name: string, reason: string): Promise<Md> {
  return eventually(`${name}: ReconcileError ${reason}`, async () => {
    const md = await getMd(ns, name);
    const c = condition(md, "ReconcileError");
    return c?.status === "True" && c.reason === reason && md.status?.phase === "Degraded" ? md : undefined;
  });
}

async function warnings(name: string): Promise<string> {
  return kubectl([
    "get",
    "events",
    "-n",
    ns,
    "--field-selector",
    `involvedObject.name=${name},type=Warning`,
    "-o",
    "json",
  ]);
}

describe("a child the API server refuses", () => {
  it("requests above limits: ReconcileError in the server's words, the old revision serving, cleared by a fix", async () => {
    await applyMd(ns, "limits", v("v1"));
    const v1 = await waitForPhase(ns, "limits", "Healthy");
    await applyMd(
      ns,
      "limits",
      v("v2", {
        runtime: {
          image: "registry.invalid/recsys:1",
          resources: { requests: { cpu: "2" }, limits: { cpu: "1" } },
        },
      }),
    );
    const md = await reconcileError("limits", "ChildRejected");
    expect(condition(md, "ReconcileError")?.message).toMatch(
      /Deployment .* rejected by the API server: .*must be less than or equal to cpu limit/,
    );
    expect(condition(md, "Degraded")?.status).toBe("True");
    expect(md.status?.observedGeneration).toBe(md.metadata.generation);
    expect(md.status?.stableRevision).toBe(v1.status?.stableRevision);
    expect(await readyPodsOf(ns, "limits")).toBe(2);
    expect(await warnings("limits")).toMatch(/ChildRejected/);

    await applyMd(ns, "limits", v("v3"));
    const fixed = await waitForPhase(ns, "limits", "Healthy");
    expect(condition(fixed, "ReconcileError")).toBeUndefined();
  });

  it("an invalid toleration: ReconcileError, nothing else touched", async () => {
    await applyMd(ns, "tolerate", v("v1"));
    await waitForPhase(ns, "tolerate", "Healthy");
    await applyMd(
      ns,
      "tolerate",
      v("v2", { template: { tolerations: [{ key: "gpu", operator: "Exists", value: "a100" }] } }),
    );
    const md = await reconcileError("tolerate", "ChildRejected");
    expect(condition(md, "ReconcileError")?.message).toMatch(/toleration|operator/i);
    expect(await readyPodsOf(ns, "tolerate")).toBe(2);
  });
});

describe("a name someone else holds", () => {
  const foreignLabels = { team: "someone-else" };

  it("a Service: NameConflict, the foreign Service untouched; once it is gone, ours is made", async () => {
    await kubectl(["create", "service", "clusterip", "taken", "--tcp=80:8080", "-n", ns]);
    const before = JSON.parse(await kubectl(["get", "service", "taken", "-n", ns, "-o", "json"]));
    await applyMd(ns, "taken", v("v1"));
    const md = await reconcileError("taken", "NameConflict");
    expect(condition(md, "ReconcileError")?.message).toMatch(
      /Service taken already exists and is not controlled/,
    );
    const after = JSON.parse(await kubectl(["get", "service", "taken", "-n", ns, "-o", "json"]));
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(after.metadata.ownerReferences).toBeUndefined();
    expect(await warnings("taken")).toMatch(/NameConflict/);

    await kubectl(["delete", "service", "taken", "-n", ns]);
    const healthy = await waitForPhase(ns, "taken", "Healthy");
    expect(condition(healthy, "ReconcileError")).toBeUndefined();
  });

  it("an HPA: NameConflict, the foreign HPA untouched", async () => {
    const hpa = {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "scaled", namespace: ns, labels: foreignLabels },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "other" },
        minReplicas: 1,
        maxReplicas: 3,
      },
    };
    await kubectl(["apply", "-f", "-"], JSON.stringify(hpa));
    await applyMd(
      ns,
      "scaled",
      mdSpec({
        model: { name: "recommender", version: "v1" },
        replicas: undefined,
        autoscaling: { minReplicas: 1, maxReplicas: 4 },
      }),
    );
    await reconcileError("scaled", "NameConflict");
    const after = JSON.parse(await kubectl(["get", "hpa", "scaled", "-n", ns, "-o", "json"]));
    expect(after.spec.scaleTargetRef.name).toBe("other");
    expect(after.metadata.ownerReferences).toBeUndefined();
  });

  // Skipped off the local harness: the Gateway API CRDs come from its build cache.
  it.skipIf(!localCluster())(
    "an HTTPRoute (spec.rollout.traffic.gatewayAPI.routeName): NameConflict, the foreign route untouched",
    async () => {
      const route = {
        apiVersion: "gateway.networking.k8s.io/v1",
        kind: "HTTPRoute",
        metadata: { name: "shared-route", namespace: ns, labels: foreignLabels },
        spec: { parentRefs: [{ name: "gw" }], rules: [{ backendRefs: [{ name: "other", port: 80 }] }] },
      };
      await kubectl(["apply", "-f", "-"], JSON.stringify(route));
      const gw = { gatewayAPI: { parentRefs: [{ name: "gw" }], routeName: "shared-route" } };
      await applyMd(ns, "routed", v("v1", { rollout: { traffic: gw } }));
      await reconcileError("routed", "NameConflict");
      const after = JSON.parse(await kubectl(["get", "httproute", "shared-route", "-n", ns, "-o", "json"]));
      expect(after.spec.rules[0].backendRefs).toEqual([
        { group: "", kind: "Service", name: "other", port: 80, weight: 1 },
      ]);
      expect(after.metadata.ownerReferences).toBeUndefined();
    },
  );
});

describe("status is not a way in", () => {
  it("a revision planted in status by another identity runs nothing: reported, ignored, dropped", async () => {
    await applyMd(ns, "planted", v("v1"));
    await waitForPhase(ns, "planted", "Healthy");
    const planted = {
      model: { name: "recommender", version: "v1" },
      runtime: { image: "registry.invalid/miner:1" },
      template: { serviceAccountName: "default" },
    };
    const rev = computeRevision(planted as unknown as RevisionSpec);
    // kubectl here is the cluster admin, not the operator: someone who may write status, not spec.
    await kubectl([
      "patch",
      "mdep",
      "planted",
      "-n",
      ns,
      "--subresource=status",
      "--type=merge",
      "-p",
      JSON.stringify({ status: { canaryRevision: rev, revisionSpecs: { [rev]: planted } } }),
    ]);
    await eventually("UntrustedStatus reported", async () =>
      /UntrustedStatus/.test(await warnings("planted")),
    );
    await eventually("the planted snapshot is dropped from status", async () => {
      const md = JSON.parse(await kubectl(["get", "mdep", "planted", "-n", ns, "-o", "json"]));
      return md.status.revisionSpecs?.[rev] === undefined;
    });
    const pods = JSON.parse(
      await kubectl([
        "get",
        "deployments,pods",
        "-n",
        ns,
        "-l",
        `modelship.dev/revision=${rev}`,
        "-o",
        "json",
      ]),
    );
    expect(pods.items).toEqual([]);
  });
});

describe("names people give models", () => {
  it("dots, a leading digit and a long shared prefix: valid, distinct children, Healthy", async () => {
    const long = `qwen2-5-72b-instruct-${"x".repeat(50)}`;
    const names = ["llama-3.1-8b", "llama-3-1-8b", "3b-chat", `${long}-a`, `${long}-b`];
    for (const name of names) await applyMd(ns, name, v("v1"));
    const services = new Set<string>();
    for (const name of names) {
      await waitForPhase(ns, name, "Healthy");
      expect(await readyPodsOf(ns, name)).toBe(2);
    }
    const list = JSON.parse(await kubectl(["get", "services", "-n", ns, "-o", "json"])) as {
      items: { metadata: { name: string; ownerReferences?: { name: string }[] } }[];
    };
    for (const s of list.items) {
      const owner = s.metadata.ownerReferences?.[0]?.name;
      if (owner && names.includes(owner)) services.add(s.metadata.name);
    }
    expect(services.size).toBe(names.length);
  });
});
