// The step list in the engine's terms: spec.rollout.steps[] become PlannedSteps (durations in ms),
// and one wording of a step for everything a person reads (events, status, the kubectl plugin).
import { durationToMs, type HeaderRoute, type RolloutStep } from "../api/index.ts";
import { formatDuration } from "../lib/time.ts";
import type { PlannedStep } from "./types.ts";

/** A step of spec.rollout.steps (already validated: exactly one key) as the engine runs it. */
export function planStep(step: RolloutStep): PlannedStep {
  if (step.setWeight !== undefined) return { setWeight: step.setWeight };
  if (step.pause !== undefined)
    return { pause: step.pause.duration ? { durationMs: durationToMs(step.pause.duration) } : {} };
  if (step.headerRoute !== undefined) return { headerRoute: step.headerRoute };
  if (step.shadow !== undefined)
    return {
      shadow: {
        percent: step.shadow.percent,
        ...(step.shadow.duration ? { durationMs: durationToMs(step.shadow.duration) } : {}),
      },
    };
  return { analysis: { ...(step.analysis ?? {}) } };
}

/** "x-canary: always, or x-tenant ~ ^team-a" (a regular expression shown with ~). */
export function describeHeaderRoute(route: HeaderRoute): string {
  return route.matches
    .map((m) =>
      m.headers
        .map((h) => `${h.name}${h.type === "RegularExpression" ? " ~ " : ": "}${h.value}`)
        .join(" and "),
    )
    .join(", or ");
}

/** "setWeight 10%", "pause 2m", "pause until promoted", "shadow 10% for 5m", "analysis (minSamples 50)"; past the last step, "promotion". */
export function describeStep(step: PlannedStep | undefined): string {
  if (step === undefined) return "promotion";
  if ("setWeight" in step) return `setWeight ${step.setWeight}%`;
  if ("pause" in step)
    return step.pause.durationMs === undefined
      ? "pause until promoted"
      : `pause ${formatDuration(step.pause.durationMs)}`;
  if ("headerRoute" in step)
    return step.headerRoute.matches.length === 0
      ? "headerRoute removed"
      : `headerRoute (${describeHeaderRoute(step.headerRoute)})`;
  if ("shadow" in step)
    return step.shadow.durationMs === undefined
      ? `shadow ${step.shadow.percent}% until promoted`
      : `shadow ${step.shadow.percent}% for ${formatDuration(step.shadow.durationMs)}`;
  const overrides = Object.entries(step.analysis)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k} ${String(v)}`);
  return overrides.length > 0 ? `analysis (${overrides.join(", ")})` : "analysis";
}
