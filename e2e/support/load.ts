// A bounded load generator: a fixed number of inference requests through one URL (the gateway's
// listener on 127.0.0.1), a fixed concurrency, an optional fixed rate and a deadline. Each answer
// names the fixture pod that gave it (x-modelship-pod), so the share per revision is counted from
// real answers, not read from objects.
import { Agent, request } from "node:http";
import { POD_HEADER } from "../../operator/testing/model-server.ts";
import { core } from "./mdep.ts";

export interface LoadOptions {
  /** Base URL, e.g. http://127.0.0.1:<listener port>. Must be loopback: nothing else is dialled. */
  url: string;
  requests: number;
  /** Requests in flight at once (default 8). */
  concurrency?: number;
  /** Spread the requests at this rate, so a load spans a switch (default: as fast as answered). */
  ratePerSecond?: number;
  /** Nothing is sent after this; what was not sent by then is reported as `unsent` (default 60 s). */
  deadlineMs?: number;
  /** Per request (default 5 s). */
  timeoutMs?: number;
  /** Served model name of the OIP infer path (default "recommender"). */
  model?: string;
  /** Host header, which picks the HTTPRoute by its hostnames (default the URL's host). */
  host?: string;
  /** More request headers, e.g. the one a header route matches. */
  headers?: Record<string, string>;
}

export interface LoadResult {
  sent: number;
  unsent: number;
  /** 2xx answers per pod IP (from the answer's header); "?" when an answer did not name its pod. */
  byPod: Record<string, number>;
  /** The pod of each 2xx answer, in the order the requests were sent. */
  answers: string[];
  /** Non-2xx answers, timeouts and connection errors. */
  failures: number;
  /** The first few failures, for the assertion message. */
  failureSamples: string[];
}

const FEATURES = [20, 0.9, 10, 0.3, 1, 1];

export async function sendLoad(opts: LoadOptions): Promise<LoadResult> {
  const base = new URL(opts.url);
  if (base.hostname !== "127.0.0.1") throw new Error(`sendLoad dials loopback only, not ${opts.url}`);
  const concurrency = opts.concurrency ?? 8;
  const deadline = Date.now() + (opts.deadlineMs ?? 60_000);
  const timeoutMs = opts.timeoutMs ?? 5000;
  const path = `/v2/models/${opts.model ?? "recommender"}/infer`;
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const body = JSON.stringify({
    inputs: [{ name: "features", shape: [1, 6], datatype: "FP32", data: FEATURES }],
  });
  const result: LoadResult = { sent: 0, unsent: 0, byPod: {}, answers: [], failures: 0, failureSamples: [] };
  const slots: (string | undefined)[] = new Array(opts.requests);
  const fail = (why: string) => {
    result.failures++;
    if (result.failureSamples.length < 5) result.failureSamples.push(why);
  };
  const start = Date.now();
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= opts.requests) return;
      if (opts.ratePerSecond) {
        const due = start + (i * 1000) / opts.ratePerSecond;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      }
      if (Date.now() > deadline) {
        result.unsent++;
        continue;
      }
      result.sent++;
      try {
        const headers = { ...opts.headers, host: opts.host ?? base.host };
        const res = await post(agent, base, path, body, headers, timeoutMs);
        if (res.status < 200 || res.status > 299) {
          fail(`HTTP ${res.status} from ${res.pod ?? "the gateway"}`);
          continue;
        }
        slots[i] = res.pod ?? "?";
      } catch (err) {
        fail(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  for (const pod of slots) {
    if (pod === undefined) continue;
    result.answers.push(pod);
    result.byPod[pod] = (result.byPod[pod] ?? 0) + 1;
  }
  return result;
}

/** One POST through a keep-alive agent; node:http, because fetch will not send another Host. */
function post(
  agent: Agent,
  base: URL,
  path: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<{ status: number; pod: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        path,
        method: "POST",
        headers: {
          ...headers,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
        },
        timeout: timeoutMs,
      },
      (res) => {
        res.resume();
        res.on("end", () => {
          const pod = res.headers[POD_HEADER];
          resolve({ status: res.statusCode ?? 0, pod: typeof pod === "string" ? pod : undefined });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** Pod IP → revision for every pod of a ModelDeployment (terminating ones too: they may still answer). */
export async function podRevisions(namespace: string, name: string): Promise<Record<string, string>> {
  const list = await core.listNamespacedPod({ namespace, labelSelector: `modelship.dev/deployment=${name}` });
  const out: Record<string, string> = {};
  for (const p of list.items) {
    const ip = p.status?.podIP;
    const rev = p.metadata?.labels?.["modelship.dev/revision"];
    if (ip && rev) out[ip] = rev;
  }
  return out;
}

/** Answers per revision; pods not in `revisions` (or answers naming none) count under "?". */
export function answersByRevision(
  answers: readonly string[],
  revisions: Record<string, string>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const pod of answers) {
    const rev = revisions[pod] ?? "?";
    out[rev] = (out[rev] ?? 0) + 1;
  }
  return out;
}

/** Share of `revision` in percentage points (0–100) of all counted answers. */
export function sharePoints(byRevision: Record<string, number>, revision: string): number {
  const total = Object.values(byRevision).reduce((a, b) => a + b, 0);
  return total === 0 ? 0 : (100 * (byRevision[revision] ?? 0)) / total;
}
