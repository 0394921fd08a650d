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

export class EventRecorder {
  private readonly recent = new Map<string, number>();
  private readonly client: Pick<ApiClient, "createEvent">;
  private readonly log: Logger;
  private readonly instance: string;
  private seq = 0;

  constructor(client: Pick<ApiClient, "createEvent">, log: Logger, instance: string) {
    this.client = client;
    this.log = log;
    this.instance = instance;
  }

  /** Fire and forget: an event that cannot be written is logged, never fails a reconcile. */
  record(target: EventTarget, e: EventSpec): void {
    const key = `${target.uid}|${e.type}|${e.reason}|${e.message}`;
    const now = Date.now();
    const last = this.recent.get(key);
    if (last !== undefined && now - last < REPEAT_WINDOW_MS) return;
    if (this.recent.size >= MAX_REMEMBERED) this.recent.clear();
    this.recent.set(key, now);
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
}
