// Puts the rendered children in place: writes only what drifted, Deployments first (scale-ups and
// new revisions before traffic moves, so capacity never dips on the way), then deletes what this
// ModelDeployment owns and no longer wants. Only objects this ModelDeployment controls are ever
// written: a name taken by something else is a NameConflict, and the foreign object is left alone.
// The first failure stops the pass (nothing after it moves traffic) and is returned, not thrown,
// so the reconciler can put it on the resource.
import type { Logger } from "pino";
import { ReconcileReason } from "../api/reasons.ts";
import type { ApiClient } from "../kube/api-client.ts";
import { type ApiErrorClass, apiErrorMessage, classifyApiError } from "../kube/api-client.ts";
import type { ApplyObject, Owner } from "../render/types.ts";
import { driftOf, withAppliedHash } from "./drift.ts";
import { type Cache, controlledBy, type Owned, ownedBy } from "./snapshot.ts";

/** The informer caches of the kinds a ModelDeployment owns; httpRoutes / traefikServices are absent without their CRDs. */
export interface ChildCaches {
  deployments: Cache<Owned>;
  services: Cache<Owned>;
  hpas: Cache<Owned>;
  pdbs: Cache<Owned>;
  httpRoutes: Cache<Owned> | undefined;
  traefikServices?: Cache<Owned> | undefined;
}

export interface ApplyChildrenInput {
  client: Pick<ApiClient, "apply" | "delete" | "readBeforeWrite">;
  caches: ChildCaches;
  owner: Owner;
  desired: readonly ApplyObject[];
  log: Logger;
}

/** Why a child could not be put in place; the reconciler writes it as the ReconcileError condition. */
export interface ChildFailure {
  kind: string;
  name: string;
  reason: (typeof ReconcileReason)[Exclude<keyof typeof ReconcileReason, "ChildrenApplied">];
  message: string;
  /** The API error, when there was one: a transient one is retried with backoff. */
  error?: unknown;
  errorClass?: ApiErrorClass;
}

const KINDS = [
  { kind: "Deployment", apiVersion: "apps/v1", cache: "deployments" },
  { kind: "Service", apiVersion: "v1", cache: "services" },
  { kind: "HorizontalPodAutoscaler", apiVersion: "autoscaling/v2", cache: "hpas" },
  { kind: "PodDisruptionBudget", apiVersion: "policy/v1", cache: "pdbs" },
  { kind: "HTTPRoute", apiVersion: "gateway.networking.k8s.io/v1", cache: "httpRoutes" },
  { kind: "TraefikService", apiVersion: "traefik.io/v1alpha1", cache: "traefikServices" },
] as const satisfies readonly { kind: string; apiVersion: string; cache: keyof ChildCaches }[];

/** Applies and prunes; the first failure stops the pass and is returned. */
export async function applyChildren(i: ApplyChildrenInput): Promise<ChildFailure | undefined> {
  const desired = i.desired.map(withAppliedHash);
  const order = (o: ApplyObject) => (o.kind === "Deployment" ? 0 : 1);
  for (const obj of [...desired].sort((a, b) => order(a) - order(b))) {
    const kind = obj.kind;
    const name = obj.metadata.name;
    let live: Owned | undefined;
    try {
      live = await liveObject(i, obj);
    } catch (error) {
      return apiFailure(kind, name, "read", error);
    }
    if (live !== undefined && !controlledBy(live, i.owner)) {
      return {
        kind,
        name,
        reason: ReconcileReason.NameConflict,
        message: `${kind} ${name} already exists and is not controlled by this ModelDeployment; it is left untouched. Rename the ModelDeployment or remove that ${kind}.`,
      };
    }
    const drift = driftOf(obj, live);
    if (drift === undefined) continue;
    try {
      await i.client.apply(obj);
    } catch (error) {
      return apiFailure(kind, name, "apply", error);
    }
    const replicas = (obj.spec as { replicas?: number } | undefined)?.replicas;
    i.log.debug({ kind, child: name, drift, ...(replicas !== undefined ? { replicas } : {}) }, "applied");
  }
  return prune(i, new Set(desired.map((o) => `${o.kind}/${o.metadata.name}`)));
}

/**
 * The child as it is: from the cache, which holds only objects with our labels, else from the API
 * server (only while the cache has none, i.e. about once per child created), so a same-named
 * object someone else made is seen before it could be taken over.
 */
async function liveObject(i: ApplyChildrenInput, obj: ApplyObject): Promise<Owned | undefined> {
  const k = KINDS.find((x) => x.kind === obj.kind);
  const cached = k ? i.caches[k.cache]?.get(obj.metadata.name, obj.metadata.namespace) : undefined;
  if (cached !== undefined) return cached;
  try {
    const ref = { apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace };
    return (await i.client.readBeforeWrite({ ...ref, name: obj.metadata.name })) as Owned;
  } catch (err) {
    if (classifyApiError(err) === "notFound") return undefined;
    throw err;
  }
}

/** Deletes what we own and no longer want: old revisions, Services/HTTPRoute/TraefikServices/HPA of a mode no longer used. */
async function prune(i: ApplyChildrenInput, wanted: ReadonlySet<string>): Promise<ChildFailure | undefined> {
  for (const k of KINDS) {
    for (const o of ownedBy(i.caches[k.cache], i.owner)) {
      const name = o.metadata?.name ?? "";
      if (wanted.has(`${k.kind}/${name}`)) continue;
      try {
        await i.client.delete({ apiVersion: k.apiVersion, kind: k.kind, namespace: i.owner.namespace, name });
        i.log.info({ kind: k.kind, child: name }, "deleted child no longer wanted");
      } catch (error) {
        if (classifyApiError(error) !== "notFound") return apiFailure(k.kind, name, "delete", error);
      }
    }
  }
  return undefined;
}

function apiFailure(kind: string, name: string, verb: string, error: unknown): ChildFailure {
  const errorClass = classifyApiError(error);
  const refused = errorClass === "invalid";
  return {
    kind,
    name,
    reason: refused ? ReconcileReason.ChildRejected : ReconcileReason.ApplyFailed,
    message: refused
      ? `${kind} ${name} rejected by the API server: ${apiErrorMessage(error)}`
      : `${verb} ${kind} ${name} failed: ${apiErrorMessage(error)}`,
    error,
    errorClass,
  };
}
