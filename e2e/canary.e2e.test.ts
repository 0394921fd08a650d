// Progressive delivery against a real control plane: steps, weights by replica ratio and by
// Gateway API, manual promote/abort, rejection of a re-applied bad spec, the progress deadline, and
// an operator killed mid-rollout that continues from the recorded step.
import { CustomObjectsApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status01 } from "./fixtures/status-0.1.ts";
import {
  eventually,
  installGatewayApiCrds,
  kubeConfig,
  kubectl,
  localCluster,
  uniqueNamespace,
} from "./support/cluster.ts";
import { revisionPods } from "./support/fixtures.ts";
import {
  applyMd,
  core,
  createNamespace,
  deploymentsOf,
  getMd,
  installCrd,
  type Md,
  mdSpec,
  promote,
  readyPodsOf,
  waitForPhase,
} from "./support/mdep.ts";
import { type RunningOperator, startOperator } from "./support/operator.ts";

const ns = uniqueNamespace("canary");
let operator: RunningOperator;

const steps = [{ setWeight: 20 }, { pause: { duration: "5s" } }, { setWeight: 50 }, { pause: {} }];
const spec = (version: string, extra: Record<string, unknown> = {}) =>
  mdSpec({
    model: { name: "recommender", version },
    replicas: 5,
    rollout: { steps, scaleDownDelaySeconds: 3, progressDeadlineSeconds: 20, analysis: { minSamples: 4 } },
    ...extra,
  });

async function replicasByRevision(name: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const d of await deploymentsOf(ns, name)) {
    out[d.metadata?.labels?.["modelship.dev/revision"] ?? "?"] = d.spec?.replicas ?? 0;
  }
  return out;
}

async function annotate(name: string, key: string, value: string) {
  await kubectl(["annotate", "mdep", name, "-n", ns, `${key}=${value}`, "--overwrite"]);
}

async function atStep(name: string, index: number, phase?: string): Promise<Md> {
  return eventually(`${name} at step ${index}`, async () => {
    const md = await getMd(ns, name);
    return md.status?.currentStepIndex === index && (!phase || md.status.phase === phase) ? md : undefined;
  });
}

beforeAll(async () => {
  await installCrd();
  await createNamespace(ns);
  operator = await startOperator({ name: "canary" });
});

afterAll(async () => {
  await operator?.stop();
  await core.deleteNamespace({ name: ns }).catch(() => {});
});

describe("canary by replica ratio", () => {
  it("walks 20% / pause 5s / 50% / pause until promoted, with the right replicas at every step", async () => {
    await applyMd(ns, "shop", spec("v1"));
    const v1 = await waitForPhase(ns, "shop", "Healthy");
    const stable = v1.status?.stableRevision ?? "";

    await applyMd(ns, "shop", spec("v2"));
    const s0 = await eventually("canary at 20%", async () => {
      const md = await getMd(ns, "shop");
      return md.status?.canaryWeight === 20 ? md : undefined;
    });
    const canary = s0.status?.canaryRevision ?? "";
    expect(canary).not.toBe(stable);
    // 20% of 5 = 1 canary pod; stable shrinks to the rest only once the canary pod is Ready.
    expect(await replicasByRevision("shop")).toEqual({ [stable]: 4, [canary]: 1 });
    const canaryPodsAtStart = await revisionPods(ns, "shop", canary);

    // The timed pause passes by itself, then 50%: round(2.5) = 3 canary pods.
    const s2 = await eventually(
      "canary at 50%",
      async () => {
        const md = await getMd(ns, "shop");
        return md.status?.canaryWeight === 50 ? md : undefined;
      },
      60_000,
    );
    expect(s2.status?.currentStepIndex).toBeGreaterThanOrEqual(2);
    await eventually("3 canary + 2 stable", async () => {
      const r = await replicasByRevision("shop");
      return r[canary] === 3 && r[stable] === 2;
    });

    // The last pause waits for a person.
    const paused = await atStep("shop", 3, "Paused");
    expect(paused.status?.message).toMatch(/promot/i);
    await new Promise((r) => setTimeout(r, 3000));
    expect((await getMd(ns, "shop")).status?.phase).toBe("Paused");

    // What a person sees and does, through the kubectl plugin.
    const view = await kubectl(["modelship", "status", "shop", "-n", ns]);
    expect(view).toMatch(/Paused/);
    expect(view).toContain(canary.slice(0, 7));
    await kubectl(["modelship", "promote", "shop", "-n", ns]);
    const done = await eventually("promoted", async () => {
      const md = await getMd(ns, "shop");
      return md.status?.phase === "Healthy" && md.status.stableRevision === canary ? md : undefined;
    });
    expect(done.status?.canaryRevision).toBeUndefined();
    expect(done.status?.history?.[0]).toMatchObject({ revision: canary, outcome: "Promoted" });
    // Promotion scales the canary's Deployment; its first pods were never restarted.
    const after = await revisionPods(ns, "shop", canary);
    for (const p of canaryPodsAtStart) expect(after.map((a) => a.uid)).toContain(p.uid);
    await eventually(
      "old stable drained away",
      async () => JSON.stringify(await replicasByRevision("shop")) === JSON.stringify({ [canary]: 5 }),
    );
  });

  it("aborts mid-canary back to stable without dipping below its capacity; a re-apply stays aborted", async () => {
    const before = await getMd(ns, "shop");
    const stable = before.status?.stableRevision ?? "";
    await applyMd(ns, "shop", spec("v3"));
    const md = await eventually(
      "canary at 50%",
      async () => {
        const m = await getMd(ns, "shop");
        return m.status?.canaryWeight === 50 ? m : undefined;
      },
      60_000,
    );
    const canary = md.status?.canaryRevision ?? "";

    let minStableAfterAbort = Number.POSITIVE_INFINITY;
    let trafficOnStable = false;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const m = await getMd(ns, "shop");
        if (m.status?.canaryWeight === 0) trafficOnStable = true;
        if (trafficOnStable) {
          const pods = await revisionPods(ns, "shop", stable);
          minStableAfterAbort = Math.min(minStableAfterAbort, pods.length);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await kubectl(["modelship", "abort", "shop", "-n", ns]);
    const aborted = await eventually("Degraded after abort", async () => {
      const m = await getMd(ns, "shop");
      return m.status?.phase === "Degraded" && m.status.rejectedRevision === canary ? m : undefined;
    });
    expect(aborted.status?.stableRevision).toBe(stable);
    await eventually(
      "canary scaled down after the delay",
      async () => (await replicasByRevision("shop"))[canary] === undefined,
    );
    sampling = false;
    await sampler;
    // Once traffic was all on stable, stable had its full Ready capacity.
    expect(minStableAfterAbort).toBeGreaterThanOrEqual(5);

    // An Argo CD re-sync of the same spec does not start the same canary again.
    await applyMd(ns, "shop", spec("v3"));
    await new Promise((r) => setTimeout(r, 4000));
    const still = await getMd(ns, "shop");
    expect(still.status?.phase).toBe("Degraded");
    expect(Object.keys(await replicasByRevision("shop"))).toEqual([stable]);

    // A new spec starts a new canary.
    await applyMd(ns, "shop", spec("v4"));
    await eventually("new canary", async () => {
      const m = await getMd(ns, "shop");
      return m.status?.canaryRevision && m.status.canaryRevision !== canary ? m : undefined;
    });
    await annotate("shop", "modelship.dev/promote-full", `e2e-${Date.now()}`);
    await eventually("v4 promoted", async () => {
      const m = await getMd(ns, "shop");
      return m.status?.phase === "Healthy" && m.status.stableRevision !== stable ? m : undefined;
    });
  });

  it("rolls back by itself a canary that never becomes Ready, at the progress deadline", async () => {
    const before = await getMd(ns, "shop");
    const stable = before.status?.stableRevision ?? "";
    // No node carries this label: the real scheduler leaves the canary Pending (Unschedulable).
    await applyMd(ns, "shop", spec("v5", { template: { nodeSelector: { "gpu.example/model": "h200" } } }));
    const md = await eventually(
      "rolled back",
      async () => {
        const m = await getMd(ns, "shop");
        return m.status?.phase === "Degraded" && m.status.rejectedRevision ? m : undefined;
      },
      90_000,
    );
    expect(md.status?.stableRevision).toBe(stable);
    expect(md.status?.message).toMatch(/Unschedulable|deadline/i);
    const events = await kubectl([
      "get",
      "events",
      "-n",
      ns,
      "--field-selector",
      "involvedObject.name=shop",
      "-o",
      "json",
    ]);
    expect(events).toMatch(/Unschedulable|ProgressDeadline/);
    // Stable never gave up a pod for a canary that was never Ready.
    const ready = await readyPodsOf(ns, "shop");
    if (ready !== 5)
      process.stderr.write(await kubectl(["get", "pods,rs,deploy", "-n", ns, "-o", "wide", "--show-labels"]));
    expect(ready).toBe(5);
    expect(md.status?.message).not.toMatch(/4\/5 ready/);
  });

  it("continues from the recorded step after kill -9 of the operator", async () => {
    await applyMd(ns, "shop", spec("v6"));
    await atStep("shop", 3, "Paused");
    const md = await getMd(ns, "shop");
    await operator.kill9();
    operator = await startOperator({ name: "canary-restarted" });
    await new Promise((r) => setTimeout(r, 3000));
    const after = await getMd(ns, "shop");
    expect(after.status?.currentStepIndex).toBe(3);
    expect(after.status?.canaryRevision).toBe(md.status?.canaryRevision);
    expect(after.status?.canaryWeight).toBe(50);
    await promote(ns, "shop");
    await eventually("promoted after restart", async () => {
      const m = await getMd(ns, "shop");
      return m.status?.phase === "Healthy" && m.status.stableRevision === md.status?.canaryRevision
        ? m
        : undefined;
    });
  });
});

describe("upgrade from operator 0.1", () => {
  it("carries a canary in flight across the status change: same step, old request not re-run, new one promotes", async () => {
    await applyMd(ns, "legacy", spec("v1"));
    const v1 = await waitForPhase(ns, "legacy", "Healthy");
    await applyMd(ns, "legacy", spec("v2"));
    const paused = await atStep("legacy", 3, "Paused");
    const canary = paused.status?.canaryRevision ?? "";
    await operator.stop();

    // What a cluster running 0.1 holds: a promote request 0.1 already acted on, and 0.1's status,
    // written with the operator's own field manager as 0.1 wrote it (server-side apply).
    await annotate("legacy", "modelship.dev/promote", "handled-by-0.1");
    const live = (await kubectl(["get", "mdep", "legacy", "-n", ns, "-o", "json"])) as string;
    const body = {
      apiVersion: "modelship.dev/v1alpha1",
      kind: "ModelDeployment",
      metadata: { name: "legacy", namespace: ns },
      status: status01(JSON.parse(live).status, { promote: "handled-by-0.1" }),
    };
    await kubectl(
      [
        "apply",
        "--server-side",
        "--subresource=status",
        "--field-manager=modelship",
        "--force-conflicts",
        "-f",
        "-",
      ],
      JSON.stringify(body),
    );
    const old = JSON.parse(await kubectl(["get", "mdep", "legacy", "-n", ns, "-o", "json"])).status;
    expect(old.rolloutState.handledRequests).toEqual({ promote: "handled-by-0.1" });
    expect(old.bookkeeping).toBeUndefined();

    operator = await startOperator({ name: "canary-upgraded" });
    const migrated = await eventually("status migrated", async () => {
      const m = JSON.parse(await kubectl(["get", "mdep", "legacy", "-n", ns, "-o", "json"])).status;
      return m.bookkeeping && m.rolloutState === undefined ? m : undefined;
    });
    expect(migrated.bookkeeping.handledRequests).toEqual({ promote: "handled-by-0.1" });
    expect(migrated.currentStepIndex).toBe(3);
    expect(migrated.canaryRevision).toBe(canary);
    expect(migrated.canaryWeight).toBe(50);
    expect(migrated.phase).toBe("Paused");
    // Still holding at the pause a while later: the request 0.1 handled is not acted on again.
    await new Promise((r) => setTimeout(r, 3000));
    expect((await getMd(ns, "legacy")).status?.stableRevision).toBe(v1.status?.stableRevision);

    await promote(ns, "legacy");
    await eventually("promoted by a new request", async () => {
      const m = await getMd(ns, "legacy");
      return m.status?.phase === "Healthy" && m.status.stableRevision === canary ? m : undefined;
    });
  });
});

describe("canary with an HPA", () => {
  it("keeps the split when the HPA scales mid-canary, and never reverts the HPA's choice", async () => {
    const auto = (version: string) =>
      mdSpec({
        model: { name: "recommender", version },
        replicas: undefined,
        autoscaling: { minReplicas: 4, maxReplicas: 10 },
        rollout: {
          steps: [{ setWeight: 50 }, { pause: {} }],
          scaleDownDelaySeconds: 3,
          progressDeadlineSeconds: 60,
          analysis: { minSamples: 4 },
        },
      });
    await applyMd(ns, "hpa", auto("v1"));
    const v1 = await waitForPhase(ns, "hpa", "Healthy");
    const stable = v1.status?.stableRevision ?? "";
    await applyMd(ns, "hpa", auto("v2"));
    const paused = await atStep("hpa", 1, "Paused");
    const canary = paused.status?.canaryRevision ?? "";
    await eventually("2 + 2 at 50% of 4", async () => {
      const r = await replicasByRevision("hpa");
      return r[stable] === 2 && r[canary] === 2;
    });
    // What the HPA does under load: write spec.replicas through /scale.
    await kubectl(["scale", "mdep", "hpa", "-n", ns, "--replicas=8"]);
    await eventually("4 + 4 at 50% of 8", async () => {
      const r = await replicasByRevision("hpa");
      return r[stable] === 4 && r[canary] === 4;
    });
    await new Promise((r) => setTimeout(r, 4000));
    expect((await getMd(ns, "hpa")).spec.replicas).toBe(8);
    // The stable side is not blown up to the maximum during the canary.
    expect((await replicasByRevision("hpa"))[stable]).toBe(4);
  });
});

// Skipped off the local harness: the Gateway API CRDs come from its build cache.
describe.skipIf(!localCluster())("canary by Gateway API weights", () => {
  const custom = kubeConfig().makeApiClient(CustomObjectsApi);
  const route = async () =>
    (await custom.getNamespacedCustomObject({
      group: "gateway.networking.k8s.io",
      version: "v1",
      namespace: ns,
      plural: "httproutes",
      name: "llm",
    })) as {
      spec: { rules: { backendRefs: { name: string; weight: number }[] }[] };
    };
  const weights = async () =>
    Object.fromEntries((await route()).spec.rules[0]?.backendRefs.map((b) => [b.name, b.weight]) ?? []);

  beforeAll(async () => {
    await installGatewayApiCrds();
    // The operator discovers the Gateway API at start.
    await operator.stop();
    operator = await startOperator({ name: "canary-gateway" });
  });

  it("moves HTTPRoute weights step by step while stable keeps full capacity", async () => {
    const gw = { traffic: { gatewayAPI: { parentRefs: [{ name: "shop-gateway" }] } } };
    const s = (v: string) => {
      const base = spec(v);
      return { ...base, rollout: { ...(base.rollout as object), ...gw } };
    };
    await applyMd(ns, "llm", s("v1"));
    const v1 = await waitForPhase(ns, "llm", "Healthy");
    expect(await weights()).toEqual({ "llm-stable": 100, "llm-canary": 0 });

    await applyMd(ns, "llm", s("v2"));
    await eventually("route at 20%", async () => (await weights())["llm-canary"] === 20);
    const md = await getMd(ns, "llm");
    const canary = md.status?.canaryRevision ?? "";
    // Stable keeps all 5 pods (abort is instant); the canary gets ceil(20% of 5) = 1.
    expect(await replicasByRevision("llm")).toEqual({ [v1.status?.stableRevision ?? ""]: 5, [canary]: 1 });
    const svc = await core.readNamespacedService({ namespace: ns, name: "llm-canary" });
    expect(svc.spec?.selector?.["modelship.dev/revision"]).toBe(canary);

    await eventually("route at 50%", async () => (await weights())["llm-canary"] === 50, 60_000);
    await atStep("llm", 3, "Paused");
    await annotate("llm", "modelship.dev/promote", `e2e-${Date.now()}`);
    await eventually("route all on the new stable", async () => {
      const m = await getMd(ns, "llm");
      const w = await weights();
      return m.status?.stableRevision === canary && w["llm-stable"] === 100 ? m : undefined;
    });
    const stableSvc = await core.readNamespacedService({ namespace: ns, name: "llm-stable" });
    expect(stableSvc.spec?.selector?.["modelship.dev/revision"]).toBe(canary);
  });
});
