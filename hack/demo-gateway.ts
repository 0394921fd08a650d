// hack/demo --gateway: the shop story through Traefik on 127.0.0.1. A bounded background load sends
// small batches of real predictions through the gateway's listener, and the live view shows where
// the last batch was answered, per revision, next to the weights the operator set.
import { Agent, request } from "node:http";
import { POD_HEADER } from "../operator/testing/model-server.ts";

export interface LiveShare {
  /** Answers per revision ("?" for a pod of no known revision). */
  byRevision: Record<string, number>;
  failures: number;
  total: number;
}

export interface LiveShareOptions {
  /** The gateway's listener, http://127.0.0.1:<port>: nothing else is dialled. */
  url: string;
  /** Host header: picks the HTTPRoute by its hostnames. */
  host: string;
  path: string;
  body: string;
  /** Pod IP → revision, read fresh for each batch. */
  podRevisions: () => Record<string, string>;
  /** Requests per batch (default 40), batches at most every intervalMs (default 1000). */
  batch?: number;
  intervalMs?: number;
  /** The loop ends after this many batches whatever happens (default 1200: 20 min at 1 s). */
  maxBatches?: number;
}

const TIMEOUT_MS = 2000;

/** One request: the pod that answered, or undefined for a failure (non-2xx, timeout, reset). */
function send(agent: Agent, o: LiveShareOptions, base: URL): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method: "POST",
        path: o.path,
        headers: {
          host: o.host,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(o.body),
        },
        timeout: TIMEOUT_MS,
      },
      (res) => {
        res.resume();
        res.on("end", () => {
          const ok = (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300;
          const pod = res.headers[POD_HEADER];
          resolve(ok ? (typeof pod === "string" ? pod : "?") : undefined);
        });
        res.on("error", () => resolve(undefined));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve(undefined));
    req.end(o.body);
  });
}

export function startLiveShare(o: LiveShareOptions): {
  latest(): LiveShare | undefined;
  stop(): Promise<void>;
} {
  const base = new URL(o.url);
  if (base.hostname !== "127.0.0.1") throw new Error(`the demo's load dials loopback only, not ${o.url}`);
  const batch = o.batch ?? 40;
  const interval = o.intervalMs ?? 1000;
  const maxBatches = o.maxBatches ?? 1200;
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  let latest: LiveShare | undefined;
  let stopped = false;
  const loop = (async () => {
    for (let n = 0; n < maxBatches && !stopped; n++) {
      const started = Date.now();
      const pods = await Promise.all(Array.from({ length: batch }, () => send(agent, o, base)));
      const revisions = o.podRevisions();
      const share: LiveShare = { byRevision: {}, failures: 0, total: batch };
      for (const pod of pods) {
        if (pod === undefined) share.failures++;
        else {
          const rev = revisions[pod] ?? "?";
          share.byRevision[rev] = (share.byRevision[rev] ?? 0) + 1;
        }
      }
      latest = share;
      const wait = interval - (Date.now() - started);
      if (wait > 0 && !stopped) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    latest: () => latest,
    stop: async () => {
      stopped = true;
      await loop;
      agent.destroy();
    },
  };
}

/** "5d2a91 75%, 8c1f0e 25%; 0 of 40 failed". */
export function describeShare(s: LiveShare): string {
  const parts = Object.entries(s.byRevision)
    .sort(([, a], [, b]) => b - a)
    .map(([rev, n]) => `${rev} ${Math.round((100 * n) / s.total)}%`);
  return `${parts.join(", ") || "no answers"}; ${s.failures} of ${s.total} failed`;
}
