// The operator's own HTTP endpoint: /healthz (liveness), /readyz (readiness), /metrics (Prometheus).
//
// Liveness only says the event loop answers: restarting a slow but working operator helps nobody.
// Readiness is the conjunction of named checks, reported line by line like the API server's
// /readyz so `curl` shows which check fails.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Registry } from "prom-client";

export type ReadinessCheck = {
  /** Short, stable name shown in the /readyz body, e.g. "informers-synced". */
  name: string;
  ready(): boolean;
};

export type HealthServerOptions = {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  registry: Pick<Registry, "metrics" | "contentType">;
  readiness: readonly ReadinessCheck[];
  log: Logger;
  /** How long close() lets in-flight requests finish before cutting connections. */
  closeGraceMs?: number;
};

export type HealthServer = {
  /** Where the server listens; port is the real one when 0 was asked for. */
  host: string;
  port: number;
  close(): Promise<void>;
};

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const { log, registry, readiness } = options;
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err, path: req.url }, "health server request failed");
      if (!res.headersSent) send(res, 500, "internal error\n");
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      return send(res, 405, "method not allowed\n");
    }
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    switch (path) {
      case "/healthz":
      case "/livez":
        return send(res, 200, "ok\n");
      case "/readyz":
        return sendReadiness(res, readiness);
      case "/metrics":
        return send(res, 200, await registry.metrics(), registry.contentType);
      default:
        return send(res, 404, "not found\n");
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  log.info({ host: address.address, port: address.port }, "health server listening");

  return {
    host: address.address,
    port: address.port,
    close: () => closeGracefully(server, options.closeGraceMs ?? 5_000),
  };
}

/** A readiness check for leader election: a healthy standby is ready too (it serves metrics and takes over). */
export function leaderElectionReadiness(status: () => { healthy: boolean }): ReadinessCheck {
  return { name: "leader-election", ready: () => status().healthy };
}

function sendReadiness(res: ServerResponse, checks: readonly ReadinessCheck[]): void {
  const results = checks.map((check) => ({ name: check.name, ok: safely(check) }));
  const ready = results.every((r) => r.ok);
  const lines = results.map((r) => `[${r.ok ? "+" : "-"}]${r.name} ${r.ok ? "ok" : "failed"}`);
  lines.push(ready ? "readyz check passed" : "readyz check failed");
  send(res, ready ? 200 : 503, `${lines.join("\n")}\n`);
}

// A check that throws is a failed check, not a crashed endpoint.
function safely(check: ReadinessCheck): boolean {
  try {
    return check.ready();
  } catch {
    return false;
  }
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  contentType = "text/plain; charset=utf-8",
): void {
  res.writeHead(status, { "content-type": contentType, "cache-control": "no-store" });
  res.end(res.req.method === "HEAD" ? undefined : body);
}

function closeGracefully(server: ReturnType<typeof createServer>, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    // Keep-alive sockets with no request in flight would otherwise hold close() open.
    server.closeIdleConnections();
  });
}
