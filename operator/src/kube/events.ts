// Kubernetes Events for what a person wants to know (kubectl describe mdep, kubectl events).
// The same event for the same object is not repeated within a window: a level-triggered
// reconcile that re-decides the same thing every resync must not flood the namespace.
import { V1MicroTime } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { type ApiClient, classifyApiError } from "./api-client.ts";

export interface EventTarget {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
}

export interface EventSpec {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
  action?: string;
}

const REPEAT_WINDOW_MS = 10 * 60 * 1000;
const MAX_REMEMBERED = 10_000;

export interface EventRecorderOptions {
  /** Wall clock (ms); default Date.now. */
  now?: () => number;
}

export class EventRecorder {
  /**
   * What was sent recently, per object ("namespace/name"), so that forget() drops an object's
   * entries at once when it is deleted (the uid is gone by then; the name is what the work queue
   * carries). Entries past the window are swept too, for objects whose deletion nobody saw.
   */
  private readonly recent = new Map<string, Map<string, number>>();
  private remembered = 0;
  private sweptAt: number;
  private readonly now: () => number;
  private readonly client: Pick<ApiClient, "createEvent">;
  private readonly log: Logger;
  private readonly instance: string;
  private seq = 0;

  constructor(
    client: Pick<ApiClient, "createEvent">,
    log: Logger,
    instance: string,
    options: EventRecorderOptions = {},
  ) {
    this.client = client;
    this.log = log;
    this.instance = instance;
    this.now = options.now ?? Date.now;
    this.sweptAt = this.now();
  }

  /** Entries held for repeat suppression (for tests and leak checks). */
  get size(): number {
    return this.remembered;
  }

  /** The object is gone: nothing it sent needs suppressing any more. */
  forget(namespace: string, name: string): void {
    const of = this.recent.get(`${namespace}/${name}`);
    if (of === undefined) return;
    this.remembered -= of.size;
    this.recent.delete(`${namespace}/${name}`);
  }

  /** Fire and forget: an event that cannot be written is logged, never fails a reconcile. */
  record(target: EventTarget, e: EventSpec): void {
    const now = this.now();
    if (now - this.sweptAt >= REPEAT_WINDOW_MS) this.sweep(now);
    const object = `${target.namespace}/${target.name}`;
    const key = `${target.uid}|${e.type}|${e.reason}|${e.message}`;
    const last = this.recent.get(object)?.get(key);
    if (last !== undefined && now - last < REPEAT_WINDOW_MS) return;
    if (this.remembered >= MAX_REMEMBERED) {
      this.recent.clear();
      this.remembered = 0;
    }
    let of = this.recent.get(object);
    if (of === undefined) {
      of = new Map();
      this.recent.set(object, of);
    }
    if (!of.has(key)) this.remembered += 1;
    of.set(key, now);
    const body = {
      // Like client-go's recorder: <object>.<hex time>, unique enough and readable in kubectl.
      metadata: {
        name: `${target.name}.${(BigInt(now) * 1_000_000n + BigInt(this.seq++ % 1_000_000)).toString(16)}`,
        namespace: target.namespace,
      },
      eventTime: new V1MicroTime(now),
      reportingController: "modelship.dev/operator",
      reportingInstance: this.instance.slice(0, 128),
      action: (e.action ?? e.reason).slice(0, 128),
      reason: e.reason.slice(0, 128),
      note: e.message.slice(0, 1024),
      type: e.type,
      regarding: {
        apiVersion: target.apiVersion,
        kind: target.kind,
        namespace: target.namespace,
        name: target.name,
        uid: target.uid,
      },
    };
    this.client.createEvent(target.namespace, body).catch((err: unknown) => {
      // A namespace being deleted (or gone) refuses new objects; that is not worth a warning.
      if (classifyApiError(err) === "namespaceGone") return;
      this.log.warn({ err, reason: e.reason }, "could not record event");
    });
  }

  /** Drops entries older than the window: they no longer suppress anything. */
  private sweep(now: number): void {
    this.sweptAt = now;
    for (const [object, of] of this.recent) {
      for (const [key, at] of of) {
        if (now - at < REPEAT_WINDOW_MS) continue;
        of.delete(key);
        this.remembered -= 1;
      }
      if (of.size === 0) this.recent.delete(object);
    }
  }
}
