// The reconcile script over in-memory caches and a recording client: what it writes, in what order,
// and what it leaves alone. The real API server is in e2e/; this pins the floor's own logic.
import pino from "pino";
import { describe, expect, it } from "vitest";
import { API_VERSION, KIND, parseModelDeployment } from "../api/index.ts";
import { type ApiClient, makeApiError } from "../kube/api-client.ts";
import { renderDeployment } from "../render/deployment.ts";
import { RENDER_FEATURES_ANNOTATION } from "../render/features.ts";
import { LABEL_REVISION } from "../render/labels.ts";
import { computeRevision, type RevisionSpec } from "../render/revision.ts";
import type { ApplyObject } from "../render/types.ts";
import type { RolloutEvent } from "../rollout/types.ts";
import { withAppliedHash } from "./drift.ts";
import { Reconciler } from "./reconciler.ts";
import type { Cache, Owned } from "./snapshot.ts";
import { TerminalError } from "./workers.ts";

/** Any object: fakes hold what the code under test reads, nothing more. */
type Obj = {
  kind?: string;
  metadata?: Record<string, unknown> & { name?: string; namespace?: string };
} & Record<string, unknown>;

class MemCache<T extends Obj> implements Cache<T> {
  readonly items = new Map<string, T>();
  get(name: string, namespace = ""): T | undefined {
    return this.items.get(`${namespace}/${name}`);
  }
  list(namespace?: string): T[] {
    return [...this.items.values()].filter(
      (o) => namespace === undefined || o.metadata?.namespace === namespace,
    );
  }
  byController(uid: string): T[] {
    return [...this.items.values()].filter((o) =>
      (o.metadata as Owned["metadata"])?.ownerReferences?.some((r) => r.controller && r.uid === uid),
    );
  }
  put(o: T): void {
    this.items.set(`${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`, o);
  }
}

function world(
  spec: Record<string, unknown> = {},
  serviceAccountLabels?: Record<string, string>,
  opts: { maxRequeueMs?: number; podsBecomeReady?: boolean; traefik?: boolean } = {},
) {
  const mds = new MemCache<Obj>();
  const caches = {
    Deployment: new MemCache<Obj>(),
    Service: new MemCache<Obj>(),
    HorizontalPodAutoscaler: new MemCache<Obj>(),
    PodDisruptionBudget: new MemCache<Obj>(),
    HTTPRoute: new MemCache<Obj>(),
    TraefikService: new MemCache<Obj>(),
  };
  const pods = new MemCache<Obj>();
  /** Objects without our labels: invisible to the caches, as informers filter by label. */
  const foreignObjects = new Map<string, Obj>();
  /** Children the fake API server refuses (422). */
  const refuse = new Set<string>();
  const failures: [string, string][] = [];
  const writes: string[] = [];
  const events: { reason: string; type: string }[] = [];
  const forgotten: string[] = [];
  const transitions: RolloutEvent[] = [];
  let rv = 1;
  mds.put({
    metadata: { name: "rec", namespace: "shop", uid: "u-1", generation: 1, resourceVersion: String(rv) },
    spec: { model: { name: "rec", version: "v1" }, runtime: { image: "registry.example/rec:1" }, ...spec },
  });
  const client = {
    async apply(obj: ApplyObject) {
      if (refuse.has(`${obj.kind}/${obj.metadata.name}`)) {
        throw makeApiError(422, {
          message: `${obj.kind} "${obj.metadata.name}" is invalid: spec.ports[0].port: Invalid value`,
        });
      }
      writes.push(`apply ${obj.kind}/${obj.metadata.name}`);
      const replicas = (obj.spec as { replicas?: number } | undefined)?.replicas ?? 0;
      // What the Deployment controller and kubelet would report, when the test wants pods to come up.
      const status =
        opts.podsBecomeReady && obj.kind === "Deployment"
          ? {
              status: {
                observedGeneration: 1,
                replicas,
                readyReplicas: replicas,
                availableReplicas: replicas,
                updatedReplicas: replicas,
              },
            }
          : {};
      caches[obj.kind as keyof typeof caches].put({
        ...(obj as unknown as Obj),
        metadata: { ...obj.metadata, generation: 1 },
        ...status,
      });
      return obj;
    },
    async delete(ref: { kind: string; name: string; namespace: string }) {
      writes.push(`delete ${ref.kind}/${ref.name}`);
      caches[ref.kind as keyof typeof caches].items.delete(`${ref.namespace}/${ref.name}`);
    },
    async applyStatus(
      ref: { namespace: string; name: string },
      status: unknown,
      o: { resourceVersion?: string },
    ) {
      // The API server's precondition: the object must still be at the version the status was decided from.
      if (o.resourceVersion !== String(rv)) {
        writes.push("status refused");
        throw makeApiError(409, { message: "the object has been modified" });
      }
      writes.push("status");
      const md = mds.get(ref.name, ref.namespace) as Obj;
      rv++;
      mds.put({ ...md, status, metadata: { ...md.metadata, resourceVersion: String(rv) } });
      return { metadata: { resourceVersion: String(rv) } };
    },
    async read(ref: { kind: string; name: string; namespace: string }) {
      if (ref.kind === "ServiceAccount" && serviceAccountLabels)
        return { metadata: { labels: serviceAccountLabels } };
      throw makeApiError(404, { message: "not found" });
    },
    async readBeforeWrite(ref: { kind: string; name: string; namespace: string }) {
      const foreign = foreignObjects.get(`${ref.kind}/${ref.name}`);
      if (foreign) return foreign;
      throw makeApiError(404, { message: "not found" });
    },
  };
  const reconciler = new Reconciler({
    modelDeployments: mds,
    deployments: caches.Deployment,
    services: caches.Service,
    hpas: caches.HorizontalPodAutoscaler,
    pdbs: caches.PodDisruptionBudget,
    httpRoutes: caches.HTTPRoute,
    ...(opts.traefik ? { traefikServices: caches.TraefikService, traefikAvailable: () => true } : {}),
    replicaSets: new MemCache<Obj>(),
    pods,
    client: client as unknown as ApiClient,
    events: {
      record: (_t, e) => events.push({ reason: e.reason, type: e.type }),
      forget: (namespace, name) => forgotten.push(`${namespace}/${name}`),
    },
    log: pino({ level: "silent" }),
    now: () => Date.parse("2026-12-01T10:00:00.000Z"),
    gatewayApiAvailable: () => false,
    onRolloutEvent: (e) => transitions.push(e),
    onChildFailure: (kind, reason) => failures.push([kind, reason]),
    ...(opts.maxRequeueMs ? { maxRequeueMs: opts.maxRequeueMs } : {}),
  });
  const status = () => mds.get("rec", "shop")?.status as Record<string, unknown> | undefined;
  const setSpec = (over: Record<string, unknown>) => {
    const md = mds.get("rec", "shop") as Obj & { spec: Record<string, unknown> };
    const generation = Number(md.metadata?.generation ?? 1) + 1;
    mds.put({ ...md, spec: { ...md.spec, ...over }, metadata: { ...md.metadata, generation } });
  };
  /** Someone else writes the ModelDeployment; the cache shows it only after catchUp(). */
  const writtenElsewhere = () => {
    rv++;
  };
  const catchUp = () => {
    const md = mds.get("rec", "shop") as Obj;
    mds.put({ ...md, metadata: { ...md.metadata, resourceVersion: String(rv) } });
  };
  return {
    reconciler,
    writtenElsewhere,
    catchUp,
    writes,
    events,
    forgotten,
    transitions,
    status,
    caches,
    mds,
    foreignObjects,
    refuse,
    failures,
    setSpec,
  };
}

describe("Reconciler", () => {
  it("creates the children of a new ModelDeployment, Deployment first, and writes status once", async () => {
    const w = world();
    expect(await w.reconciler.reconcile("shop/rec")).toEqual(expect.any(Object));
    expect(w.writes[0]).toMatch(/^apply Deployment\/rec-[0-9a-f]{10}$/);
    expect(w.writes.slice(1)).toEqual(["apply Service/rec", "status"]);
    expect(w.status()).toMatchObject({ phase: "Progressing", observedGeneration: 1 });
    expect(w.transitions.map((e) => e.reason)).toEqual(["FirstDeployment"]);
  });

  it("writes nothing when nothing changed", async () => {
    const w = world();
    await w.reconciler.reconcile("shop/rec");
    w.writes.length = 0;
    await w.reconciler.reconcile("shop/rec");
    expect(w.writes).toEqual([]);
  });

  it("a status write refused with 409 Conflict records nothing, sends no event, and decides again only from a newer read", async () => {
    const w = world();
    // The prober (or a person) writes the object between the cache's read and our status write.
    w.writtenElsewhere();
    expect(await w.reconciler.reconcile("shop/rec")).toEqual({ requeue: true });
    expect(w.writes.at(-1)).toBe("status refused");
    expect(w.status()).toBeUndefined();
    expect(w.transitions).toEqual([]);
    expect(w.events).toEqual([]);
    // The cache still shows the refused version: no decision from it, no write at all.
    w.writes.length = 0;
    expect(await w.reconciler.reconcile("shop/rec")).toEqual({ requeue: true });
    expect(w.writes).toEqual([]);
    // Once the cache shows the newer version, the decision is made again and recorded once.
    w.catchUp();
    await w.reconciler.reconcile("shop/rec");
    expect(w.writes).toEqual(["status"]);
    expect(w.status()).toMatchObject({ phase: "Progressing", observedGeneration: 1 });
    expect(w.transitions.map((e) => e.reason)).toEqual(["FirstDeployment"]);
  });

  it("blocks on an invalid spec: says why on status and as a Warning, touches no child, does not retry", async () => {
    const w = world({ replicas: -1 });
    await expect(w.reconciler.reconcile("shop/rec")).rejects.toBeInstanceOf(TerminalError);
    expect(w.writes).toEqual(["status"]);
    expect(w.status()).toMatchObject({ phase: "Degraded" });
    expect(w.events).toEqual([{ type: "Warning", reason: "InvalidSpec" }]);
  });

  it("blocks on a ServiceAccount not labelled for model runtimes, and looks again later", async () => {
    const w = world({ template: { serviceAccountName: "runner" } }, { team: "x" });
    const r = await w.reconciler.reconcile("shop/rec");
    expect(r.requeueAfterMs).toBeGreaterThan(0);
    expect(w.writes).toEqual(["status"]);
    expect(w.events).toEqual([{ type: "Warning", reason: "ServiceAccountNotAllowed" }]);
  });

  it("blocks on traefik traffic when Traefik's CRDs are not installed: a condition and a Warning, no child touched", async () => {
    const w = world({ rollout: { traffic: { traefik: {} } } });
    const r = await w.reconciler.reconcile("shop/rec");
    expect(r.requeueAfterMs).toBe(60_000);
    expect(w.writes).toEqual(["status"]);
    expect(w.events).toEqual([{ type: "Warning", reason: "TraefikUnavailable" }]);
    expect(w.status()).toMatchObject({ phase: "Degraded" });
    expect(JSON.stringify(w.status())).toContain("traefik.io/v1alpha1 TraefikService");
  });

  it("traefik traffic: applies the two TraefikServices, and prunes them when the mode changes", async () => {
    const w = world({ rollout: { traffic: { traefik: {} } } }, undefined, { traefik: true });
    await w.reconciler.reconcile("shop/rec");
    expect(w.writes).toContain("apply TraefikService/rec-weighted");
    expect(w.writes).toContain("apply TraefikService/rec");
    expect(w.writes.indexOf("apply TraefikService/rec-weighted")).toBeLessThan(
      w.writes.indexOf("apply TraefikService/rec"),
    );
    expect([...w.caches.TraefikService.items.keys()].sort()).toEqual(["shop/rec", "shop/rec-weighted"]);
    w.setSpec({ rollout: {} });
    await w.reconciler.reconcile("shop/rec");
    expect(w.writes).toContain("delete TraefikService/rec");
    expect(w.writes).toContain("delete TraefikService/rec-weighted");
    expect(w.caches.TraefikService.items.size).toBe(0);
  });

  it("blocks on gatewayAPI traffic when the Gateway API is not installed", async () => {
    const w = world({ rollout: { traffic: { gatewayAPI: { parentRefs: [{ name: "gw" }] } } } });
    const r = await w.reconciler.reconcile("shop/rec");
    expect(r.requeueAfterMs).toBe(60_000);
    expect(w.events).toEqual([{ type: "Warning", reason: "GatewayAPIUnavailable" }]);
  });

  it("prunes a child it owns and no longer wants, and leaves others' objects alone", async () => {
    const w = world();
    await w.reconciler.reconcile("shop/rec");
    const owned = { controller: true, uid: "u-1" };
    w.caches.HorizontalPodAutoscaler.put({
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "rec", namespace: "shop", ownerReferences: [owned] },
    });
    w.caches.Service.put({
      kind: "Service",
      metadata: {
        name: "someone-elses",
        namespace: "shop",
        ownerReferences: [{ controller: true, uid: "u-2" }],
      },
    });
    // In another namespace, naming our uid as its controller: anyone there may write any uid.
    w.caches.PodDisruptionBudget.put({
      kind: "PodDisruptionBudget",
      metadata: { name: "claims-us", namespace: "elsewhere", ownerReferences: [owned] },
    });
    w.writes.length = 0;
    await w.reconciler.reconcile("shop/rec");
    expect(w.writes).toEqual(["delete HorizontalPodAutoscaler/rec"]);
  });

  it("lets go of a ModelDeployment being deleted: nothing is written", async () => {
    const w = world();
    const md = w.mds.get("rec", "shop") as Obj;
    w.mds.put({ ...md, metadata: { ...md.metadata, deletionTimestamp: "2026-12-01T09:00:00Z" } });
    expect(await w.reconciler.reconcile("shop/rec")).toEqual({ gone: true });
    expect(w.writes).toEqual([]);
  });

  it("a deleted ModelDeployment's reconcile drops its event history and tells the queue it is gone", async () => {
    const w = world();
    await w.reconciler.reconcile("shop/rec");
    expect(w.events.length).toBeGreaterThan(0);
    w.mds.items.delete("shop/rec");
    expect(await w.reconciler.reconcile("shop/rec")).toEqual({ gone: true });
    expect(w.forgotten).toEqual(["shop/rec"]);
  });

  it("never takes over a same-named object it does not control: NameConflict, foreign object untouched", async () => {
    const w = world();
    w.foreignObjects.set("Service/rec", { kind: "Service", metadata: { name: "rec", namespace: "shop" } });
    const r = await w.reconciler.reconcile("shop/rec");
    expect(r.requeueAfterMs).toBeGreaterThan(0);
    expect(w.writes.filter((x) => x.includes("Service"))).toEqual([]);
    expect(w.events).toEqual([{ type: "Warning", reason: "NameConflict" }]);
    const conditions = w.status()?.conditions as { type: string; status: string; reason: string }[];
    expect(conditions.find((c) => c.type === "ReconcileError")).toMatchObject({
      status: "True",
      reason: "NameConflict",
    });
    expect(w.status()?.phase).toBe("Degraded");

    // The foreign Service goes away: the next pass creates ours and clears the condition.
    w.foreignObjects.clear();
    await w.reconciler.reconcile("shop/rec");
    expect(w.writes).toContain("apply Service/rec");
    const after = w.status()?.conditions as { type: string }[];
    expect(after.map((c) => c.type)).not.toContain("ReconcileError");
  });

  it("a child the API server refuses: ReconcileError with its words, no hot retry, nothing recorded as done", async () => {
    const w = world();
    w.refuse.add("Service/rec");
    const r = await w.reconciler.reconcile("shop/rec");
    expect(r).toEqual({});
    const conditions = w.status()?.conditions as {
      type: string;
      status: string;
      reason: string;
      message: string;
    }[];
    expect(conditions.find((c) => c.type === "ReconcileError")).toMatchObject({
      status: "True",
      reason: "ChildRejected",
      message: expect.stringContaining("spec.ports[0].port: Invalid value"),
    });
    // The decision was not recorded: the rollout has no stable revision yet.
    expect(w.status()?.stableRevision).toBeUndefined();
    expect(w.failures).toEqual([["Service", "ChildRejected"]]);
  });

  it("a week-long timed pause asks to look again within the resync period, never a week later", async () => {
    const steps = [{ setWeight: 50 }, { pause: { duration: "168h" } }];
    const w = world({ replicas: 2, rollout: { steps } }, undefined, {
      maxRequeueMs: 60_000,
      podsBecomeReady: true,
    });
    for (let i = 0; i < 3; i++) await w.reconciler.reconcile("shop/rec");
    expect(w.status()?.stableRevision).toBeDefined();
    w.setSpec({ model: { name: "rec", version: "v2" } });
    let r = {} as { requeueAfterMs?: number };
    for (let i = 0; i < 4; i++) r = await w.reconciler.reconcile("shop/rec");
    expect(w.status()).toMatchObject({ currentStepIndex: 1, canaryWeight: 50 });
    expect(r.requeueAfterMs).toBe(60_000);
  });

  it("never makes pods from status alone: a snapshot of a revision with no Deployment is reported and ignored", async () => {
    const w = world();
    await w.reconciler.reconcile("shop/rec");
    // Someone with rights on the status only plants a revision that runs another image as another identity.
    const planted = {
      model: { name: "rec", version: "v1" },
      runtime: { image: "registry.example/miner:1" },
      template: { serviceAccountName: "cluster-admin-ish" },
    };
    const rev = computeRevision(planted as unknown as RevisionSpec);
    const md = w.mds.get("rec", "shop") as Obj & { status: Record<string, unknown> };
    w.mds.put({
      ...md,
      status: {
        ...md.status,
        canaryRevision: rev,
        revisionSpecs: { ...(md.status.revisionSpecs as object), [rev]: planted },
      },
    });
    w.writes.length = 0;
    await w.reconciler.reconcile("shop/rec");
    expect(w.writes.filter((x) => x.startsWith("apply Deployment"))).toEqual([]);
    expect(w.events).toContainEqual({ type: "Warning", reason: "UntrustedStatus" });
    expect(Object.keys((w.status()?.revisionSpecs ?? {}) as object)).not.toContain(rev);
  });

  it("an operator upgrade leaves an s3:// revision made before model artifacts alone; a new revision downloads", async () => {
    const w = world(
      {
        model: { name: "rec", version: "v1", uri: "s3://models/rec/v1" },
        runtime: { preset: "triton", image: "registry.example/triton:1" },
        rollout: { steps: [{ setWeight: 50 }, { pause: {} }] },
      },
      undefined,
      { podsBecomeReady: true },
    );
    await w.reconciler.reconcile("shop/rec");
    // The Deployment as the operator before model artifacts made it: MODEL_URI only.
    const made = w.caches.Deployment.list("shop")[0] as Obj & { spec: { replicas: number } };
    const revision = String((made.metadata?.labels as Record<string, string> | undefined)?.[LABEL_REVISION]);
    const md = parseModelDeployment({ apiVersion: API_VERSION, kind: KIND, ...w.mds.get("rec", "shop") });
    if (!md.ok) throw new Error("spec does not parse");
    const before = withAppliedHash(
      renderDeployment({
        owner: { name: "rec", namespace: "shop", uid: "u-1" },
        spec: md.value.spec,
        revision,
        replicas: made.spec.replicas,
        madeWith: { features: new Set(["pod-security-restricted"]) },
      }),
    );
    w.caches.Deployment.put({
      ...(before as unknown as Obj),
      metadata: { ...before.metadata, generation: 1 },
      status: made.status,
    });
    const podTemplate = (o: Obj | undefined) =>
      JSON.stringify((o?.spec as { template?: unknown } | undefined)?.template);
    const legacyTemplate = podTemplate(w.caches.Deployment.get(made.metadata?.name ?? "", "shop"));
    expect(legacyTemplate).not.toContain("initContainers");
    expect(legacyTemplate).not.toContain("/mnt/models");

    w.writes.length = 0;
    await w.reconciler.reconcile("shop/rec");
    await w.reconciler.reconcile("shop/rec");
    expect(w.writes.filter((x) => x.startsWith("apply Deployment"))).toEqual([]);
    expect(w.status()).toMatchObject({ phase: "Healthy", stableRevision: revision });

    // A new URI is a new revision: it downloads; the old one stays as made.
    w.setSpec({
      model: { name: "rec", version: "v2", uri: "s3://models/rec/v2" },
      runtime: { preset: "triton", image: "registry.example/triton:1" },
    });
    await w.reconciler.reconcile("shop/rec");
    await w.reconciler.reconcile("shop/rec");
    expect(w.caches.Deployment.list("shop")).toHaveLength(2);
    const canary = w.caches.Deployment.list("shop").find((d) => d.metadata?.name !== made.metadata?.name);
    expect(podTemplate(canary)).toContain('"initContainers"');
    expect(podTemplate(canary)).toContain('"--model-repository=/mnt/models"');
    expect(podTemplate(w.caches.Deployment.get(made.metadata?.name ?? "", "shop"))).toBe(legacyTemplate);
  });

  it("an operator upgrade leaves a revision made before the pod security defaults alone; a new revision gets them", async () => {
    const w = world({ rollout: { steps: [{ setWeight: 50 }, { pause: {} }] } }, undefined, {
      podsBecomeReady: true,
    });
    await w.reconciler.reconcile("shop/rec");
    // The Deployment as the operator before the defaults made it: no securityContext, no annotation.
    const made = w.caches.Deployment.list("shop")[0] as Obj & { spec: { replicas: number } };
    const revision = String((made.metadata?.labels as Record<string, string> | undefined)?.[LABEL_REVISION]);
    const md = parseModelDeployment({ apiVersion: API_VERSION, kind: KIND, ...w.mds.get("rec", "shop") });
    if (!md.ok) throw new Error("spec does not parse");
    const before = withAppliedHash(
      renderDeployment({
        owner: { name: "rec", namespace: "shop", uid: "u-1" },
        spec: md.value.spec,
        revision,
        replicas: made.spec.replicas,
        madeWith: { features: new Set() },
      }),
    );
    w.caches.Deployment.put({
      ...(before as unknown as Obj),
      metadata: { ...before.metadata, generation: 1 },
      status: made.status,
    });
    const podTemplate = (o: Obj | undefined) =>
      JSON.stringify((o?.spec as { template?: unknown } | undefined)?.template);
    const legacyTemplate = podTemplate(w.caches.Deployment.get(made.metadata?.name ?? "", "shop"));
    expect(legacyTemplate).not.toContain("securityContext");

    w.writes.length = 0;
    await w.reconciler.reconcile("shop/rec");
    await w.reconciler.reconcile("shop/rec");
    expect(w.writes.filter((x) => x.startsWith("apply Deployment"))).toEqual([]);
    expect(w.status()).toMatchObject({ phase: "Healthy", stableRevision: revision });

    // The next change of the spec is a new revision: it gets the defaults, the old one stays as made.
    w.setSpec({ model: { name: "rec", version: "v2" } });
    await w.reconciler.reconcile("shop/rec");
    await w.reconciler.reconcile("shop/rec");
    expect(w.caches.Deployment.list("shop")).toHaveLength(2);
    const canary = w.caches.Deployment.list("shop").find((d) => d.metadata?.name !== made.metadata?.name);
    expect(podTemplate(canary)).toContain('"runAsNonRoot":true');
    const annotations = canary?.metadata?.annotations as Record<string, string> | undefined;
    expect(annotations?.[RENDER_FEATURES_ANNOTATION]).toContain("pod-security-restricted");
    expect(podTemplate(w.caches.Deployment.get(made.metadata?.name ?? "", "shop"))).toBe(legacyTemplate);
  });
});
