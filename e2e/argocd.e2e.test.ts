// GitOps with the real Argo CD (built from its Go module, run beside the local control plane by
// hack/cluster/argocd.ts, configured as docs/argocd.md tells users): a person commits to Git and
// drives Argo CD's own CLI, logged in to argocd-server. Two Applications read the same manifests:
// `shop-models` as docs/argocd.md recommends (Server-Side Apply + Server-Side Diff) and
// `shop-models-defaults` with Argo CD's defaults (client-side apply and diff). Through a first
// sync, a canary promoted with the chart's `promote` action, a bad version rolled back by the
// operator and a revert, both stay Synced, and `argocd app diff` is empty both ways.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ArgoCdState, git, startArgoCd, stopArgoCd } from "../hack/cluster/argocd.ts";
import { ensureArgoCdBinaries } from "../hack/cluster/binaries.ts";
import {
  type AppStatus,
  appStatus,
  argocd,
  argocdCli,
  commitFiles,
  resourceTree,
  revertLastCommit,
} from "./support/argocd.ts";
import { eventually, kubectl, localCluster, uniqueNamespace } from "./support/cluster.ts";
import { resetPodBehaviours, revisionPods, setPodBehaviour } from "./support/fixtures.ts";
import { apps, CRD_FILE, core, getMd, type Md, mdSpec } from "./support/mdep.ts";
import { type RunningOperator, startOperator } from "./support/operator.ts";

const FIXTURES = join(import.meta.dirname, "fixtures", "argocd-app");
const cluster = localCluster();
// One Application per way of diffing; each syncs into its own namespace.
const APPS = [
  { app: "shop-models", path: "shop", file: "application.yaml", ns: uniqueNamespace("argocd") },
  {
    app: "shop-models-defaults",
    path: "shop-defaults",
    file: "application-defaults.yaml",
    ns: uniqueNamespace("argocd-d"),
  },
];
let argo: ArgoCdState;
let operator: RunningOperator | undefined;

/** The ModelDeployment in Git: autoscaled (the HPA writes spec.replicas), a timed and a manual pause. */
function modelDeployment(version: string): string {
  const spec = mdSpec({
    model: { name: "recommender", version },
    autoscaling: { minReplicas: 2, maxReplicas: 4 },
    rollout: {
      steps: [{ setWeight: 50 }, { pause: { duration: "10s" } }, { pause: {} }],
      scaleDownDelaySeconds: 2,
      progressDeadlineSeconds: 60,
      analysis: { minSamples: 4 },
    },
  });
  // With autoscaling, spec.replicas belongs to the HPA: it stays out of Git.
  delete spec.replicas;
  return yaml.dump({
    apiVersion: "modelship.dev/v1alpha1",
    kind: "ModelDeployment",
    metadata: { name: "recommender" },
    spec,
  });
}

/** The CRD as the platform team keeps it in Git: first wave, and kept when an Application goes. */
function crdInGit(): string {
  const crd = yaml.load(readFileSync(CRD_FILE, "utf8")) as {
    metadata: { annotations?: Record<string, string> };
  };
  crd.metadata.annotations = {
    ...crd.metadata.annotations,
    "argocd.argoproj.io/sync-wave": "-2",
    "argocd.argoproj.io/sync-options": "Delete=false",
  };
  return yaml.dump(crd);
}

function commitVersion(version: string, message: string): string {
  return commitFiles(
    argo,
    {
      "shop/crd.yaml": crdInGit(),
      "shop/recommender.yaml": modelDeployment(version),
      "shop-defaults/recommender.yaml": modelDeployment(version),
    },
    message,
  );
}

/** The Application manifest of the docs, pointed at the local repository, apiserver and namespace. */
function application(file: string, ns: string): string {
  const app = yaml.load(readFileSync(join(FIXTURES, file), "utf8")) as {
    spec: { source: { repoURL: string }; destination: { server: string; namespace: string } };
  };
  app.spec.source.repoURL = argo.repoUrl;
  app.spec.destination = { server: argo.destination, namespace: ns };
  return JSON.stringify(app);
}

/** A refresh (what a Git webhook triggers), then `argocd app sync`, which waits for the operation. */
async function syncAll(revision: string) {
  for (const { app } of APPS) {
    await argocd(argo, ["app", "get", app, "--refresh"]);
    await argocd(argo, ["app", "sync", app, "--timeout", "120"]);
    const st = await appStatus(argo, app);
    expect(st.operationState?.phase, `${app}: ${st.operationState?.message}`).toBe("Succeeded");
    expect(st.sync.revision, app).toBe(revision);
  }
}

/** The model's health as Argo CD shows it: the resource tree, computed by the chart's health.lua. */
async function mdHealth(app: string) {
  const node = (await resourceTree(argo, app)).find((n) => n.kind === "ModelDeployment");
  return node?.health ?? { status: "Missing" };
}

async function waitHealth(app: string, flag: "--health" | "--suspended" | "--degraded", seconds = 120) {
  await argocd(argo, ["app", "wait", app, flag, "--timeout", String(seconds)], (seconds + 30) * 1000);
}

/**
 * No drift: after a refresh each Application is Synced, and `argocd app diff` finds nothing with
 * the client-side diff nor with the server-side one (`--server-side-diff` asks the API server).
 */
async function expectNoDrift(when: string) {
  for (const { app } of APPS) {
    const st: AppStatus = await appStatus(argo, app, true);
    expect(st.sync.status, `${app} ${when}: ${JSON.stringify(st.resources)}`).toBe("Synced");
    for (const ssd of ["false", "true"]) {
      const r = await argocdCli(argo, ["app", "diff", app, `--server-side-diff=${ssd}`]);
      expect(
        r.code,
        `argocd app diff ${app} --server-side-diff=${ssd} ${when}:\n${r.stdout}${r.stderr}`,
      ).toBe(0);
    }
  }
}

async function bothMds(): Promise<Md[]> {
  return Promise.all(APPS.map(({ ns }) => getMd(ns, "recommender")));
}

// Skipped off the local harness: Argo CD runs as processes beside the local apiserver (a registered
// cluster with its token), and the bad version's failures come from its fixture model servers.
describe.skipIf(!cluster)("Argo CD syncs, shows health, runs the actions and never drifts", () => {
  beforeAll(async () => {
    if (!cluster) return;
    argo = await startArgoCd({ cluster, binDir: await ensureArgoCdBinaries() });
  }, 1_800_000); // a cold Argo CD build takes 6–8 minutes on 2 cores; warm, it starts in seconds
  afterAll(async () => {
    await resetPodBehaviours();
    await operator?.stop();
    if (cluster) await stopArgoCd(cluster);
    for (const { ns } of APPS) await core.deleteNamespace({ name: ns }).catch(() => {});
  });

  it("syncs the CRD (wave -2) and a ModelDeployment from Git: Synced, then Healthy by modelship's health check", async () => {
    const v1 = commitVersion("v1", "recommender v1");
    for (const { file, ns } of APPS) await kubectl(["apply", "-f", "-"], application(file, ns));
    await syncAll(v1);
    const first = await appStatus(argo, "shop-models");
    const crd = first.operationState?.syncResult?.resources?.find(
      (r) => r.kind === "CustomResourceDefinition",
    );
    expect(crd?.status).toBe("Synced");
    const live = JSON.parse(
      await kubectl(["get", "crd", "modeldeployments.modelship.dev", "-o", "json"]),
    ) as {
      metadata: { annotations: Record<string, string> };
    };
    expect(live.metadata.annotations["argocd.argoproj.io/sync-wave"]).toBe("-2");
    // Nothing has observed the new object yet: Progressing, and the message says what it waits for.
    for (const { app } of APPS) {
      expect(await mdHealth(app)).toEqual({
        status: "Progressing",
        message: "waiting for the operator to observe generation 1",
      });
    }
    operator = await startOperator({ name: "argocd" });
    // The real HPA (kube-controller-manager) raises spec.replicas from the schema's default 1 to
    // minReplicas through the scale subresource: a write to spec that Git does not hold. It bumps
    // the generation, so health is Progressing again until the operator has observed it.
    for (const { ns } of APPS) {
      await eventually(
        "the HPA's write to spec.replicas",
        async () => (await getMd(ns, "recommender")).spec.replicas === 2,
        90_000,
      );
    }
    for (const { app, ns } of APPS) {
      await waitHealth(app, "--health");
      await eventually(
        `${app} Healthy, as modelship's health check reads the observed status`,
        async () => {
          const [h, md, st] = await Promise.all([
            mdHealth(app),
            getMd(ns, "recommender"),
            appStatus(argo, app),
          ]);
          return (
            md.status?.observedGeneration === md.metadata.generation &&
            h.status === "Healthy" &&
            h.message === md.status.message &&
            st.health.status === "Healthy"
          );
        },
        60_000,
      );
    }
    await expectNoDrift("after the first sync and the HPA's write");
  }, 600_000);

  it("a version bump is Progressing, then Suspended at `pause: {}`; the chart's promote action makes it Healthy", async () => {
    const before = await bothMds();
    const v2 = commitVersion("v2", "recommender v2");
    await syncAll(v2);
    // Progressing as the operator reports the canary (not only "not observed yet"): the timed pause.
    for (const { app, ns } of APPS) {
      await eventually(
        `${app} Progressing in the timed pause`,
        async () => {
          const [h, md] = await Promise.all([mdHealth(app), getMd(ns, "recommender")]);
          // The message is the operator's status.message, which counts the pause's seconds.
          return (
            md.status?.observedGeneration === md.metadata.generation &&
            md.status?.phase === "Progressing" &&
            h.status === "Progressing" &&
            /^canary \w+ at 50%/.test(h.message ?? "")
          );
        },
        60_000,
      );
    }
    for (const { app } of APPS) await waitHealth(app, "--suspended");
    for (const { app, ns } of APPS) {
      const paused = (await getMd(ns, "recommender")).status?.conditions?.find((c) => c.type === "Paused");
      expect(paused?.status, app).toBe("True");
      expect(await mdHealth(app)).toEqual({
        status: "Suspended",
        message: `${paused?.reason}: ${paused?.message}`,
      });
    }
    await expectNoDrift("while the canary waits for promotion");

    const list = await argocd(argo, ["app", "actions", "list", "shop-models", "--kind", "ModelDeployment"]);
    expect(list).toMatch(/promote\s/);
    for (const { app, ns } of APPS) {
      await argocd(argo, [
        "app",
        "actions",
        "run",
        app,
        "promote",
        "--kind",
        "ModelDeployment",
        "--resource-name",
        "recommender",
        "--namespace",
        ns,
      ]);
    }
    for (const [i, { app, ns }] of APPS.entries()) {
      await waitHealth(app, "--health");
      const md = await eventually(
        `${app}: the canary promoted to stable`,
        async () => {
          const m = await getMd(ns, "recommender");
          return m.status?.phase === "Healthy" &&
            m.status.stableRevision !== before[i]?.status?.stableRevision
            ? m
            : undefined;
        },
        60_000,
      );
      expect(md.metadata.annotations?.["modelship.dev/promote"]).toMatch(/^argocd-\d+$/);
    }
    await expectNoDrift("after the promote action");
  }, 600_000);

  it("a bad version: the operator rolls it back, Argo CD shows Degraded with the reason; a revert is Healthy", async () => {
    const good = await bothMds();
    const v3 = commitVersion("v3", "recommender v3 (its model answers 500)");
    await syncAll(v3);
    // The bad model: every request to the canary's pods fails (the fixture servers' failure knob).
    for (const [i, { ns }] of APPS.entries()) {
      const md = await eventually("the v3 canary", async () => {
        const m = await getMd(ns, "recommender");
        return m.status?.canaryRevision && m.status.canaryRevision !== good[i]?.status?.stableRevision
          ? m
          : undefined;
      });
      const pods = await eventually("v3 canary pods", async () => {
        const p = await revisionPods(ns, "recommender", md.status?.canaryRevision ?? "");
        return p.length > 0 ? p : undefined;
      });
      for (const p of pods) await setPodBehaviour(p.ip, { errorRate: 1 });
    }
    for (const [i, { app, ns }] of APPS.entries()) {
      await waitHealth(app, "--degraded");
      // The Degraded message follows the rollback ("rolling back …", then "rejected …"): compare
      // once it has settled, and once Argo CD's copy has caught up.
      await eventually(
        `${app}: Degraded with the reason from status`,
        async () => {
          const [h, md] = await Promise.all([mdHealth(app), getMd(ns, "recommender")]);
          const degraded = md.status?.conditions?.find((c) => c.type === "Degraded");
          return (
            md.status?.rejectedRevision !== undefined &&
            md.status.canaryWeight === 0 &&
            md.status.stableRevision === good[i]?.status?.stableRevision &&
            degraded?.status === "True" &&
            h.status === "Degraded" &&
            h.message === `${degraded.reason}: ${degraded.message}`
          );
        },
        60_000,
      );
    }
    await resetPodBehaviours();
    await expectNoDrift("while Degraded after the rollback");

    const reverted = revertLastCommit(argo);
    await syncAll(reverted);
    for (const { app } of APPS) await waitHealth(app, "--health");
    for (const [i, { ns }] of APPS.entries()) {
      expect((await getMd(ns, "recommender")).status?.stableRevision).toBe(good[i]?.status?.stableRevision);
    }
    await expectNoDrift("after the revert");
  }, 600_000);

  // The check above must be able to fail: a person's edit of spec is drift, and both diffs see it.
  it("a hand edit of spec is OutOfSync, in both diffs, until the next sync", async () => {
    const head = git(argo.repo, ["rev-parse", "HEAD"]).trim();
    for (const { app, ns } of APPS) {
      const patch = { spec: { rollout: { progressDeadlineSeconds: 61 } } };
      await kubectl(["patch", "mdep", "recommender", "-n", ns, "--type=merge", "-p", JSON.stringify(patch)]);
      await eventually(
        `${app} OutOfSync`,
        async () => (await appStatus(argo, app, true)).sync.status === "OutOfSync",
      );
      for (const ssd of ["false", "true"]) {
        const r = await argocdCli(argo, ["app", "diff", app, `--server-side-diff=${ssd}`]);
        expect(r.code, `argocd app diff ${app} --server-side-diff=${ssd}:\n${r.stderr}`).toBe(1);
        expect(r.stdout, app).toMatch(/progressDeadlineSeconds/);
      }
    }
    await syncAll(head);
    await expectNoDrift("after syncing the hand edit away");
  }, 300_000);

  it("deleting the Application (foreground) removes the ModelDeployment and all its children", async () => {
    for (const { app } of APPS) {
      await argocd(argo, ["app", "delete", app, "--cascade", "--propagation-policy", "foreground", "--yes"]);
    }
    for (const { app, ns } of APPS) {
      await eventually(
        `${app} deleted`,
        async () => (await argocdCli(argo, ["app", "get", app])).code !== 0,
        120_000,
      );
      await eventually(
        `everything of recommender gone from ${ns}`,
        async () => {
          const selector = "modelship.dev/deployment=recommender";
          const [mds, deps, svcs, pods] = await Promise.all([
            kubectl(["get", "mdep", "-n", ns, "-o", "name"]),
            apps.listNamespacedDeployment({ namespace: ns, labelSelector: selector }),
            core.listNamespacedService({ namespace: ns }),
            core.listNamespacedPod({ namespace: ns, labelSelector: selector }),
          ]);
          const hpas = await kubectl(["get", "hpa", "-n", ns, "-o", "name"]);
          return (
            mds.trim() === "" &&
            hpas.trim() === "" &&
            deps.items.length === 0 &&
            svcs.items.length === 0 &&
            pods.items.length === 0
          );
        },
        120_000,
      );
    }
    // The CRD stays (Delete=false): other Applications' ModelDeployments live on.
    await kubectl(["get", "crd", "modeldeployments.modelship.dev"]);
  }, 300_000);
});
