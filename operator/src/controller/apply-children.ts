// Puts the rendered children in place: writes only what drifted, Deployments first (scale-ups and
// new revisions before traffic moves, so capacity never dips on the way), then deletes what this
// ModelDeployment owns and no longer wants. A child the API server refuses stops the reconcile
// with the server's words (TerminalError): retrying the same object cannot succeed.
import type { Logger } from "pino";
import type { ApiClient } from "../kube/api-client.ts";
import { apiErrorMessage, classifyApiError } from "../kube/api-client.ts";
import type { ApplyObject, Owner } from "../render/types.ts";
import { driftOf, withAppliedHash } from "./drift.ts";
import type { Cache, Owned } from "./snapshot.ts";
import { TerminalError } from "./workers.ts";

/** The informer caches of the kinds a ModelDeployment owns; httpRoutes is absent without Gateway API. */
export interface ChildCaches {
  deployments: Cache<Owned>;
  services: Cache<Owned>;
  hpas: Cache<Owned>;
  httpRoutes: Cache<Owned> | undefined;
}

export interface ApplyChildrenInput {
  client: ApiClient;
  caches: ChildCaches;
  owner: Owner;
  desired: readonly ApplyObject[];
  log: Logger;
}

const KINDS = [
  { kind: "Deployment", apiVersion: "apps/v1", cache: "deployments" },
  { kind: "Service", apiVersion: "v1", cache: "services" },
  { kind: "HorizontalPodAutoscaler", apiVersion: "autoscaling/v2", cache: "hpas" },
  { kind: "HTTPRoute", apiVersion: "gateway.networking.k8s.io/v1", cache: "httpRoutes" },
] as const satisfies readonly { kind: string; apiVersion: string; cache: keyof ChildCaches }[];

export async function applyChildren(i: ApplyChildrenInput): Promise<void> {
  const desired = i.desired.map(withAppliedHash);
  const order = (o: ApplyObject) => (o.kind === "Deployment" ? 0 : 1);
  for (const obj of [...desired].sort((a, b) => order(a) - order(b))) {
    const k = KINDS.find((x) => x.kind === obj.kind);
    const live = k ? i.caches[k.cache]?.get(obj.metadata.name, obj.metadata.namespace) : undefined;
    const drift = driftOf(obj, live);
    if (drift === undefined) continue;
    try {
      await i.client.apply(obj);
    } catch (err) {
      if (classifyApiError(err) === "invalid") {
        throw new TerminalError(
          `${obj.kind} ${obj.metadata.name} rejected by the API server: ${apiErrorMessage(err)}`,
        );
      }
      throw err;
    }
    const replicas = (obj.spec as { replicas?: number } | undefined)?.replicas;
    i.log.debug(
      { kind: obj.kind, child: obj.metadata.name, drift, ...(replicas !== undefined ? { replicas } : {}) },
      "applied",
    );
  }
  await prune(i, new Set(desired.map((o) => `${o.kind}/${o.metadata.name}`)));
}

/** Deletes what we own and no longer want: old revisions, Services/HTTPRoute/HPA of a mode no longer used. */
async function prune(i: ApplyChildrenInput, wanted: ReadonlySet<string>): Promise<void> {
  for (const k of KINDS) {
    for (const o of ownedBy(i.caches[k.cache], i.owner)) {
      const name = o.metadata?.name ?? "";
      if (wanted.has(`${k.kind}/${name}`)) continue;
      try {
        await i.client.delete({ apiVersion: k.apiVersion, kind: k.kind, namespace: i.owner.namespace, name });
        i.log.info({ kind: k.kind, child: name }, "deleted child no longer wanted");
      } catch (err) {
        if (classifyApiError(err) !== "notFound") throw err;
      }
    }
  }
}

/** Objects in `cache` whose controller is `owner`: only those are ever written or deleted. */
export function ownedBy<T extends Owned>(cache: Cache<T> | undefined, owner: Owner): T[] {
  return (cache?.list(owner.namespace) ?? []).filter((o) =>
    o.metadata?.ownerReferences?.some((r) => r.controller && r.uid === owner.uid),
  );
}
