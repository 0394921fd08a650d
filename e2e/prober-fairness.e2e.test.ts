// One tenant cannot starve another's probes, and only pods the operator made are probed. Two
// namespaces, real fixture model servers behind the fake pods' IPs: tenant A's pods hang or answer
// far too slowly; tenant B's probe rate, counted by the model servers themselves, stays at its
// baseline. (A trickled body is cut by the same deadline: unit tier, http-client.test.ts. The
// fixture servers are shared by every e2e run on the machine, so this file uses only the behaviours
// every fixture version has.) The prober runs with 2 slots: under one global FIFO, B's runs would queue behind ~6 of
// A's, each holding a slot for its whole deadline (operator/src/prober/prober.test.ts measures that
// control: B at ~25% of its baseline).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventually, localCluster, uniqueNamespace } from "./support/cluster.ts";
import { podStats, resetPodBehaviours, revisionPods, setPodBehaviour } from "./support/fixtures.ts";
import { applyMd, core, createNamespace, getMd, installCrd, mdSpec, waitForPhase } from "./support/mdep.ts";
import { type RunningOperator, startOperator } from "./support/operator.ts";

const nsA = uniqueNamespace("tenant-a");
const nsB = uniqueNamespace("tenant-b");
let operator: RunningOperator;
/** Probe requests per second a set of pods received, counted by the fixture over `ms`. */
async function requestRate(ips: readonly string[], ms: number): Promise<number> {
  const count = async () => {
    let n = 0;
    for (const ip of ips) n += (await podStats(ip)).requests;
    return n;
  };
  const before = await count();
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, ms));
  const after = await count();
  return (after - before) / ((Date.now() - t0) / 1000);
}

async function stablePods(namespace: string, name: string) {
  const md = await waitForPhase(namespace, name, "Healthy");
  const revision = md.status?.stableRevision ?? "";
  return eventually(`${namespace}/${name} pods`, async () => {
    const pods = await revisionPods(namespace, name, revision);
    return pods.length === Number(md.spec.replicas) ? { revision, pods } : undefined;
  });
}

// Skipped off the local harness: the fixture model servers answer only for pod IPs inside its network namespace.
describe.skipIf(!localCluster())("prober fairness and target ownership", () => {
  beforeAll(async () => {
    await installCrd();
    await createNamespace(nsA);
    await createNamespace(nsB);
    operator = await startOperator({ name: "prober-fair", args: ["--probe-concurrency=2"] });
  });
  afterEach(resetPodBehaviours);
  afterAll(async () => {
    await operator?.stop();
    await core.deleteNamespace({ name: nsA }).catch(() => {});
    await core.deleteNamespace({ name: nsB }).catch(() => {});
  });

  it("tenant A's hanging and slow pods do not lower tenant B's probe rate beyond noise", async () => {
    await applyMd(nsA, "hog", mdSpec({ replicas: 8 }));
    await applyMd(nsB, "steady", mdSpec({ replicas: 2 }));
    const a = await stablePods(nsA, "hog");
    const b = await stablePods(nsB, "steady");
    const bIps = b.pods.map((p) => p.ip);
    const aIps = a.pods.map((p) => p.ip);
    // Let both settle into their schedules, then measure B with A healthy.
    await new Promise((r) => setTimeout(r, 3000));
    const baseline = await requestRate(bIps, 12_000);

    // Every A pod now holds a slot for its whole 1 s deadline every 1 s interval: 8 slot-seconds
    // per second asked of 2 slots. Half never answer, half would answer after 5 s.
    for (const [i, ip] of aIps.entries())
      await setPodBehaviour(ip, i % 2 === 0 ? { hang: true } : { latencyMs: 5000 });
    await new Promise((r) => setTimeout(r, 3000));
    const [underLoad, aRate] = await Promise.all([requestRate(bIps, 12_000), requestRate(aIps, 12_000)]);
    console.log(
      JSON.stringify({
        measure: "tenant B probe requests/s",
        baseline,
        underLoad,
        ratio: underLoad / baseline,
        aRate,
      }),
    );
    // A was really probed during the window, held to its share: one of the 2 slots, so about one
    // request per 1 s deadline...
    expect(aRate).toBeGreaterThan(0.5);
    expect(aRate).toBeLessThan(2.5);
    // ...and B's rate is its baseline: two pods, one round (two requests) per second each. The
    // bound allows the interval jitter (±10%) and window edges.
    expect(baseline).toBeGreaterThan(3);
    expect(underLoad).toBeGreaterThanOrEqual(0.85 * baseline);

    // A's failures are A's: its status says probes fail on the deadline; B stays healthy.
    const hog = await eventually("hog's status.health shows the timeouts", async () => {
      const md = await getMd(nsA, "hog");
      const h = md.status?.health?.stable as { lastError?: string } | undefined;
      return h?.lastError && /no complete answer within \d+ ms|not run/.test(h.lastError) ? h : undefined;
    });
    expect(hog.lastError).toBeDefined();
    const steady = await getMd(nsB, "steady");
    expect(steady.status?.phase).toBe("Healthy");
    expect((steady.status?.health?.stable as { successRate?: number } | undefined)?.successRate).toBe(1);
  });

  it("a pod that only carries a ModelDeployment's labels is never probed and never feeds its health", async () => {
    const b = await stablePods(nsB, "steady");
    const labels = {
      "app.kubernetes.io/managed-by": "modelship",
      "modelship.dev/deployment": "steady",
      "modelship.dev/revision": b.revision,
    };
    await core.createNamespacedPod({
      namespace: nsB,
      body: {
        metadata: { name: "impostor", labels },
        spec: { containers: [{ name: "model", image: "registry.invalid/recsys:1" }] },
      },
    });
    const impostor = await eventually("the impostor pod Ready with an IP", async () => {
      const p = await core.readNamespacedPod({ namespace: nsB, name: "impostor" });
      const ready = p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
      return ready && p.status?.podIP ? p.status.podIP : undefined;
    });
    // Were it probed, every answer would be an error and B's success rate would fall.
    await setPodBehaviour(impostor, { errorRate: 1 });
    const before = (await podStats(impostor)).requests;
    const bRate = await requestRate(
      b.pods.map((p) => p.ip),
      6000,
    );
    expect(bRate).toBeGreaterThan(3); // the real pods are probed all along
    expect((await podStats(impostor)).requests - before).toBe(0);
    const md = await getMd(nsB, "steady");
    expect(md.status?.phase).toBe("Healthy");
    expect((md.status?.health?.stable as { successRate?: number } | undefined)?.successRate).toBe(1);
    await core.deleteNamespacedPod({ namespace: nsB, name: "impostor", gracePeriodSeconds: 0 });
  });
});
