// The Helm chart as a user installs it, and the operator running with exactly the chart's RBAC:
// `helm install` into the local control plane (kwok runs the operator's own pods, in a namespace
// that enforces the restricted Pod Security Standard), then the real operator process on the host,
// run as the image runs it (the bundle from hack/build.ts, node's NODE_FLAGS), with a TokenRequest token of
// the chart's ServiceAccount drives a canary to promotion without a single "forbidden"; the same
// token is refused Secrets and deleting a Namespace.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildOperator, NODE_FLAGS } from "../hack/build.ts";
import { eventually, kubectl, localCluster, uniqueNamespace, waitForCrds } from "./support/cluster.ts";
import { helm, helmPath, kubectlAs, serviceAccountKubeconfig } from "./support/helm.ts";
import {
  applyMd,
  apps,
  core,
  createNamespace,
  getMd,
  mdSpec,
  promote,
  waitForPhase,
} from "./support/mdep.ts";
import { type RunningOperator, startOperator } from "./support/operator.ts";

const RELEASE_NS = "modelship-system";
const SA = "modelship";
const SA_USER = `system:serviceaccount:${RELEASE_NS}:${SA}`;
const root = join(import.meta.dirname, "..");

const helmFound = helmPath();
const skipReason = !localCluster()
  ? "needs the local control plane (kwok runs the chart's operator pods; audit log)"
  : !helmFound.path
    ? helmFound.reason
    : "";
if (skipReason) process.stderr.write(`helm-rbac.e2e: skipped: ${skipReason}\n`);

const ns = uniqueNamespace("helm-rbac");
let operator: RunningOperator | undefined;
let saKubeconfig = "";

describe.skipIf(Boolean(skipReason))("helm install + the operator with the chart's ServiceAccount", () => {
  beforeAll(async () => {
    // The restricted Pod Security Standard, enforced: a non-compliant pod is refused at admission,
    // so the ReplicaSet could never make Ready pods.
    await core.createNamespace({
      body: {
        metadata: {
          name: RELEASE_NS,
          labels: {
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
          },
        },
      },
    });
    await createNamespace(ns);
  }, 60_000);

  afterAll(async () => {
    await operator?.stop();
    await core.deleteNamespace({ name: ns }).catch(() => {});
  });

  it("installs: CRD established, 2 operator pods Ready under restricted PSS", async () => {
    const t0 = Date.now();
    await helm([
      "install",
      "modelship",
      join(root, "charts", "modelship"),
      "-n",
      RELEASE_NS,
      "--create-namespace",
      "--wait",
      "--timeout=180s",
    ]);
    waitForCrds(["modeldeployments.modelship.dev"]);
    const dep = await eventually(
      "operator Deployment 2/2 Ready",
      async () => {
        const d = await apps.readNamespacedDeployment({ namespace: RELEASE_NS, name: "modelship" });
        return d.status?.readyReplicas === 2 ? d : undefined;
      },
      120_000,
    );
    expect(dep.spec?.replicas).toBe(2);
    const pods = await core.listNamespacedPod({
      namespace: RELEASE_NS,
      labelSelector: "app.kubernetes.io/name=modelship,app.kubernetes.io/instance=modelship",
    });
    const ready = pods.items.filter((p) =>
      p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
    );
    expect(ready).toHaveLength(2);
    for (const p of ready) expect(p.spec?.serviceAccountName).toBe(SA);
    // Admission checked each pod against restricted; a server-side dry-run of the label reports any
    // existing pod that would violate it ("Warning: existing pods ... violate"): none.
    const dry = await kubectlAs(adminKubeconfig(), [
      "label",
      "--dry-run=server",
      "--overwrite",
      "ns",
      RELEASE_NS,
      "pod-security.kubernetes.io/enforce=restricted",
    ]);
    expect(dry.code).toBe(0);
    expect(dry.stderr).not.toMatch(/violate/i);
    // No FailedCreate on the ReplicaSet (a refused pod would show here).
    const events = await kubectl(["get", "events", "-n", RELEASE_NS, "-o", "json"]);
    expect(events).not.toMatch(/FailedCreate|violates PodSecurity/);
    process.stderr.write(`helm-rbac.e2e: helm install + 2 Ready pods in ${Date.now() - t0} ms\n`);
  }, 240_000);

  it("upgrades the CRD as docs/install.md says, after helm created it", async () => {
    // Helm creates crds/ on install (field manager "helm") and never upgrades it; the documented
    // upgrade is a server-side apply of a newer CRD. Simulate a newer schema: changed descriptions.
    const dir = join(root, ".e2e-artifacts", `crd-upgrade-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    const src = readFileSync(
      join(root, "charts", "modelship", "crds", "modelship.dev_modeldeployments.yaml"),
      "utf8",
    );
    writeFileSync(
      join(dir, "modelship.dev_modeldeployments.yaml"),
      src.replace("description: 'ModelDeployment runs", "description: 'Upgraded. ModelDeployment runs"),
    );
    // Without --force-conflicts the apply is refused: helm's create owns the fields it changes.
    // (Only when helm created the CRD: an earlier file of the same run may have applied it first.)
    const managers = JSON.parse(
      await kubectl(["get", "crd", "modeldeployments.modelship.dev", "--show-managed-fields", "-o", "json"]),
    ).metadata.managedFields.map((f: { manager: string }) => f.manager) as string[];
    const plain = await kubectlAs(adminKubeconfig(), ["apply", "--server-side", "-f", dir]);
    if (managers.includes("helm")) {
      expect(plain.code).not.toBe(0);
      expect(plain.stderr).toMatch(/conflict with "helm"/);
    }
    const forced = await kubectlAs(adminKubeconfig(), [
      "apply",
      "--server-side",
      "--force-conflicts",
      "-f",
      dir,
    ]);
    expect(forced.code, forced.stderr).toBe(0);
    const crd = await kubectl(["get", "crd", "modeldeployments.modelship.dev", "-o", "json"]);
    expect(crd).toContain("Upgraded. ModelDeployment runs");
  }, 60_000);

  it("drives a canary to promotion with the ServiceAccount's token and never hits forbidden", async () => {
    saKubeconfig = await serviceAccountKubeconfig(
      RELEASE_NS,
      SA,
      join(root, ".e2e-artifacts", `sa-kubeconfig-${process.pid}.yaml`),
    );
    const since = Date.now();
    operator = await startOperator({
      name: "helm-sa",
      entry: await buildOperator(join(root, ".e2e-artifacts", "dist", "main.js")),
      nodeFlags: NODE_FLAGS,
      kubeconfig: saKubeconfig,
      args: ["--leader-elect=true", `--leader-election-namespace=${RELEASE_NS}`],
    });
    await eventually("leading", async () => operator?.logs().includes("leading: starting workers"), 60_000);

    const steps = [{ setWeight: 50 }, { pause: {} }];
    const spec = (version: string) =>
      mdSpec({
        model: { name: "recommender", version },
        replicas: 2,
        rollout: {
          steps,
          scaleDownDelaySeconds: 2,
          progressDeadlineSeconds: 60,
          analysis: { minSamples: 4 },
        },
      });
    await applyMd(ns, "shop", spec("v1"));
    const v1 = await waitForPhase(ns, "shop", "Healthy", 120_000);
    const stable = v1.status?.stableRevision ?? "";
    await applyMd(ns, "shop", spec("v2"));
    const paused = await waitForPhase(ns, "shop", "Paused", 120_000);
    const canary = paused.status?.canaryRevision ?? "";
    expect(canary).not.toBe(stable);
    expect(paused.status?.canaryWeight).toBe(50);
    await promote(ns, "shop");
    const done = await eventually(
      "promoted",
      async () => {
        const md = await getMd(ns, "shop");
        return md.status?.phase === "Healthy" && md.status.stableRevision === canary ? md : undefined;
      },
      120_000,
    );
    expect(done.status?.history?.[0]).toMatchObject({ revision: canary, outcome: "Promoted" });

    // The leader Lease is held by this process, written with the ServiceAccount's identity.
    const lease = JSON.parse(
      await kubectl(["get", "lease", "modelship-operator", "-n", RELEASE_NS, "-o", "json"]),
    );
    expect(lease.spec.holderIdentity).toMatch(new RegExp(`-${operator.pid}$`));

    const logs = operator.logs();
    expect(logs).not.toMatch(/forbidden/i);
    // The apiserver's own record: every write by the ServiceAccount succeeded (no 403).
    const audit = readFileSync(localCluster()?.auditLog ?? "", "utf8")
      .split("\n")
      .filter(Boolean)
      .map(
        (l) =>
          JSON.parse(l) as {
            user: { username: string };
            stage: string;
            verb: string;
            requestReceivedTimestamp: string;
            responseStatus?: { code?: number; details?: { causes?: { reason?: string }[] } };
            objectRef?: { resource?: string; subresource?: string };
          },
      )
      .filter(
        (e) =>
          e.stage === "ResponseComplete" &&
          e.user.username === SA_USER &&
          Date.parse(e.requestReceivedTimestamp) >= since - 1000,
      );
    const kinds = new Set(
      audit.map(
        (e) =>
          `${e.verb} ${e.objectRef?.resource}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ""}`,
      ),
    );
    process.stderr.write(`helm-rbac.e2e: writes as ${SA_USER}: ${[...kinds].sort().join(", ")}\n`);
    expect(audit.length).toBeGreaterThan(0);
    // A namespace left terminating by an earlier test file refuses creates with a 403 too; that is
    // the namespace controller speaking, not RBAC (the operator stops on it without retrying).
    const denied = audit.filter(
      (e) =>
        e.responseStatus?.code === 403 &&
        !e.responseStatus.details?.causes?.some((c) => c.reason === "NamespaceTerminating"),
    );
    expect(denied).toEqual([]);
    expect(kinds).toContain("patch modeldeployments/status");
  }, 420_000);

  it("is refused what its role does not grant: Secrets, deleting a Namespace", async () => {
    expect(saKubeconfig).not.toBe("");
    const secrets = await kubectlAs(saKubeconfig, ["get", "secrets", "-n", RELEASE_NS]);
    expect(secrets.code).not.toBe(0);
    expect(secrets.stderr).toMatch(/forbidden/i);
    const secretsAll = await kubectlAs(saKubeconfig, ["get", "secrets", "-A"]);
    expect(secretsAll.stderr).toMatch(/forbidden/i);

    const del = await kubectlAs(saKubeconfig, ["delete", "namespace", ns, "--wait=false"]);
    expect(del.code).not.toBe(0);
    expect(del.stderr).toMatch(/forbidden/i);
    expect((await core.readNamespace({ name: ns })).status?.phase).toBe("Active");

    for (const [verb, res, extra] of [
      ["get", "secrets", ["-A"]],
      ["list", "secrets", ["-n", RELEASE_NS]],
      ["delete", "namespaces", []],
      ["update", "modeldeployments.modelship.dev", ["-n", ns]],
      ["create", "configmaps", ["-n", RELEASE_NS]],
    ] as const) {
      const r = await kubectlAs(saKubeconfig, ["auth", "can-i", verb, res, ...extra]);
      expect(r.stdout.trim(), `can-i ${verb} ${res}`).toBe("no");
    }
    // ... while what it needs is granted.
    for (const [verb, res, extra] of [
      ["patch", "modeldeployments.modelship.dev", ["-n", ns, "--subresource=status"]],
      ["create", "deployments.apps", ["-n", ns]],
      ["update", "leases.coordination.k8s.io/modelship-operator", ["-n", RELEASE_NS]],
    ] as const) {
      const r = await kubectlAs(saKubeconfig, ["auth", "can-i", verb, res, ...extra]);
      expect(r.stdout.trim(), `can-i ${verb} ${res}`).toBe("yes");
    }

    for (const where of [
      ["-n", RELEASE_NS],
      ["-n", ns],
    ]) {
      const list = await kubectlAs(saKubeconfig, ["auth", "can-i", "--list", ...where]);
      expect(list.code).toBe(0);
      const resources = list.stdout
        .split("\n")
        .slice(1)
        .map((l) => l.trim().split(/\s+/)[0] ?? "");
      expect(resources.some((r) => r === "secrets" || r.startsWith("secrets."))).toBe(false);
      expect(resources.some((r) => r === "*" || r === "*.*")).toBe(false);
      expect(resources).toContain("deployments.apps");
    }
  }, 120_000);
});

function adminKubeconfig(): string {
  return localCluster()?.kubeconfig ?? "";
}
