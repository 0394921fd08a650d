// A supervised wrapper around client-node's informer (ListWatch). client-node 2.0.1 gives a cache
// and callbacks, but it stays stopped after most errors, may go silent without telling anyone, has
// no periodic resync, and turns a throwing handler into an unhandled rejection (or, during a list,
// into an aborted start). This class restarts it with backoff, restarts it when it is silent too
// long, resyncs, and isolates handlers.
//
// Each (re)start uses a fresh ListWatch, and this class keeps its own cache. Reusing one ListWatch
// across stop()/start() races: the aborted watch's late done callback can abort the new watch and
// reconnect a second time. A fresh instance relists; the relist is diffed against our cache, so an
// unchanged object causes no event, a changed one an 'update', and a vanished one a 'delete'.
import {
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  type ListPromise,
  ListWatch,
  type ObjectCache,
  Watch,
} from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { Clock, TimerHandle } from "../lib/clock.ts";

/** What client-node's makeInformer returns; tests substitute a ListWatch over a fake Watch. */
export type ListWatchInformer<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;
export type InformerFactory<T extends KubernetesObject> = () => ListWatchInformer<T>;

export type ChangeKind = "add" | "update" | "delete";
/** `initialList`: the event comes from the first list, before the cache synced (enqueue it low). */
export interface ChangeInfo {
  initialList: boolean;
}
export type ChangeHandler<T> = (obj: T, kind: ChangeKind, info: ChangeInfo) => void;
export type ResyncHandler<T> = (obj: T) => void;

export const RestartReason = {
  /** The informer reported an error and stopped. */
  Error: "error",
  /** Nothing (no event, no reconnect) was seen for staleAfterMs. */
  Stale: "stale",
} as const;
export type RestartReason = (typeof RestartReason)[keyof typeof RestartReason];

export interface InformerBackoff {
  /** First delay after an error; doubles per consecutive error. Default 1 s. */
  baseMs: number;
  /** Largest delay. Default 60 s. */
  capMs: number;
  /** A run that stayed synced this long before failing resets the backoff. Default 60 s. */
  healthyResetMs: number;
}

export interface SupervisedInformerOptions<T extends KubernetesObject> {
  /** Names the watched resource in logs, e.g. "modeldeployments". */
  name: string;
  /** Builds a fresh client-node informer; see listWatchFactory. */
  informerFactory: InformerFactory<T>;
  log: Logger;
  clock: Clock;
  /** For backoff and resync jitter; default Math.random. */
  random?: () => number;
  /** Period of onResync callbacks, jittered by up to +-10%. Default 10 min. 0 disables. */
  resyncMs?: number;
  /** Restart when nothing was seen for this long. Default 5 min. 0 disables. */
  staleAfterMs?: number;
  backoff?: Partial<InformerBackoff>;
  /** Drops, in place, what the cache need not keep (see trim.ts); runs before an object is stored. */
  trim?: (obj: T) => void;
}

export interface InformerStats {
  running: boolean;
  synced: boolean;
  /** Objects in the cache. */
  objects: number;
  /** Restarts after the first start, by reason. */
  restarts: number;
  restartsByReason: Record<RestartReason, number>;
  /** Errors reported by client-node (list or watch failures). */
  errors: number;
  /** Exceptions thrown by our change or resync handlers (logged and swallowed). */
  handlerErrors: number;
  resyncs: number;
  /** Last time (clock ms) the informer (re)started, connected or delivered an object event. */
  lastEventAt: number | undefined;
  lastError: string | undefined;
  lastRestartAt: number | undefined;
  lastRestartReason: RestartReason | undefined;
}

export interface ListWatchSource<T extends KubernetesObject> {
  kubeConfig: KubeConfig;
  /** e.g. "/apis/modelship.dev/v1alpha1/modeldeployments" or "/apis/apps/v1/deployments". */
  path: string;
  listFn: ListPromise<T>;
  labelSelector?: string;
  fieldSelector?: string;
}

/** The production factory: a client-node ListWatch (what makeInformer builds, plus fieldSelector). */
export function listWatchFactory<T extends KubernetesObject>(source: ListWatchSource<T>): InformerFactory<T> {
  const { kubeConfig, path, listFn, labelSelector, fieldSelector } = source;
  return () => new ListWatch<T>(path, new Watch(kubeConfig), listFn, false, labelSelector, fieldSelector);
}

/** One life of a client-node informer. Callbacks from an older run are ignored. */
interface Run<T extends KubernetesObject> {
  informer: ListWatchInformer<T>;
  /** Set once the run errored or was retired; its later callbacks are ignored. */
  over: boolean;
  syncedAt: number | undefined;
}

const defaultBackoff: InformerBackoff = Object.freeze({
  baseMs: 1000,
  capMs: 60_000,
  healthyResetMs: 60_000,
});

export class SupervisedInformer<T extends KubernetesObject> {
  readonly name: string;
  #factory: InformerFactory<T>;
  #log: Logger;
  #clock: Clock;
  #random: () => number;
  #resyncMs: number;
  #staleAfterMs: number;
  #backoff: InformerBackoff;
  #trim: ((obj: T) => void) | undefined;

  /** namespace ("" for cluster-scoped) -> name -> object. */
  #cache = new Map<string, Map<string, T>>();
  /**
   * controller uid -> the objects whose controlling ownerReference names it: a reconcile reads its
   * own children from here instead of scanning every object of the namespace (which made each
   * reconcile, and so each resync, grow with the namespace's size).
   */
  #byController = new Map<string, Set<T>>();
  #changeHandlers: ChangeHandler<T>[] = [];
  #resyncHandlers: ResyncHandler<T>[] = [];

  #running = false;
  #synced = false;
  #run: Run<T> | undefined;
  #failures = 0;
  #restartTimer: TimerHandle | undefined;
  #watchdogTimer: TimerHandle | undefined;
  #resyncTimer: TimerHandle | undefined;
  #syncWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];

  #stats = {
    restarts: 0,
    restartsByReason: { error: 0, stale: 0 } as Record<RestartReason, number>,
    errors: 0,
    handlerErrors: 0,
    resyncs: 0,
    lastEventAt: undefined as number | undefined,
    lastError: undefined as string | undefined,
    lastRestartAt: undefined as number | undefined,
    lastRestartReason: undefined as RestartReason | undefined,
  };

  constructor(options: SupervisedInformerOptions<T>) {
    this.name = options.name;
    this.#factory = options.informerFactory;
    this.#log = options.log.child({ informer: options.name });
    this.#trim = options.trim;
    this.#clock = options.clock;
    this.#random = options.random ?? Math.random;
    this.#resyncMs = options.resyncMs ?? 10 * 60_000;
    this.#staleAfterMs = options.staleAfterMs ?? 5 * 60_000;
    this.#backoff = { ...defaultBackoff, ...options.backoff };
  }

  /** Registers a change handler; returns a function that removes it. A throwing handler is logged. */
  onChange(handler: ChangeHandler<T>): () => void {
    this.#changeHandlers.push(handler);
    return () => {
      this.#changeHandlers = this.#changeHandlers.filter((h) => h !== handler);
    };
  }

  /** Registers a handler called with every cached object each resync period. */
  onResync(handler: ResyncHandler<T>): () => void {
    this.#resyncHandlers.push(handler);
    return () => {
      this.#resyncHandlers = this.#resyncHandlers.filter((h) => h !== handler);
    };
  }

  /**
   * Starts watching. Resolves once the first list is in the cache; list failures before that are
   * retried with backoff, so this waits as long as the API is unreachable (race it with a timeout
   * if needed). Rejects if stop() is called first.
   */
  start(): Promise<void> {
    const synced = this.#synced
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => this.#syncWaiters.push({ resolve, reject }));
    if (!this.#running) {
      this.#running = true;
      this.#launch();
      this.#armWatchdog();
      // Started again after stop(): the cache synced before, so resync resumes now.
      if (this.#synced) this.#armResync();
    }
    return synced;
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    for (const timer of [this.#restartTimer, this.#watchdogTimer, this.#resyncTimer]) {
      if (timer !== undefined) this.#clock.clearTimeout(timer);
    }
    this.#restartTimer = this.#watchdogTimer = this.#resyncTimer = undefined;
    const run = this.#run;
    this.#run = undefined;
    const waiters = this.#syncWaiters;
    this.#syncWaiters = [];
    for (const w of waiters) w.reject(new Error(`informer ${this.name} stopped before its cache synced`));
    if (run !== undefined) {
      run.over = true;
      await this.#stopQuietly(run);
    }
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#cache.get(namespace ?? "")?.get(name);
  }

  /** The objects whose controller (the ownerReference with controller: true) has this uid. */
  byController(uid: string): T[] {
    const objects = this.#byController.get(uid);
    return objects ? [...objects] : [];
  }

  list(namespace?: string): T[] {
    if (namespace !== undefined) return [...(this.#cache.get(namespace)?.values() ?? [])];
    const all: T[] = [];
    for (const objects of this.#cache.values()) all.push(...objects.values());
    return all;
  }

  stats(): InformerStats {
    return {
      ...this.#stats,
      restartsByReason: { ...this.#stats.restartsByReason },
      running: this.#running,
      synced: this.#synced,
      objects: this.#count(),
    };
  }

  #launch(): void {
    let informer: ListWatchInformer<T>;
    try {
      informer = this.#factory();
    } catch (err) {
      // Thrown from a timer callback this would crash the process; back off and retry instead.
      this.#run = undefined;
      this.#scheduleRestart(err, undefined);
      return;
    }
    const run: Run<T> = { informer, over: false, syncedAt: undefined };
    this.#run = run;
    this.#touch();
    informer.on("connect", () => {
      if (!run.over) this.#touch();
    });
    informer.on("add", (obj) => this.#upsert(run, obj));
    informer.on("update", (obj) => this.#upsert(run, obj));
    informer.on("delete", (obj) => this.#remove(run, obj));
    informer.on("error", (err) => this.#onError(run, err));
    informer.start().then(
      () => this.#afterList(run),
      (err: unknown) => this.#onError(run, err),
    );
  }

  /** start() resolved: the list landed unless the run errored meanwhile. */
  #afterList(run: Run<T>): void {
    if (run.over || run !== this.#run) return;
    // Objects we hold that the fresh list lacks were deleted while we were not watching.
    for (const [namespace, objects] of this.#cache) {
      for (const [name, obj] of objects) {
        if (run.informer.get(name, namespace || undefined) === undefined) this.#remove(run, obj);
      }
    }
    run.syncedAt = this.#clock.now();
    this.#touch();
    if (!this.#synced) {
      this.#synced = true;
      this.#log.info({ objects: this.#count() }, "informer cache synced");
      const waiters = this.#syncWaiters;
      this.#syncWaiters = [];
      for (const w of waiters) w.resolve();
      this.#armResync();
    }
  }

  #onError(run: Run<T>, err: unknown): void {
    if (run.over || run !== this.#run || !this.#running) return;
    run.over = true;
    void this.#stopQuietly(run);
    this.#scheduleRestart(err, run.syncedAt);
  }

  /** Counts the failure and restarts after a jittered exponential backoff. */
  #scheduleRestart(err: unknown, syncedAt: number | undefined): void {
    const now = this.#clock.now();
    if (syncedAt !== undefined && now - syncedAt >= this.#backoff.healthyResetMs) this.#failures = 0;
    const base = Math.min(this.#backoff.capMs, this.#backoff.baseMs * 2 ** this.#failures);
    // Equal jitter: many informers failing together (API server restart) do not return together.
    const delayMs = Math.round(base / 2 + (this.#random() * base) / 2);
    this.#failures += 1;
    this.#stats.errors += 1;
    this.#stats.lastError = describeError(err);
    this.#log.warn({ err, delayMs, failures: this.#failures }, "informer failed; restarting after backoff");
    this.#restartTimer = this.#clock.setTimeout(() => {
      this.#restartTimer = undefined;
      if (this.#running) this.#restart(RestartReason.Error);
    }, delayMs);
  }

  #restart(reason: RestartReason): void {
    this.#stats.restarts += 1;
    this.#stats.restartsByReason[reason] += 1;
    this.#stats.lastRestartAt = this.#clock.now();
    this.#stats.lastRestartReason = reason;
    this.#log.info({ reason, restarts: this.#stats.restarts }, "informer restarting");
    this.#launch();
  }

  #armWatchdog(): void {
    if (!(this.#staleAfterMs > 0)) return;
    const checkEveryMs = Math.max(100, Math.floor(this.#staleAfterMs / 4));
    this.#watchdogTimer = this.#clock.setTimeout(() => {
      this.#watchdogTimer = undefined;
      if (!this.#running) return;
      const run = this.#run;
      const silentMs = this.#clock.now() - (this.#stats.lastEventAt ?? 0);
      // While a restart is pending after an error, the backoff owns the timing.
      if (
        run !== undefined &&
        !run.over &&
        this.#restartTimer === undefined &&
        silentMs >= this.#staleAfterMs
      ) {
        this.#log.warn({ silentMs }, "informer silent for too long; restarting it");
        run.over = true;
        void this.#stopQuietly(run);
        this.#restart(RestartReason.Stale);
      }
      this.#armWatchdog();
    }, checkEveryMs);
  }

  #armResync(): void {
    if (!(this.#resyncMs > 0) || !this.#running) return;
    const delayMs = Math.round(this.#resyncMs * (0.9 + 0.2 * this.#random()));
    this.#resyncTimer = this.#clock.setTimeout(() => {
      this.#resyncTimer = undefined;
      if (!this.#running) return;
      this.#stats.resyncs += 1;
      for (const obj of this.list()) {
        for (const handler of this.#resyncHandlers) this.#callSafely("resync", obj, () => handler(obj));
      }
      this.#armResync();
    }, delayMs);
  }

  #upsert(run: Run<T>, obj: T): void {
    if (run.over || run !== this.#run) return;
    this.#touch();
    this.#trim?.(obj);
    const namespace = obj.metadata?.namespace ?? "";
    const name = obj.metadata?.name ?? "";
    let objects = this.#cache.get(namespace);
    if (objects === undefined) {
      objects = new Map();
      this.#cache.set(namespace, objects);
    }
    const previous = objects.get(name);
    if (previous !== undefined) this.#unindex(previous);
    objects.set(name, obj);
    this.#index(obj);
    if (previous === undefined) this.#emit(obj, "add");
    else if (!sameVersion(previous, obj)) this.#emit(obj, "update");
    // Same resourceVersion: a relist after a restart saw an unchanged object; nothing to report.
  }

  #remove(run: Run<T>, obj: T): void {
    if (run.over || run !== this.#run) return;
    this.#touch();
    const namespace = obj.metadata?.namespace ?? "";
    const objects = this.#cache.get(namespace);
    const name = obj.metadata?.name ?? "";
    const stored = objects?.get(name);
    if (objects === undefined || stored === undefined) return;
    objects.delete(name);
    this.#unindex(stored);
    if (objects.size === 0) this.#cache.delete(namespace);
    this.#emit(obj, "delete");
  }

  #index(obj: T): void {
    const uid = controllerUidOf(obj);
    if (uid === undefined) return;
    let objects = this.#byController.get(uid);
    if (objects === undefined) {
      objects = new Set();
      this.#byController.set(uid, objects);
    }
    objects.add(obj);
  }

  #unindex(obj: T): void {
    const uid = controllerUidOf(obj);
    const objects = uid === undefined ? undefined : this.#byController.get(uid);
    if (uid === undefined || objects === undefined) return;
    objects.delete(obj);
    if (objects.size === 0) this.#byController.delete(uid);
  }

  #emit(obj: T, kind: ChangeKind): void {
    const info: ChangeInfo = { initialList: !this.#synced };
    for (const handler of this.#changeHandlers) this.#callSafely(kind, obj, () => handler(obj, kind, info));
  }

  /** Runs a handler so that neither a throw nor a rejected promise escapes into client-node. */
  #callSafely(event: string, obj: T, call: () => unknown): void {
    const failed = (err: unknown): void => {
      this.#stats.handlerErrors += 1;
      this.#log.error(
        { err, event, namespace: obj.metadata?.namespace, name: obj.metadata?.name },
        "informer handler threw; event dropped for this handler",
      );
    };
    try {
      const result = call();
      if (result instanceof Promise) result.catch(failed);
    } catch (err) {
      failed(err);
    }
  }

  async #stopQuietly(run: Run<T>): Promise<void> {
    try {
      await run.informer.stop();
    } catch (err) {
      this.#log.debug({ err }, "stopping an informer run failed");
    }
  }

  #touch(): void {
    this.#stats.lastEventAt = this.#clock.now();
  }

  #count(): number {
    let n = 0;
    for (const objects of this.#cache.values()) n += objects.size;
    return n;
  }
}

function sameVersion(a: KubernetesObject, b: KubernetesObject): boolean {
  const rv = a.metadata?.resourceVersion;
  return rv !== undefined && rv === b.metadata?.resourceVersion;
}

function describeError(err: unknown): string {
  if (err instanceof Error) {
    const status = (err as { statusCode?: unknown }).statusCode;
    return typeof status === "number" ? `${err.message} (HTTP ${status})` : err.message;
  }
  return String(err);
}

/** The uid in an object's controlling ownerReference (controller: true), if it has one. */
export function controllerUidOf(obj: {
  metadata?: { ownerReferences?: { uid: string; controller?: boolean }[] };
}): string | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true)?.uid;
}
