// Model pods under the restricted Pod Security Standard, enforced by the API server's own PodSecurity
// admission: a default ModelDeployment runs there; the opt-out that would run as root is refused by
// admission and says so on the ModelDeployment, while a running revision keeps serving.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, kubectl, uniqueNamespace } from "./support/cluster.ts";
import {
  applyMd,
  condition,
  core,
  deploymentsOf,
  getMd,
  installCrd,
  mdSpec,
  patchMdSpec,
  readyPodsOf,
  waitForPhase,
} from "./support/mdep.ts";
import { type RunningOperator, startOperator } from "./support/operator.ts";

const ns = uniqueNamespace("psa");
let operator: RunningOperator;

/** What the restricted level refuses in a pod; the operator's words carry it from the ReplicaSet. */
const REFUSED = /violates PodSecurity "restricted:latest"/;
const ROOT_OPT_OUT = { securityContext: { profile: "None", runAsUser: 0 } };

beforeAll(async () => {
  await installCrd();
  await core.createNamespace({
    body: {
      metadata: {
        name: ns,
        labels: {
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/enforce-version": "latest",
        },
      },
    },
  });
  operator = await startOperator({ name: "pod-security" });
});
afterAll(async () => {
  await operator?.stop();
  await core.deleteNamespace({ name: ns }).catch(() => {});
});

describe("a namespace that enforces restricted", () => {
  it("runs a default ModelDeployment: Healthy, its pods admitted", async () => {
    await applyMd(ns, "plain", mdSpec());
    const md = await waitForPhase(ns, "plain", "Healthy");
    expect(await readyPodsOf(ns, "plain")).toBe(2);
    const [dep] = await deploymentsOf(ns, "plain");
    expect(dep?.spec?.template.spec?.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(dep?.spec?.template.spec?.containers[0]?.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(dep?.metadata?.annotations?.["modelship.dev/render-features"]).toContain(
      "pod-security-restricted",
    );
    // Admission checked each pod against restricted; a server-side dry run of the label reports any
    // running pod that would violate it ("existing pods ... violate"): none.
    const dry = await kubectl([
      "label",
      "--dry-run=server",
      "--overwrite",
      "ns",
      ns,
      "pod-security.kubernetes.io/enforce=restricted",
    ]).catch((err: { stderr?: string }) => String(err.stderr));
    expect(dry).not.toMatch(/violate/i);
    expect(md.status?.stableRevision).toBeTruthy();
  }, 120_000);

  it("admits a model server with a memory-backed /dev/shm (runtime.shmSize)", async () => {
    await applyMd(
      ns,
      "shm",
      mdSpec({ runtime: { preset: "openInference", image: "registry.invalid/recsys:1", shmSize: "2Gi" } }),
    );
    await waitForPhase(ns, "shm", "Healthy");
    expect(await readyPodsOf(ns, "shm")).toBe(2);
    const [dep] = await deploymentsOf(ns, "shm");
    const pod = dep?.spec?.template.spec;
    expect(pod?.volumes).toEqual([{ name: "dshm", emptyDir: { medium: "Memory", sizeLimit: "2Gi" } }]);
    expect(pod?.containers[0]?.volumeMounts).toEqual([{ name: "dshm", mountPath: "/dev/shm" }]);
  }, 120_000);

  it("refuses the root opt-out at admission, and the ModelDeployment says so", async () => {
    await applyMd(ns, "root", mdSpec({ template: ROOT_OPT_OUT }));
    const md = await eventually(
      "Degraded with the PodSecurity refusal",
      async () => {
        const m = await getMd(ns, "root");
        return m.status?.phase === "Degraded" && REFUSED.test(m.status.message ?? "") ? m : undefined;
      },
      90_000,
    );
    expect(md.status?.message).toMatch(/ReplicaFailure: FailedCreate/);
    expect(md.status?.message).toMatch(/runAsNonRoot != true|runAsUser=0/);
    expect(md.status?.conditions?.some((c) => c.reason === "ReplicaFailure")).toBe(true);
    // The pods were never made: the API server refused every one.
    const pods = await core.listNamespacedPod({
      namespace: ns,
      labelSelector: "modelship.dev/deployment=root",
    });
    expect(pods.items).toEqual([]);
  }, 120_000);

  it("keeps serving the stable revision when an update to the opt-out is refused, then rolls it back", async () => {
    await applyMd(
      ns,
      "upd",
      mdSpec({ rollout: { ...rollout(), steps: [{ setWeight: 50 }, { pause: {} }] } }),
    );
    const ok = await waitForPhase(ns, "upd", "Healthy");
    await patchMdSpec(ns, "upd", { template: ROOT_OPT_OUT });
    let seen: unknown;
    const rolledBack = await eventually(
      "canary withdrawn at the progress deadline",
      async () => {
        const m = await getMd(ns, "upd");
        seen = m.status;
        return m.status?.observedGeneration === m.metadata.generation &&
          m.status.phase === "Degraded" &&
          m.status.history?.[0]?.outcome === "Aborted"
          ? m
          : undefined;
      },
      120_000,
    ).catch((err) => {
      throw new Error(`${err}; last status: ${JSON.stringify(seen)}`);
    });
    expect(rolledBack.status?.stableRevision).toBe(ok.status?.stableRevision);
    // Aborted at the progress deadline, with the API server's refusal as the cause.
    expect(rolledBack.status?.history?.[0]?.message).toMatch(REFUSED);
    expect(rolledBack.status?.message).toMatch(/stable [0-9a-f]+ serves all traffic/);
    expect(condition(rolledBack, "Degraded")?.status).toBe("True");
    expect(await readyPodsOf(ns, "upd")).toBe(2);
  }, 180_000);
});

function rollout() {
  return { scaleDownDelaySeconds: 2, progressDeadlineSeconds: 15, analysis: { minSamples: 4 } };
}
