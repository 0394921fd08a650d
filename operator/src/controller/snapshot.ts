// Step 1 of a reconcile: read everything it needs, once, into one read-only context. Every later
// step (guards, decide, render, compose) is a pure function of this object; only the
// ServiceAccount lookup talks to the API server here, and its answer is cached for a while.
import type { Logger } from "pino";
import {
  API_VERSION,
  formatIssues,
  KIND,
  MODEL_RUNTIME_SA_LABEL,
  MODEL_RUNTIME_SA_LABEL_VALUE,
  type ModelDeployment,
  type ParseResult,
  parseModelDeployment,
} from "../api/index.ts";
import type { ApiClient } from "../kube/api-client.ts";
import { classifyApiError } from "../kube/api-client.ts";
import type { EventTarget } from "../kube/events.ts";
import { deepFreeze } from "../lib/deep-freeze.ts";
import { type MadeWith, madeWithOf } from "../render/features.ts";
import { computeRevision, type RevisionSpec, revisionSpecsOf } from "../render/revision.ts";
import type { Owner } from "../render/types.ts";
import type { OwnedStatus } from "./compose-status.ts";
import {
  type ObservedDeployment,
  type ObservedPod,
  type ObservedRevision,
  observeRevisions,
} from "./observe.ts";
import { ownedPods } from "./pod-ownership.ts";

/** A read-only view of an informer cache. */
export interface Cache<T> {
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): T[];
  /** The objects whose controlling ownerReference names this uid (an index, not a scan). */
  byController(uid: string): T[];
}

/** What the reconciler reads of any child: enough to tell whether it is ours. */
export interface Owned {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    ownerReferences?: { uid: string; controller?: boolean }[];
  };
}

export function controlledBy(o: Owned, owner: Owner): boolean {
  return o.metadata?.ownerReferences?.some((r) => r.controller && r.uid === owner.uid) === true;
}

/**
 * Objects in `cache` whose controller is `owner`: only those are ever written or deleted. In the
 * owner's namespace only: an object elsewhere may name any uid in its ownerReferences.
 */
export function ownedBy<T extends Owned>(cache: Cache<T> | undefined, owner: Owner): T[] {
  return inNamespace(cache?.byController(owner.uid) ?? [], owner.namespace);
}

function inNamespace<T extends Owned>(objects: T[], namespace: string): T[] {
  return objects.filter((o) => o.metadata?.namespace === namespace);
}

/** The ModelDeployment as the cache holds it: unparsed, so an invalid spec can still be reported on. */
export interface CachedModelDeployment {
  metadata?: { uid?: string; generation?: number; resourceVersion?: string; deletionTimestamp?: unknown };
  status?: OwnedStatus;
}

export interface SnapshotSources {
  deployments: Cache<ObservedDeployment & Owned>;
  replicaSets: Cache<Owned>;
  pods: Cache<ObservedPod & Owned>;
  gatewayApiAvailable: () => boolean;
  traefikAvailable: () => boolean;
  serviceAccounts: ServiceAccountCheck;
}

/** Everything one reconcile knows, read once. */
export interface ReconcileContext {
  key: string;
  owner: Owner;
  target: EventTarget;
  generation: number;
  /** The status read, with our last write laid over it until the cache shows it. */
  status: OwnedStatus | undefined;
  /** The version of the object that status was read at: the status write goes onto it, or fails. */
  resourceVersion: string | undefined;
  log: Logger;
  now: number;
  /** The parsed ModelDeployment, or why it does not parse. */
  spec: { ok: true; md: ModelDeployment } | { ok: false; message: string };
  /** Why a ServiceAccount named by a revision may not be used; undefined when all may (or none is named). */
  serviceAccountProblem: string | undefined;
  gatewayApiAvailable: boolean;
  traefikAvailable: boolean;
  /** Hash of what changes the pods in the current spec (empty while the spec is invalid). */
  desiredRevision: string;
  /** What each live revision runs, desired one included. */
  revisionSpecs: Record<string, RevisionSpec>;
  /** Snapshots in status.revisionSpecs not trusted (no pods of theirs, or not a spec of that revision). */
  ignoredSnapshots: { revision: string; why: string }[];
  /** Our Deployments, one per revision, with their pods' state. */
  observed: ObservedRevision[];
  /** What each existing revision's Deployment was made with (render/features.ts): rendered as made. */
  madeWith: ReadonlyMap<string, MadeWith>;
}

export async function loadSnapshot(
  src: SnapshotSources,
  key: string,
  cached: CachedModelDeployment,
  base: { namespace: string; name: string; log: Logger; now: number },
): Promise<ReconcileContext> {
  const { namespace, name } = base;
  const uid = cached.metadata?.uid ?? "";
  const owner: Owner = { name, namespace, uid };
  const { parsed, desiredRevision } = parseOnce(cached);
  const md = parsed.ok ? parsed.value : undefined;
  const owned = ownedBy(src.deployments, owner);
  // Pods by ownership, not by label: a pod that merely carries our labels says nothing about us.
  // ReplicaSets of our Deployments, pods of those ReplicaSets; ownedPods checks the chain again.
  const replicaSets = inNamespace(
    owned.flatMap((d) => src.replicaSets.byController(d.metadata?.uid ?? "")),
    namespace,
  );
  const candidates = inNamespace(
    replicaSets.flatMap((rs) => src.pods.byController(rs.metadata?.uid ?? "")),
    namespace,
  );
  const pods = ownedPods(owned, replicaSets, candidates);
  const observed = observeRevisions(owned, pods);
  const revisions = md
    ? revisionSpecsOf(md, desiredRevision, new Set(observed.map((o) => o.revision)))
    : { specs: {}, ignored: [] };
  return {
    key,
    owner,
    target: { apiVersion: API_VERSION, kind: KIND, namespace, name, uid },
    generation: cached.metadata?.generation ?? 0,
    status: cached.status,
    resourceVersion: cached.metadata?.resourceVersion,
    log: desiredRevision ? base.log.child({ revision: desiredRevision }) : base.log,
    now: base.now,
    spec: md ? { ok: true, md } : { ok: false, message: parsed.ok ? "" : formatIssues(parsed.issues) },
    serviceAccountProblem: await src.serviceAccounts.problem(
      namespace,
      Object.values(revisions.specs),
      base.now,
    ),
    gatewayApiAvailable: src.gatewayApiAvailable(),
    traefikAvailable: src.traefikAvailable(),
    desiredRevision,
    revisionSpecs: revisions.specs,
    ignoredSnapshots: revisions.ignored,
    observed,
    madeWith: madeWithOf(owned),
  };
}

/**
 * Each cached version is parsed (and its revision hashed) once, not on every pass: the informer
 * replaces an object on every change and never edits one, so the object is the version's identity,
 * and a resync of an unchanged ModelDeployment parses nothing. The parse is frozen: a later step
 * that changed it would change what every later pass reads, so it throws instead.
 */
const parsedVersions = new WeakMap<CachedModelDeployment, { parsed: ParseResult; desiredRevision: string }>();

function parseOnce(cached: CachedModelDeployment): { parsed: ParseResult; desiredRevision: string } {
  const hit = parsedVersions.get(cached);
  if (hit) return hit;
  // Objects from a LIST may lack apiVersion/kind; they are implied by the informer.
  const parsed = deepFreeze(parseModelDeployment({ apiVersion: API_VERSION, kind: KIND, ...cached }));
  const entry = { parsed, desiredRevision: parsed.ok ? computeRevision(parsed.value.spec) : "" };
  parsedVersions.set(cached, entry);
  return entry;
}

/** How long a ServiceAccount's label is trusted before it is read again. */
export const SA_CACHE_MS = 10_000;

/** A named ServiceAccount must be labelled for model runtimes (docs/service-accounts.md). */
export class ServiceAccountCheck {
  private readonly seen = new Map<string, { at: number; message: string | undefined }>();
  private readonly client: Pick<ApiClient, "read">;

  constructor(client: Pick<ApiClient, "read">) {
    this.client = client;
  }

  /**
   * The first ServiceAccount named by `specs` (the desired spec and every revision that will be
   * rendered) that model pods may not use. Checked for every revision on every pass: a label
   * removed by the namespace admin stops the pods that use it from being changed or re-created.
   */
  async problem(namespace: string, specs: readonly RevisionSpec[], now: number): Promise<string | undefined> {
    const names = new Set(specs.map((s) => s.template?.serviceAccountName).filter((n) => n !== undefined));
    for (const sa of names) {
      const message = await this.check(namespace, sa, now);
      if (message !== undefined) return message;
    }
    return undefined;
  }

  private async check(namespace: string, sa: string, now: number): Promise<string | undefined> {
    const key = `${namespace}/${sa}`;
    const hit = this.seen.get(key);
    if (hit && now - hit.at < SA_CACHE_MS) return hit.message;
    let message: string | undefined;
    try {
      const obj = await this.client.read<{ metadata?: { labels?: Record<string, string> } }>({
        apiVersion: "v1",
        kind: "ServiceAccount",
        namespace,
        name: sa,
      });
      if (obj.metadata?.labels?.[MODEL_RUNTIME_SA_LABEL] !== MODEL_RUNTIME_SA_LABEL_VALUE) {
        message = `spec.template.serviceAccountName: ServiceAccount ${sa} is not labelled ${MODEL_RUNTIME_SA_LABEL}=${MODEL_RUNTIME_SA_LABEL_VALUE}; a namespace admin must label it before model pods may use it`;
      }
    } catch (err) {
      if (classifyApiError(err) !== "notFound") throw err;
      message = `spec.template.serviceAccountName: ServiceAccount ${sa} does not exist`;
    }
    // Bounded: one entry per (namespace, ServiceAccount) named by a live spec; stale ones are dropped.
    for (const [k, v] of this.seen) if (now - v.at >= SA_CACHE_MS) this.seen.delete(k);
    this.seen.set(key, { at: now, message });
    return message;
  }
}
