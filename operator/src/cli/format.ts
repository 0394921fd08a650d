// Small text helpers shared by the views: ages, percentages, times and aligned tables (durations
// are lib/time.ts formatDuration, as in status messages).
import { toRfc3339 } from "../lib/time.ts";

/** Coarse age like kubectl's AGE column: 45s, 12m, 3h, 5d. */
export function formatAge(fromMs: number, nowMs: number): string {
  const s = Math.max(0, Math.floor((nowMs - fromMs) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

export function ageOf(time: string | undefined, nowMs: number): string {
  if (time === undefined) return "-";
  const at = Date.parse(time);
  return Number.isNaN(at) ? "-" : formatAge(at, nowMs);
}

export function formatPercent(fraction: number | undefined): string {
  if (fraction === undefined) return "-";
  const pct = fraction * 100;
  return `${pct === 100 || pct === 0 ? pct.toFixed(0) : pct.toFixed(1)}%`;
}

export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return "-";
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)}s` : `${Math.round(ms)}ms`;
}

/** RFC 3339 without milliseconds: short enough for a table column. */
export function formatTime(time: string): string {
  const at = Date.parse(time);
  return Number.isNaN(at) ? time : toRfc3339(at, "seconds");
}

export type CellPaint = (text: string, row: number, column: number) => string;

/**
 * Left-aligned columns separated by two spaces. Widths are measured on plain text and colour is
 * applied after padding, so escape codes never break the alignment. The last column is not padded.
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  paint: CellPaint = (t) => t,
  indent = "",
): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? "").length)));
  return all.map((r, i) =>
    (
      indent +
      r
        .map((cell, c) => {
          const padded = c === r.length - 1 ? cell : cell.padEnd(widths[c] ?? 0);
          return i === 0 ? padded : paint(padded, i - 1, c);
        })
        .join("  ")
    ).trimEnd(),
  );
}
