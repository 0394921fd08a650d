// The Streams block of `kubectl modelship status`: each revision's streaming LLM numbers
// (status.health.<role>: TTFT p50/p99, TPOT p99, tokens/s), shown only when the prober streams.
import type { RevisionHealth } from "../api/index.ts";
import { formatMs, formatTable } from "./format.ts";

export function streamLines(
  entries: readonly (readonly [string, RevisionHealth])[],
  field: (label: string, value: string) => string,
): string[] {
  const rows = entries
    .filter(([, r]) => r.streamSamples !== undefined)
    .map(([role, r]) => [
      role,
      String(r.streamSamples),
      formatMs(r.ttftP50Ms),
      formatMs(r.ttftP99Ms),
      formatMs(r.tpotP99Ms),
      r.tokensPerSecond === undefined ? "-" : r.tokensPerSecond.toFixed(1),
    ]);
  if (rows.length === 0) return [];
  return [
    field("Streams", ""),
    ...formatTable(
      ["ROLE", "STREAMS", "TTFT P50", "TTFT P99", "TPOT P99", "TOKENS/S"],
      rows,
      undefined,
      "  ",
    ),
  ];
}
