// Leader failover: two operators with --leader-elect=true; kill -9 the leader; time until the standby
// logs "leading: starting workers". The killed one is started again as the next standby.
import { setTimeout as sleep } from "node:timers/promises";
import {
  DEFAULT_SETTINGS,
  log,
  machine,
  type Operator,
  percentile,
  round,
  startOperator,
  withCluster,
} from "./common.ts";

const LEASE_S = 15;
const LEADING = "leading: starting workers";

export async function runFailover(opts: {
  quick: boolean;
  cpuProf: boolean;
}): Promise<Record<string, unknown>> {
  const runs = opts.quick ? 2 : 5;
  const settings = DEFAULT_SETTINGS;
  const hardDeadline = Date.now() + (runs * 60 + 60) * 1000;
  return withCluster("failover", async (c) => {
    const before = await machine(c);
    const args = ["--prober=false", "--leader-elect=true"];
    const ops: Operator[] = [];
    const times: number[] = [];
    const failures: string[] = [];
    try {
      ops.push(await startOperator(c, { settings, args, name: "fo-a" }));
      ops.push(await startOperator(c, { settings, args, name: "fo-b" }));
      const leaderOf = () => ops.find((o) => !o.exited() && o.logs().includes(LEADING));
      for (let i = 0; i < runs && Date.now() < hardDeadline; i++) {
        let leader: Operator | undefined;
        for (let k = 0; k < 600 && !leader; k++) {
          leader = leaderOf();
          if (!leader) await sleep(100);
        }
        if (!leader) {
          failures.push(`run ${i}: no leader in 60 s`);
          break;
        }
        const standby = ops.find((o) => o !== leader && !o.exited());
        if (!standby) break;
        // Let the standby see the lease renewed at least once.
        await sleep(3000);
        const killedAt = performance.now();
        await leader.kill9();
        let took: number | undefined;
        while (performance.now() - killedAt < (LEASE_S + 30) * 1000) {
          if (standby.logs().includes(LEADING)) {
            took = performance.now() - killedAt;
            break;
          }
          await sleep(50);
        }
        if (took === undefined) failures.push(`run ${i}: standby did not lead within ${LEASE_S + 30} s`);
        else times.push(took);
        log(`failover run ${i}: ${took === undefined ? "timeout" : `${Math.round(took)} ms`}`);
        ops.splice(ops.indexOf(leader), 1);
        ops.push(await startOperator(c, { settings, args, name: `fo-${i}` }));
      }
    } finally {
      for (const o of ops) await o.stop();
    }
    return {
      benchmark: "failover",
      date: new Date().toISOString(),
      machine: before,
      loadAverageAfter: (await machine()).loadAverage,
      settings: { ...settings, leaseDurationSeconds: LEASE_S },
      goal: { ms: (LEASE_S + 5) * 1000 },
      runs,
      completed: times.length,
      failures,
      p50Ms: round(percentile(times, 50), 0),
      maxMs: round(Math.max(...times), 0),
      samplesMs: times.map((t) => round(t, 0)),
    };
  });
}
