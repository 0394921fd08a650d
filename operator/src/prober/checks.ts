// The checks of one probe round against a model server: the runtime preset's readiness and model
// checks (or spec.health.checks instead), then the optional inference request, each judged from
// status, body and latency, then the optional streaming completion (stream.ts).
import { isDeepStrictEqual } from "node:util";
import type { RuntimePreset } from "../api/presets.ts";
import type { HttpFailureKind, HttpProbeRequest, ProbeHttpClient, ProbeTarget } from "./http-client.ts";
import { runStreamCheck, type StreamCheckSpec, type StreamFailureKind, type StreamSample } from "./stream.ts";

/**
 * What a passing JSON answer holds at `path` (like `outputs[0].data` or `outputs.0.data`); at most
 * one of the rules, none means `exists: true`. A null value counts as absent.
 */
export interface ExpectField {
  path: string;
  /** true: the field must be there (and not null); false: it must be absent (or null). */
  exists?: boolean;
  /** The value must deep-equal this. */
  equals?: unknown;
  /**
   * spec's `expect.equals`: a string value must equal this text; any other value, rendered as JSON,
   * must (so "42" matches 42 and "42", and "true" matches true and "true").
   */
  equalsText?: string;
}

/** One HTTP exchange of a probe round and what its answer must look like. */
export interface HttpCheckSpec {
  method?: "GET" | "POST";
  path: string;
  /** Sent as JSON. */
  body?: unknown;
  /** A slower answer fails the check even when it is correct. */
  maxLatencyMs?: number;
  /** Default: any 2xx. */
  expectStatus?: number;
  expectField?: ExpectField;
}

/** An inference request the prober sends as the last check of a round (spec.health.inference). */
export type InferenceCheckSpec = HttpCheckSpec;

/** A check of spec.health.checks: named in status by `name` (default `METHOD path`). */
export interface NamedHttpCheckSpec extends HttpCheckSpec {
  name?: string;
}

export interface HealthCheckSpec {
  preset: RuntimePreset;
  /** The served model name: `/v1/models` must list it, `/v2/models/{name}/ready` must be 200. */
  modelName: string;
  port: number;
  intervalMs: number;
  /** Budget per HTTP exchange. */
  timeoutMs: number;
  /** The path for preset `http` (default `/`), or an override of the preset's readiness path. */
  path?: string;
  /** Replace the preset's checks (and `path`) with these HTTP checks, run in order. */
  checks?: readonly NamedHttpCheckSpec[];
  inference?: InferenceCheckSpec;
  /** The streaming completion check (stream.ts), run last; its timings feed the stream window. */
  stream?: StreamCheckSpec;
}

export type CheckFailureKind =
  | HttpFailureKind
  | StreamFailureKind
  | "status"
  | "bad-body"
  | "model-missing"
  | "slow"
  | "field";

export type CheckResult =
  | { check: string; ok: true; latencyMs: number; stream?: StreamSample }
  | { check: string; ok: false; latencyMs: number; reason: CheckFailureKind; error: string };

/** One HTTP exchange and how to judge its answer: `undefined` means pass, else why it failed. */
export interface HealthCheck {
  name: string;
  /** The inference check: its latency is the sample's, its passes count toward warm-up. */
  inference?: true;
  request: Omit<HttpProbeRequest, "timeoutMs">;
  judge(status: number, body: string): { reason: CheckFailureKind; error: string } | undefined;
  maxLatencyMs?: number;
  /** Set for the streaming check: runCheck streams instead of `request` + `judge`. */
  stream?: StreamCheckSpec;
}

function expect2xx(status: number): { reason: CheckFailureKind; error: string } | undefined {
  return status >= 200 && status < 300 ? undefined : { reason: "status", error: `HTTP ${status}` };
}

function parseJson(body: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(body) as unknown };
  } catch (err) {
    return { ok: false, error: `answer is not JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Reads `a.b[0].c` / `a.b.0.c` from a JSON value; `undefined` when any step is missing. */
export function readJsonPath(value: unknown, path: string): unknown {
  const steps = path
    .replace(/\[(\d+)\]/g, ".$1")
    .split(".")
    .filter((s) => s !== "");
  let cur: unknown = value;
  for (const step of steps) {
    if (Array.isArray(cur) && /^\d+$/.test(step)) cur = cur[Number(step)];
    else if (isRecord(cur) && Object.hasOwn(cur, step)) cur = cur[step];
    else return undefined;
  }
  return cur;
}

function get(name: string, path: string): HealthCheck {
  return { name, request: { method: "GET", path }, judge: expect2xx };
}

/** `/v1/models` (OpenAI list format) must contain the expected model id. */
function modelListed(modelName: string): HealthCheck {
  return {
    name: "models-list",
    request: { method: "GET", path: "/v1/models" },
    judge(status, body) {
      const bad = expect2xx(status);
      if (bad !== undefined) return bad;
      const parsed = parseJson(body);
      if (!parsed.ok) return { reason: "bad-body", error: parsed.error };
      const data = readJsonPath(parsed.value, "data");
      if (!Array.isArray(data)) return { reason: "bad-body", error: "/v1/models answer has no data array" };
      const ids = data.map((m) => (isRecord(m) ? m.id : undefined)).filter((id) => typeof id === "string");
      if (ids.includes(modelName)) return undefined;
      return {
        reason: "model-missing",
        error: `/v1/models does not list "${modelName}" (serves: ${ids.slice(0, 5).join(", ") || "none"})`,
      };
    },
  };
}

/** TGI `/info`: `model_id` must be the model name, or end with `/<model name>` (HF repo ids). */
function tgiInfo(modelName: string): HealthCheck {
  return {
    name: "info",
    request: { method: "GET", path: "/info" },
    judge(status, body) {
      const bad = expect2xx(status);
      if (bad !== undefined) return bad;
      const parsed = parseJson(body);
      if (!parsed.ok) return { reason: "bad-body", error: parsed.error };
      const id = readJsonPath(parsed.value, "model_id");
      if (typeof id !== "string") return { reason: "bad-body", error: "/info answer has no model_id" };
      if (id === modelName || id.endsWith(`/${modelName}`)) return undefined;
      return { reason: "model-missing", error: `/info serves "${id}", expected "${modelName}"` };
    },
  };
}

function torchservePing(path: string): HealthCheck {
  return {
    name: "ping",
    request: { method: "GET", path },
    judge(status, body) {
      const bad = expect2xx(status);
      if (bad !== undefined) return bad;
      const parsed = parseJson(body);
      const s = parsed.ok ? readJsonPath(parsed.value, "status") : undefined;
      return s === "Healthy"
        ? undefined
        : { reason: "bad-body", error: `/ping status is ${JSON.stringify(s)}` };
    },
  };
}

/** The deep health checks of a preset, in the order they run (a round stops at the first failure). */
export function presetChecks(spec: Pick<HealthCheckSpec, "preset" | "modelName" | "path">): HealthCheck[] {
  const model = encodeURIComponent(spec.modelName);
  switch (spec.preset) {
    case "openInference":
    case "triton":
      return [
        get("server-ready", spec.path ?? "/v2/health/ready"),
        get("model-ready", `/v2/models/${model}/ready`),
      ];
    case "openai":
    case "vllm":
      return [get("health", spec.path ?? "/health"), modelListed(spec.modelName)];
    case "tgi":
      return [get("health", spec.path ?? "/health"), tgiInfo(spec.modelName)];
    case "torchserve":
      return [torchservePing(spec.path ?? "/ping")];
    case "nim":
      return [get("ready", spec.path ?? "/v1/health/ready")];
    case "http":
      return [get("http", spec.path ?? "/")];
  }
}

function judgeField(
  field: ExpectField,
  body: string,
): { reason: CheckFailureKind; error: string } | undefined {
  const parsed = parseJson(body);
  if (!parsed.ok) return { reason: "bad-body", error: parsed.error };
  const value = readJsonPath(parsed.value, field.path);
  const shown = () => JSON.stringify(value)?.slice(0, 100);
  if (Object.hasOwn(field, "equals")) {
    if (isDeepStrictEqual(value, field.equals)) return undefined;
    return {
      reason: "field",
      error: `${field.path} is ${shown()}, expected ${JSON.stringify(field.equals)}`,
    };
  }
  if (field.equalsText !== undefined) {
    if (equalsText(value, field.equalsText)) return undefined;
    return { reason: "field", error: `${field.path} is ${shown()}, expected ${field.equalsText}` };
  }
  const present = value !== undefined && value !== null;
  if (field.exists === false) {
    return present
      ? { reason: "field", error: `answer has field ${field.path} (${shown()}), expected none` }
      : undefined;
  }
  return present ? undefined : { reason: "field", error: `answer has no field ${field.path}` };
}

function equalsText(value: unknown, text: string): boolean {
  if (typeof value === "string") return value === text || JSON.stringify(value) === text;
  if (value === undefined) return false;
  const parsed = parseJson(text);
  return parsed.ok && isDeepStrictEqual(value, parsed.value);
}

/** One HTTP check: the status (default any 2xx), then the JSON field rule, then the latency limit. */
export function httpCheck(name: string, spec: HttpCheckSpec): HealthCheck {
  const method = spec.method ?? (spec.body === undefined ? "GET" : "POST");
  const check: HealthCheck = {
    name,
    request: { method, path: spec.path },
    judge(status, body) {
      if (spec.expectStatus !== undefined ? status !== spec.expectStatus : status < 200 || status >= 300) {
        return { reason: "status", error: `HTTP ${status}, expected ${spec.expectStatus ?? "2xx"}` };
      }
      return spec.expectField === undefined ? undefined : judgeField(spec.expectField, body);
    },
  };
  if (spec.body !== undefined) check.request.jsonBody = JSON.stringify(spec.body);
  if (spec.maxLatencyMs !== undefined) check.maxLatencyMs = spec.maxLatencyMs;
  return check;
}

/** The optional inference check built from spec.health.inference. */
export function inferenceCheck(spec: InferenceCheckSpec): HealthCheck {
  return { ...httpCheck("inference", spec), inference: true };
}

/** The streaming completion check built from spec.health.stream. */
export function streamCheck(spec: StreamCheckSpec): HealthCheck {
  return {
    name: "stream",
    request: { method: "POST", path: spec.path },
    judge: () => undefined,
    stream: spec,
  };
}

/** The name status shows for a check of spec.health.checks: its own, or `METHOD path`. */
export function checkName(spec: NamedHttpCheckSpec): string {
  return spec.name ?? `${spec.method ?? (spec.body === undefined ? "GET" : "POST")} ${spec.path}`;
}

/**
 * Every check of a probe round, in order: spec.health.checks when given, else the preset's deep
 * checks; then the inference check; then the stream check. Names are made unique (`#2`) so each gets its own numbers.
 */
export function checksFor(
  spec: Pick<HealthCheckSpec, "preset" | "modelName" | "path" | "checks" | "inference" | "stream">,
): HealthCheck[] {
  const checks =
    spec.checks !== undefined && spec.checks.length > 0
      ? spec.checks.map((c) => httpCheck(checkName(c), c))
      : presetChecks(spec);
  if (spec.inference !== undefined) checks.push(inferenceCheck(spec.inference));
  if (spec.stream !== undefined) checks.push(streamCheck(spec.stream));
  const seen = new Map<string, number>();
  return checks.map((c) => {
    const n = (seen.get(c.name) ?? 0) + 1;
    seen.set(c.name, n);
    return n === 1 ? c : { ...c, name: `${c.name} #${n}` };
  });
}

/** Runs one check against one target. Never throws. */
export async function runCheck(
  client: ProbeHttpClient,
  target: ProbeTarget,
  check: HealthCheck,
  timeoutMs: number,
): Promise<CheckResult> {
  if (check.stream !== undefined) {
    const s = await runStreamCheck(client, target, check.stream, timeoutMs);
    return s.ok
      ? { check: check.name, ok: true, latencyMs: s.latencyMs, stream: s.sample }
      : { check: check.name, ok: false, latencyMs: s.latencyMs, reason: s.reason, error: s.error };
  }
  const res = await client.request(target, { ...check.request, timeoutMs });
  if (res.kind !== "response") {
    return { check: check.name, ok: false, latencyMs: res.latencyMs, reason: res.kind, error: res.error };
  }
  const bad = check.judge(res.status, res.body);
  if (bad !== undefined) return { check: check.name, ok: false, latencyMs: res.latencyMs, ...bad };
  if (check.maxLatencyMs !== undefined && res.latencyMs > check.maxLatencyMs) {
    return {
      check: check.name,
      ok: false,
      latencyMs: res.latencyMs,
      reason: "slow",
      error: `took ${Math.round(res.latencyMs)} ms, above the ${check.maxLatencyMs} ms limit`,
    };
  }
  return { check: check.name, ok: true, latencyMs: res.latencyMs };
}

/** The outcome of one probe round against one pod. */
export interface ProbeRoundResult {
  ok: boolean;
  /** Inference latency when an inference check ran, else the duration of the whole round. */
  latencyMs: number;
  checks: CheckResult[];
  /** `check: error` of the first failing check. */
  error?: string;
  /** Whether the inference check ran and passed (for warm-up counting). */
  inferenceOk?: boolean;
  /** The streaming check's timings when it ran and passed. */
  stream?: StreamSample;
}

/**
 * Runs the checks in order and stops at the first failure. Each request has the hard deadline
 * `timeoutMs`; a round may outlast its interval (the scheduler then skips the runs that come due
 * meanwhile), and the slot it holds is its own ModelDeployment's share.
 */
export async function runProbeRound(
  client: ProbeHttpClient,
  target: ProbeTarget,
  checks: readonly HealthCheck[],
  timeoutMs: number,
): Promise<ProbeRoundResult> {
  const results: CheckResult[] = [];
  let total = 0;
  for (const check of checks) {
    const r = await runCheck(client, target, check, timeoutMs);
    results.push(r);
    // A stream's duration is its own measure (TTFT, TPOT), not the round's latency.
    if (check.stream === undefined) total += r.latencyMs;
    if (!r.ok) {
      const round: ProbeRoundResult = {
        ok: false,
        latencyMs: total,
        checks: results,
        error: `${r.check}: ${r.error}`,
      };
      if (check.inference) round.inferenceOk = false;
      return round;
    }
  }
  const at = checks.findIndex((c) => c.inference);
  const inference = at >= 0 ? results[at] : undefined;
  const round: ProbeRoundResult = { ok: true, latencyMs: inference?.latencyMs ?? total, checks: results };
  if (inference !== undefined) round.inferenceOk = true;
  const streamed = results.find((r) => r.ok && r.stream !== undefined);
  if (streamed?.ok && streamed.stream !== undefined) round.stream = streamed.stream;
  return round;
}
