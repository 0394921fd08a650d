// The streaming inference check of OpenAI-compatible servers (spec.health.stream): one bounded
// `stream: true` chat completion per probe round, read as server-sent events as they arrive, timed
// per token: TTFT (request start → first content token), TPOT (mean gap between the tokens after
// the first) and output tokens/s (tokens ÷ request start → last token). A stream that ends before
// [DONE] or a finish_reason, sends no content token, or sends an event that is not a completion
// chunk fails the check with a message that says which.
import type { HttpFailureKind, ProbeHttpClient, ProbeTarget } from "./http-client.ts";
import { SseLineTooLongError, SseParser } from "./sse.ts";

/** What the prober streams: a chat completion of at most `maxTokens` tokens. */
export interface StreamCheckSpec {
  /** Default `/v1/chat/completions`. */
  path: string;
  /** The `model` field of the request (the served model name). */
  model: string;
  prompt: string;
  maxTokens: number;
  /** The stream is cut off (and fails) past this many bytes. Default STREAM_MAX_BYTES. */
  maxBytes?: number;
}

/** A stream's body never exceeds this: 16 tokens of vLLM's chunks are ~4 KiB, so it is ample. */
export const STREAM_MAX_BYTES = 64 * 1024;
export const DEFAULT_STREAM_PATH = "/v1/chat/completions";
export const DEFAULT_STREAM_PROMPT = "Reply with a short greeting.";
export const DEFAULT_STREAM_MAX_TOKENS = 16;

/** The timing of one complete stream. */
export interface StreamSample {
  /** Request start → the first content token, ms. */
  ttftMs: number;
  /** Mean gap between consecutive tokens after the first, ms; NaN with fewer than 2 tokens. */
  tpotMs: number;
  /** Output tokens: usage.completion_tokens when the server sends it, else content chunks. */
  tokens: number;
  /** tokens ÷ (request start → last token), per second. */
  tokensPerSecond: number;
}

export type StreamFailureKind = "stream-ended" | "stream-malformed" | "no-first-token" | "stream-error";

export type StreamCheckResult =
  | { ok: true; latencyMs: number; sample: StreamSample }
  | {
      ok: false;
      latencyMs: number;
      reason: StreamFailureKind | HttpFailureKind | "status";
      error: string;
    };

/** The JSON body of the streaming request. temperature 0 keeps the work the same every round. */
export function streamRequestBody(spec: StreamCheckSpec): string {
  return JSON.stringify({
    model: spec.model,
    messages: [{ role: "user", content: spec.prompt }],
    max_tokens: spec.maxTokens,
    temperature: 0,
    stream: true,
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const shown = (s: string) => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);

/**
 * Reads a completion stream chunk by chunk (pure: the caller supplies arrival times), so it can be
 * tested on any split of the bytes. `failure` is set at the first malformed event; later input is
 * ignored.
 */
export class StreamReader {
  readonly #parser = new SseParser();
  readonly #decoder = new TextDecoder("utf-8", { fatal: false });
  #events = 0;
  #tokens = 0;
  #firstAt: number | undefined;
  #lastAt: number | undefined;
  #usageTokens: number | undefined;
  #finished = false;
  #done = false;
  #head = "";
  failure: { reason: StreamFailureKind; error: string } | undefined;

  get tokens(): number {
    return this.#tokens;
  }

  /** The first 200 characters of the body (for an error answer's message). */
  get head(): string {
    return this.#head;
  }

  /** Bytes of the body as they arrived, `atMs` after the request started. */
  push(chunk: Uint8Array, atMs: number): void {
    if (this.failure !== undefined || this.#done) return;
    const text = this.#decoder.decode(chunk, { stream: true });
    if (this.#head.length < 200) this.#head += text.slice(0, 200 - this.#head.length);
    try {
      for (const ev of this.#parser.push(text)) {
        this.#event(ev.data, ev.event, atMs);
        if (this.failure !== undefined || this.#done) return;
      }
    } catch (err) {
      if (!(err instanceof SseLineTooLongError)) throw err;
      this.failure = { reason: "stream-malformed", error: `${err.message}${this.#jsonHint()}` };
    }
  }

  /** A server that ignored `stream: true` answers one JSON document; say so. */
  #jsonHint(): string {
    return this.#head.trimStart().startsWith("{")
      ? " (the answer looks like one JSON document: does the server stream with stream: true?)"
      : "";
  }

  #event(data: string, type: string | undefined, atMs: number): void {
    this.#events++;
    if (data === "[DONE]") {
      this.#done = true;
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(data);
    } catch {
      this.failure = {
        reason: "stream-malformed",
        error: `event ${this.#events} is not JSON: ${shown(data)}`,
      };
      return;
    }
    if (type === "error" || (isRecord(value) && value.error !== undefined)) {
      const e = isRecord(value) ? value.error : value;
      const msg = isRecord(e) && typeof e.message === "string" ? e.message : JSON.stringify(e);
      this.failure = { reason: "stream-error", error: `server sent an error event: ${shown(msg ?? "")}` };
      return;
    }
    if (!isRecord(value) || !Array.isArray(value.choices)) {
      this.failure = {
        reason: "stream-malformed",
        error: `event ${this.#events} is not a completion chunk (no choices array): ${shown(data)}`,
      };
      return;
    }
    const usage = value.usage;
    if (isRecord(usage) && typeof usage.completion_tokens === "number")
      this.#usageTokens = usage.completion_tokens;
    for (const choice of value.choices) {
      if (!isRecord(choice)) continue;
      const delta = choice.delta;
      const content = isRecord(delta) ? delta.content : choice.text;
      if (typeof content === "string" && content !== "") {
        this.#tokens++;
        this.#firstAt ??= atMs;
        this.#lastAt = atMs;
      }
      if (typeof choice.finish_reason === "string" && choice.finish_reason !== "") this.#finished = true;
    }
  }

  /** The verdict once the body ended (or was cut off by the caller). */
  finish(): { ok: true; sample: StreamSample } | { ok: false; reason: StreamFailureKind; error: string } {
    if (this.failure !== undefined) return { ok: false, ...this.failure };
    if (!this.#done) {
      const pending = this.#parser.end();
      if (pending !== undefined) this.#event(pending.data, pending.event, this.#lastAt ?? 0);
      // #event may have set it (TypeScript keeps the narrowing from above).
      const failure = this.failure as StreamReader["failure"];
      if (failure !== undefined) return { ok: false, ...failure };
    }
    if (this.#firstAt === undefined || this.#lastAt === undefined) {
      const hint = this.#events === 0 ? this.#jsonHint() : "";
      return {
        ok: false,
        reason: this.#events === 0 && hint === "" ? "stream-ended" : "stream-malformed",
        error:
          this.#events === 0
            ? `stream ended without any event${hint}`
            : `stream ended after ${this.#events} events without a content token`,
      };
    }
    if (!this.#done && !this.#finished) {
      return {
        ok: false,
        reason: "stream-ended",
        error: `stream ended early: ${this.#tokens} tokens, then the connection closed before [DONE] or a finish_reason`,
      };
    }
    const tokens = Math.max(this.#tokens, this.#usageTokens ?? 0);
    const tpotMs = this.#tokens >= 2 ? (this.#lastAt - this.#firstAt) / (this.#tokens - 1) : Number.NaN;
    const tokensPerSecond = this.#lastAt > 0 ? (tokens * 1000) / this.#lastAt : Number.NaN;
    return { ok: true, sample: { ttftMs: this.#firstAt, tpotMs, tokens, tokensPerSecond } };
  }
}

/**
 * Streams one completion from a pod. Never throws. The client's hard deadline (timeoutMs: connect,
 * headers and the whole stream) and the byte cap bound what one stream can cost.
 */
export async function runStreamCheck(
  client: ProbeHttpClient,
  target: ProbeTarget,
  spec: StreamCheckSpec,
  timeoutMs: number,
): Promise<StreamCheckResult> {
  const reader = new StreamReader();
  const maxBytes = spec.maxBytes ?? STREAM_MAX_BYTES;
  const res = await client.request(target, {
    method: "POST",
    path: spec.path,
    jsonBody: streamRequestBody(spec),
    timeoutMs,
    maxBodyBytes: maxBytes,
    accept: "text/event-stream",
    onBodyChunk: (chunk, atMs) => reader.push(chunk, atMs),
  });
  if (res.kind !== "response") {
    const { latencyMs } = res;
    if (res.kind === "timeout" && reader.failure === undefined) {
      const error =
        reader.tokens === 0
          ? `no first token within ${timeoutMs} ms`
          : `stream not complete within ${timeoutMs} ms (${reader.tokens} tokens so far)`;
      return { ok: false, latencyMs, reason: reader.tokens === 0 ? "no-first-token" : "timeout", error };
    }
    if (reader.failure !== undefined) return { ok: false, latencyMs, ...reader.failure };
    if ((res.kind === "error" || res.kind === "connect-error") && reader.tokens > 0) {
      return {
        ok: false,
        latencyMs,
        reason: "stream-ended",
        error: `stream ended early: ${reader.tokens} tokens, then the connection failed before [DONE] or a finish_reason (${res.error})`,
      };
    }
    if (res.kind === "body-too-large") {
      return {
        ok: false,
        latencyMs,
        reason: res.kind,
        error: `stream exceeds the ${maxBytes}-byte limit; cut off`,
      };
    }
    return { ok: false, latencyMs, reason: res.kind, error: res.error };
  }
  if (res.status < 200 || res.status >= 300) {
    const body = reader.head.trim();
    const error = body === "" ? `HTTP ${res.status}` : `HTTP ${res.status}: ${body.slice(0, 160)}`;
    return { ok: false, latencyMs: res.latencyMs, reason: "status", error };
  }
  const verdict = reader.finish();
  if (!verdict.ok)
    return { ok: false, latencyMs: res.latencyMs, reason: verdict.reason, error: verdict.error };
  return { ok: true, latencyMs: res.latencyMs, sample: verdict.sample };
}
