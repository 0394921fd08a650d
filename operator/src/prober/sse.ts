// A small incremental parser of server-sent events (the WHATWG "event stream" format) as OpenAI-
// compatible servers stream completions: bytes arrive in arbitrary chunks; lines end in LF, CR or
// CRLF (a CRLF may be split across chunks); ':' lines are comments; several `data:` lines of one
// event join with "\n"; a blank line dispatches the event. Only `event` and `data` are kept.

/** One dispatched event. `event` is absent for the default ("message") type. */
export interface SseEvent {
  event?: string;
  data: string;
}

/** The parser refuses lines longer than this (a malformed or hostile stream without newlines). */
export const SSE_MAX_LINE_CHARS = 64 * 1024;

export class SseLineTooLongError extends Error {
  override name = "SseLineTooLongError";
}

/**
 * Feed it decoded text with `push`; it returns the events completed by that text. `end` returns an
 * event left without its closing blank line (the spec drops it; callers may treat it as truncation).
 */
export class SseParser {
  #line = "";
  #data: string[] = [];
  #event: string | undefined;
  #sawCr = false;
  #hasField = false;

  push(text: string): SseEvent[] {
    const out: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      // The LF of a CRLF whose CR ended the previous chunk (or the previous line) ends nothing new.
      if (c === 10 && this.#sawCr && i === start) {
        this.#sawCr = false;
        start = i + 1;
        continue;
      }
      this.#line += text.slice(start, i);
      this.#sawCr = c === 13;
      start = i + 1;
      const ev = this.#takeLine();
      if (ev !== undefined) out.push(ev);
    }
    if (start < text.length) {
      this.#sawCr = false;
      this.#line += text.slice(start);
      if (this.#line.length > SSE_MAX_LINE_CHARS)
        throw new SseLineTooLongError(`event-stream line longer than ${SSE_MAX_LINE_CHARS} characters`);
    }
    return out;
  }

  /** An event whose fields arrived but whose blank line never did; undefined when none is pending. */
  end(): SseEvent | undefined {
    if (this.#line !== "") {
      this.#field(this.#line);
      this.#line = "";
    }
    if (!this.#hasField) return undefined;
    const ev = this.#dispatch();
    return ev;
  }

  #takeLine(): SseEvent | undefined {
    const line = this.#line;
    this.#line = "";
    if (line === "") return this.#hasField ? this.#dispatch() : undefined;
    this.#field(line);
    return undefined;
  }

  #field(line: string): void {
    if (line.startsWith(":")) return; // comment (servers send these as keep-alives)
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (name === "data") {
      this.#data.push(value);
      this.#hasField = true;
    } else if (name === "event") {
      this.#event = value;
      this.#hasField = true;
    }
    // id, retry and unknown fields mean nothing to a probe.
  }

  #dispatch(): SseEvent | undefined {
    const data = this.#data.join("\n");
    const event = this.#event;
    const hadData = this.#data.length > 0;
    this.#data = [];
    this.#event = undefined;
    this.#hasField = false;
    // The spec ignores an event with no data lines.
    if (!hadData) return undefined;
    return event === undefined || event === "" || event === "message" ? { data } : { event, data };
  }
}
