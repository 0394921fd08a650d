// A full GC in the operator process without a heap snapshot: writing a snapshot costs the process
// memory the allocator keeps (~95 MiB at 300 objects), which would then sit in every later RSS
// sample. The operator runs with `--inspect=127.0.0.1:0`; this speaks the DevTools protocol to it.
import { setTimeout as sleep } from "node:timers/promises";

/** The inspector's WebSocket URL from the process's stderr ("Debugger listening on ws://…"). */
export function inspectorUrl(logs: string): string | undefined {
  return /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/.exec(logs)?.[1];
}

/** Runs a full GC in the process behind `url`; returns V8's heap used and total right after it. */
export async function collectGarbage(
  url: string,
  timeoutMs = 60_000,
): Promise<{ usedBytes: number; totalBytes: number }> {
  const ws = new WebSocket(url);
  const pending = new Map<number, (result: Record<string, unknown>) => void>();
  ws.addEventListener("message", (ev) => {
    const msg = JSON.parse(String(ev.data)) as { id?: number; result?: Record<string, unknown> };
    if (msg.id !== undefined) pending.get(msg.id)?.(msg.result ?? {});
  });
  let nextId = 0;
  const call = (method: string) =>
    new Promise<Record<string, unknown>>((resolve) => {
      nextId += 1;
      pending.set(nextId, resolve);
      ws.send(JSON.stringify({ id: nextId, method }));
    });
  const work = (async () => {
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error(`inspector ${url}: cannot connect`)), {
        once: true,
      });
    });
    await call("HeapProfiler.collectGarbage");
    const usage = (await call("Runtime.getHeapUsage")) as { usedSize?: number; totalSize?: number };
    return { usedBytes: usage.usedSize ?? 0, totalBytes: usage.totalSize ?? 0 };
  })();
  try {
    return await Promise.race([
      work,
      sleep(timeoutMs).then(() => {
        throw new Error(`inspector ${url}: no answer in ${timeoutMs / 1000} s`);
      }),
    ]);
  } finally {
    ws.close();
  }
}
