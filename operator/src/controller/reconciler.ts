// reconcile(key): one pass over a ModelDeployment, as a script of named steps. Level-triggered:
// the key carries no event; every call recomputes everything from what is there.
//   1. snapshot   read caches (and the ServiceAccount) into one read-only context   snapshot.ts
//   2. guards     pure predicates; the first objection is written to status, and we stop  guards.ts
//   3. decide     the rollout engine, pure                                  rollout/decide.ts
//   4. render     every child the decision wants, pure                      render/children.ts
//   5. apply      write what drifted, Deployments first; then prune         apply-children.ts
//   6. compose    the new status, pure                                      compose-status.ts
//   7. write      one status write, only if it changed                      status-writer.ts
//   8. events     one Event per transition, metrics from its fields
import type { Logger } from "pino";
import { ConditionType, type ModelDeployment } from "../api/index.ts";
import { ReconcileReason, SpecReason } from "../api/reasons.ts";
import type { ApiClient } from "../kube/api-client.ts";
import { type ApiErrorClass, classifyApiError } from "../kube/api-client.ts";
import type { EventRecorder } from "../kube/events.ts";
import { renderChildren } from "../render/children.ts";
import { deploymentSelector, selectorString } from "../render/labels.ts";
import type { RevisionSpec } from "../render/revision.ts";
import { decideRollout } from "../rollout/decide.ts";
import type { RolloutDecision, RolloutEvent } from "../rollout/types.ts";
import { applyChildren, type ChildCaches, type ChildFailure } from "./apply-children.ts";
import { composeStatus, composeStoppedStatus, type OwnedStatus, type Stop } from "./compose-status.ts";
import { type Blocked, preflight } from "./guards.ts";
import type { ObservedDeployment, ObservedPod, ObservedRevision } from "./observe.ts";
import { rolloutInput, type VerdictSource } from "./rollout-input.ts";
import {
  type Cache,
  type CachedModelDeployment,
  loadSnapshot,
  type Owned,
  type ReconcileContext,
  ServiceAccountCheck,
} from "./snapshot.ts";
import { StatusWriter, type WriteOutcome } from "./status-writer.ts";
import { splitObjectKey } from "./work-queue.ts";
import { type ReconcileResult, TerminalError } from "./workers.ts";

/**
 * Where this reconcile's decision left the rollout. Fresher than md.status (the last status
 * written): a decision may walk several steps or promote, and the prober judges by where it is now.
 */
export interface RolloutPosition {
  stepIndex: number;
  stableRevision?: string | undefined;
  canaryRevision?: string | undefined;
}

/** The prober, as the reconciler uses it: verdicts in, probe targets out. */
export interface HealthSource extends VerdictSource {
  /** Which revisions of `key` to probe, where their Ready pods are, and where the rollout stands. */
  setTargets(
    key: string,
    md: ModelDeployment,
    revisions: ObservedRevision[],
    specOf: (revision: string) => ModelDeployment["spec"],
    position?: RolloutPosition,
  ): void;
  forget(key: string): void;
}

export interface ReconcilerDeps extends ChildCaches {
  modelDeployments: Cache<unknown>;
  deployments: Cache<ObservedDeployment & Owned>;
  /** ReplicaSets (metadata): which Deployment each pod belongs to. */
  replicaSets: Cache<Owned>;
  pods: Cache<ObservedPod & Owned>;
  client: ApiClient;
  events: Pick<EventRecorder, "record" | "forget">;
  log: Logger;
  now: () => number;
  health?: HealthSource;
  /** Every rollout transition, for metrics (which read its fields, never its message). */
  onRolloutEvent?: (e: RolloutEvent) => void;
  /** The longest a decision may defer its next look (the resync period). Default: 10 minutes. */
  maxRequeueMs?: number;
  /** A child could not be applied or pruned, by kind and ReconcileReason (for metrics). */
  onChildFailure?: (kind: string, reason: string) => void;
  /** Whether the Gateway API HTTPRoute kind is served (discovery). */
  gatewayApiAvailable: () => boolean;
  /** Whether Traefik's TraefikService kind is served (discovery). Absent: not served. */
  traefikAvailable?: () => boolean;
  /** The download container image for new revisions (--model-downloader-image). Default: render's. */
  modelDownloaderImage?: string;
}

/** The shortest requeue: a decision asking for less would spin. */
const MIN_REQUEUE_MS = 250;
/** The longest requeue when no resync period is set. */
const DEFAULT_MAX_REQUEUE_MS = 10 * 60_000;
/** How often a name held by a foreign object is looked at again. */
const NAME_CONFLICT_RECHECK_MS = 30_000;

export class Reconciler {
  private readonly d: ReconcilerDeps;
  private readonly status: StatusWriter;
  private readonly serviceAccounts: ServiceAccountCheck;

  constructor(deps: ReconcilerDeps) {
    this.d = deps;
    this.status = new StatusWriter(deps.client, deps.now);
    this.serviceAccounts = new ServiceAccountCheck(deps.client);
  }

  reconcile = async (key: string): Promise<ReconcileResult> => {
    const { namespace = "", name } = splitObjectKey(key);
    const cached = this.d.modelDeployments.get(name, namespace) as CachedModelDeployment | undefined;
    // Deleted: children go with it through garbage collection (ownerReferences). Being deleted (a
    // finalizer or a foreground deletion holds it): garbage collection is removing the children, and
    // putting them back would fight it and keep the deletion from ever finishing.
    if (!cached || cached.metadata?.deletionTimestamp) return this.letGo(key);

    const log = this.d.log.child({ namespace, name });
    const read = this.status.overlay(key, cached);
    if (!read) {
      // A status write was refused on the version the cache still shows: wait until it moves on.
      log.debug("cache is behind a refused status write; looking again shortly");
      return { requeue: true };
    }
    const ctx = await loadSnapshot(
      {
        deployments: this.d.deployments,
        replicaSets: this.d.replicaSets,
        pods: this.d.pods,
        gatewayApiAvailable: this.d.gatewayApiAvailable,
        traefikAvailable: this.d.traefikAvailable ?? (() => false),
        serviceAccounts: this.serviceAccounts,
      },
      key,
      read,
      { namespace, name, log, now: this.d.now() },
    );

    const pre = preflight(ctx);
    if ("blocked" in pre) return this.block(ctx, pre.blocked);
    const { md } = pre;

    const decision = decideRollout(rolloutInput(ctx, md, this.d.health));

    const revisionSpecs = liveOnly(ctx.revisionSpecs, decision);
    const children = renderChildren(
      md,
      ctx.owner,
      decision,
      revisionSpecs,
      ctx.madeWith,
      this.d.modelDownloaderImage,
    );
    this.reportUntrusted(ctx);
    for (const revision of children.unknownRevisions) {
      // Unknown pods (no snapshot, e.g. status lost): leave its Deployment as it is rather than guess.
      ctx.log.warn({ revision }, "no spec snapshot for revision; not re-rendering it");
    }

    const failure = await applyChildren({
      client: this.d.client,
      caches: this.d,
      owner: ctx.owner,
      desired: children.objects,
      log: ctx.log,
    });
    if (failure) return this.childFailed(ctx, failure);

    const next = composeStatus({
      current: ctx.status,
      generation: ctx.generation,
      decision,
      replicas: ctx.observed.reduce((n, o) => n + o.replicas, 0),
      readyReplicas: ctx.observed.reduce((n, o) => n + o.readyReplicas, 0),
      selector: selectorString(deploymentSelector(ctx.owner.name)),
      revisionSpecs,
      now: ctx.now,
    });
    try {
      // Refused (the object changed since it was read): nothing of this decision is recorded, no
      // event is sent; the next pass decides again from the newer version.
      if ((await this.writeStatus(ctx, next)) === "conflict") return { requeue: true };
    } catch (err) {
      return this.goingAway(ctx, err, "notFound");
    }

    for (const e of decision.events) {
      this.d.events.record(ctx.target, e);
      this.d.onRolloutEvent?.(e);
      ctx.log.info({ reason: e.reason, event: e.type, ...(e.fields ?? {}) }, e.message);
    }
    this.d.health?.setTargets(key, md, ctx.observed, (r) => ({ ...md.spec, ...(revisionSpecs[r] ?? {}) }), {
      stepIndex: decision.currentStepIndex,
      stableRevision: decision.state.stableRevision,
      canaryRevision: decision.state.canaryRevision,
    });
    return decision.requeueAfterMs !== undefined
      ? { requeueAfterMs: this.clampRequeue(decision.requeueAfterMs) }
      : {};
  };

  /**
   * A snapshot was not trusted although status names its revision as stable or canary: someone wrote
   * a revision into status that has no pods of this operator's making. Say so; nothing runs from it.
   * (A snapshot of a revision that just drained is dropped quietly.)
   */
  private reportUntrusted(ctx: ReconcileContext): void {
    const named = new Set([ctx.status?.stableRevision, ctx.status?.canaryRevision]);
    for (const { revision, why } of ctx.ignoredSnapshots) {
      if (!named.has(revision)) continue;
      const message = `status.revisionSpecs["${revision}"] ignored: ${why}`;
      ctx.log.warn({ revision }, message);
      this.d.events.record(ctx.target, { type: "Warning", reason: SpecReason.UntrustedStatus, message });
    }
  }

  /** A guard objected: say why on the status and as a Warning, touch nothing else. */
  private async block(ctx: ReconcileContext, b: Blocked): Promise<ReconcileResult> {
    const stopped = await this.stop(ctx, { condition: ConditionType.InvalidSpec, ...b });
    if (stopped) return stopped;
    // Nothing running is touched and nothing retries hot: the next spec change re-enqueues.
    if (b.requeueAfterMs === undefined) throw new TerminalError(`${b.reason}: ${b.message}`);
    return { requeueAfterMs: b.requeueAfterMs };
  }

  /**
   * A child could not be put in place: ReconcileError on the status (with the API server's words),
   * a Warning, a metric. The decision is not recorded (the cluster did not follow it), so the next
   * pass decides again from what is really there.
   */
  private async childFailed(ctx: ReconcileContext, f: ChildFailure): Promise<ReconcileResult> {
    if (f.errorClass === "namespaceGone") return this.letGo(ctx.key);
    this.d.onChildFailure?.(f.kind, f.reason);
    ctx.log.warn({ kind: f.kind, child: f.name, reason: f.reason }, f.message);
    const stopped = await this.stop(ctx, { condition: ConditionType.ReconcileError, ...f });
    if (stopped) return stopped;
    // Refused: the same object will be refused again until the spec changes (which re-enqueues).
    if (f.reason === ReconcileReason.ChildRejected) return {};
    // A foreign object is not in our caches, so no event says when it is gone: look again.
    if (f.reason === ReconcileReason.NameConflict) return { requeueAfterMs: NAME_CONFLICT_RECHECK_MS };
    throw f.error;
  }

  /** Writes a stopped status and its Warning; a result when the object is going away or changed since read. */
  private async stop(ctx: ReconcileContext, stop: Stop): Promise<ReconcileResult | undefined> {
    const next = composeStoppedStatus(ctx.status, ctx.generation, stop, ctx.now);
    try {
      if ((await this.writeStatus(ctx, next)) === "conflict") return { requeue: true };
    } catch (err) {
      return this.goingAway(ctx, err, "notFound");
    }
    this.d.events.record(ctx.target, { type: "Warning", reason: stop.reason, message: stop.message });
    return undefined;
  }

  private writeStatus(ctx: ReconcileContext, next: OwnedStatus): Promise<WriteOutcome> {
    return this.status.write(
      ctx.owner,
      { status: ctx.status, resourceVersion: ctx.resourceVersion },
      next,
      ctx.log,
    );
  }

  /**
   * The namespace is being deleted or gone (a create is refused), or the ModelDeployment was deleted
   * since the cache saw it (its status write finds nothing): not an error to retry, and nothing to
   * create. The watch's delete event follows.
   */
  private goingAway(ctx: ReconcileContext, err: unknown, also?: ApiErrorClass): ReconcileResult {
    const why = classifyApiError(err);
    if (why !== "namespaceGone" && why !== also) throw err;
    ctx.log.debug(
      { why },
      "ModelDeployment or its namespace is going away; leaving it to garbage collection",
    );
    return this.letGo(ctx.key);
  }

  /**
   * A decision's "look again in" is a hint, not a timer to trust: a week-long pause must not become
   * a week-long Node timer (above 2^31-1 ms it fires at once, and the key would spin). Looking again
   * at least every resync period is harmless: the decision is level-triggered.
   */
  private clampRequeue(ms: number): number {
    const ceiling = this.d.maxRequeueMs ?? DEFAULT_MAX_REQUEUE_MS;
    return Math.min(ceiling, Math.max(MIN_REQUEUE_MS, ms));
  }

  /**
   * Stops probing and forgets what we wrote or sent for a ModelDeployment that is gone or going:
   * the one place where per-object state is dropped (a deleted object's reconcile always ends here),
   * so churn leaves nothing behind. `gone` tells the queue to drop its timers for the key too.
   */
  private letGo(key: string): ReconcileResult {
    const { namespace = "", name } = splitObjectKey(key);
    this.d.health?.forget(key);
    this.status.forget(key);
    this.d.events.forget(namespace, name);
    return { gone: true };
  }
}

/** Snapshots of the revisions the decision keeps; the others' pods are going. */
function liveOnly(
  specs: Readonly<Record<string, RevisionSpec>>,
  decision: Pick<RolloutDecision, "revisions">,
): Record<string, RevisionSpec> {
  const live = new Set(decision.revisions.map((r) => r.revision));
  return Object.fromEntries(Object.entries(specs).filter(([r]) => live.has(r)));
}
