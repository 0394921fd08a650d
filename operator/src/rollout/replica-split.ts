// Weight → replica arithmetic. Integer math only, so 50% of 5 is always 3 (round half up).
import type { TrafficMode } from "./types.ts";

/**
 * Canary replicas for a weight. replicaRatio: the weight's share rounded half up (traffic follows
 * the ready-pod ratio, so this is the closest split). gatewayAPI/traefik: rounded up (the route sends the
 * exact weight, so the canary must not be under-sized). At least 1 when weight > 0, at most total.
 */
export function canaryReplicasFor(weight: number, total: number, mode: TrafficMode): number {
  if (total <= 0 || weight <= 0) return 0;
  if (weight >= 100) return total;
  const share =
    mode === "replicaRatio"
      ? Math.floor((weight * total + 50) / 100)
      : Math.floor((weight * total + 99) / 100);
  return Math.min(total, Math.max(1, share));
}

export interface RatioSideInput {
  /** Replicas this side should end up with at the target weight. */
  target: number;
  /** Replicas its Deployment has now (spec): the canary is kept at most at this while stable catches up. */
  current: number;
}

/**
 * Replica-ratio split while both sides serve: a side shrinks only as far as the other side's Ready
 * pods cover (never cut capacity before the other side is Ready). Stable, the safe side, grows back
 * when canary pods stop being Ready; the canary never grows past its current size to make up for
 * stable (that would shift traffic toward the unproven side).
 */
export function splitBothServing(
  total: number,
  stable: RatioSideInput & { ready: number },
  canary: RatioSideInput & { ready: number },
): { stable: number; canary: number } {
  const covered = (other: RatioSideInput & { ready: number }) => total - Math.min(other.ready, other.target);
  return {
    stable: Math.max(stable.target, covered(canary)),
    canary: Math.max(canary.target, Math.min(canary.current, covered(stable))),
  };
}
