// When is a change in a revision's probe numbers worth a status write? A moving p99 must not cost a
// write per probe: only a new revision or verdict, a success rate or agreement rate that moved by a
// point, a p99 that moved by a quarter and by at least 25 ms, or failures starting/stopping count.
// The 25 ms floor: a fast server's p99 of a few ms doubles whenever the node (or this process)
// pauses for a GC or a burst of work, which is noise, not news. Compared against what was last
// written (not against buckets), so values hovering near a boundary do not flap.

const P99_FLOOR_MS = 25;

export interface HealthNumbers {
  revision: string;
  verdict?: string | undefined;
  successRate?: number | undefined;
  p99Ms?: number | undefined;
  /** With spec.health.stream: judged like p99Ms. */
  ttftP99Ms?: number | undefined;
  consecutiveFailures?: number | undefined;
  agreementRate?: number | undefined;
}

export function meaningfulChange(
  before: HealthNumbers | undefined,
  after: HealthNumbers | undefined,
): boolean {
  if (!before || !after) return before !== after;
  if (before.revision !== after.revision || before.verdict !== after.verdict) return true;
  if (moved(before.successRate, after.successRate, 0.01)) return true;
  if (moved(before.agreementRate, after.agreementRate, 0.01)) return true;
  const p99Step = Math.max(P99_FLOOR_MS, (before.p99Ms ?? 0) * 0.25);
  if (moved(before.p99Ms, after.p99Ms, p99Step)) return true;
  const ttftStep = Math.max(P99_FLOOR_MS, (before.ttftP99Ms ?? 0) * 0.25);
  if (moved(before.ttftP99Ms, after.ttftP99Ms, ttftStep)) return true;
  return (before.consecutiveFailures ?? 0) > 0 !== (after.consecutiveFailures ?? 0) > 0;
}

/** Only the verdict changed sides: worth writing at once, not after the rate limit. */
export function verdictChanged(before: HealthNumbers | undefined, after: HealthNumbers | undefined): boolean {
  return before?.revision !== after?.revision || before?.verdict !== after?.verdict;
}

function moved(a: number | undefined, b: number | undefined, step: number): boolean {
  if (a === undefined || b === undefined) return a !== b;
  return Math.abs(a - b) >= step;
}
