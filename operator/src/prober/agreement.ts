// Output agreement: the same request to a stable pod and a canary pod, the two answers compared at
// a JSON path (exact, numeric with tolerance, or text), and a window of agree/disagree per canary.
// A pair where either side gave no usable answer (timeout, non-2xx) is skipped, not a disagreement:
// errors are the success rate's business; agreement judges answers both sides gave.
import { isDeepStrictEqual } from "node:util";
import { readJsonPath } from "./checks.ts";
import type { ProbeHttpClient, ProbeTarget } from "./http-client.ts";

export type Comparison =
  | { compare: "Exact" }
  | { compare: "Numeric"; absoluteTolerance: number; relativeTolerance: number }
  | { compare: "Text"; minTokenOverlap?: number };

/** What the prober sends and compares for one ModelDeployment's stable/canary pair. */
export interface AgreementProbeSpec {
  request: { method: "GET" | "POST"; path: string; body?: unknown };
  /** The JSON path as the user wrote it (`$.outputs[0].data`); shown in messages. */
  jsonPath: string;
  comparison: Comparison;
  /** Pairs compared per interval (each pair: one request to each side). */
  pairsPerInterval: number;
  intervalMs: number;
  /** Hard deadline of each of the two requests. */
  timeoutMs: number;
}

/** How two values compare: `invalid` when the stable's own answer cannot be compared this way. */
export type ComparisonResult =
  | { kind: "agree" }
  | { kind: "disagree"; why: string }
  | { kind: "invalid"; why: string };

export type PairOutcome =
  | { kind: "agree" }
  | { kind: "disagree"; message: string }
  | { kind: "skipped"; error: string };

/** A pod of one side of a pair. */
export interface PairPod extends ProbeTarget {
  podName: string;
}

const SHOWN_CHARS = 200;

/** A value as a person reads it in a message: JSON, cut to a bounded length. */
export function showValue(v: unknown): string {
  const text = v === undefined ? "(absent)" : (JSON.stringify(v) ?? String(v));
  return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS - 1)}…` : text;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : Number(n.toPrecision(4)).toString();
}

/** Case, width and whitespace do not count: "Paris." and " paris. " are the same answer. */
export function normaliseText(s: string): string {
  return s.normalize("NFKC").toLowerCase().replace(/\s+/g, " ").trim();
}

/** Word tokens (letters and digits) of a normalised text. */
function tokens(s: string): string[] {
  return normaliseText(s).match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Token F1: 2 × shared tokens (as multisets) ÷ tokens of both; 1 when both are empty. */
export function tokenOverlap(a: string, b: string): number {
  const ta = tokens(a);
  const tb = tokens(b);
  if (ta.length + tb.length === 0) return 1;
  const counts = new Map<string, number>();
  for (const t of ta) counts.set(t, (counts.get(t) ?? 0) + 1);
  let shared = 0;
  for (const t of tb) {
    const n = counts.get(t) ?? 0;
    if (n > 0) {
      shared++;
      counts.set(t, n - 1);
    }
  }
  return (2 * shared) / (ta.length + tb.length);
}

/** Walks two numbers or (nested) arrays of numbers side by side; the first element out of tolerance. */
function compareNumeric(
  stable: unknown,
  canary: unknown,
  c: { absoluteTolerance: number; relativeTolerance: number },
  at: string,
): ComparisonResult {
  if (typeof stable === "number") {
    if (typeof canary !== "number") return { kind: "disagree", why: `${at || "value"} is not a number` };
    const limit = c.absoluteTolerance + c.relativeTolerance * Math.abs(stable);
    const diff = Math.abs(canary - stable);
    return diff <= limit
      ? { kind: "agree" }
      : { kind: "disagree", why: `${at || "value"} differs by ${fmt(diff)} (tolerance ${fmt(limit)})` };
  }
  if (Array.isArray(stable)) {
    if (!Array.isArray(canary)) return { kind: "disagree", why: `${at || "value"} is not an array` };
    if (canary.length !== stable.length)
      return {
        kind: "disagree",
        why: `${at || "value"} has ${canary.length} elements, the stable's ${stable.length}`,
      };
    for (let i = 0; i < stable.length; i++) {
      const r = compareNumeric(stable[i], canary[i], c, `${at}[${i}]`);
      if (r.kind !== "agree") return r;
    }
    return { kind: "agree" };
  }
  return { kind: "invalid", why: `the stable's ${at || "value"} is not a number or an array of numbers` };
}

/** Compares the canary's value with the stable's under one comparison. Pure. */
export function compareValues(stable: unknown, canary: unknown, c: Comparison): ComparisonResult {
  switch (c.compare) {
    case "Exact":
      return isDeepStrictEqual(stable, canary) ? { kind: "agree" } : { kind: "disagree", why: "not equal" };
    case "Numeric":
      return compareNumeric(stable, canary, c, "");
    case "Text": {
      if (typeof stable !== "string") return { kind: "invalid", why: "the stable's value is not a string" };
      if (typeof canary !== "string") return { kind: "disagree", why: "not a string" };
      if (c.minTokenOverlap === undefined) {
        return normaliseText(stable) === normaliseText(canary)
          ? { kind: "agree" }
          : { kind: "disagree", why: "different text" };
      }
      const overlap = tokenOverlap(stable, canary);
      return overlap >= c.minTokenOverlap
        ? { kind: "agree" }
        : {
            kind: "disagree",
            why: `token overlap ${fmt(overlap)} below ${fmt(c.minTokenOverlap)}`,
          };
    }
  }
}

type Answer = { ok: true; value: unknown } | { ok: false; error: string; answered: boolean };

/** `answered`: the pod gave a 2xx answer (so a bad body is its answer, not a transport failure). */
function answerOf(
  res: Awaited<ReturnType<ProbeHttpClient["request"]>>,
  path: string,
  jsonPath: string,
): Answer {
  if (res.kind !== "response") return { ok: false, error: `${res.kind}: ${res.error}`, answered: false };
  if (res.status < 200 || res.status >= 300)
    return { ok: false, error: `HTTP ${res.status}`, answered: false };
  let body: unknown;
  try {
    body = JSON.parse(res.body) as unknown;
  } catch {
    return { ok: false, error: "answer is not JSON", answered: true };
  }
  const value = readJsonPath(body, path);
  if (value === undefined) return { ok: false, error: `answer has no ${jsonPath}`, answered: true };
  return { ok: true, value };
}

/**
 * Sends the request to both pods at once (each with the hard deadline `timeoutMs`) and compares
 * the answers. Never throws.
 */
export async function runAgreementPair(
  client: Pick<ProbeHttpClient, "request">,
  stable: PairPod,
  canary: PairPod,
  spec: AgreementProbeSpec,
): Promise<PairOutcome> {
  const request = {
    method: spec.request.method,
    path: spec.request.path,
    timeoutMs: spec.timeoutMs,
    ...(spec.request.body !== undefined ? { jsonBody: JSON.stringify(spec.request.body) } : {}),
  };
  const path = spec.jsonPath.replace(/^\$\.?/, "");
  const [s, c] = await Promise.all([client.request(stable, request), client.request(canary, request)]);
  const sa = answerOf(s, path, spec.jsonPath);
  const ca = answerOf(c, path, spec.jsonPath);
  if (!sa.ok) return { kind: "skipped", error: `stable pod ${stable.podName}: ${sa.error}` };
  if (!ca.ok && !ca.answered) return { kind: "skipped", error: `canary pod ${canary.podName}: ${ca.error}` };
  const result: ComparisonResult = ca.ok
    ? compareValues(sa.value, ca.value, spec.comparison)
    : { kind: "disagree", why: ca.error };
  if (result.kind === "agree") return result;
  if (result.kind === "invalid")
    return { kind: "skipped", error: `stable pod ${stable.podName}: ${result.why} at ${spec.jsonPath}` };
  const canaryShown = ca.ok ? showValue(ca.value) : "(no value)";
  return {
    kind: "disagree",
    message: `at ${spec.jsonPath} stable pod ${stable.podName} answered ${showValue(sa.value)}, canary pod ${canary.podName} answered ${canaryShown} (${result.why})`,
  };
}

/** What the window says about one canary's agreement with the stable. */
export interface AgreementStats {
  /** Pairs compared in the window (skipped pairs excluded). */
  samples: number;
  agreements: number;
  /** agreements / samples; NaN when none. */
  rate: number;
  /** The newest disagreeing pair, both answers trimmed. */
  lastDisagreement?: string;
  /** Why the newest skipped pair could not be compared (e.g. the stable pod timed out). */
  lastSkip?: string;
  /** Pairs skipped since the window began. */
  skipped: number;
}

/** The newest pair outcomes of a canary, bounded by count and age (as the probe window). */
export class AgreementWindow {
  readonly #capacity: number;
  readonly #maxAgeMs: number;
  readonly #agree: Uint8Array;
  readonly #at: Float64Array;
  #head = 0;
  #size = 0;
  #agreements = 0;
  #skipped = 0;
  #lastDisagreement: string | undefined;
  #lastSkip: string | undefined;

  constructor(options: { maxSamples?: number; maxAgeMs?: number } = {}) {
    this.#capacity = Math.max(1, Math.floor(options.maxSamples ?? 1000));
    this.#maxAgeMs = options.maxAgeMs ?? Number.POSITIVE_INFINITY;
    this.#agree = new Uint8Array(this.#capacity);
    this.#at = new Float64Array(this.#capacity);
  }

  #dropOldest(): void {
    if (this.#agree[this.#head] === 1) this.#agreements--;
    this.#head = (this.#head + 1) % this.#capacity;
    this.#size--;
  }

  #expire(now: number): void {
    const cutoff = now - this.#maxAgeMs;
    while (this.#size > 0 && (this.#at[this.#head] as number) < cutoff) this.#dropOldest();
  }

  add(outcome: PairOutcome, at: number): void {
    if (outcome.kind === "skipped") {
      this.#skipped++;
      this.#lastSkip = outcome.error;
      return;
    }
    if (this.#size === this.#capacity) this.#dropOldest();
    const i = (this.#head + this.#size) % this.#capacity;
    const agree = outcome.kind === "agree";
    this.#agree[i] = agree ? 1 : 0;
    this.#at[i] = at;
    this.#size++;
    if (agree) this.#agreements++;
    else this.#lastDisagreement = outcome.message;
    this.#expire(at);
  }

  stats(now?: number): AgreementStats {
    if (now !== undefined) this.#expire(now);
    return {
      samples: this.#size,
      agreements: this.#agreements,
      rate: this.#size === 0 ? Number.NaN : this.#agreements / this.#size,
      skipped: this.#skipped,
      ...(this.#lastDisagreement !== undefined ? { lastDisagreement: this.#lastDisagreement } : {}),
      ...(this.#lastSkip !== undefined ? { lastSkip: this.#lastSkip } : {}),
    };
  }
}
