// spec.health.stream → what the prober streams (defaults resolved here, in memory), and the
// prober's stream window → status.health's stream numbers. Used by prober-health.ts.
import { type ModelDeployment, STREAM_DEFAULTS } from "../api/index.ts";
import type { StreamCheckSpec } from "../prober/stream.ts";
import type { StreamStats } from "../prober/stream-window.ts";

/** `{ stream }` for the probe spec when spec.health.stream is set, else `{}`. */
export function streamProbeSpecFor(md: ModelDeployment): { stream?: StreamCheckSpec } {
  const s = md.spec.health.stream;
  if (s === undefined) return {};
  return {
    stream: {
      path: s.path ?? STREAM_DEFAULTS.path,
      model: s.model ?? md.spec.model.name,
      prompt: s.prompt ?? STREAM_DEFAULTS.prompt,
      maxTokens: s.maxTokens ?? STREAM_DEFAULTS.maxTokens,
    },
  };
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** status.health's stream fields of a revision (none without streams; NaN numbers left out). */
export function streamHealthOf(s: StreamStats | undefined): {
  streamSamples?: number;
  ttftP50Ms?: number;
  ttftP99Ms?: number;
  tpotP99Ms?: number;
  tokensPerSecond?: number;
} {
  if (s === undefined) return {};
  const out: ReturnType<typeof streamHealthOf> = { streamSamples: s.samples };
  if (Number.isFinite(s.p50TtftMs)) out.ttftP50Ms = round1(s.p50TtftMs);
  if (Number.isFinite(s.p99TtftMs)) out.ttftP99Ms = round1(s.p99TtftMs);
  if (Number.isFinite(s.p99TpotMs)) out.tpotP99Ms = round1(s.p99TpotMs);
  if (Number.isFinite(s.tokensPerSecond)) out.tokensPerSecond = round1(s.tokensPerSecond);
  return out;
}
