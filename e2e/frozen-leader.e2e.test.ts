// A leader frozen past its lease must not write when it wakes. Two real operator processes; the
// leader is paused (SIGSTOP) at a rollout step waiting for a person, for longer than the lease; the
// standby takes over and, on a promote, moves the rollout on; the old leader is resumed (SIGCONT)
// and must exit without one write. Each process names itself in its User-Agent
// (`modelship/<version> (<host>-<pid>)`), so the API server's audit log says whose write it was,
// refused or not: a write the API server turned down (409) was still sent by a process that should
// have known better.
import { CoordinationV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, kubeConfig, localCluster, uniqueNamespace } from "./support/cluster.ts";
import {
  applyMd,
  core,
  createNamespace,
  getMd,
  installCrd,
  mdSpec,
  operatorWritesSince,
  promote,
  waitForPhase,
} from "./support/mdep.ts";
import { type RunningOperator, startOperator } from "./support/operator.ts";

const ns = uniqueNamespace("frozen");
const LEASE_DURATION_MS = 15_000; // the operator's default (leader-election.ts)
const coordination = kubeConfig().makeApiClient(CoordinationV1Api);
const ops: RunningOperator[] = [];
const args = ["--leader-elect=true", `--leader-election-namespace=${ns}`];

const leadingAt = (op: RunningOperator) =>
  op
    .logs()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { msg: string; time: number })
    .find((l) => l.msg === "leading: starting workers")?.time;

async function holder(): Promise<string> {
  const lease = await coordination.readNamespacedLease({ namespace: ns, name: "modelship-operator" });
  return lease.spec?.holderIdentity ?? "";
}

const spec = (version: string) =>
  mdSpec({
    model: { name: "recommender", version },
    replicas: 2,
    rollout: { steps: [{ setWeight: 50 }, { pause: {} }], analysis: { minSamples: 4 } },
  });

beforeAll(async () => {
  await installCrd();
  await createNamespace(ns);
}, 60_000);

afterAll(async () => {
  for (const op of ops) {
    // A test that failed midway may leave a process stopped: it must be able to take its SIGTERM.
    try {
      process.kill(op.pid, "SIGCONT");
    } catch {} // already gone (the frozen one exits by itself)
    await op.stop();
  }
  await core.deleteNamespace({ name: ns }).catch(() => {});
});

// Skipped off the local harness: the proof reads the API server's audit log, which only the harness
// writes, and freezes operator processes this file started.
describe.skipIf(!localCluster())("a leader frozen past its lease", () => {
  it("wakes to find the standby leading and exits without a single write", async () => {
    const a = await startOperator({ name: "frozen-a", args });
    ops.push(a);
    await eventually("a leads", async () => leadingAt(a) !== undefined, 60_000);
    const b = await startOperator({ name: "frozen-b", args });
    ops.push(b);
    const identityA = await holder();
    expect(identityA).toMatch(new RegExp(`-${a.pid}$`));

    await applyMd(ns, "shop", spec("v1"));
    await waitForPhase(ns, "shop", "Healthy", 120_000);
    await applyMd(ns, "shop", spec("v2"));
    const paused = await eventually(
      "canary at 50%, paused for a person",
      async () => {
        const md = await getMd(ns, "shop");
        return md.status?.currentStepIndex === 1 && md.status.phase === "Paused" ? md : undefined;
      },
      120_000,
    );
    const canary = paused.status?.canaryRevision ?? "";
    // The audit log knows a by name: without this, "no write from a" would prove nothing.
    expect(operatorWritesSince(0, identityA).length).toBeGreaterThan(0);

    // Frozen mid-rollout, with its caches, timers and probe windows as they were.
    const frozenAt = Date.now();
    process.kill(a.pid, "SIGSTOP");
    const tookOverAt = await eventually("b leads", async () => leadingAt(b), 60_000);
    expect(tookOverAt - frozenAt).toBeGreaterThanOrEqual(LEASE_DURATION_MS - 3_000);
    const identityB = await holder();
    expect(identityB).toMatch(new RegExp(`-${b.pid}$`));

    // The new leader moves the rollout on while a sleeps: the state a remembers is now wrong.
    await promote(ns, "shop");
    const done = await eventually(
      "promoted by b",
      async () => {
        const md = await getMd(ns, "shop");
        return md.status?.phase === "Healthy" && md.status.stableRevision === canary ? md : undefined;
      },
      120_000,
    );
    expect(done.status?.history?.[0]).toMatchObject({ revision: canary, outcome: "Promoted" });
    expect(operatorWritesSince(tookOverAt, identityB).length).toBeGreaterThan(0);

    // Woken: everything a had queued (watch events, timers, probes) runs now, against a lease
    // b holds. It must notice before its first write, and go.
    const resumedAt = Date.now();
    process.kill(a.pid, "SIGCONT");
    const code = await Promise.race([
      a.exited,
      new Promise<"still running">((r) => setTimeout(() => r("still running"), 15_000)),
    ]);
    // The audit log is written as requests complete; give a late one time to land.
    await new Promise((r) => setTimeout(r, 2_000));
    const writes = operatorWritesSince(frozenAt, identityA).map(
      (e) => `${e.requestReceivedTimestamp} ${e.verb} ${e.requestURI} → ${e.responseStatus?.code}`,
    );
    process.stderr.write(
      `frozen-leader.e2e: frozen ${resumedAt - frozenAt} ms; b led after ${tookOverAt - frozenAt} ms; writes by a after the freeze: ${writes.length}\n`,
    );
    // First the promise itself (no write), then how it ends (it goes, as soon as it knows).
    expect(writes).toEqual([]);
    expect(code).toBe(1);
    expect(a.logs()).toContain("lost leadership; exiting");
    // b kept leading and the rollout stayed where b put it.
    expect(await holder()).toBe(identityB);
    expect((await getMd(ns, "shop")).status).toMatchObject({ phase: "Healthy", stableRevision: canary });
  }, 420_000);
});
