// Connects the prober to the rest: the reconciler hands it each revision's Ready pods (from objects
// the operator owns, never a URL a user typed) and reads back verdicts; the prober's numbers go to
// status.health and the Healthy condition under their own field manager, rarely: only when a
// verdict flips or a number moves meaningfully, so a drifting p99 does not cost a write per probe.
// The mapping, field by field (tested in prober-health.test.ts): spec.health → what to probe
// (probeSpecFor); spec.rollout.analysis → the revision's verdict; each analysis step that overrides
// it → that step's own verdict (atStep), so a decision walking into the step judges it by its own
// thresholds; the decided position (not the last written status) → which verdict status shows.

import type { Logger } from "pino";
import {
  type AnalysisSpec,
  type Condition,
  ConditionType,
  effectiveAnalysis,
  GROUP,
  type HealthSpec,
  KIND,
  type ModelDeployment,
  PLURAL,
  type RolloutSpec,
  resolveRuntimeEndpoints,
  setCondition,
  VERSION,
} from "../api/index.ts";
import { HealthReason } from "../api/reasons.ts";
import { type ApiClient, classifyApiError } from "../kube/api-client.ts";
import { NotLeaderError } from "../kube/leadership.ts";
import { toRfc3339 } from "../lib/time.ts";
import type { OperatorMetrics } from "../metrics/registry.ts";
import type { ExpectField, InferenceCheckSpec, NamedHttpCheckSpec } from "../prober/checks.ts";
import type { Prober, ProbeStats, RevisionProbeSpec } from "../prober/prober.ts";
import { type CanaryJudgement, judgeCanary, judgeWarmUp } from "../prober/verdict.ts";
import type { RevisionVerdict } from "../rollout/types.ts";
import { agreementSetupFor } from "./agreement-setup.ts";
import { type HealthNumbers, meaningfulChange, verdictChanged } from "./health-change.ts";
import type { ObservedRevision } from "./observe.ts";
import type { HealthSource, RolloutPosition } from "./reconciler.ts";
import { streamHealthOf, streamProbeSpecFor } from "./stream-health.ts";

export const PROBER_FIELD_MANAGER = "modelship-prober";
const MIN_WRITE_INTERVAL_MS = 10_000;

interface Tracked {
  md: ModelDeployment;
  revisions: Set<string>;
  stable?: string | undefined;
  canary?: string | undefined;
  /** The step the rollout is at (from the decision; the written status may be a step behind). */
  stepIndex?: number | undefined;
  lastWritten: { stable?: HealthNumbers | undefined; canary?: HealthNumbers | undefined };
  lastWriteAt: number;
  writing: boolean;
}

export interface ProberHealthOptions {
  prober: Pick<Prober, "setRevisionTargets" | "removeRevision" | "stats" | "setAgreement">;
  client: Pick<ApiClient, "applyStatus">;
  log: Logger;
  now: () => number;
  /** Re-run the reconcile of a ModelDeployment (a verdict changed). */
  enqueue: (key: string) => void;
  metrics?: OperatorMetrics;
}

type ExpectSpec = NonNullable<HealthSpec["inference"]>["expect"];
type HttpCheckEntry = NonNullable<HealthSpec["checks"]>[number];

/** expect.jsonPath with equals / exists as the prober judges a JSON answer; none without jsonPath. */
export function expectFieldOf(expect: ExpectSpec): ExpectField | undefined {
  if (expect.jsonPath === undefined) return undefined;
  const path = expect.jsonPath.replace(/^\$\.?/, "");
  if (expect.equals !== undefined) return { path, equalsText: expect.equals };
  return { path, exists: expect.exists ?? true };
}

function httpCheckOf(c: HttpCheckEntry): NamedHttpCheckSpec {
  const field = expectFieldOf(c.expect);
  return {
    ...(c.name !== undefined ? { name: c.name } : {}),
    method: c.method,
    path: c.path,
    expectStatus: c.expect.status,
    ...(field ? { expectField: field } : {}),
  };
}

/** The spec's health settings as the prober wants them. */
export function probeSpecFor(md: ModelDeployment): RevisionProbeSpec {
  const h = md.spec.health;
  const inf = h.inference;
  const field = inf ? expectFieldOf(inf.expect) : undefined;
  const inference: InferenceCheckSpec | undefined = inf
    ? {
        method: inf.method,
        path: inf.path,
        ...(inf.body !== undefined ? { body: inf.body } : {}),
        ...(inf.maxLatencyMs !== undefined ? { maxLatencyMs: inf.maxLatencyMs } : {}),
        expectStatus: inf.expect.status,
        ...(field ? { expectField: field } : {}),
      }
    : undefined;
  return {
    preset: md.spec.runtime.preset,
    modelName: md.spec.model.name,
    port: resolveRuntimeEndpoints(md.spec.runtime).port,
    intervalMs: h.intervalSeconds * 1000,
    timeoutMs: h.timeoutSeconds * 1000,
    ...(h.path !== undefined
      ? { path: h.path }
      : md.spec.runtime.healthPath
        ? { path: md.spec.runtime.healthPath }
        : {}),
    ...(h.checks !== undefined && h.checks.length > 0 ? { checks: h.checks.map(httpCheckOf) } : {}),
    ...(inference ? { inference } : {}),
    ...streamProbeSpecFor(md),
    warmupInferences: inf ? md.spec.rollout.analysis.warmupInferences : 0,
  };
}

/**
 * The thresholds of each analysis step that overrides spec.rollout.analysis, by step index. Every
 * other step (and background analysis) is judged by spec.rollout.analysis itself.
 */
export function stepAnalyses(rollout: RolloutSpec): Map<number, AnalysisSpec> {
  const out = new Map<number, AnalysisSpec>();
  rollout.steps.forEach((step, i) => {
    const overrides = Object.values(step.analysis ?? {}).some((v) => v !== undefined);
    if (overrides) out.set(i, effectiveAnalysis(rollout, step));
  });
  return out;
}

/** The judgement as the rollout reads it; a Fail names the checks that failed in the window. */
function verdictOf(j: CanaryJudgement, checks: ProbeStats["checks"]): RevisionVerdict {
  const failing = checks
    .filter((c) => c.failures > 0)
    .map((c) => `${c.name} ${c.samples - c.failures}/${c.samples} ok`);
  const message =
    j.verdict === "Fail" && failing.length > 0
      ? `${j.message}; failing checks: ${failing.join(", ")}`
      : j.message;
  return { verdict: j.verdict, message, evidence: j.evidence };
}

/** status.health.canary's agreement fields, from the canary's pair window. */
function agreementHealth(a: ProbeStats["agreement"]) {
  if (a === undefined) return {};
  return {
    ...(a.samples > 0 ? { agreementRate: Math.round(a.rate * 10_000) / 10_000 } : {}),
    agreementSamples: a.samples,
    ...(a.lastDisagreement ? { lastDisagreement: a.lastDisagreement.slice(0, 1024) } : {}),
  };
}

export class ProberHealth implements HealthSource {
  private readonly o: ProberHealthOptions;
  private readonly tracked = new Map<string, Tracked>();
  /** Per revision key: every verdict the rollout may read (`all`), and the one status shows. */
  private readonly lastVerdict = new Map<string, { all: string; shown: string }>();

  constructor(o: ProberHealthOptions) {
    this.o = o;
  }

  /** Called by the prober with fresh numbers (cheap: remember and enqueue). */
  onStats = (probeKey: string, stats: ProbeStats): void => {
    const key = probeKey.split("/").slice(0, 2).join("/");
    const t = this.tracked.get(key);
    if (!t) return;
    const revision = probeKey.split("/")[2] ?? "";
    const all = this.verdict(key, revision);
    const v = this.shownVerdict(key, revision, all);
    // Every verdict the rollout may read: the revision's and each overriding step's.
    const now = all
      ? [all.verdict, ...Object.entries(all.atStep ?? {}).map(([i, s]) => `${i}:${s.verdict}`)].join(" ")
      : undefined;
    const before = this.lastVerdict.get(probeKey);
    if (v && now !== undefined && now !== before?.all) {
      this.lastVerdict.set(probeKey, { all: now, shown: v.verdict });
      if (v.verdict !== before?.shown) {
        this.o.metrics?.verdicts.inc({
          verdict: v.verdict === "Pass" ? "healthy" : v.verdict === "Fail" ? "unhealthy" : "inconclusive",
        });
      }
      // A verdict flip may move the rollout: decide again now, not at the next resync.
      this.o.enqueue(key);
    }
    if (stats.agreement !== undefined && stats.agreement.samples > 0) {
      const [namespace = "", name = ""] = key.split("/");
      this.o.metrics?.agreement.rate.set({ namespace, name, revision }, stats.agreement.rate);
    }
    void this.maybeWriteStatus(key, t);
  };

  setTargets(
    key: string,
    md: ModelDeployment,
    revisions: ObservedRevision[],
    specOf: (revision: string) => ModelDeployment["spec"] = () => md.spec,
    position?: RolloutPosition,
  ): void {
    let t = this.tracked.get(key);
    if (!t) {
      // What status.health already says counts as written: a restarted operator does not rewrite it.
      const h = md.status?.health;
      t = {
        md,
        revisions: new Set<string>(),
        lastWritten: { stable: h?.stable, canary: h?.canary },
        lastWriteAt: this.o.now(),
        writing: false,
      };
    }
    t.md = md;
    t.stable = position ? position.stableRevision : md.status?.stableRevision;
    t.canary = position ? position.canaryRevision : md.status?.canaryRevision;
    t.stepIndex = position ? position.stepIndex : md.status?.currentStepIndex;
    const live = new Set(revisions.map((r) => r.revision));
    for (const old of t.revisions) if (!live.has(old)) this.dropRevision(key, old);
    for (const r of revisions) {
      // Each revision is probed as it was built (its port, preset, model name).
      this.o.prober.setRevisionTargets(
        `${key}/${r.revision}`,
        probeSpecFor({ ...md, spec: specOf(r.revision) }),
        r.readyPods.map((p) => ({ ip: p.ip, podName: p.name })),
      );
    }
    t.revisions = live;
    this.tracked.set(key, t);
    // Output agreement (agreement-setup.ts): stable vs canary answers, only while both are live.
    this.o.prober.setAgreement(key, agreementSetupFor(key, md, t, live));
  }

  forget(key: string): void {
    const t = this.tracked.get(key);
    this.o.prober.setAgreement(key, undefined);
    for (const r of t?.revisions ?? []) this.dropRevision(key, r);
    this.tracked.delete(key);
  }

  /** A revision left: stop probing it, and drop its verdict and its metric series. */
  private dropRevision(key: string, revision: string): void {
    this.o.prober.removeRevision(`${key}/${revision}`);
    this.lastVerdict.delete(`${key}/${revision}`);
    const [namespace = "", name = ""] = key.split("/");
    this.o.metrics?.forgetRevision(namespace, name, revision).catch((err: unknown) => {
      this.o.log.warn({ err, key, revision }, "could not drop the probe series of a revision");
    });
  }

  /**
   * A revision's verdict under spec.rollout.analysis, plus (`atStep`) under each analysis step that
   * overrides it, so the rollout judges every step by its own thresholds.
   */
  verdict(key: string, revision: string): RevisionVerdict | undefined {
    const t = this.tracked.get(key);
    const stats = this.o.prober.stats(`${key}/${revision}`);
    if (!t || !stats) return undefined;
    if (stats.pods.length === 0) return { verdict: "Inconclusive", message: "no Ready pods to probe yet" };
    const stable = t.stable && t.stable !== revision ? this.o.prober.stats(`${key}/${t.stable}`) : undefined;
    const rollout = t.md.spec.rollout;
    const base = verdictOf(judgeCanary(rollout.analysis, stats, stable), stats.checks);
    // Warm-up gates a new revision taking traffic; the serving stable is never "cold" again
    // (after an operator restart its pods would otherwise count as no capacity), nor at a step.
    if (revision === t.stable) return base;
    const atStep: Record<number, RevisionVerdict> = {};
    for (const [i, analysis] of stepAnalyses(rollout))
      atStep[i] = verdictOf(judgeCanary(analysis, stats, stable), stats.checks);
    const steps = Object.keys(atStep).length > 0 ? { atStep } : {};
    return { ...base, ...steps, warmedUp: judgeWarmUp(stats.warmUp).warm };
  }

  /** The verdict status shows: the canary's under the thresholds of the step it is at. */
  private shownVerdict(
    key: string,
    revision: string,
    v: RevisionVerdict | undefined = this.verdict(key, revision),
  ): RevisionVerdict | undefined {
    const t = this.tracked.get(key);
    if (!v || !t || revision !== t.canary || t.stepIndex === undefined) return v;
    return v.atStep?.[t.stepIndex] ?? v;
  }

  private healthOf(key: string, revision: string | undefined) {
    if (!revision) return undefined;
    const s = this.o.prober.stats(`${key}/${revision}`);
    if (!s) return undefined;
    const v = this.shownVerdict(key, revision);
    const round = (n: number, d = 1) => (Number.isFinite(n) ? Math.round(n * 10 ** d) / 10 ** d : undefined);
    return {
      revision,
      ...(Number.isFinite(s.successRate) ? { successRate: round(s.successRate, 4) } : {}),
      ...(round(s.p50LatencyMs) !== undefined ? { p50Ms: round(s.p50LatencyMs) } : {}),
      ...(round(s.p95LatencyMs) !== undefined ? { p95Ms: round(s.p95LatencyMs) } : {}),
      ...(round(s.p99LatencyMs) !== undefined ? { p99Ms: round(s.p99LatencyMs) } : {}),
      ...streamHealthOf(s.stream),
      samples: s.samples,
      consecutiveFailures: s.consecutiveFailures,
      ...(s.lastError ? { lastError: s.lastError.slice(0, 1024) } : {}),
      ...(s.lastProbeAt ? { lastProbeTime: toRfc3339(s.lastProbeAt, "seconds") } : {}),
      ...(v ? { verdict: v.verdict } : {}),
      ...agreementHealth(s.agreement),
      ...(s.checks.length > 0
        ? {
            checks: s.checks.map((c) => ({
              name: c.name,
              samples: c.samples,
              ...(Number.isFinite(c.successRate) ? { successRate: round(c.successRate, 4) } : {}),
              ...(c.lastError ? { lastError: c.lastError.slice(0, 1024) } : {}),
            })),
          }
        : {}),
    };
  }

  /**
   * A fresh window (operator restart, new pods) is Inconclusive until it has enough samples; that
   * is not news about a revision whose verdict is already on the status, so keep what is there.
   */
  private held(t: Tracked, role: "stable" | "canary", now: ReturnType<ProberHealth["healthOf"]>) {
    const before = t.md.status?.health?.[role];
    if (
      now?.verdict === "Inconclusive" &&
      before?.revision === now.revision &&
      before.verdict &&
      before.verdict !== "Inconclusive"
    ) {
      return before;
    }
    return now;
  }

  private async maybeWriteStatus(key: string, t: Tracked): Promise<void> {
    if (t.writing) return;
    const stable = this.held(t, "stable", this.healthOf(key, t.stable));
    const canary =
      t.canary && t.canary !== t.stable ? this.held(t, "canary", this.healthOf(key, t.canary)) : undefined;
    const now = this.o.now();
    const prev = t.lastWritten;
    const changed = meaningfulChange(prev.stable, stable) || meaningfulChange(prev.canary, canary);
    if (!changed) return;
    const urgent = verdictChanged(prev.stable, stable) || verdictChanged(prev.canary, canary);
    if (!urgent && now - t.lastWriteAt < MIN_WRITE_INTERVAL_MS) return;
    t.writing = true;
    try {
      const v = stable?.verdict;
      const healthy: Omit<Condition, "lastTransitionTime"> =
        v === "Pass"
          ? {
              type: ConditionType.Healthy,
              status: "True",
              reason: HealthReason.ProbesPassing,
              message:
                `stable ${stable?.revision}: ${this.shownVerdict(key, stable?.revision ?? "")?.message ?? ""}`.trim(),
            }
          : v === "Fail"
            ? {
                type: ConditionType.Healthy,
                status: "False",
                reason: HealthReason.ProbesFailing,
                message: `stable ${stable?.revision}: ${this.shownVerdict(key, stable?.revision ?? "")?.message ?? ""}`,
              }
            : {
                type: ConditionType.Healthy,
                status: "Unknown",
                reason: HealthReason.TooFewSamples,
                message: "waiting for enough probe samples",
              };
      const prev = t.md.status?.conditions?.filter((c) => c.type === ConditionType.Healthy);
      const conditions = setCondition(
        prev,
        { ...healthy, observedGeneration: t.md.metadata.generation ?? 0 },
        new Date(now),
      );
      await this.o.client.applyStatus(
        {
          group: GROUP,
          version: VERSION,
          plural: PLURAL,
          kind: KIND,
          namespace: t.md.metadata.namespace ?? "",
          name: t.md.metadata.name,
        },
        { health: { ...(stable ? { stable } : {}), ...(canary ? { canary } : {}) }, conditions },
        // No resourceVersion: these are observations the rollout never reads back, and a
        // precondition would make them lose every race with the reconciler's own status write.
        // Only the leader sends them (the API client checks leadership before every write).
        { fieldManager: PROBER_FIELD_MANAGER },
      );
      t.lastWritten = { stable, canary };
      t.lastWriteAt = now;
    } catch (err) {
      // Deleted between the probe and the write (or its namespace is going): nothing to report on.
      const gone = ["notFound", "namespaceGone"].includes(classifyApiError(err));
      if (err instanceof NotLeaderError)
        this.o.log.debug({ key }, "status.health not written: not the leader");
      else if (gone) this.o.log.debug({ key }, "status.health not written: the ModelDeployment is gone");
      else this.o.log.warn({ err, key }, "could not write status.health");
    } finally {
      t.writing = false;
    }
  }
}
