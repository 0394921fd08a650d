// The prober: probes the Ready pods of each live revision on a schedule, keeps a sliding window per
// revision, and hands the numbers (ProbeStats) to whoever listens; it knows nothing of Kubernetes.
import type { Logger } from "pino";
import { RUNTIME_PRESETS } from "../api/presets.ts";
import { type Clock, createSystemClock } from "../lib/clock.ts";
import type { AgreementStats, PairOutcome } from "./agreement.ts";
import { AgreementProbes, type AgreementSetup } from "./agreement-probes.ts";
import type { HealthCheck, HealthCheckSpec } from "./checks.ts";
import { checksFor, runProbeRound } from "./checks.ts";
import { parseCidrAllowList } from "./cidr.ts";
import { ProbeHttpClient } from "./http-client.ts";
import type { RunInfo, ScheduledTarget, SchedulerStats } from "./scheduler.ts";
import { ProbeScheduler } from "./scheduler.ts";
import { type StreamStats, StreamWindow } from "./stream-window.ts";
import type { WarmUpStats } from "./verdict.ts";
import type { ProbeWindowOptions, WindowStats } from "./window.ts";
import { ProbeWindow } from "./window.ts";

/** How to probe one revision: the health spec plus the warm-up budget. */
export interface RevisionProbeSpec extends HealthCheckSpec {
  /** Successful inference checks each pod needs before the revision counts as warm. Default 0. */
  warmupInferences?: number;
}

/** A Ready pod of the revision. */
export interface PodTarget {
  ip: string;
  podName: string;
}

export interface PodHealth {
  podName: string;
  ip: string;
  probes: number;
  consecutiveFailures: number;
  /** Outcome of the newest probe; undefined before the first. */
  lastOk?: boolean;
  lastError?: string;
  lastProbeAt?: number;
  inferenceSuccesses: number;
}

/** One check of the revision's probe rounds, over the window (every check counts in the verdict). */
export interface CheckStats {
  name: string;
  /** Rounds in the window that ran this check (a round stops at its first failing check). */
  samples: number;
  failures: number;
  /** (samples - failures) / samples; NaN when none ran it. */
  successRate: number;
  /** This check's newest failure, `pod: error`. */
  lastError?: string;
}

/** What the prober knows about one revision: its window plus per-check and per-pod detail and warm-up. */
export interface ProbeStats extends WindowStats {
  checks: CheckStats[];
  pods: PodHealth[];
  warmUp: WarmUpStats;
  /** A canary's output agreement with the stable (setAgreement); absent otherwise. */
  agreement?: AgreementStats;
  /** TTFT, TPOT and tokens/s of the completed streams; only with spec.health.stream. */
  stream?: StreamStats;
}

export interface ProberOptions {
  /** CIDRs the prober may dial (pod networks). Everything else is refused without a dial. */
  allowCidrs: readonly string[];
  /** Most probe rounds in flight at once; each ModelDeployment gets an equal share (scheduler.ts). */
  concurrency: number;
  log: Pick<Logger, "debug" | "info" | "warn">;
  clock?: Clock;
  /**
   * Called with fresh numbers for a revision: at most once per probe interval per revision, and at
   * once when a pod turns from passing to failing or back. Keep it cheap (e.g. enqueue the key).
   */
  onStats?: (key: string, stats: ProbeStats) => void;
  /** Called after every probe round (for metrics): the revision key, the outcome and its latency. */
  onProbe?: (key: string, round: { ok: boolean; latencyMs: number; failure?: string }) => void;
  /** Called after every agreement pair (for metrics): the canary's revision key and the outcome. */
  onPair?: (canaryKey: string, outcome: PairOutcome["kind"]) => void;
  window?: ProbeWindowOptions;
  maxBodyBytes?: number;
  /** Interval jitter fraction, default 0.1. */
  jitter?: number;
  random?: () => number;
}

interface PodState extends PodHealth {
  id: string;
}

interface RevisionState {
  spec: RevisionProbeSpec;
  specText: string;
  checks: HealthCheck[];
  /** Newest failure of each check, by index in `checks`. */
  checkErrors: (string | undefined)[];
  window: ProbeWindow;
  /** Only when the spec streams. */
  streamWindow?: StreamWindow;
  pods: Map<string, PodState>;
  lastEmitAt: number;
}

interface Payload {
  key: string;
  podId: string;
}

/**
 * The unit probe slots are shared fairly among: the ModelDeployment (`namespace/name`) of a revision
 * key `namespace/name/revision`, so one team's hanging pods cannot slow another team's probes.
 */
export function tenantOf(key: string): string {
  const cut = key.lastIndexOf("/");
  return cut > 0 ? key.slice(0, cut) : key;
}

function validateSpec(key: string, spec: RevisionProbeSpec): void {
  const problems: string[] = [];
  if (!RUNTIME_PRESETS.includes(spec.preset)) problems.push(`preset "${spec.preset}" is unknown`);
  if (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 65535)
    problems.push("port must be 1..65535");
  if (!(spec.intervalMs > 0)) problems.push("intervalMs must be > 0");
  if (!(spec.timeoutMs > 0)) problems.push("timeoutMs must be > 0");
  if (spec.modelName === "") problems.push("modelName must not be empty");
  if (problems.length > 0) throw new Error(`probe spec of ${key}: ${problems.join("; ")}`);
}

/**
 * The prober: probes the Ready pods of each live revision on a schedule, keeps a sliding window per
 * revision, and reports numbers through `stats` and `onStats`. It knows nothing of Kubernetes; the
 * controller feeds it targets from its informer caches.
 */
export class Prober {
  readonly #client: ProbeHttpClient;
  readonly #scheduler: ProbeScheduler<Payload>;
  readonly #clock: Clock;
  readonly #log: ProberOptions["log"];
  readonly #onStats: ProberOptions["onStats"];
  readonly #onProbe: ProberOptions["onProbe"];
  readonly #windowOptions: ProbeWindowOptions;
  readonly #revisions = new Map<string, RevisionState>();
  readonly #agreements: AgreementProbes;
  readonly #onPair: ProberOptions["onPair"];

  constructor(options: ProberOptions) {
    const allowList = parseCidrAllowList(options.allowCidrs);
    this.#client = new ProbeHttpClient(
      options.maxBodyBytes === undefined ? { allowList } : { allowList, maxBodyBytes: options.maxBodyBytes },
    );
    this.#clock = options.clock ?? createSystemClock({ unrefTimers: true });
    this.#log = options.log;
    this.#onStats = options.onStats;
    this.#onProbe = options.onProbe;
    this.#windowOptions = options.window ?? {};
    this.#scheduler = new ProbeScheduler<Payload>({
      concurrency: options.concurrency,
      clock: this.#clock,
      ...(options.jitter !== undefined ? { jitter: options.jitter } : {}),
      ...(options.random !== undefined ? { random: options.random } : {}),
      run: (target, info) => this.#probe(target, info),
    });
    this.#onPair = options.onPair;
    this.#agreements = new AgreementProbes({
      client: this.#client,
      scheduler: this.#scheduler,
      clock: this.#clock,
      window: this.#windowOptions,
      podsOf: (key) => {
        const rev = this.#revisions.get(key);
        if (rev === undefined) return [];
        return [...rev.pods.values()].map((p) => ({ ip: p.ip, port: rev.spec.port, podName: p.podName }));
      },
      onOutcome: (canaryKey, outcome) => this.#afterPair(canaryKey, outcome),
    });
  }

  /**
   * Compares the answers of a ModelDeployment's (`namespace/name`) stable and canary pods
   * (agreement-probes.ts) until called with undefined. Both revisions must be probed here.
   */
  setAgreement(tenant: string, setup: AgreementSetup | undefined): void {
    this.#agreements.set(tenant, setup);
  }

  /**
   * Sets what to probe for a revision (`key` like `namespace/name/revision`) and which pods. Pods
   * that stay keep their state; pods that left are forgotten and their connections closed. A changed
   * spec starts a fresh window.
   */
  setRevisionTargets(key: string, spec: RevisionProbeSpec, targets: readonly PodTarget[]): void {
    validateSpec(key, spec);
    const specText = JSON.stringify(spec);
    let rev = this.#revisions.get(key);
    if (rev === undefined || rev.specText !== specText) {
      const checks = checksFor(spec);
      const oldPods = rev?.pods;
      rev = {
        spec,
        specText,
        checks,
        checkErrors: checks.map(() => undefined),
        window: new ProbeWindow(this.#windowOptions),
        ...(spec.stream !== undefined ? { streamWindow: new StreamWindow(this.#windowOptions) } : {}),
        pods: new Map(),
        lastEmitAt: Number.NEGATIVE_INFINITY,
      };
      if (oldPods !== undefined)
        for (const p of oldPods.values()) this.#client.forget({ ip: p.ip, port: spec.port });
      this.#revisions.set(key, rev);
    }
    const nextPods = new Map<string, PodState>();
    for (const t of targets) {
      const id = `${t.podName}@${t.ip}`;
      nextPods.set(
        id,
        rev.pods.get(id) ?? {
          id,
          podName: t.podName,
          ip: t.ip,
          probes: 0,
          consecutiveFailures: 0,
          inferenceSuccesses: 0,
        },
      );
    }
    for (const [id, p] of rev.pods) {
      if (!nextPods.has(id)) this.#client.forget({ ip: p.ip, port: rev.spec.port });
    }
    rev.pods = nextPods;
    const scheduled: ScheduledTarget<Payload>[] = [...nextPods.keys()].map((podId) => ({
      id: podId,
      intervalMs: spec.intervalMs,
      payload: { key, podId },
    }));
    this.#scheduler.setTargets(key, scheduled, tenantOf(key));
  }

  /** Stops probing a revision and forgets its numbers. */
  removeRevision(key: string): void {
    const rev = this.#revisions.get(key);
    if (rev === undefined) return;
    this.#revisions.delete(key);
    this.#scheduler.removeGroup(key);
    for (const p of rev.pods.values()) this.#client.forget({ ip: p.ip, port: rev.spec.port });
  }

  /** Current numbers of a revision; undefined when it is not probed. */
  stats(key: string): ProbeStats | undefined {
    const rev = this.#revisions.get(key);
    return rev === undefined ? undefined : this.#snapshot(key, rev);
  }

  /** Scheduler numbers: in flight, queued, skipped, scheduling lag. */
  schedulerStats(): SchedulerStats {
    return this.#scheduler.stats();
  }

  /** Forgets scheduling-lag samples so far (benchmarks call it after warming up). */
  resetSchedulerLag(): void {
    this.#scheduler.resetLag();
  }

  async stop(): Promise<void> {
    await this.#scheduler.stop();
    this.#revisions.clear();
    this.#agreements.clear();
    await this.#client.close();
  }

  #snapshot(key: string, rev: RevisionState): ProbeStats {
    const required = rev.spec.warmupInferences ?? 0;
    const pods: PodHealth[] = [];
    let warmPods = 0;
    for (const p of rev.pods.values()) {
      const { id: _id, ...pod } = p;
      pods.push(pod);
      if (p.inferenceSuccesses >= required) warmPods++;
    }
    const now = this.#clock.monotonic();
    const counts = rev.window.checkCounts(rev.checks.length, now);
    const checks = rev.checks.map((c, i): CheckStats => {
      const n = counts[i] ?? { runs: 0, failures: 0 };
      const error = rev.checkErrors[i];
      return {
        name: c.name,
        samples: n.runs,
        failures: n.failures,
        successRate: n.runs === 0 ? Number.NaN : (n.runs - n.failures) / n.runs,
        ...(error !== undefined ? { lastError: error } : {}),
      };
    });
    const agreement = this.#agreements.stats(key, now);
    return {
      ...rev.window.stats(now),
      checks,
      pods,
      warmUp: { required, warmPods, pods: pods.length },
      ...(agreement !== undefined ? { agreement } : {}),
      ...(rev.streamWindow !== undefined ? { stream: rev.streamWindow.stats(now) } : {}),
    };
  }

  /** A pair's outcome is news for the canary's verdict: a disagreement at once, else once per interval. */
  #afterPair(canaryKey: string, outcome: PairOutcome): void {
    this.#onPair?.(canaryKey, outcome.kind);
    const rev = this.#revisions.get(canaryKey);
    if (rev === undefined || this.#onStats === undefined) return;
    const at = this.#clock.monotonic();
    if (outcome.kind !== "disagree" && at - rev.lastEmitAt < rev.spec.intervalMs) return;
    rev.lastEmitAt = at;
    try {
      this.#onStats(canaryKey, this.#snapshot(canaryKey, rev));
    } catch (err) {
      this.#log.warn({ revision: canaryKey, err }, "onStats callback threw");
    }
  }

  async #probe(target: ScheduledTarget<Payload>, _info: RunInfo): Promise<void> {
    const { key, podId } = target.payload;
    if (this.#agreements.owns(key)) return this.#agreements.run(key);
    const rev = this.#revisions.get(key);
    const pod = rev?.pods.get(podId);
    if (rev === undefined || pod === undefined) return;
    const round = await runProbeRound(
      this.#client,
      { ip: pod.ip, port: rev.spec.port },
      rev.checks,
      rev.spec.timeoutMs,
    );
    // The revision or pod may have gone (or been replaced) while the round ran: drop the result.
    if (this.#revisions.get(key) !== rev || rev.pods.get(podId) !== pod) return;
    const at = this.#clock.monotonic();
    const failed = round.checks.find((c) => !c.ok);
    const failure = failed && !failed.ok ? failed.reason : undefined;
    this.#onProbe?.(key, { ok: round.ok, latencyMs: round.latencyMs, ...(failure ? { failure } : {}) });
    const checksRun = round.checks.length;
    if (round.stream !== undefined) rev.streamWindow?.add({ ...round.stream, at });
    rev.window.add(
      round.error === undefined
        ? { ok: round.ok, latencyMs: round.latencyMs, at, checksRun }
        : {
            ok: round.ok,
            latencyMs: round.latencyMs,
            at,
            checksRun,
            error: `${pod.podName}: ${round.error}`,
          },
    );
    if (failed !== undefined && !failed.ok)
      rev.checkErrors[checksRun - 1] = `${pod.podName}: ${failed.error}`;
    const flipped = pod.lastOk !== undefined && pod.lastOk !== round.ok;
    const first = pod.lastOk === undefined;
    pod.probes++;
    pod.lastOk = round.ok;
    pod.lastProbeAt = at;
    if (round.inferenceOk === true) pod.inferenceSuccesses++;
    if (round.ok) {
      pod.consecutiveFailures = 0;
    } else {
      pod.consecutiveFailures++;
      pod.lastError = round.error ?? "probe failed";
    }
    if (flipped || (first && !round.ok)) {
      if (round.ok) this.#log.info({ revision: key, pod: pod.podName }, "probe passing again");
      else this.#log.warn({ revision: key, pod: pod.podName, error: round.error }, "probe failing");
    }
    if (this.#onStats !== undefined && (flipped || at - rev.lastEmitAt >= rev.spec.intervalMs)) {
      rev.lastEmitAt = at;
      try {
        this.#onStats(key, this.#snapshot(key, rev));
      } catch (err) {
        this.#log.warn({ revision: key, err }, "onStats callback threw");
      }
    }
  }
}
