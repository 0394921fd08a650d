import { describe, expect, it } from "vitest";
import { StreamReader, streamRequestBody } from "./stream.ts";

const enc = new TextEncoder();
const chat = (content: string | undefined, finish: string | null = null) =>
  `data: ${JSON.stringify({ object: "chat.completion.chunk", choices: [{ index: 0, delta: content === undefined ? {} : { content }, finish_reason: finish }] })}\n\n`;

/** Pushes each [text, atMs] piece and returns the reader's verdict. */
function read(pieces: [string, number][]) {
  const r = new StreamReader();
  for (const [text, at] of pieces) r.push(enc.encode(text), at);
  return r.finish();
}

describe("StreamReader: timing and judging an OpenAI completion stream", () => {
  it("measures TTFT at the first content token, TPOT as the mean gap after it, tokens/s to the last token", () => {
    const v = read([
      [chat(""), 5], // role chunk, no content: not a token
      [chat("Hel"), 100],
      [chat("lo"), 120],
      [chat("!"), 160],
      [chat(undefined, "stop"), 161],
      ["data: [DONE]\n\n", 162],
    ]);
    expect(v).toEqual({
      ok: true,
      sample: { ttftMs: 100, tpotMs: 30, tokens: 3, tokensPerSecond: 3000 / 160 },
    });
  });

  it("times a token by the chunk that completes its event, however the bytes are split", () => {
    const body = chat("a") + chat("b") + chat(undefined, "length");
    const cut = chat("a").length - 3;
    const v = read([
      [body.slice(0, cut), 50],
      [body.slice(cut, cut + 10), 80],
      [`${body.slice(cut + 10)}data: [DONE]\n\n`, 90],
    ]);
    expect(v).toMatchObject({ ok: true, sample: { ttftMs: 80, tpotMs: 10, tokens: 2 } });
  });

  it("counts usage.completion_tokens when the server reports more tokens than chunks", () => {
    const last = `data: ${JSON.stringify({ choices: [{ delta: {}, finish_reason: "stop" }], usage: { completion_tokens: 6 } })}\n\n`;
    expect(
      read([
        [chat("ab"), 10],
        [chat("cd"), 20],
        [last, 21],
      ]),
    ).toMatchObject({
      ok: true,
      sample: { tokens: 6, tpotMs: 10 },
    });
  });

  it("passes a stream that ends after a finish_reason without [DONE], and reads legacy completions (text)", () => {
    const text = (t: string, f: string | null) =>
      `data: ${JSON.stringify({ choices: [{ text: t, finish_reason: f }] })}\n\n`;
    expect(
      read([
        [text("x", null), 10],
        [text("y", "stop"), 20],
      ]),
    ).toMatchObject({ ok: true, sample: { tokens: 2 } });
  });

  it("fails a stream that stops before [DONE] or a finish_reason, saying how many tokens came", () => {
    expect(
      read([
        [chat("a"), 10],
        [chat("b"), 20],
      ]),
    ).toEqual({
      ok: false,
      reason: "stream-ended",
      error: "stream ended early: 2 tokens, then the connection closed before [DONE] or a finish_reason",
    });
  });

  it("fails malformed events: not JSON, no choices array, and an error event", () => {
    expect(
      read([
        [chat("a"), 10],
        ["data: {oops\n\n", 11],
      ]),
    ).toMatchObject({
      ok: false,
      reason: "stream-malformed",
      error: 'event 2 is not JSON: "{oops"',
    });
    expect(read([['data: {"object":"x"}\n\n', 10]])).toMatchObject({
      reason: "stream-malformed",
      error: expect.stringContaining("not a completion chunk"),
    });
    expect(read([['data: {"error":{"message":"CUDA out of memory"}}\n\n', 10]])).toMatchObject({
      reason: "stream-error",
      error: 'server sent an error event: "CUDA out of memory"',
    });
  });

  it("fails a stream with no content token, and names a JSON answer to a stream request", () => {
    expect(
      read([
        [chat(""), 10],
        ["data: [DONE]\n\n", 20],
      ]),
    ).toMatchObject({
      ok: false,
      error: "stream ended after 2 events without a content token",
    });
    expect(read([['{"choices":[{"message":{"content":"hi"}}]}', 10]])).toMatchObject({
      ok: false,
      reason: "stream-malformed",
      error: expect.stringContaining("does the server stream with stream: true?"),
    });
  });

  it("ignores what comes after [DONE]", () => {
    expect(
      read([
        [chat("a"), 10],
        ["data: [DONE]\n\ndata: {junk\n\n", 11],
      ]),
    ).toMatchObject({ ok: true });
  });

  it("asks for a bounded, deterministic stream", () => {
    expect(
      JSON.parse(
        streamRequestBody({ path: "/v1/chat/completions", model: "m", prompt: "hi", maxTokens: 16 }),
      ),
    ).toEqual({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 16,
      temperature: 0,
      stream: true,
    });
  });
});
