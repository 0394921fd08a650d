// spec.disruption against the real control plane: the PodDisruptionBudget selects every pod of the
// ModelDeployment, kube-controller-manager's disruption controller counts stable and canary pods
// together during a canary, and removing the field removes the budget.
import { PolicyV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, kubeConfig, uniqueNamespace } from "./support/cluster.ts";
import {
  applyMd,
  core,
  createNamespace,
  deploymentsOf,
  getMd,
  installCrd,
  mdSpec,
  waitForPhase,
} from "./support/mdep.ts";
import { type RunningOperator, startOperator } from "./support/operator.ts";

const ns = uniqueNamespace("pdb");
let operator: RunningOperator;
const policy = () => kubeConfig().makeApiClient(PolicyV1Api);

const spec = (version: string, extra: Record<string, unknown> = {}) =>
  mdSpec({
    model: { name: "recommender", version },
    replicas: 3,
    disruption: { maxUnavailable: 1 },
    rollout: {
      steps: [{ setWeight: 50 }, { pause: {} }],
      scaleDownDelaySeconds: 2,
      analysis: { minSamples: 4 },
    },
    ...extra,
  });

beforeAll(async () => {
  await installCrd();
  await createNamespace(ns);
  operator = await startOperator({ name: "pdb" });
});
afterAll(async () => {
  await operator?.stop();
  await core.deleteNamespace({ name: ns }).catch(() => {});
});

describe("spec.disruption", () => {
  it("a PodDisruptionBudget over stable and canary pods together, removed with the field", async () => {
    await applyMd(ns, "shop", spec("v1"));
    await waitForPhase(ns, "shop", "Healthy");
    const settled = await eventually("budget counts 3 pods", async () => {
      const p = await policy().readNamespacedPodDisruptionBudget({ namespace: ns, name: "shop" });
      return p.status?.expectedPods === 3 && p.status.currentHealthy === 3 ? p : undefined;
    });
    expect(settled.spec?.maxUnavailable).toBe(1);
    expect(settled.status?.disruptionsAllowed).toBe(1);
    const md = await getMd(ns, "shop");
    expect(settled.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: "ModelDeployment",
      uid: md.metadata.uid,
    });

    // Canary at 50%, held at the pause: pods of both revisions, one budget over all of them.
    await applyMd(ns, "shop", spec("v2"));
    await eventually(
      "canary held at the pause",
      async () => (await getMd(ns, "shop")).status?.phase === "Paused",
      90_000,
    );
    const perRevision = (await deploymentsOf(ns, "shop")).map((d) => d.spec?.replicas ?? 0);
    expect(perRevision).toHaveLength(2);
    expect(Math.min(...perRevision)).toBeGreaterThan(0);
    const total = perRevision.reduce((a, b) => a + b, 0);
    const during = await eventually("budget counts both revisions", async () => {
      const p = await policy().readNamespacedPodDisruptionBudget({ namespace: ns, name: "shop" });
      return p.status?.expectedPods === total && p.status.currentHealthy === total ? p : undefined;
    });
    expect(during.status?.disruptionsAllowed).toBe(1);

    // Without the field the operator prunes the budget (the rollout is untouched).
    await applyMd(ns, "shop", spec("v2", { disruption: undefined }));
    await eventually("budget removed", async () =>
      policy()
        .readNamespacedPodDisruptionBudget({ namespace: ns, name: "shop" })
        .then(() => undefined)
        .catch((e: { code?: number }) => e.code === 404),
    );
  });
});
