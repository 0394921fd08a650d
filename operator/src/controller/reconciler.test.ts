// The reconcile script over in-memory caches and a recording client: what it writes, in what order,
// and what it leaves alone. The real API server is in e2e/; this pins the floor's own logic.
import pino from "pino";
import { describe, expect, it } from "vitest";
import type { ApiClient } from "../kube/api-client.ts";
import type { ApplyObject } from "../render/types.ts";
import type { RolloutEvent } from "../rollout/types.ts";
import { Reconciler } from "./reconciler.ts";
import type { Cache } from "./snapshot.ts";
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
  put(o: T): void {
    this.items.set(`${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`, o);
  }
}

function world(spec: Record<string, unknown> = {}, serviceAccountLabels?: Record<string, string>) {
  const mds = new MemCache<Obj>();
  const caches = {
    Deployment: new MemCache<Obj>(),
    Service: new MemCache<Obj>(),
    HorizontalPodAutoscaler: new MemCache<Obj>(),
    HTTPRoute: new MemCache<Obj>(),
  };
  const pods = new MemCache<Obj>();
  const writes: string[] = [];
  const events: { reason: string; type: string }[] = [];
  const transitions: RolloutEvent[] = [];
  let rv = 1;
  mds.put({
    metadata: { name: "rec", namespace: "shop", uid: "u-1", generation: 1, resourceVersion: String(rv) },
    spec: { model: { name: "rec", version: "v1" }, runtime: { image: "registry.example/rec:1" }, ...spec },
  });
  const client = {
    async apply(obj: ApplyObject) {
      writes.push(`apply ${obj.kind}/${obj.metadata.name}`);
      caches[obj.kind as keyof typeof caches].put(obj as unknown as Obj);
      return obj;
    },
    async delete(ref: { kind: string; name: string; namespace: string }) {
      writes.push(`delete ${ref.kind}/${ref.name}`);
      caches[ref.kind as keyof typeof caches].items.delete(`${ref.namespace}/${ref.name}`);
    },
    async applyStatus(ref: { namespace: string; name: string }, status: unknown) {
      writes.push("status");
      const md = mds.get(ref.name, ref.namespace) as Obj;
      rv++;
      mds.put({ ...md, status, metadata: { ...md.metadata, resourceVersion: String(rv) } });
      return { metadata: { resourceVersion: String(rv) } };
    },
    async read() {
      if (!serviceAccountLabels) throw Object.assign(new Error("not found"), { code: 404 });
      return { metadata: { labels: serviceAccountLabels } };
    },
  };
  const reconciler = new Reconciler({
    modelDeployments: mds,
    deployments: caches.Deployment,
    services: caches.Service,
    hpas: caches.HorizontalPodAutoscaler,
    httpRoutes: caches.HTTPRoute,
    pods,
    client: client as unknown as ApiClient,
    events: { record: (_t, e) => events.push({ reason: e.reason, type: e.type }) },
    log: pino({ level: "silent" }),
    now: () => Date.parse("2026-12-01T10:00:00.000Z"),
    gatewayApiAvailable: () => false,
    onRolloutEvent: (e) => transitions.push(e),
  });
  const status = () => mds.get("rec", "shop")?.status as Record<string, unknown> | undefined;
  return { reconciler, writes, events, transitions, status, caches, mds };
}

describe("Reconciler", () => {
  it("creates the children of a new ModelDeployment, Deployment first, and writes status once", async () => {
    const w = world();
    expect(await w.reconciler.reconcile("shop/rec")).toEqual(expect.any(Object));
    expect(w.writes[0]).toMatch(/^apply Deployment\/rec-[0-9a-f]{10}$/);
    expect(w.writes.slice(1)).toEqual(["apply Service/rec", "status"]);
    expect(w.status()).toMatchObject({ phase: "Progressing", observedGeneration: 1, bookkeeping: {} });
    expect(w.transitions.map((e) => e.reason)).toEqual(["FirstDeployment"]);
  });

  it("writes nothing when nothing changed", async () => {
    const w = world();
    await w.reconciler.reconcile("shop/rec");
    w.writes.length = 0;
    await w.reconciler.reconcile("shop/rec");
    expect(w.writes).toEqual([]);
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
    w.writes.length = 0;
    await w.reconciler.reconcile("shop/rec");
    expect(w.writes).toEqual(["delete HorizontalPodAutoscaler/rec"]);
  });

  it("lets go of a ModelDeployment being deleted: nothing is written", async () => {
    const w = world();
    const md = w.mds.get("rec", "shop") as Obj;
    w.mds.put({ ...md, metadata: { ...md.metadata, deletionTimestamp: "2026-12-01T09:00:00Z" } });
    expect(await w.reconciler.reconcile("shop/rec")).toEqual({});
    expect(w.writes).toEqual([]);
  });
});
