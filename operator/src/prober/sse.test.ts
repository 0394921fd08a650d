import { describe, expect, it } from "vitest";
import { SSE_MAX_LINE_CHARS, type SseEvent, SseLineTooLongError, SseParser } from "./sse.ts";

/** Feeds `text` in pieces cut at `cuts` and collects every event, plus what end() returns. */
function parse(text: string, cuts: number[] = []): { events: SseEvent[]; pending?: SseEvent } {
  const p = new SseParser();
  const events: SseEvent[] = [];
  let from = 0;
  for (const at of [...cuts, text.length]) {
    events.push(...p.push(text.slice(from, at)));
    from = at;
  }
  const pending = p.end();
  return pending === undefined ? { events } : { events, pending };
}

const STREAM =
  'data: {"a":1}\n\n: keep-alive comment\n\nevent: error\ndata: line one\ndata: line two\n\ndata:[DONE]\n\n';
const EXPECTED: SseEvent[] = [
  { data: '{"a":1}' },
  { event: "error", data: "line one\nline two" },
  { data: "[DONE]" },
];

describe("SseParser", () => {
  it("parses events, skips comments, joins multi-line data with \\n, strips one leading space", () => {
    expect(parse(STREAM).events).toEqual(EXPECTED);
  });

  it("gives the same events for every way of splitting the bytes into chunks", () => {
    for (let a = 0; a <= STREAM.length; a++) {
      for (const b of [a, a + 1, a + 7]) {
        expect(parse(STREAM, [a, Math.min(b, STREAM.length)]).events, `cut at ${a},${b}`).toEqual(EXPECTED);
      }
    }
  });

  it("accepts CRLF and lone CR line ends, also with a CRLF split between chunks", () => {
    const crlf = STREAM.replaceAll("\n", "\r\n");
    for (let a = 0; a <= crlf.length; a++) expect(parse(crlf, [a]).events, `cut at ${a}`).toEqual(EXPECTED);
    expect(parse(STREAM.replaceAll("\n", "\r")).events).toEqual(EXPECTED);
  });

  it("does not dispatch an event without data, and keeps a value's other spaces", () => {
    expect(parse("event: ping\n\ndata:  two spaces\n\nid: 7\nretry: 10\n\n").events).toEqual([
      { data: " two spaces" },
    ]);
  });

  it("returns an event whose closing blank line never came from end()", () => {
    expect(parse('data: {"a":1}\n\ndata: cut')).toEqual({
      events: [{ data: '{"a":1}' }],
      pending: { data: "cut" },
    });
    expect(parse("data: x\n").pending).toEqual({ data: "x" });
    expect(parse("data: x\n\n").pending).toBeUndefined();
  });

  it("refuses a line longer than its limit (a stream without newlines)", () => {
    const p = new SseParser();
    expect(() => p.push(`data: ${"x".repeat(SSE_MAX_LINE_CHARS)}`)).toThrow(SseLineTooLongError);
  });
});
