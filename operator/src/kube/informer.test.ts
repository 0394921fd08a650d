import {
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  type V1ConfigMap,
  type Watch,
} from "@kubernetes/client-node";
import pino, { type Logger } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type Clock, createSystemClock, sleep } from "../lib/clock.ts";
import { type ChangeKind, SupervisedInformer, type SupervisedInformerOptions } from "./informer.ts";

// The real client-node ListWatch runs over a fake Watch and list function, so these tests exercise
// client-node's own cache and reconnect logic; only the HTTP stream is simulated.

type Obj = V1ConfigMap;
type WatchCallback = (phase: string, apiObj: KubernetesObject) => void;

interface WatchConn {
  params: Record<string, unknown>;
  callback: WatchCallback;
  end: (err: unknown) => void;
  ended: boolean;
}

/** A tiny API server: a set of objects, a list endpoint and watch streams the test drives. */
class FakeApi {
  objects = new Map<string, Obj>();
  rv = 100;
  listCalls = 0;
  listError: Error | undefined;
  conns: WatchConn[] = [];

  listFn = async (): Promise<KubernetesListObject<Obj>> => {
    this.listCalls += 1;
    if (this.listError) throw this.listError;
    return {
      apiVersion: "v1",
      kind: "ConfigMapList",
      metadata: { resourceVersion: String(this.rv) },
      items: [...this.objects.values()],
    };
  };

  watch = {
    watch: async (
      _path: string,
      params: Record<string, unknown>,
      callback: WatchCallback,
      done: (err: unknown) => void,
    ): Promise<AbortController> => {
      const controller = new AbortController();
      const conn: WatchConn = {
        params,
        callback,
        ended: false,
        end: (err) => {
          if (conn.ended) return;
          conn.ended = true;
          done(err);
        },
      };
      // Like the real Watch: aborting the request ends the stream later with an AbortError.
      controller.signal.addEventListener("abort", () => {
        queueMicrotask(() => conn.end(new DOMException("This operation was aborted", "AbortError")));
      });
      this.conns.push(conn);
      return controller;
    },
  };

  live(): WatchConn[] {
    return this.conns.filter((c) => !c.ended);
  }

  /** Creates or changes an object; `announce: false` simulates a missed event. */
  put(name: string, data: Record<string, string>, announce = true, controller?: string): Obj {
    this.rv += 1;
    const existed = this.objects.has(name);
    const ownerReferences = controller
      ? [{ apiVersion: "v1", kind: "Owner", name: controller, uid: controller, controller: true }]
      : undefined;
    const obj: Obj = {
      metadata: {
        name,
        namespace: "ns",
        resourceVersion: String(this.rv),
        ...(ownerReferences ? { ownerReferences } : {}),
      },
      data,
    };
    this.objects.set(name, obj);
    if (announce) for (const c of this.live()) c.callback(existed ? "MODIFIED" : "ADDED", obj);
    return obj;
  }

  delete(name: string, announce = true): void {
    const obj = this.objects.get(name);
    if (obj === undefined) return;
    this.objects.delete(name);
    this.rv += 1;
    if (announce) for (const c of this.live()) c.callback("DELETED", obj);
  }

  /** Ends every live watch with an error, as a reset connection or a 5xx would. */
  breakWatches(err: Error): void {
    for (const c of this.live()) c.end(err);
  }
}

type LogLine = { level: number; msg: string; event?: string; err?: { message: string } };

function captureLog(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level: "debug" }, { write: (s: string) => lines.push(JSON.parse(s) as LogLine) });
  return { log, lines };
}

let informer: SupervisedInformer<Obj> | undefined;
let clock: Clock;

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  clock = createSystemClock();
});
afterEach(async () => {
  await informer?.stop();
  informer = undefined;
  vi.useRealTimers();
});

function setup(options: Partial<SupervisedInformerOptions<Obj>> = {}): {
  api: FakeApi;
  inf: SupervisedInformer<Obj>;
  events: { kind: ChangeKind; name: string; initialList: boolean }[];
  lines: LogLine[];
} {
  const api = new FakeApi();
  const { log, lines } = captureLog();
  const inf = new SupervisedInformer<Obj>({
    name: "configmaps",
    informerFactory: () =>
      new ListWatch<Obj>(
        "/api/v1/configmaps",
        api.watch as unknown as Watch,
        api.listFn,
        false,
        undefined,
        undefined,
        {
          delayFn: (ms) => sleep(clock, ms),
        },
      ),
    log,
    clock,
    random: () => 0.5,
    backoff: { baseMs: 1000, capMs: 8000, healthyResetMs: 60_000 },
    ...options,
  });
  informer = inf;
  const events: { kind: ChangeKind; name: string; initialList: boolean }[] = [];
  inf.onChange((obj, kind, info) =>
    events.push({ kind, name: obj.metadata?.name ?? "", initialList: info.initialList }),
  );
  return { api, inf, events, lines };
}

const names = (objs: readonly Obj[]): string[] => objs.map((o) => o.metadata?.name ?? "").sort();

describe("SupervisedInformer", () => {
  it("start resolves once the initial list is cached; list events are marked initialList", async () => {
    const { api, inf, events } = setup();
    api.put("a", { v: "1" });
    api.put("b", { v: "1" });
    await inf.start();
    expect(inf.hasSynced()).toBe(true);
    expect(names(inf.list())).toEqual(["a", "b"]);
    expect(names(inf.list("ns"))).toEqual(["a", "b"]);
    expect(inf.list("other")).toEqual([]);
    expect(inf.get("a", "ns")?.data).toEqual({ v: "1" });
    expect(events).toEqual([
      { kind: "add", name: "a", initialList: true },
      { kind: "add", name: "b", initialList: true },
    ]);
    expect(api.live()).toHaveLength(1);
    expect(api.live()[0]?.params.resourceVersion).toBe(String(api.rv));
  });

  it("reports watch events as add, update and delete, and keeps the cache current", async () => {
    const { api, inf, events } = setup();
    await inf.start();
    api.put("a", { v: "1" });
    api.put("a", { v: "2" });
    api.delete("a");
    await vi.advanceTimersByTimeAsync(0);
    expect(events).toEqual([
      { kind: "add", name: "a", initialList: false },
      { kind: "update", name: "a", initialList: false },
      { kind: "delete", name: "a", initialList: false },
    ]);
    expect(inf.list()).toEqual([]);
  });

  it("trims each object before it is cached or handed to handlers, from the list and from the watch", async () => {
    const seen: Obj[] = [];
    const { api, inf } = setup({
      trim: (o) => {
        delete o.data;
      },
    });
    inf.onChange((o) => seen.push(o));
    api.put("listed", { big: "x" });
    await inf.start();
    api.put("watched", { big: "y" });
    await vi.advanceTimersByTimeAsync(0);
    expect(inf.get("listed", "ns")).toEqual({ metadata: expect.objectContaining({ name: "listed" }) });
    expect(inf.get("watched", "ns")?.data).toBeUndefined();
    expect(seen.map((o) => o.data)).toEqual([undefined, undefined]);
    expect(names(inf.list())).toEqual(["listed", "watched"]);
  });

  it("a throwing or rejecting handler is logged and does not crash, stop the list, or starve other handlers", async () => {
    const { api, inf, events, lines } = setup();
    inf.onChange(() => {
      throw new Error("handler bug");
    });
    inf.onChange(async () => {
      throw new Error("async handler bug");
    });
    api.put("a", { v: "1" });
    api.put("b", { v: "1" });
    await inf.start();
    api.put("c", { v: "1" });
    await vi.advanceTimersByTimeAsync(0);
    expect(names(inf.list())).toEqual(["a", "b", "c"]);
    expect(events.map((e) => e.name)).toEqual(["a", "b", "c"]);
    expect(inf.stats().handlerErrors).toBe(6);
    expect(
      lines.filter((l) => l.msg.startsWith("informer handler threw")).map((l) => l.err?.message),
    ).toContain("async handler bug");
    expect(inf.stats().restarts).toBe(0);
  });

  it("restarts after an error with growing jittered backoff, and relists", async () => {
    const { api, inf, lines } = setup();
    await inf.start();
    expect(api.listCalls).toBe(1);
    const restartDelays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = Date.now();
      api.breakWatches(Object.assign(new Error("Internal Server Error"), { statusCode: 500 }));
      while (api.live().length === 0) await vi.advanceTimersByTimeAsync(50);
      restartDelays.push(Date.now() - t0);
    }
    // random() = 0.5 puts each delay at 3/4 of base * 2^n, capped at 8000.
    expect(restartDelays).toEqual([750, 1500, 3000, 6000, 6000]);
    expect(api.listCalls).toBe(6);
    expect(inf.stats()).toMatchObject({
      restarts: 5,
      errors: 5,
      restartsByReason: { error: 5, stale: 0 },
      lastRestartReason: "error",
      lastError: "Internal Server Error (HTTP 500)",
    });
    expect(lines.some((l) => l.msg.startsWith("informer failed; restarting"))).toBe(true);
  });

  it("resets the backoff after a healthy period", async () => {
    const { api, inf } = setup();
    await inf.start();
    for (let i = 0; i < 3; i++) {
      api.breakWatches(new Error("ECONNRESET"));
      while (api.live().length === 0) await vi.advanceTimersByTimeAsync(50);
    }
    await vi.advanceTimersByTimeAsync(60_000);
    const t0 = Date.now();
    api.breakWatches(new Error("ECONNRESET"));
    while (api.live().length === 0) await vi.advanceTimersByTimeAsync(50);
    expect(Date.now() - t0).toBe(750);
  });

  it("keeps retrying a failing initial list and resolves start once it succeeds", async () => {
    const { api, inf } = setup();
    api.put("a", { v: "1" });
    api.listError = Object.assign(new Error("Forbidden"), { statusCode: 403 });
    let synced = false;
    const started = inf.start().then(() => {
      synced = true;
    });
    await vi.advanceTimersByTimeAsync(5000);
    expect(synced).toBe(false);
    expect(api.listCalls).toBeGreaterThanOrEqual(3);
    expect(inf.hasSynced()).toBe(false);
    api.listError = undefined;
    await vi.advanceTimersByTimeAsync(10_000);
    await started;
    expect(names(inf.list())).toEqual(["a"]);
  });

  it("indexes objects by their controller's uid through adds, a change of controller, deletes and a relist", async () => {
    const { api, inf } = setup();
    api.put("a", {}, true, "u1");
    api.put("b", {}, true, "u1");
    api.put("c", {}, true, "u2");
    api.put("free", {});
    await inf.start();
    expect(names(inf.byController("u1"))).toEqual(["a", "b"]);
    api.put("b", {}, true, "u2");
    api.delete("c");
    await vi.advanceTimersByTimeAsync(0);
    expect(names(inf.byController("u1"))).toEqual(["a"]);
    expect(names(inf.byController("u2"))).toEqual(["b"]);
    // Deleted while not watching: the relist's diff drops it from the index too.
    api.breakWatches(new Error("ECONNRESET"));
    api.delete("a", false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(inf.byController("u1")).toEqual([]);
    expect(names(inf.byController("u2"))).toEqual(["b"]);
    expect(inf.byController("nobody")).toEqual([]);
  });

  it("after a restart reports what changed while it was not watching, and nothing for unchanged objects", async () => {
    const { api, inf, events } = setup();
    api.put("same", { v: "1" });
    api.put("changed", { v: "1" });
    api.put("gone", { v: "1" });
    await inf.start();
    events.length = 0;
    api.breakWatches(new Error("ECONNRESET"));
    api.put("changed", { v: "2" }, false);
    api.delete("gone", false);
    api.put("new", { v: "1" }, false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(events.sort((x, y) => x.name.localeCompare(y.name))).toEqual([
      { kind: "update", name: "changed", initialList: false },
      { kind: "delete", name: "gone", initialList: false },
      { kind: "add", name: "new", initialList: false },
    ]);
    expect(names(inf.list())).toEqual(["changed", "new", "same"]);
    expect(inf.get("changed", "ns")?.data).toEqual({ v: "2" });
  });

  it("restarts a silent informer (watchdog) and ignores the retired watch", async () => {
    const { api, inf, events, lines } = setup({ staleAfterMs: 60_000 });
    await inf.start();
    const oldConn = api.live()[0];
    // Activity keeps it alive.
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(30_000);
      api.put(`busy-${i}`, { v: "1" });
    }
    expect(inf.stats().restarts).toBe(0);
    // Then the stream goes quiet without an error: nothing arrives, no reconnect.
    await vi.advanceTimersByTimeAsync(60_000 + 15_000);
    expect(inf.stats()).toMatchObject({ restarts: 1, restartsByReason: { stale: 1, error: 0 }, errors: 0 });
    expect(api.listCalls).toBe(2);
    expect(lines.some((l) => l.msg.startsWith("informer silent"))).toBe(true);
    // A late event on the old stream is not reported; the new stream's are.
    events.length = 0;
    oldConn?.callback("ADDED", { metadata: { name: "ghost", namespace: "ns", resourceVersion: "1" } });
    api.put("fresh", { v: "1" });
    await vi.advanceTimersByTimeAsync(0);
    expect(events.map((e) => e.name)).toEqual(["fresh"]);
    expect(inf.get("ghost", "ns")).toBeUndefined();
    // The abort of the old stream (an AbortError) did not count as a failure of the new run.
    expect(inf.stats().errors).toBe(0);
    expect(api.live()).toHaveLength(1);
  });

  it("calls resync handlers with every cached object each period, isolating a throwing one", async () => {
    const { api, inf } = setup({ resyncMs: 600_000 });
    const resynced: string[] = [];
    inf.onResync(() => {
      throw new Error("resync handler bug");
    });
    inf.onResync((obj) => resynced.push(obj.metadata?.name ?? ""));
    api.put("a", { v: "1" });
    api.put("b", { v: "1" });
    await inf.start();
    await vi.advanceTimersByTimeAsync(599_999);
    expect(resynced).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(resynced.sort()).toEqual(["a", "b"]);
    await vi.advanceTimersByTimeAsync(600_000);
    expect(resynced).toHaveLength(4);
    expect(inf.stats()).toMatchObject({ resyncs: 2, handlerErrors: 4 });
  });

  it("stop rejects a pending start, stops watching and leaves no timers", async () => {
    const { api, inf } = setup();
    api.listError = new Error("connect ECONNREFUSED 127.0.0.1:6443");
    const started = inf.start();
    await vi.advanceTimersByTimeAsync(100);
    await inf.stop();
    await expect(started).rejects.toThrow(/stopped before its cache synced/);
    const calls = api.listCalls;
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(api.listCalls).toBe(calls);
    expect(vi.getTimerCount()).toBe(0);
    expect(inf.stats().running).toBe(false);
  });

  it("backs off and retries when building the informer throws", async () => {
    const api = new FakeApi();
    let builds = 0;
    informer = new SupervisedInformer<Obj>({
      name: "configmaps",
      informerFactory: () => {
        builds += 1;
        if (builds < 3) throw new Error("No currently active cluster");
        return new ListWatch<Obj>("/api/v1/configmaps", api.watch as unknown as Watch, api.listFn, false);
      },
      log: pino({ level: "silent" }),
      clock,
      random: () => 0.5,
    });
    const started = informer.start();
    await vi.advanceTimersByTimeAsync(750 + 1500);
    await started;
    expect(builds).toBe(3);
    expect(informer.stats()).toMatchObject({
      errors: 2,
      restarts: 2,
      lastError: "No currently active cluster",
    });
  });

  it("an unsubscribed handler gets no more events", async () => {
    const { api, inf } = setup();
    const seen: string[] = [];
    const off = inf.onChange((obj) => seen.push(obj.metadata?.name ?? ""));
    await inf.start();
    api.put("a", { v: "1" });
    off();
    api.put("b", { v: "1" });
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toEqual(["a"]);
  });
});
