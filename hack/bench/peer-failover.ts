// Leader failover after kill -9, modelship beside Argo Rollouts on the peer run's cluster (issue #16).
// Two candidates per side, both at their default lease settings (15 s lease on both: modelship's
// built-in one, Argo Rollouts' --leader-election-lease-duration default); the leader is killed with
// SIGKILL and two times are taken:
// - lease: until the Lease names another holder (modelship: default/modelship-operator; Argo
//   Rollouts: default/argo-rollouts-controller-lock), read every 50 ms by the bench;
// - working: until the standby logs that its workers run (modelship "leading: starting workers", its
//   caches already warm; Argo Rollouts "Started controller", logged after it starts its informers and
//   waits for their caches, which it does only once leading).
// The killed candidate is started again as the next standby. Sides alternate, modelship first.
import { setTimeout as sleep } from "node:timers/promises";
import { CoordinationV1Api } from "@kubernetes/client-node";
import type { ClusterState } from "../cluster/control-plane.ts";
import {
  kubeConfigOf,
  log,
  type OperatorSettings,
  percentile,
  round,
  startOperator,
  timingSummary,
} from "./common.ts";
import { startArgoRollouts } from "./peer.ts";

const LEASE_S = 15;
const RUN_CAP_MS = (LEASE_S + 45) * 1000;

interface Candidate {
  logs(): string;
  kill9(): Promise<void>;
  stop(): Promise<void>;
  exited(): boolean;
}

interface Side {
  name: "modelship" | "argoRollouts";
  lease: { namespace: string; name: string };
  /** Logged once by the candidate that took the lease. */
  leading: string;
  /** Logged once the new leader's workers run. */
  working: string;
  start(tag: string): Promise<Candidate>;
}

async function leaseHolder(api: CoordinationV1Api, side: Side): Promise<string | undefined> {
  const lease = await api.readNamespacedLease(side.lease).catch(() => undefined);
  return lease?.spec?.holderIdentity || undefined;
}

/** One kill -9 of the side's leader; undefined times when the standby did not get there in time. */
async function failoverOnce(
  api: CoordinationV1Api,
  side: Side,
  candidates: Candidate[],
): Promise<{ leaseMs?: number; workingMs?: number }> {
  let leader: Candidate | undefined;
  for (let k = 0; k < 600 && !leader; k++) {
    leader = candidates.find((x) => !x.exited() && x.logs().includes(side.leading));
    if (!leader) await sleep(100);
  }
  const standby = candidates.find((x) => x !== leader && !x.exited());
  if (!leader || !standby) throw new Error(`${side.name}: no leader and standby in 60 s`);
  // Let the standby see the lease renewed at least once.
  await sleep(3000);
  const holder = await leaseHolder(api, side);
  if (!holder) throw new Error(`${side.name}: no holder in ${side.lease.namespace}/${side.lease.name}`);
  const killedAt = performance.now();
  await leader.kill9();
  let leaseMs: number | undefined;
  let workingMs: number | undefined;
  while (performance.now() - killedAt < RUN_CAP_MS && workingMs === undefined) {
    if (leaseMs === undefined) {
      const now = await leaseHolder(api, side);
      if (now !== undefined && now !== holder) leaseMs = performance.now() - killedAt;
    }
    if (standby.logs().includes(side.working)) workingMs = performance.now() - killedAt;
    else await sleep(50);
  }
  candidates.splice(candidates.indexOf(leader), 1);
  return { ...(leaseMs !== undefined ? { leaseMs } : {}), ...(workingMs !== undefined ? { workingMs } : {}) };
}

/** `runs` failovers per side, alternating, within `budgetMs`. */
export async function measurePeerFailover(
  c: ClusterState,
  settings: OperatorSettings,
  runs: number,
  budgetMs: number,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + budgetMs;
  const api = kubeConfigOf(c).makeApiClient(CoordinationV1Api);
  const sides: Side[] = [
    {
      name: "modelship",
      lease: { namespace: "default", name: "modelship-operator" },
      leading: "leading: starting workers",
      working: "leading: starting workers",
      start: (tag) =>
        startOperator(c, {
          settings,
          args: ["--prober=false", "--leader-elect=true"],
          name: `peer-fo-${tag}`,
        }),
    },
    {
      name: "argoRollouts",
      lease: { namespace: "default", name: "argo-rollouts-controller-lock" },
      leading: "I am the new leader",
      working: "Started controller",
      // Info level: the leadership lines are info lines.
      start: (tag) =>
        startArgoRollouts(c, { settings, leaderElect: true, logLevel: "info", name: `peer-fo-${tag}` }),
    },
  ];
  const pools = new Map<Side, Candidate[]>();
  const times = new Map<Side, { lease: number[]; working: number[] }>();
  const failures: string[] = [];
  try {
    for (const side of sides) {
      pools.set(side, [await side.start(`${side.name}-a`), await side.start(`${side.name}-b`)]);
      times.set(side, { lease: [], working: [] });
    }
    for (let i = 0; i < runs && Date.now() < deadline; i++) {
      for (const side of sides) {
        const pool = pools.get(side) as Candidate[];
        const t = times.get(side) as { lease: number[]; working: number[] };
        try {
          const r = await failoverOnce(api, side, pool);
          if (r.leaseMs !== undefined) t.lease.push(r.leaseMs);
          if (r.workingMs !== undefined) t.working.push(r.workingMs);
          else failures.push(`${side.name} run ${i}: standby not working within ${RUN_CAP_MS / 1000} s`);
          log(
            `peer failover run ${i} ${side.name}: lease ${r.leaseMs === undefined ? "-" : Math.round(r.leaseMs)} ms, working ${r.workingMs === undefined ? "timeout" : Math.round(r.workingMs)} ms`,
          );
        } catch (err) {
          failures.push(`${side.name} run ${i}: ${String(err).slice(0, 300)}`);
        }
        pool.push(await side.start(`${side.name}-${i}`));
      }
    }
  } finally {
    for (const pool of pools.values()) for (const x of pool) await x.stop();
  }
  const of = (name: Side["name"]) => times.get(sides.find((s) => s.name === name) as Side);
  const ms = of("modelship");
  const ar = of("argoRollouts");
  const ratio = (a: number[] = [], b: number[] = []) =>
    a.length && b.length ? round(percentile(a, 50) / percentile(b, 50)) : null;
  return {
    definition: `two candidates per side at their default lease settings (${LEASE_S} s lease), every object of apply → Available present; kill -9 of the leader, then ms until the Lease names another holder (lease) and until the standby logs that its workers run (working: modelship "leading: starting workers"; Argo Rollouts "Started controller", after it starts its informers and syncs their caches, which it does only once leading); sides alternate, modelship first; ratio of medians`,
    settings: { leaseDurationSeconds: LEASE_S, candidatesPerSide: 2 },
    runs,
    modelship: { lease: timingSummary(ms?.lease ?? []), working: timingSummary(ms?.working ?? []) },
    argoRollouts: { lease: timingSummary(ar?.lease ?? []), working: timingSummary(ar?.working ?? []) },
    ratio: { leaseP50: ratio(ms?.lease, ar?.lease), workingP50: ratio(ms?.working, ar?.working) },
    failures,
  };
}
