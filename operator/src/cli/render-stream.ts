// The Streams block of `kubectl modelship status`: each revision's streaming LLM numbers
// (status.health.<role>: TTFT p50/p99, TPOT p99, tokens/s), shown only when the prober streams.
import type { AnalysisSpec, RevisionHealth } from "../api/index.ts";
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

/** The stream gates an analysis step waits for, for its "needs …" line: ", TTFT p99 ≤ 500ms". */
export function streamWants(a: AnalysisSpec): string {
  const parts = [
    a.maxTTFTp99Ms !== undefined ? `TTFT p99 ≤ ${a.maxTTFTp99Ms}ms` : "",
    a.maxTTFTp99RelativeToStable !== undefined ? `TTFT p99 ≤ ${a.maxTTFTp99RelativeToStable}× stable` : "",
    a.maxTPOTp99Ms !== undefined ? `TPOT p99 ≤ ${a.maxTPOTp99Ms}ms` : "",
    a.maxTPOTp99RelativeToStable !== undefined ? `TPOT p99 ≤ ${a.maxTPOTp99RelativeToStable}× stable` : "",
    a.minTokensPerSecond !== undefined ? `≥ ${a.minTokensPerSecond} tokens/s` : "",
  ].filter((p) => p !== "");
  return parts.map((p) => `, ${p}`).join("");
}
