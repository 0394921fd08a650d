// The streaming LLM health of OpenAI-compatible servers: spec.health.stream (what the prober
// streams) and the analysis gates on what it measures (TTFT, TPOT, tokens/s). Gates that need
// stream samples are refused without spec.health.stream, by zod and by CEL with the same words.
import { z } from "zod";
import type { RuntimePreset } from "./presets.ts";
import { httpPath } from "./schema-helpers.ts";

/** Presets whose servers speak OpenAI's streaming chat completions. */
export const STREAM_PRESETS = ["openai", "vllm", "tgi", "nim"] as const satisfies readonly RuntimePreset[];

/** Bounds of one probe stream; the defaults are resolved in memory (not stored). */
export const STREAM_MAX_TOKENS_LIMIT = 256;
export const STREAM_DEFAULTS = Object.freeze({
  path: "/v1/chat/completions",
  prompt: "Reply with a short greeting.",
  maxTokens: 16,
});

export const StreamCheckSchema = z
  .object({
    path: httpPath(`Streaming chat completions path. Default: ${STREAM_DEFAULTS.path}.`).optional(),
    model: z
      .string()
      .min(1)
      .max(253)
      .optional()
      .describe(
        "The request's model field, when the server's served name differs from spec.model.name (e.g. a Hugging Face id). Default: spec.model.name.",
      ),
    prompt: z
      .string()
      .min(1)
      .max(2048)
      .optional()
      .describe(`The user message of the probe request. Default: "${STREAM_DEFAULTS.prompt}"`),
    maxTokens: z
      .int()
      .min(1)
      .max(STREAM_MAX_TOKENS_LIMIT)
      .optional()
      .describe(
        `max_tokens of the probe request (at most ${STREAM_MAX_TOKENS_LIMIT}). Default: ${STREAM_DEFAULTS.maxTokens}. Each probe round streams this many tokens from each Ready pod.`,
      ),
  })
  .describe(
    "A streaming inference check for OpenAI-compatible servers (presets openai, vllm, tgi, nim): every probe round sends each Ready pod one chat completion with stream: true, temperature 0 and max_tokens, reads the server-sent events as they arrive and measures time to first token (TTFT), time per output token (TPOT) and output tokens/s. A stream that ends before [DONE] or a finish_reason, sends no token within timeoutSeconds, sends an event that is not a completion chunk, or exceeds 64 KiB fails the probe. Bounded per pod and round by maxTokens, 64 KiB and timeoutSeconds. Absent: no streams.",
  );
export type StreamCheck = z.output<typeof StreamCheckSchema>;

/** The analysis thresholds judged on stream samples (spread into spec.ts analysisFields). */
export const streamAnalysisFields = {
  maxTTFTp99Ms: z
    .int()
    .min(1)
    .max(600_000)
    .describe("Maximum p99 time to first token of the probe streams, ms. Needs spec.health.stream."),
  maxTPOTp99Ms: z
    .number()
    .min(0.001)
    .max(600_000)
    .describe(
      "Maximum p99 time per output token (mean gap between tokens after the first, per stream), ms. Needs spec.health.stream.",
    ),
  minTokensPerSecond: z
    .number()
    .min(0.001)
    .max(1_000_000)
    .describe(
      "Minimum median output tokens per second of the probe streams (tokens ÷ request start → last token). Needs spec.health.stream.",
    ),
  maxTTFTp99RelativeToStable: z
    .number()
    .min(1)
    .max(1000)
    .describe(
      "Maximum canary p99 TTFT as a multiple of the stable revision's (e.g. 1.5). Needs spec.health.stream.",
    ),
  maxTPOTp99RelativeToStable: z
    .number()
    .min(1)
    .max(1000)
    .describe(
      "Maximum canary p99 TPOT as a multiple of the stable revision's (e.g. 1.5). Needs spec.health.stream.",
    ),
};

export const STREAM_GATES = Object.keys(streamAnalysisFields) as (keyof typeof streamAnalysisFields)[];

export const STREAM_GATES_NEED_STREAM = `${STREAM_GATES.join(", ")} need spec.health.stream (the streaming check that measures them)`;
export const STREAM_NEEDS_OPENAI_PRESET = `health.stream needs runtime.preset ${STREAM_PRESETS.join(", ")} (servers that stream OpenAI chat completions)`;

const anyGate = (v: string) => STREAM_GATES.map((g) => `has(${v}.${g})`).join(" || ");

/** CEL rules on spec, mirroring `streamSpecIssues`. */
export const STREAM_CEL_RULES = [
  {
    rule: `!(has(self.rollout) && ((has(self.rollout.analysis) && (${anyGate("self.rollout.analysis")})) || (has(self.rollout.steps) && self.rollout.steps.exists(s, has(s.analysis) && (${anyGate("s.analysis")}))))) || (has(self.health) && has(self.health.stream))`,
    message: STREAM_GATES_NEED_STREAM,
  },
  {
    rule: `!(has(self.health) && has(self.health.stream)) || self.runtime.preset in [${STREAM_PRESETS.map((p) => `'${p}'`).join(", ")}]`,
    message: STREAM_NEEDS_OPENAI_PRESET,
  },
];

interface SpecView {
  runtime: { preset: RuntimePreset };
  health: { stream?: StreamCheck | undefined };
  rollout: {
    analysis: Partial<Record<(typeof STREAM_GATES)[number], unknown>>;
    steps: readonly { analysis?: Partial<Record<(typeof STREAM_GATES)[number], unknown>> | undefined }[];
  };
}

/** What the CEL rules refuse, for zod's superRefine on spec: `[path, message]` pairs. */
export function streamSpecIssues(spec: SpecView): [(string | number)[], string][] {
  const issues: [(string | number)[], string][] = [];
  const gated = (a: Partial<Record<string, unknown>> | undefined) =>
    a !== undefined && STREAM_GATES.some((g) => a[g] !== undefined);
  if (spec.health.stream === undefined) {
    if (gated(spec.rollout.analysis)) issues.push([["rollout", "analysis"], STREAM_GATES_NEED_STREAM]);
    spec.rollout.steps.forEach((s, i) => {
      if (gated(s.analysis)) issues.push([["rollout", "steps", i, "analysis"], STREAM_GATES_NEED_STREAM]);
    });
  } else if (!(STREAM_PRESETS as readonly string[]).includes(spec.runtime.preset)) {
    issues.push([["health", "stream"], STREAM_NEEDS_OPENAI_PRESET]);
  }
  return issues;
}
