// The fixture's OpenAI-compatible streaming completions (`stream: true`), shaped like vLLM's:
// headers and a role chunk at once, the first content token after `ttftMs`, one token per chunk
// every `tpotMs`, a chunk with finish_reason, then `data: [DONE]`. Faults: `early-stop` closes the
// connection halfway without finish_reason or [DONE]; `malformed` sends an event that is not JSON
// after the first token. Used by model-server.ts.
import type { ServerResponse } from "node:http";
import { z } from "zod";

export const STREAM_FAULTS = ["none", "early-stop", "malformed"] as const;

/** The per-pod stream behaviour fields (merged into model-server.ts's podBehaviourSchema). */
export const streamBehaviourFields = {
  /** Request → first content token of a stream, ms. */
  ttftMs: z.number().min(0).max(600_000),
  /** Gap between content tokens of a stream, ms. */
  tpotMs: z.number().min(0).max(60_000),
  /** Content tokens a stream sends (fewer when the request's max_tokens is lower). */
  streamTokens: z.number().int().min(1).max(4096),
  streamFault: z.enum(STREAM_FAULTS),
};

export const STREAM_BEHAVIOUR_DEFAULTS = {
  ttftMs: 0,
  tpotMs: 0,
  streamTokens: 8,
  streamFault: "none",
} as const;

export interface StreamBehaviour {
  ttftMs: number;
  tpotMs: number;
  streamTokens: number;
  streamFault: (typeof STREAM_FAULTS)[number];
}

/** The request asks for a stream: `stream: true`; `max_tokens` read when it is a positive integer. */
export function streamRequest(raw: unknown): { maxTokens?: number } | undefined {
  if (typeof raw !== "object" || raw === null || (raw as { stream?: unknown }).stream !== true)
    return undefined;
  const max = (raw as { max_tokens?: unknown }).max_tokens;
  return typeof max === "number" && Number.isInteger(max) && max > 0 ? { maxTokens: max } : {};
}

/**
 * Streams a completion to `res`. Timers go into `timers` (the server clears them on close) and
 * stop when the client goes away.
 */
export function streamCompletion(
  res: ServerResponse,
  options: StreamBehaviour & {
    model: string;
    chat: boolean;
    maxTokens?: number;
    timers: Set<NodeJS.Timeout>;
  },
): void {
  const id = `cmpl-${Date.now().toString(36)}`;
  const created = Math.floor(Date.now() / 1000);
  const total = Math.min(options.streamTokens, options.maxTokens ?? options.streamTokens);
  const chunk = (delta: { role?: string; content?: string }, finish: string | null) =>
    options.chat
      ? {
          id,
          object: "chat.completion.chunk",
          created,
          model: options.model,
          choices: [{ index: 0, delta, finish_reason: finish }],
        }
      : {
          id,
          object: "text_completion",
          created,
          model: options.model,
          choices: [{ index: 0, text: delta.content ?? "", finish_reason: finish }],
        };
  const send = (value: unknown) => res.write(`data: ${JSON.stringify(value)}\n\n`);
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  if (options.chat) send(chunk({ role: "assistant", content: "" }, null));
  let sent = 0;
  const stopAt = options.streamFault === "early-stop" ? Math.max(1, Math.floor(total / 2)) : total;
  let timer: NodeJS.Timeout | undefined;
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      options.timers.delete(t);
      timer = undefined;
      if (!res.destroyed) fn();
    }, ms);
    timer = t;
    options.timers.add(t);
  };
  res.once("close", () => {
    if (timer === undefined) return;
    clearTimeout(timer);
    options.timers.delete(timer);
  });
  const next = () => {
    send(chunk({ content: sent === 0 ? "Hello" : ` tok${sent}` }, null));
    sent++;
    if (options.streamFault === "malformed" && sent === 1) {
      res.write("data: {this is not json\n\n");
    }
    if (sent >= stopAt && options.streamFault === "early-stop") {
      res.end(); // the body ends without finish_reason or [DONE]
      return;
    }
    if (sent < total) {
      later(options.tpotMs, next);
      return;
    }
    const finish = options.maxTokens !== undefined && total >= options.maxTokens ? "length" : "stop";
    send({
      ...chunk({}, finish),
      usage: { prompt_tokens: 4, completion_tokens: total, total_tokens: total + 4 },
    });
    res.end("data: [DONE]\n\n");
  };
  later(options.ttftMs, next);
}
