// The `status` view: a pure function from what was read (the ModelDeployment, its revision
// Deployments) and the time to lines of text, so every case is testable without a cluster.
import type { RevisionHealth, RolloutStep } from "../api/index.ts";
import { ANNOTATION, DEFAULT_MIN_AGREEMENT_SAMPLES, durationToMs, effectiveAnalysis } from "../api/index.ts";
import { formatDuration } from "../lib/time.ts";
import { revisionFacts } from "../rollout/persisted-state.ts";
import { describeHeaderRoute, describeStep, planStep } from "../rollout/steps.ts";
import { ageOf, formatMs, formatPercent, formatTable, formatTime } from "./format.ts";
import { streamLines, streamWants } from "./render-stream.ts";
import { paintWord, type Style } from "./style.ts";
import type { ModelDeploymentView, RevisionPods } from "./view.ts";

export interface StatusInput {
  md: ModelDeploymentView;
  deployments: readonly RevisionPods[];
  /** Milliseconds since the epoch. */
  now: number;
  style: Style;
}

type Role = "stable" | "canary" | "withdrawing" | "draining" | "rejected" | "old";

interface RevisionRow {
  revision: string;
  role: Role;
  modelVersion?: string;
  image?: string;
  pods?: RevisionPods;
  traffic?: number;
  note?: string;
}

const LABEL_WIDTH = 12;
const field = (label: string, value: string) => `${`${label}:`.padEnd(LABEL_WIDTH)}${value}`.trimEnd();

export function renderStatus(input: StatusInput): string[] {
  const { md, style } = input;
  const s = md.status;
  const lines: string[] = [];
  const phase = s.phase ?? "Unknown";
  lines.push(`${style.bold(`ModelDeployment ${md.namespace}/${md.name}`)}  ${paintWord(style, phase)}`);
  if (s.message) lines.push(field("Message", s.message));
  lines.push(...generationLines(input));
  if (md.spec) {
    lines.push(field("Model", `${md.spec.model.name} ${md.spec.model.version}`));
    lines.push(field("Image", md.spec.runtime.image));
  } else if (md.specProblem) {
    lines.push(field("Spec", style.red(`does not parse: ${md.specProblem}`)));
  }
  if (md.statusProblem) lines.push(field("Status", style.red(`unreadable: ${md.statusProblem}`)));
  if (s.rejectedRevision) lines.push(...rejectedLines(input, s.rejectedRevision));
  lines.push(...manualLines(input));
  lines.push("", ...stepLines(input));
  lines.push("", ...revisionLines(input));
  lines.push("", ...healthLines(input));
  lines.push("", ...conditionLines(input));
  return lines;
}

function generationLines({ md, style }: StatusInput): string[] {
  const observed = md.status.observedGeneration;
  if (md.generation === undefined || observed === md.generation) return [];
  const seen = observed === undefined ? "not yet" : `up to generation ${observed}`;
  return [
    field(
      "Generation",
      style.yellow(`${md.generation}; the operator has seen ${seen}, so this status may be out of date`),
    ),
  ];
}

function rejectedLines({ md, style }: StatusInput, revision: string): string[] {
  const why = md.state.rejected?.revision === revision ? md.state.rejected : undefined;
  const reason = why ? `${why.reason}: ${why.message}` : "aborted";
  return [
    field("Rejected", style.red(`${revision} (${reason})`)),
    field(
      "",
      `not started again until the spec changes; to try it again: kubectl modelship retry ${md.name}`,
    ),
  ];
}

/** Level-triggered pause and requests the operator has not picked up yet. */
function manualLines({ md, now, style }: StatusInput): string[] {
  const lines: string[] = [];
  if (md.annotations[ANNOTATION.paused] === "true") {
    const since = md.state.pausedAt
      ? `, held for ${formatDuration(now - Date.parse(md.state.pausedAt))}`
      : "";
    lines.push(
      field(
        "Paused",
        style.yellow(`by ${ANNOTATION.paused}=true${since}; resume: kubectl modelship resume ${md.name}`),
      ),
    );
  }
  const requests = [
    ["promote", ANNOTATION.promote],
    ["promoteFull", ANNOTATION.promoteFull],
    ["abort", ANNOTATION.abort],
    ["retry", ANNOTATION.retry],
  ] as const;
  for (const [key, annotation] of requests) {
    const id = md.annotations[annotation];
    if (id && id !== md.state.handledRequests?.[key]) {
      lines.push(field("Request", style.yellow(`${annotation}=${id} not handled by the operator yet`)));
    }
  }
  return lines;
}

function stepLines(input: StatusInput): string[] {
  const { md, style } = input;
  const s = md.status;
  const steps = md.spec?.rollout.steps ?? [];
  const inCanary = s.canaryRevision !== undefined && s.stableRevision !== undefined;
  if (!inCanary) {
    const what = s.canaryRevision !== undefined ? "first deployment (no steps)" : "no rollout in progress";
    return [field("Steps", `${what}; ${steps.length} configured`)];
  }
  if (steps.length === 0) {
    return [field("Steps", `none configured: all at once once ${s.canaryRevision} passes its checks`)];
  }
  const current = s.currentStepIndex ?? 0;
  const lines = [
    field(
      "Steps",
      current >= steps.length
        ? `${steps.length}/${steps.length} done, promoting`
        : `step ${current + 1}/${steps.length}, canary weight ${s.canaryWeight ?? 0}%`,
    ),
  ];
  if (s.headerRoute !== undefined)
    lines.push(
      field("Headers", `requests with ${describeHeaderRoute(s.headerRoute)} → canary ${s.canaryRevision}`),
    );
  if (s.shadow !== undefined)
    lines.push(
      field(
        "Shadow",
        `${s.shadow.percent}% of live requests mirrored to canary ${s.canaryRevision} (answers discarded)`,
      ),
    );
  steps.forEach((step, i) => {
    const label = `${i + 1}. ${describeStep(planStep(step))}`;
    if (i < current) lines.push(`  ${style.green("✓")} ${style.dim(label)}`);
    else if (i === current)
      lines.push(`  ${style.bold("▶")} ${style.bold(label)}  ${currentStepDetail(input, step)}`);
    else lines.push(`    ${label}`);
  });
  return lines;
}

function currentStepDetail({ md, now, style }: StatusInput, step: RolloutStep): string {
  const s = md.status;
  if (step.setWeight !== undefined) {
    const at = s.canaryWeight ?? 0;
    return at >= step.setWeight
      ? `at ${at}%, waiting for the canary to be ready and healthy`
      : `moving to ${step.setWeight}% (now ${at}%)`;
  }
  if (step.pause !== undefined) {
    if (!step.pause.duration) return style.yellow(`waiting: kubectl modelship promote ${md.name}`);
    const started = s.stepStartTime ? Date.parse(s.stepStartTime) : Number.NaN;
    if (Number.isNaN(started)) return `pausing ${step.pause.duration}`;
    // A manual pause stops the clock: the operator moves stepStartTime forward by the held time.
    const clock = s.pauseStartTime ? Math.max(started, Date.parse(s.pauseStartTime)) : now;
    const left = durationToMs(step.pause.duration) - (clock - started);
    if (left <= 0) return "pause over, advancing";
    return `${formatDuration(left)} left${s.pauseStartTime ? " (clock stopped while paused)" : ""}`;
  }
  if (step.headerRoute !== undefined)
    return s.headerRoute === undefined ? "waiting for a Ready canary pod" : "header route in force";
  if (step.shadow !== undefined) {
    if (s.shadow === undefined) return "waiting for Ready canary pods to mirror to";
    if (!step.shadow.duration)
      return style.yellow(`mirroring; to end it: kubectl modelship promote ${md.name}`);
    const started = s.stepStartTime ? Date.parse(s.stepStartTime) : Number.NaN;
    if (Number.isNaN(started)) return `mirroring for ${step.shadow.duration}`;
    const clock = s.pauseStartTime ? Math.max(started, Date.parse(s.pauseStartTime)) : now;
    const left = durationToMs(step.shadow.duration) - (clock - started);
    return left <= 0 ? "shadow over, advancing" : `mirroring, ${formatDuration(left)} left`;
  }
  const canary = s.health?.canary;
  const analysis = md.spec ? effectiveAnalysis(md.spec.rollout, step) : undefined;
  const wants = analysis
    ? `needs success ≥ ${formatPercent(analysis.successRate)}${analysis.p99LatencyMs ? `, p99 ≤ ${analysis.p99LatencyMs}ms` : ""}${streamWants(analysis)}${analysis.minAgreement !== undefined ? `, agreement ≥ ${formatPercent(analysis.minAgreement)}` : ""}, ${analysis.minSamples} samples`
    : "";
  const verdict = canary?.verdict ? paintWord(style, canary.verdict) : "no verdict yet";
  return `analysis: ${verdict}; ${wants}`;
}

function revisionRows({ md, deployments }: StatusInput): RevisionRow[] {
  const s = md.status;
  const st = md.state;
  const weight = s.canaryWeight ?? 0;
  const rows = new Map<string, RevisionRow>();
  const add = (revision: string | undefined, role: Role, extra: Partial<RevisionRow> = {}) => {
    if (revision === undefined || rows.has(revision)) return;
    const known = (md.status.history ?? []).find((h) => h.revision === revision);
    const runs = revisionFacts(md.status.revisionSpecs, revision);
    const row: RevisionRow = { revision, role, ...extra };
    const modelVersion = row.modelVersion ?? runs.modelVersion ?? known?.modelVersion;
    const image = row.image ?? runs.image ?? known?.image;
    if (modelVersion !== undefined) row.modelVersion = modelVersion;
    if (image !== undefined) row.image = image;
    rows.set(revision, row);
  };
  const withdrawing = st.withdrawal;
  add(s.stableRevision, "stable", {
    traffic: 100 - weight,
    ...(st.stableModelVersion ? { modelVersion: st.stableModelVersion } : {}),
    ...(st.stableImage ? { image: st.stableImage } : {}),
  });
  add(s.canaryRevision, "canary", {
    traffic: weight,
    ...(st.canaryModelVersion ? { modelVersion: st.canaryModelVersion } : {}),
    ...(st.canaryImage ? { image: st.canaryImage } : {}),
  });
  if (withdrawing) {
    add(withdrawing.revision, "withdrawing", {
      traffic: weight,
      note: `${withdrawing.cause.toLowerCase()}: ${withdrawing.reason}`,
    });
  }
  for (const p of st.pendingScaleDowns ?? []) {
    add(p.revision, "draining", { traffic: 0, note: `removed at ${formatTime(p.at)}` });
  }
  for (const d of deployments) {
    add(d.revision, d.revision === s.rejectedRevision ? "rejected" : "old", { traffic: 0 });
  }
  for (const row of rows.values()) {
    const pods = deployments.find((d) => d.revision === row.revision);
    if (pods) row.pods = pods;
  }
  return [...rows.values()];
}

function revisionLines(input: StatusInput): string[] {
  const { md, style, now } = input;
  const rows = revisionRows(input);
  const traffic = md.spec?.rollout.traffic;
  const mode = traffic?.gatewayAPI
    ? "HTTPRoute weights"
    : traffic?.traefik
      ? "TraefikService weights"
      : "ready-pod ratio behind one Service";
  if (rows.length === 0) return [field("Revisions", "none yet")];
  const table = formatTable(
    ["REVISION", "ROLE", "MODEL VERSION", "READY", "TRAFFIC", "IMAGE / NOTE"],
    rows.map((r) => [
      r.revision,
      r.role,
      r.modelVersion ?? "-",
      r.pods ? `${r.pods.ready}/${r.pods.desired}` : "no pods",
      r.traffic === undefined ? "-" : `${r.traffic}%`,
      [r.image, r.note].filter((x) => x !== undefined).join("  ") || "-",
    ]),
    (text, row, column) => {
      const r = rows[row];
      if (r === undefined) return text;
      if (column === 3 && r.pods && r.pods.ready < r.pods.desired) return style.yellow(text);
      if (column === 1 && (r.role === "rejected" || r.role === "withdrawing")) return style.red(text);
      return text;
    },
    "  ",
  );
  const drains = (md.state.pendingScaleDowns ?? []).filter((p) => Date.parse(p.at) > now);
  return [
    field("Revisions", `traffic split by ${mode}`),
    ...table,
    ...(drains.length > 0
      ? [
          `  ${style.dim(`(${drains.length} draining revision(s) keep their pods until the drain delay ends)`)}`,
        ]
      : []),
  ];
}

function healthLines({ md, style, now }: StatusInput): string[] {
  const h = md.status.health;
  const entries = (["stable", "canary"] as const)
    .map((role) => [role, h?.[role]] as const)
    .filter((e): e is readonly ["stable" | "canary", NonNullable<(typeof e)[1]>] => e[1] !== undefined);
  if (entries.length === 0) return [field("Health", "no prober measurements yet")];
  return [
    field("Health", ""),
    ...formatTable(
      ["ROLE", "REVISION", "VERDICT", "SUCCESS", "P50", "P99", "SAMPLES", "PROBED", "LAST ERROR"],
      entries.map(([role, r]) => [
        role,
        r.revision,
        r.verdict ?? "-",
        formatPercent(r.successRate),
        formatMs(r.p50Ms),
        formatMs(r.p99Ms),
        r.samples === undefined ? "-" : String(r.samples),
        r.lastProbeTime ? `${ageOf(r.lastProbeTime, now)} ago` : "-",
        r.lastError ?? "-",
      ]),
      (text, _row, column) =>
        column === 2 ? paintWord(style, text.trimEnd()) + text.slice(text.trimEnd().length) : text,
      "  ",
    ),
    ...checkLines(entries),
    ...streamLines(entries, field),
    ...agreementLines(md, entries),
  ];
}

/** The canary's output agreement with the stable (spec.rollout.analysis.agreement), when measured. */
function agreementLines(
  md: StatusInput["md"],
  entries: readonly (readonly [string, RevisionHealth])[],
): string[] {
  const canary = entries.find(([role]) => role === "canary")?.[1];
  if (canary?.agreementSamples === undefined) return [];
  const analysis = md.spec?.rollout.analysis;
  const gate =
    analysis?.minAgreement !== undefined
      ? ` (needs ≥ ${formatPercent(analysis.minAgreement)} over ${analysis.minAgreementSamples ?? DEFAULT_MIN_AGREEMENT_SAMPLES} pairs)`
      : " (measured, not gated: no minAgreement)";
  const rate =
    canary.agreementRate === undefined
      ? "no pairs compared yet"
      : `${formatPercent(canary.agreementRate)} of ${canary.agreementSamples} pairs agree`;
  return [
    field("Agreement", `canary ${canary.revision} vs stable: ${rate}${gate}`),
    ...(canary.lastDisagreement ? [`  last disagreement: ${canary.lastDisagreement}`] : []),
  ];
}

/** Each check of the probe per revision (status.health.<role>.checks), when the prober reports them. */
function checkLines(entries: readonly (readonly [string, RevisionHealth])[]): string[] {
  const rows = entries.flatMap(([role, r]) =>
    (r.checks ?? []).map((c) => [
      role,
      c.name,
      formatPercent(c.successRate),
      String(c.samples),
      c.lastError ?? "-",
    ]),
  );
  if (rows.length === 0) return [];
  return [
    field("Checks", ""),
    ...formatTable(["ROLE", "CHECK", "SUCCESS", "SAMPLES", "LAST ERROR"], rows, undefined, "  "),
  ];
}

/** For these condition types True is bad news; for the rest True is the normal state. */
const TRUE_IS_BAD = new Set(["Degraded", "InvalidSpec"]);
const TRUE_IS_GOOD = new Set(["Available", "Healthy", "Ready"]);

function conditionLines({ md, style, now }: StatusInput): string[] {
  const conditions = md.status.conditions ?? [];
  if (conditions.length === 0) return [field("Conditions", "none yet")];
  return [
    field("Conditions", ""),
    ...formatTable(
      ["TYPE", "STATUS", "REASON", "AGE", "MESSAGE"],
      conditions.map((c) => [c.type, c.status, c.reason, ageOf(c.lastTransitionTime, now), c.message]),
      (text, row, column) => {
        const c = conditions[row];
        if (c === undefined || column !== 1) return text;
        const bad =
          (TRUE_IS_BAD.has(c.type) && c.status === "True") ||
          (TRUE_IS_GOOD.has(c.type) && c.status === "False");
        if (bad) return style.red(text);
        if (TRUE_IS_GOOD.has(c.type) && c.status === "True") return style.green(text);
        return text;
      },
      "  ",
    ),
  ];
}
