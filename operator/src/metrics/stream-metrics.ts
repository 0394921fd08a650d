// Per-revision gauges of the streaming LLM probes (spec.health.stream): the window's TTFT and TPOT
// quantiles and median tokens/s, as status.health shows them. Set from the prober's numbers
// (onStats, at most once per probe interval per revision); removed with the revision.
import { Gauge, type Registry } from "prom-client";

/** The prober's StreamStats, as far as the gauges read it (metrics/ may not import prober/). */
export interface StreamNumbers {
  samples: number;
  p50TtftMs: number;
  p99TtftMs: number;
  p50TpotMs: number;
  p99TpotMs: number;
  tokensPerSecond: number;
}

type RevisionLabels = { namespace: string; name: string; revision: string };

export interface StreamMetrics {
  set(labels: RevisionLabels, stats: StreamNumbers): void;
  forget(labels: RevisionLabels): void;
}

export function createStreamMetrics(registry: Registry, prefix: string): StreamMetrics {
  const registers = [registry];
  const ttft = new Gauge({
    name: `${prefix}stream_ttft_seconds`,
    help: "Time to first token of the prober's streams over the window, by revision and quantile (0.5, 0.99).",
    labelNames: ["namespace", "name", "revision", "quantile"] as const,
    registers,
  });
  const tpot = new Gauge({
    name: `${prefix}stream_tpot_seconds`,
    help: "Time per output token of the prober's streams over the window, by revision and quantile (0.5, 0.99).",
    labelNames: ["namespace", "name", "revision", "quantile"] as const,
    registers,
  });
  const tps = new Gauge({
    name: `${prefix}stream_tokens_per_second`,
    help: "Median output tokens per second of the prober's streams over the window, by revision.",
    labelNames: ["namespace", "name", "revision"] as const,
    registers,
  });
  const samples = new Gauge({
    name: `${prefix}stream_window_samples`,
    help: "Completed prober streams in the window, by revision.",
    labelNames: ["namespace", "name", "revision"] as const,
    registers,
  });
  // A NaN (nothing to rank yet) is left out rather than exported.
  const put = (g: Gauge<string>, labels: Record<string, string>, v: number) => {
    if (Number.isFinite(v)) g.set(labels, v);
    else g.remove(labels);
  };
  return {
    set(l, s) {
      put(ttft, { ...l, quantile: "0.5" }, s.p50TtftMs / 1000);
      put(ttft, { ...l, quantile: "0.99" }, s.p99TtftMs / 1000);
      put(tpot, { ...l, quantile: "0.5" }, s.p50TpotMs / 1000);
      put(tpot, { ...l, quantile: "0.99" }, s.p99TpotMs / 1000);
      put(tps, l, s.tokensPerSecond);
      samples.set(l, s.samples);
    },
    forget(l) {
      for (const quantile of ["0.5", "0.99"]) {
        ttft.remove({ ...l, quantile });
        tpot.remove({ ...l, quantile });
      }
      tps.remove(l);
      samples.remove(l);
    },
  };
}
