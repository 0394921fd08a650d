// The prober's HTTP client (undici): one keep-alive connection per pod, one hard deadline per
// exchange, a body size cap, no redirects, the allow-list checked before every dial; failures come
// back as data, never thrown, and a connection that failed or timed out is destroyed.
import { performance } from "node:perf_hooks";
import { buildConnector, Pool } from "undici";
import { isHttpRequestPath } from "../api/http-path.ts";
import type { CidrAllowList } from "./cidr.ts";
import { neverProbedReason, unmapIp } from "./cidr.ts";

/** Where a probe goes: a pod IP and a port. Never a URL a user wrote. */
export interface ProbeTarget {
  ip: string;
  port: number;
}

export interface HttpProbeRequest {
  method: "GET" | "POST";
  /** Absolute path with optional query, e.g. `/v2/health/ready`. */
  path: string;
  /** A JSON document sent as the body (POST). */
  jsonBody?: string;
  /**
   * Hard deadline of the whole exchange: connect, headers and the complete body, whatever the server
   * does (hangs after the headers, trickles the body a byte at a time).
   */
  timeoutMs: number;
  /** This exchange's body cap instead of the client's (e.g. a stream's smaller budget). */
  maxBodyBytes?: number;
  /** The Accept header (default application/json). */
  accept?: string;
  /**
   * Streams the body to this callback as it arrives (`atMs` after the request started) instead of
   * collecting it: the result's body is then "". The cap and the deadline still apply.
   */
  onBodyChunk?: (chunk: Buffer, atMs: number) => void;
}

/** Why an exchange produced no usable response. */
export type HttpFailureKind =
  | "refused" // target outside the allow-list, never-probed, or not an IP literal: never dialled
  | "timeout"
  | "connect-error"
  | "redirect" // 3xx: never followed
  | "body-too-large"
  | "error";

export type HttpProbeResult =
  | { kind: "response"; status: number; body: string; latencyMs: number }
  | { kind: HttpFailureKind; error: string; latencyMs: number; status?: number };

export interface ProbeHttpClientOptions {
  allowList: CidrAllowList;
  /** Response bodies above this size are cut off and the exchange fails. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Idle keep-alive sockets are kept this long. Default 60 s. */
  keepAliveMs?: number;
}

const DEFAULT_MAX_BODY = 1024 * 1024;

class RefusedTargetError extends Error {
  override name = "RefusedTargetError";
}

/** The reason an exchange is aborted when its deadline passes. */
class DeadlineError extends Error {
  override name = "DeadlineError";
}

function originOf(target: ProbeTarget): string {
  const ip = unmapIp(target.ip);
  return ip.includes(":") ? `http://[${ip}]:${target.port}` : `http://${ip}:${target.port}`;
}

function errorCode(err: unknown): string | undefined {
  if (typeof err === "object" && err !== null && "code" in err && typeof err.code === "string") {
    return err.code;
  }
  return undefined;
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = errorCode(err);
    return code !== undefined && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/** Bodies up to this declared size are read in one go; larger ones stream against the cap. */
const SMALL_BODY = 64 * 1024;

const GET_HEADERS = { accept: "application/json", "user-agent": "modelship-prober" };
const POST_HEADERS = { ...GET_HEADERS, "content-type": "application/json" };

function headersFor(req: HttpProbeRequest): Record<string, string> {
  const base = req.jsonBody === undefined ? GET_HEADERS : POST_HEADERS;
  return req.accept === undefined ? base : { ...base, accept: req.accept };
}

/** Tears a response body down (and its connection) without an unhandled 'error' event. */
function discard(body: NodeJS.ReadableStream & { destroy(): void }): void {
  body.on("error", () => undefined);
  body.destroy();
}

const TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);
const CONNECT_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL"]);

/**
 * The prober's HTTP client: one undici Pool (one keep-alive connection) per target origin, a hard
 * deadline per exchange, bodies capped, redirects never followed, and the CIDR allow-list checked
 * twice: before a request is queued and again inside the connector, right before the socket opens.
 */
export class ProbeHttpClient {
  readonly #allowList: CidrAllowList;
  readonly #maxBodyBytes: number;
  readonly #keepAliveMs: number;
  readonly #pools = new Map<string, Pool>();

  constructor(options: ProbeHttpClientOptions) {
    this.#allowList = options.allowList;
    this.#maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
    this.#keepAliveMs = options.keepAliveMs ?? 60_000;
  }

  /** Number of origins with an open pool (for tests and metrics). */
  get poolCount(): number {
    return this.#pools.size;
  }

  #refusal(target: ProbeTarget): string | undefined {
    if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) {
      return `port ${target.port} is not a valid TCP port`;
    }
    const never = neverProbedReason(target.ip);
    if (never !== undefined) return `target ${target.ip} is ${never}; never dialled, whatever the allow-list`;
    if (!this.#allowList.allows(target.ip)) {
      return `target ${target.ip} is outside the prober allow-list [${this.#allowList.blocks.join(", ")}]; not dialled`;
    }
    return undefined;
  }

  #poolFor(target: ProbeTarget, connectTimeoutMs: number): Pool {
    const origin = originOf(target);
    let pool = this.#pools.get(origin);
    if (pool === undefined) {
      // The connector keeps the first timeout it was given for this origin.
      const allowList = this.#allowList;
      const base = buildConnector({ timeout: connectTimeoutMs, keepAlive: true });
      pool = new Pool(origin, {
        connections: 1,
        pipelining: 1,
        keepAliveTimeout: this.#keepAliveMs,
        keepAliveMaxTimeout: this.#keepAliveMs,
        connect: (opts, callback) => {
          // Second line of defence: whatever undici is about to dial must be allowed too.
          if (!allowList.allows(opts.hostname)) {
            callback(new RefusedTargetError(`refusing to dial ${opts.hostname}: outside allow-list`), null);
            return;
          }
          base(opts, callback);
        },
      });
      this.#pools.set(origin, pool);
    }
    return pool;
  }

  /** Sends one request. Never throws: every failure comes back as a result with a reason. */
  async request(target: ProbeTarget, req: HttpProbeRequest): Promise<HttpProbeResult> {
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
    // The schema already refuses such paths; this guards presets and every other caller too.
    if (!isHttpRequestPath(req.path)) {
      return {
        kind: "refused",
        error: `probe path ${JSON.stringify(req.path)} is not an absolute path an HTTP request line can carry`,
        latencyMs: 0,
      };
    }
    // An existing pool was created after its origin passed the allow-list (and its connector checks
    // again before every dial), so only a new origin pays for the check here.
    let pool = this.#pools.get(originOf(target));
    if (pool === undefined) {
      const refusal = this.#refusal(target);
      if (refusal !== undefined) return { kind: "refused", error: refusal, latencyMs: 0 };
      pool = this.#poolFor(target, req.timeoutMs);
    }
    // One deadline for the whole exchange: undici's own timeouts are per phase (and per body chunk),
    // so a server that answers slowly enough in every phase could otherwise hold the probe for ever.
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new DeadlineError(`no complete answer within ${req.timeoutMs} ms`)),
      req.timeoutMs,
    );
    try {
      const res = await pool.request({
        method: req.method,
        path: req.path,
        headers: headersFor(req),
        body: req.jsonBody,
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
        signal: deadline.signal,
      });
      const status = res.statusCode;
      if (status >= 300 && status < 400) {
        // Read (a little of) the body so the keep-alive connection survives; never follow.
        await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
        const location = res.headers.location;
        return {
          kind: "redirect",
          status,
          error: `HTTP ${status} redirect to ${String(location ?? "(no location)")} not followed`,
          latencyMs: elapsed(),
        };
      }
      const maxBody = req.maxBodyBytes ?? this.#maxBodyBytes;
      const declared = Number(res.headers["content-length"] ?? Number.NaN);
      if (declared > maxBody) {
        discard(res.body);
        return {
          kind: "body-too-large",
          status,
          error: `response body of ${declared} bytes exceeds the ${maxBody}-byte limit`,
          latencyMs: elapsed(),
        };
      }
      const onChunk = req.onBodyChunk;
      if (onChunk === undefined && declared >= 0 && declared <= SMALL_BODY) {
        // The parser enforces Content-Length, so a small declared body is safe to read whole.
        return { kind: "response", status, body: await res.body.text(), latencyMs: elapsed() };
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        const buf = chunk as Buffer;
        size += buf.length;
        if (size > maxBody) {
          discard(res.body);
          return {
            kind: "body-too-large",
            status,
            error: `response body exceeds the ${maxBody}-byte limit; cut off`,
            latencyMs: elapsed(),
          };
        }
        if (onChunk !== undefined) onChunk(buf, elapsed());
        else chunks.push(buf);
      }
      const body =
        chunks.length === 0
          ? ""
          : chunks.length === 1
            ? (chunks[0] as Buffer).toString("utf8")
            : Buffer.concat(chunks).toString("utf8");
      return { kind: "response", status, body, latencyMs: elapsed() };
    } catch (err) {
      const latencyMs = elapsed();
      // A connection that failed or timed out is not reused: the next probe dials afresh (and passes
      // the allow-list again), and a hung socket holds nothing.
      this.forget(target);
      if (err instanceof RefusedTargetError) return { kind: "refused", error: err.message, latencyMs };
      if (deadline.signal.aborted) {
        const reason: unknown = deadline.signal.reason;
        return {
          kind: "timeout",
          error: `${reason instanceof Error ? reason.message : "deadline passed"} (connect, headers and body)`,
          latencyMs,
        };
      }
      const code = errorCode(err);
      if (code !== undefined && TIMEOUT_CODES.has(code)) {
        const phase =
          code === "UND_ERR_CONNECT_TIMEOUT"
            ? "connect"
            : code === "UND_ERR_HEADERS_TIMEOUT"
              ? "headers"
              : "body";
        return { kind: "timeout", error: `${phase} timeout after ${req.timeoutMs} ms`, latencyMs };
      }
      if (code !== undefined && CONNECT_CODES.has(code)) {
        return { kind: "connect-error", error: errorText(err), latencyMs };
      }
      return { kind: "error", error: errorText(err), latencyMs };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the keep-alive connection of a target that went away. */
  forget(target: ProbeTarget): void {
    const origin = originOf(target);
    const pool = this.#pools.get(origin);
    if (pool !== undefined) {
      this.#pools.delete(origin);
      void pool.destroy().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.allSettled(pools.map((p) => p.destroy()));
  }
}
