// reconcile(key): read the caches, decide, render, apply what differs, write status if it changed.
// Level-triggered: the key carries no event; every call recomputes everything from what is there.
import type { Logger } from "pino";
import {
  API_VERSION,
  type Condition,
  ConditionType,
  desiredTotalReplicas,
  formatIssues,
  GROUP,
  KIND,
  MODEL_RUNTIME_SA_LABEL,
  MODEL_RUNTIME_SA_LABEL_VALUE,
  type ModelDeployment,
  type ModelDeploymentStatus,
  PLURAL,
  parseModelDeployment,
  setCondition,
  VERSION,
} from "../api/index.ts";
import type { ApiClient } from "../kube/api-client.ts";
import { type ApiErrorClass, apiErrorMessage, classifyApiError } from "../kube/api-client.ts";
import type { EventRecorder, EventSpec } from "../kube/events.ts";
import { renderDeployment } from "../render/deployment.ts";
import { renderHpa } from "../render/hpa.ts";
import { renderHttpRoute } from "../render/httproute.ts";
import { deploymentSelector, selectorString } from "../render/labels.ts";
import { canonicalJson, computeRevision } from "../render/revision.ts";
import { renderService } from "../render/service.ts";
import type { ApplyObject, Owner } from "../render/types.ts";
import { decideRollout } from "../rollout/decide.ts";
import type { RevisionHealth, RolloutDecision } from "../rollout/types.ts";
import { driftOf, withAppliedHash } from "./drift.ts";
import {
  type ObservedDeployment,
  type ObservedPod,
  observeRevisions,
  type RevisionObservation,
} from "./observe.ts";
import { manualRequests, persistedState, rolloutConfig } from "./rollout-input.ts";
import { splitObjectKey } from "./work-queue.ts";
import { type ReconcileResult, TerminalError } from "./workers.ts";

/** A read-only view of an informer cache. */
export interface Cache<T> {
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): T[];
}

interface Owned {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    ownerReferences?: { uid: string; controller?: boolean }[];
  };
}

export interface HealthSource {
  /** The prober's verdict for a revision, or undefined when it has none (yet). */
  verdict(key: string, revision: string): RevisionHealth | undefined;
  /** Which revisions of `key` to probe, and where their Ready pods are. */
  setTargets(
    key: string,
    md: ModelDeployment,
    revisions: RevisionObservation[],
    specOf: (revision: string) => ModelDeployment["spec"],
  ): void;
  forget(key: string): void;
}

export interface ReconcilerDeps {
  modelDeployments: Cache<unknown>;
  deployments: Cache<ObservedDeployment & Owned>;
  services: Cache<Owned>;
  hpas: Cache<Owned>;
  httpRoutes: Cache<Owned> | undefined;
  pods: Cache<ObservedPod & Owned>;
  client: ApiClient;
  events: EventRecorder;
  log: Logger;
  now: () => number;
  health?: HealthSource;
  /** Every rollout decision event (for metrics: started, promoted, aborted by reason). */
  onRolloutEvent?: (e: { type: string; reason: string; message: string }) => void;
  /** Whether the Gateway API HTTPRoute kind is served (discovery). */
  gatewayApiAvailable: () => boolean;
}

const CRD_REF = { group: GROUP, version: VERSION, plural: PLURAL, kind: KIND };
/** Conditions this writer owns (the prober owns Healthy). */
const OWN_CONDITIONS = new Set<string>([
  ConditionType.Available,
  ConditionType.Progressing,
  ConditionType.Degraded,
  ConditionType.Paused,
  ConditionType.InvalidSpec,
]);
const SA_CACHE_MS = 10_000;
/** After this, trust the cache even if it never showed our write's version (e.g. after a relist). */
const WRITTEN_STATUS_TTL_MS = 10_000;

export type OwnedStatus = Omit<ModelDeploymentStatus, "health"> & { rolloutState?: unknown };

/** The parts of a spec that make a revision (what computeRevision hashes). */
type RevisionSpec = Pick<ModelDeployment["spec"], "model" | "runtime" | "template">;

export class Reconciler {
  private readonly d: ReconcilerDeps;
  private readonly saChecks = new Map<string, { at: number; ok: boolean; message: string }>();
  /**
   * The status we last wrote per key, until the informer cache shows it. Without this a reconcile
   * triggered by a child event right after our write would decide again from the stale status
   * (and repeat its transition and events).
   */
  private readonly written = new Map<string, { status: OwnedStatus; resourceVersion: string; at: number }>();

  constructor(deps: ReconcilerDeps) {
    this.d = deps;
  }

  reconcile = async (key: string): Promise<ReconcileResult> => {
    const { namespace, name } = splitObjectKey(key);
    const ns = namespace ?? "";
    const cached = this.d.modelDeployments.get(name, ns) as
      | {
          metadata?: {
            uid?: string;
            generation?: number;
            resourceVersion?: string;
            deletionTimestamp?: unknown;
          };
          status?: OwnedStatus;
        }
      | undefined;
    // Deleted: children go with it through garbage collection (ownerReferences). Being deleted (a
    // finalizer or a foreground deletion holds it): garbage collection is removing the children, and
    // putting them back would fight it and keep the deletion from ever finishing.
    if (!cached || cached.metadata?.deletionTimestamp) return this.letGo(key);
    const raw = this.withWrittenStatus(key, cached);
    const uid = raw.metadata?.uid ?? "";
    const generation = raw.metadata?.generation ?? 0;
    const owner: Owner = { name, namespace: ns, uid };
    const log = this.d.log.child({ namespace: ns, name });
    const target = { apiVersion: API_VERSION, kind: KIND, namespace: ns, name, uid };

    // Objects from a LIST may lack apiVersion/kind; they are implied by the informer.
    const parsed = parseModelDeployment({ apiVersion: API_VERSION, kind: KIND, ...raw });
    if (!parsed.ok) {
      const message = formatIssues(parsed.issues);
      await this.reportInvalid(owner, raw.status, generation, message, log);
      this.d.events.record(target, { type: "Warning", reason: "InvalidSpec", message });
      // Nothing running is touched and nothing retries hot: the next spec change re-enqueues.
      throw new TerminalError(`invalid spec: ${message}`);
    }
    const md = parsed.value;

    const blocked = await this.checkServiceAccount(md);
    if (blocked) {
      await this.reportInvalid(owner, raw.status, generation, blocked, log, "ServiceAccountNotAllowed");
      this.d.events.record(target, { type: "Warning", reason: "ServiceAccountNotAllowed", message: blocked });
      return { requeueAfterMs: SA_CACHE_MS };
    }
    if (md.spec.rollout.traffic?.gatewayAPI && !this.d.gatewayApiAvailable()) {
      const message =
        "spec.rollout.traffic.gatewayAPI is set, but the Gateway API (gateway.networking.k8s.io/v1 HTTPRoute) is not installed in this cluster; install its CRDs or remove the field";
      await this.reportInvalid(owner, raw.status, generation, message, log, "GatewayAPIUnavailable");
      this.d.events.record(target, { type: "Warning", reason: "GatewayAPIUnavailable", message });
      return { requeueAfterMs: 60_000 };
    }

    const revision = computeRevision(md.spec);
    // Every live revision is rendered from what it was created with, never from the newer spec.
    const revisionSpecs = this.revisionSpecs(md, revision);
    const rlog = log.child({ revision });
    const mine = <T extends Owned>(objs: T[]) =>
      objs.filter((o) => o.metadata?.ownerReferences?.some((r) => r.controller && r.uid === uid));
    const deployments = mine(this.d.deployments.list(ns));
    const pods = this.d.pods
      .list(ns)
      .filter(
        (p) =>
          p.metadata?.labels?.["modelship.dev/deployment"] ===
          deploymentSelector(name)["modelship.dev/deployment"],
      );
    const observed = observeRevisions(deployments, pods);

    const health: Record<string, RevisionHealth> = {};
    for (const o of observed) health[o.revision] = this.verdictFor(key, o);

    const now = this.d.now();
    const decision = decideRollout({
      desiredRevision: revision,
      desiredModelVersion: md.spec.model.version,
      desiredImage: md.spec.runtime.image,
      generation,
      rollout: rolloutConfig(md, this.d.health !== undefined),
      totalReplicas: desiredTotalReplicas(md.spec),
      state: persistedState(raw.status?.rolloutState),
      observed: observed.map((o) => ({
        revision: o.revision,
        specReplicas: o.specReplicas,
        readyReplicas: o.readyReplicas,
        availableReplicas: o.availableReplicas,
        updatedReplicas: o.updatedReplicas,
        ...(o.failure ? { failure: o.failure } : {}),
      })),
      health,
      requests: manualRequests(md),
      now,
    });

    const live = new Set(decision.revisions.map((r) => r.revision));
    for (const r of Object.keys(revisionSpecs)) if (!live.has(r)) delete revisionSpecs[r];
    // The namespace is being deleted or gone (a create is refused), or the ModelDeployment was deleted
    // since the cache saw it (its status write finds nothing): not an error to retry, and nothing to
    // create. The watch's delete event follows.
    const goingAway = (err: unknown, also?: ApiErrorClass) => {
      const why = classifyApiError(err);
      if (why !== "namespaceGone" && why !== also) throw err;
      rlog.debug({ why }, "ModelDeployment or its namespace is going away; leaving it to garbage collection");
      return this.letGo(key);
    };
    try {
      await this.applyChildren(md, owner, revision, decision, deployments, revisionSpecs, rlog);
    } catch (err) {
      return goingAway(err);
    }
    try {
      await this.writeStatus(
        owner,
        raw.status,
        { ...this.composeStatus(md, generation, decision, observed, now), revisionSpecs },
        rlog,
      );
    } catch (err) {
      return goingAway(err, "notFound");
    }
    for (const e of decision.events) {
      this.d.events.record(target, e as EventSpec);
      this.d.onRolloutEvent?.(e);
      rlog.info({ reason: e.reason, event: e.type }, e.message);
    }
    this.d.health?.setTargets(key, md, observed, (r) => ({ ...md.spec, ...(revisionSpecs[r] ?? {}) }));
    return decision.requeueAfterMs !== undefined
      ? { requeueAfterMs: Math.max(250, decision.requeueAfterMs) }
      : {};
  };

  /** Stops probing and forgets what we wrote for a ModelDeployment that is gone or going. */
  private letGo(key: string): ReconcileResult {
    this.d.health?.forget(key);
    this.written.delete(key);
    return {};
  }

  /** Without the prober (--prober=false), a revision whose pods are all Ready passes the gate. */
  private verdictFor(key: string, o: RevisionObservation): RevisionHealth {
    if (this.d.health) {
      // With the prober on, only its verdict passes a gate; no numbers yet means wait.
      return (
        this.d.health.verdict(key, o.revision) ?? {
          verdict: "Inconclusive",
          message: "waiting for the first probes",
        }
      );
    }
    const ready = o.specReplicas > 0 && o.readyReplicas >= o.specReplicas;
    return ready
      ? { verdict: "Pass", message: `${o.readyReplicas}/${o.specReplicas} pods ready` }
      : { verdict: "Inconclusive", message: `${o.readyReplicas}/${o.specReplicas} pods ready` };
  }

  /** Snapshots of live revisions from status, plus the desired one from the current spec. */
  private revisionSpecs(md: ModelDeployment, desired: string): Record<string, RevisionSpec> {
    const out: Record<string, RevisionSpec> = {};
    const stored =
      (md.status as { revisionSpecs?: Record<string, unknown> } | undefined)?.revisionSpecs ?? {};
    for (const [rev, snap] of Object.entries(stored)) {
      const parsed = parseModelDeployment({
        apiVersion: API_VERSION,
        kind: KIND,
        metadata: { name: "x" },
        spec: snap,
      });
      // A snapshot is trusted only if it still hashes to its revision.
      if (parsed.ok && computeRevision(parsed.value.spec) === rev) out[rev] = snap as RevisionSpec;
    }
    out[desired] = {
      model: md.spec.model,
      runtime: md.spec.runtime,
      ...(md.spec.template ? { template: md.spec.template } : {}),
    };
    return out;
  }

  private desiredChildren(
    md: ModelDeployment,
    owner: Owner,
    decision: RolloutDecision,
    revisionSpecs: Record<string, RevisionSpec>,
  ): ApplyObject[] {
    const out: ApplyObject[] = [];
    for (const r of decision.revisions) {
      const snap = revisionSpecs[r.revision];
      if (!snap) {
        // Unknown pods (no snapshot, e.g. status lost): leave its Deployment as it is rather than guess.
        this.d.log.warn({ revision: r.revision }, "no spec snapshot for revision; not re-rendering it");
        continue;
      }
      const spec = { ...md.spec, model: snap.model, runtime: snap.runtime, template: snap.template };
      out.push(renderDeployment({ owner, spec, revision: r.revision, replicas: r.replicas }));
    }
    const t = decision.traffic;
    if (t.mode === "replicaRatio") {
      out.push(renderService({ owner, spec: md.spec, revision: t.serviceSelector.revision }));
    } else {
      const gw = md.spec.rollout.traffic?.gatewayAPI;
      const stable = t.stableRevision ?? t.canaryRevision;
      out.push(renderService({ owner, spec: md.spec, revision: stable }));
      out.push(renderService({ owner, spec: md.spec, revision: stable, role: "stable" }));
      out.push(renderService({ owner, spec: md.spec, revision: t.canaryRevision ?? stable, role: "canary" }));
      if (gw) out.push(renderHttpRoute(owner, md.spec, gw, t.weights));
    }
    const hpa = renderHpa(owner, md.spec);
    if (hpa) out.push(hpa);
    return out.map(withAppliedHash);
  }

  private cacheFor(kind: string): Cache<Owned> | undefined {
    switch (kind) {
      case "Deployment":
        return this.d.deployments;
      case "Service":
        return this.d.services;
      case "HorizontalPodAutoscaler":
        return this.d.hpas;
      case "HTTPRoute":
        return this.d.httpRoutes;
      default:
        return undefined;
    }
  }

  private async applyChildren(
    md: ModelDeployment,
    owner: Owner,
    revision: string,
    decision: RolloutDecision,
    deployments: Owned[],
    revisionSpecs: Record<string, RevisionSpec>,
    log: Logger,
  ): Promise<void> {
    const desired = this.desiredChildren(md, owner, decision, revisionSpecs);
    // Scale-ups and new revisions first, then everything else: capacity never dips on the way.
    const order = (o: ApplyObject) => (o.kind === "Deployment" ? 0 : 1);
    for (const obj of [...desired].sort((a, b) => order(a) - order(b))) {
      const live = this.cacheFor(obj.kind)?.get(obj.metadata.name, obj.metadata.namespace);
      const drift = driftOf(obj, live);
      if (drift === undefined) continue;
      try {
        await this.d.client.apply(obj);
        const replicas = (obj.spec as { replicas?: number } | undefined)?.replicas;
        log.debug(
          {
            kind: obj.kind,
            child: obj.metadata.name,
            drift,
            ...(replicas !== undefined ? { replicas } : {}),
          },
          "applied",
        );
      } catch (err) {
        if (classifyApiError(err) === "invalid") {
          throw new TerminalError(
            `${obj.kind} ${obj.metadata.name} rejected by the API server: ${apiErrorMessage(err)}`,
          );
        }
        throw err;
      }
    }
    // What we own and no longer want: old revisions, Services/HTTPRoute/HPA of a mode no longer used.
    const wanted = new Set(desired.map((o) => `${o.kind}/${o.metadata.name}`));
    const owned = (cache: Cache<Owned> | undefined, apiVersion: string, kind: string) =>
      (cache?.list(owner.namespace) ?? [])
        .filter((o) => o.metadata?.ownerReferences?.some((r) => r.controller && r.uid === owner.uid))
        .map((o) => ({ apiVersion, kind, name: o.metadata?.name ?? "" }));
    const stale = [
      ...deployments.map((o) => ({
        apiVersion: "apps/v1",
        kind: "Deployment",
        name: o.metadata?.name ?? "",
      })),
      ...owned(this.d.services, "v1", "Service"),
      ...owned(this.d.hpas, "autoscaling/v2", "HorizontalPodAutoscaler"),
      ...owned(this.d.httpRoutes, "gateway.networking.k8s.io/v1", "HTTPRoute"),
    ].filter((o) => !wanted.has(`${o.kind}/${o.name}`));
    for (const o of stale) {
      try {
        await this.d.client.delete({ ...o, namespace: owner.namespace });
        log.info(
          { kind: o.kind, child: o.name, desiredRevision: revision },
          "deleted child no longer wanted",
        );
      } catch (err) {
        if (classifyApiError(err) !== "notFound") throw err;
      }
    }
  }

  private composeStatus(
    md: ModelDeployment,
    generation: number,
    decision: RolloutDecision,
    observed: RevisionObservation[],
    now: number,
  ): OwnedStatus {
    const prev = md.status?.conditions;
    let conditions: Condition[] = (prev ?? []).filter((c) => OWN_CONDITIONS.has(c.type));
    const nowDate = new Date(now);
    for (const c of decision.conditions) {
      conditions = setCondition(conditions, { ...c, observedGeneration: generation }, nowDate);
    }
    conditions = setCondition(
      conditions,
      {
        type: ConditionType.InvalidSpec,
        status: "False",
        reason: "Valid",
        message: "spec is valid",
        observedGeneration: generation,
      },
      nowDate,
    );
    const s = decision.state;
    const history = s.history.map((h) => ({
      revision: h.revision,
      ...(h.modelVersion ? { modelVersion: h.modelVersion.slice(0, 63) } : {}),
      ...(h.image ? { image: h.image } : {}),
      outcome: h.outcome,
      reason: h.reason,
      message: h.message,
      time: h.time,
    }));
    return {
      observedGeneration: generation,
      phase: decision.phase,
      message: decision.message,
      ...(s.stableRevision ? { stableRevision: s.stableRevision } : {}),
      ...(s.canaryRevision && s.canaryRevision !== s.stableRevision
        ? { canaryRevision: s.canaryRevision }
        : {}),
      currentStepIndex: decision.currentStepIndex,
      canaryWeight: decision.canaryWeight,
      replicas: observed.reduce((n, o) => n + o.replicas, 0),
      readyReplicas: observed.reduce((n, o) => n + o.readyReplicas, 0),
      selector: selectorString(deploymentSelector(md.metadata.name)),
      ...(s.rejected ? { rejectedRevision: s.rejected.revision } : {}),
      ...(s.stepStartedAt ? { stepStartTime: s.stepStartedAt } : {}),
      ...(s.pausedAt ? { pauseStartTime: s.pausedAt } : {}),
      ...(s.canaryStartedAt ? { canaryStartTime: s.canaryStartedAt } : {}),
      history,
      rolloutState: { ...s },
      conditions,
    };
  }

  /** InvalidSpec: say why on the status, touch nothing else (the running revision keeps serving). */
  private async reportInvalid(
    owner: Owner,
    current: OwnedStatus | undefined,
    generation: number,
    message: string,
    log: Logger,
    reason = "InvalidSpec",
  ): Promise<void> {
    const now = new Date(this.d.now());
    let conditions: Condition[] = (current?.conditions ?? []).filter((c) => OWN_CONDITIONS.has(c.type));
    conditions = setCondition(
      conditions,
      { type: ConditionType.InvalidSpec, status: "True", reason, message, observedGeneration: generation },
      now,
    );
    conditions = setCondition(
      conditions,
      { type: ConditionType.Degraded, status: "True", reason, message, observedGeneration: generation },
      now,
    );
    const next: OwnedStatus = {
      ...ownedFields(current),
      observedGeneration: generation,
      phase: "Degraded",
      message: `${reason}: ${message}`.slice(0, 4096),
      conditions,
    };
    await this.writeStatus(owner, current, next, log);
  }

  private async writeStatus(
    owner: Owner,
    current: OwnedStatus | undefined,
    next: OwnedStatus,
    log: Logger,
  ): Promise<void> {
    if (statusEqual(ownedFields(current), next)) return;
    const out = (await this.d.client.applyStatus(
      { ...CRD_REF, namespace: owner.namespace, name: owner.name },
      next,
    )) as {
      metadata?: { resourceVersion?: string };
    };
    const rv = out?.metadata?.resourceVersion;
    if (rv)
      this.written.set(`${owner.namespace}/${owner.name}`, {
        status: next,
        resourceVersion: rv,
        at: this.d.now(),
      });
    log.debug({ phase: next.phase }, "status written");
  }

  /** The cached object, with the status we wrote laid over it until the cache has caught up. */
  private withWrittenStatus<T extends { metadata?: { resourceVersion?: string }; status?: OwnedStatus }>(
    key: string,
    cached: T,
  ): T {
    const w = this.written.get(key);
    if (!w) return cached;
    // The watch delivers events in order: once our write's version is in the cache, so is our status.
    if (
      cached.metadata?.resourceVersion === w.resourceVersion ||
      this.d.now() - w.at > WRITTEN_STATUS_TTL_MS
    ) {
      this.written.delete(key);
      return cached;
    }
    const others = (cached.status?.conditions ?? []).filter((c) => !OWN_CONDITIONS.has(c.type));
    return {
      ...cached,
      status: {
        ...(cached.status ?? {}),
        ...w.status,
        conditions: [...(w.status.conditions ?? []), ...others],
      },
    };
  }

  /** A named ServiceAccount must be labelled for model runtimes (docs/service-accounts.md). */
  private async checkServiceAccount(md: ModelDeployment): Promise<string | undefined> {
    const sa = md.spec.template?.serviceAccountName;
    if (!sa) return undefined;
    const key = `${md.metadata.namespace}/${sa}`;
    const now = this.d.now();
    const cached = this.saChecks.get(key);
    if (cached && now - cached.at < SA_CACHE_MS) return cached.ok ? undefined : cached.message;
    let ok = false;
    let message = "";
    try {
      const obj = await this.d.client.read<{ metadata?: { labels?: Record<string, string> } }>({
        apiVersion: "v1",
        kind: "ServiceAccount",
        namespace: md.metadata.namespace ?? "",
        name: sa,
      });
      ok = obj.metadata?.labels?.[MODEL_RUNTIME_SA_LABEL] === MODEL_RUNTIME_SA_LABEL_VALUE;
      if (!ok) {
        message = `spec.template.serviceAccountName: ServiceAccount ${sa} is not labelled ${MODEL_RUNTIME_SA_LABEL}=${MODEL_RUNTIME_SA_LABEL_VALUE}; a namespace admin must label it before model pods may use it`;
      }
    } catch (err) {
      if (classifyApiError(err) !== "notFound") throw err;
      message = `spec.template.serviceAccountName: ServiceAccount ${sa} does not exist`;
    }
    this.saChecks.set(key, { at: now, ok, message });
    return ok ? undefined : message;
  }
}

/** The part of a status this writer owns (not status.health, not the prober's conditions). */
function ownedFields(s: OwnedStatus | undefined): OwnedStatus {
  if (!s) return {};
  const { health: _health, ...rest } = s as OwnedStatus & { health?: unknown };
  return { ...rest, conditions: (s.conditions ?? []).filter((c) => OWN_CONDITIONS.has(c.type)) };
}

function statusEqual(a: OwnedStatus, b: OwnedStatus): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
