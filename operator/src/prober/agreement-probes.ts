// The prober's agreement runs: per ModelDeployment with analysis.agreement, while a stable and a
// canary are live, `pairsPerInterval` scheduled runs per interval, each comparing one stable pod's
// answer with one canary pod's (pods taken in turn). The runs go through the prober's scheduler
// under the ModelDeployment's tenant, so a pair holds one of its own probe slots (fair-queue.ts).
import type { Clock } from "../lib/clock.ts";
import {
  type AgreementProbeSpec,
  type AgreementStats,
  AgreementWindow,
  type PairOutcome,
  type PairPod,
  runAgreementPair,
} from "./agreement.ts";
import type { ProbeHttpClient } from "./http-client.ts";
import type { ProbeScheduler } from "./scheduler.ts";
import type { ProbeWindowOptions } from "./window.ts";

/** What to compare for one ModelDeployment: its stable and canary revision keys and the request. */
export interface AgreementSetup {
  stableKey: string;
  canaryKey: string;
  spec: AgreementProbeSpec;
}

/** The scheduled group of a ModelDeployment's pairs; a revision hash never holds `~`. */
export function agreementGroup(tenant: string): string {
  return `${tenant}/~agreement`;
}

interface State {
  setup: AgreementSetup;
  setupText: string;
  window: AgreementWindow;
  /** Which pods the next pair takes (round-robin over each side's pods). */
  turn: number;
}

export interface AgreementProbesOptions {
  client: Pick<ProbeHttpClient, "request">;
  scheduler: Pick<ProbeScheduler<{ key: string; podId: string }>, "setTargets" | "removeGroup">;
  clock: Clock;
  window: ProbeWindowOptions;
  /** The Ready pods of a probed revision (empty when it is not probed). */
  podsOf: (revisionKey: string) => PairPod[];
  /** After each pair, with the canary's revision key. */
  onOutcome: (canaryKey: string, outcome: PairOutcome) => void;
}

export class AgreementProbes {
  readonly #o: AgreementProbesOptions;
  /** By scheduled group key. */
  readonly #states = new Map<string, State>();

  constructor(options: AgreementProbesOptions) {
    this.#o = options;
  }

  /**
   * Starts, changes or (undefined) stops the pairs of a ModelDeployment (`tenant`, like
   * `namespace/name`). A new canary, stable or comparison starts a fresh window.
   */
  set(tenant: string, setup: AgreementSetup | undefined): void {
    const group = agreementGroup(tenant);
    if (setup === undefined) {
      if (this.#states.delete(group)) this.#o.scheduler.removeGroup(group);
      return;
    }
    const setupText = JSON.stringify(setup);
    const old = this.#states.get(group);
    if (old?.setupText === setupText) return;
    this.#states.set(group, {
      setup,
      setupText,
      window: new AgreementWindow(this.#o.window),
      turn: 0,
    });
    const n = Math.max(1, Math.min(10, Math.floor(setup.spec.pairsPerInterval)));
    this.#o.scheduler.setTargets(
      group,
      Array.from({ length: n }, (_, i) => ({
        id: `pair-${i}`,
        intervalMs: setup.spec.intervalMs,
        payload: { key: group, podId: `pair-${i}` },
      })),
      tenant,
    );
  }

  /** Whether a scheduled group key is one of the agreement groups. */
  owns(group: string): boolean {
    return this.#states.has(group);
  }

  /** The agreement numbers of a canary revision key; undefined when it is no pair's canary. */
  stats(revisionKey: string, now: number): AgreementStats | undefined {
    for (const s of this.#states.values()) if (s.setup.canaryKey === revisionKey) return s.window.stats(now);
    return undefined;
  }

  /** One scheduled run: one pair. Never throws. */
  async run(group: string): Promise<void> {
    const state = this.#states.get(group);
    if (state === undefined) return;
    const { stableKey, canaryKey, spec } = state.setup;
    const stablePods = this.#o.podsOf(stableKey);
    const canaryPods = this.#o.podsOf(canaryKey);
    if (stablePods.length === 0 || canaryPods.length === 0) return;
    const turn = state.turn++;
    const stable = stablePods[turn % stablePods.length] as PairPod;
    const canary = canaryPods[turn % canaryPods.length] as PairPod;
    const outcome = await runAgreementPair(this.#o.client, stable, canary, spec);
    // The setup may have changed (new canary) while the pair ran: drop the result.
    if (this.#states.get(group) !== state) return;
    state.window.add(outcome, this.#o.clock.monotonic());
    this.#o.onOutcome(canaryKey, outcome);
  }

  clear(): void {
    this.#states.clear();
  }
}
