// spec.model.uri against the real API server (pods are kwok's, so what is proved is that the rendered
// pods are correct and admitted): each scheme's volumes, mounts, download container and arguments, in
// a namespace that enforces the restricted Pod Security Standard; a PVC-backed and an OCI-backed
// ModelDeployment become Healthy; a new URI rolls out a new revision; the CRD's CEL rules refuse a
// malformed URI with the operator's words; and an operator upgrade leaves a Deployment made before
// model artifacts as it was.
import type { V1Container, V1Deployment, V1PodSpec } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseModelDeployment } from "../operator/src/api/index.ts";
import { withAppliedHash } from "../operator/src/controller/drift.ts";
import { renderDeployment } from "../operator/src/render/deployment.ts";
import { RENDER_FEATURES_ANNOTATION } from "../operator/src/render/features.ts";
import { computeRevision } from "../operator/src/render/revision.ts";
import { eventually, kubectl, uniqueNamespace } from "./support/cluster.ts";
import {
  applyMd,
  apps,
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

const ns = uniqueNamespace("art");
/** Where only the second operator (the "upgraded" one) looks. */
const legacyNs = uniqueNamespace("art-old");
const pvName = `${ns}-models`;
const DOWNLOADER = "e2e.example/model-downloader:1";
let operator: RunningOperator | undefined;
let upgraded: RunningOperator | undefined;

const restricted = {
  "pod-security.kubernetes.io/enforce": "restricted",
  "pod-security.kubernetes.io/enforce-version": "latest",
};

beforeAll(async () => {
  await installCrd();
  await core.createNamespace({ body: { metadata: { name: ns, labels: restricted } } });
  await core.createNamespace({ body: { metadata: { name: legacyNs } } });
  // A claim bound to a static volume: nothing provisions here, and the scheduler places a pod only
  // once its claims are bound (kwok then runs it).
  await core.createPersistentVolume({
    body: {
      metadata: { name: pvName },
      spec: {
        capacity: { storage: "1Gi" },
        accessModes: ["ReadOnlyMany"],
        storageClassName: "",
        hostPath: { path: "/tmp/modelship-e2e-models" },
        claimRef: { namespace: ns, name: "shop-models" },
      },
    },
  });
  await core.createNamespacedPersistentVolumeClaim({
    namespace: ns,
    body: {
      metadata: { name: "shop-models" },
      spec: {
        accessModes: ["ReadOnlyMany"],
        storageClassName: "",
        volumeName: pvName,
        resources: { requests: { storage: "1Gi" } },
      },
    },
  });
  await core.createNamespacedSecret({
    namespace: ns,
    body: {
      metadata: { name: "s3-creds" },
      stringData: { AWS_ACCESS_KEY_ID: "e2e", AWS_SECRET_ACCESS_KEY: "e2e" },
    },
  });
  operator = await startOperator({
    name: "artifacts",
    args: [`--namespaces=${ns}`, `--model-downloader-image=${DOWNLOADER}`],
  });
}, 120_000);
afterAll(async () => {
  await operator?.stop();
  await upgraded?.stop();
  await core.deleteNamespace({ name: ns }).catch(() => {});
  await core.deleteNamespace({ name: legacyNs }).catch(() => {});
  await core.deletePersistentVolume({ name: pvName }).catch(() => {});
});

function podOf(d: V1Deployment | undefined): V1PodSpec {
  const pod = d?.spec?.template.spec;
  if (!pod) throw new Error("no pod template");
  return pod;
}
function envOf(c: V1Container | undefined): Record<string, string | undefined> {
  return Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]));
}

/** Pods of the ModelDeployment the API server admitted (made by the ReplicaSet), not deleted. */
async function podsOf(name: string) {
  const list = await core.listNamespacedPod({
    namespace: ns,
    labelSelector: `modelship.dev/deployment=${name}`,
  });
  return list.items.filter((p) => !p.metadata?.deletionTimestamp);
}

const MOUNT = { name: "model-artifacts", mountPath: "/mnt/models", readOnly: true };

describe("model artifacts under restricted Pod Security", () => {
  it("pvc://: the claim mounted read-only, the path handed to the server; Healthy", async () => {
    await applyMd(
      ns,
      "ctr",
      mdSpec({ model: { name: "recommender", version: "v1", uri: "pvc://shop-models/ctr/v1" } }),
    );
    await waitForPhase(ns, "ctr", "Healthy", 120_000);
    expect(await readyPodsOf(ns, "ctr")).toBe(2);
    const [dep] = await deploymentsOf(ns, "ctr");
    const pod = podOf(dep);
    expect(pod.volumes).toEqual([
      { name: "model-artifacts", persistentVolumeClaim: { claimName: "shop-models", readOnly: true } },
    ]);
    expect(pod.containers[0]?.volumeMounts).toEqual([MOUNT]);
    expect(envOf(pod.containers[0])).toMatchObject({
      MODEL_URI: "pvc://shop-models/ctr/v1",
      MODEL_PATH: "/mnt/models/ctr/v1",
    });
    expect(pod.initContainers).toBeUndefined();
    expect(dep?.metadata?.annotations?.[RENDER_FEATURES_ANNOTATION]).toBe(
      "model-artifacts,pod-security-restricted",
    );
  }, 150_000);

  it("a new URI is a new revision, rolled out; the old one is gone after promotion", async () => {
    const before = await getMd(ns, "ctr");
    await patchMdSpec(ns, "ctr", {
      model: { name: "recommender", version: "v1", uri: "pvc://shop-models/ctr/v2" },
    });
    const after = await eventually(
      "the new revision stable",
      async () => {
        const m = await getMd(ns, "ctr");
        return m.status?.observedGeneration === m.metadata.generation &&
          m.status.phase === "Healthy" &&
          m.status.stableRevision !== before.status?.stableRevision
          ? m
          : undefined;
      },
      120_000,
    );
    expect(after.status?.history?.[0]).toMatchObject({ revision: after.status?.stableRevision });
    const deps = await eventually("one Deployment left", async () => {
      const d = await deploymentsOf(ns, "ctr");
      return d.length === 1 ? d : undefined;
    });
    expect(envOf(podOf(deps[0]).containers[0]).MODEL_PATH).toBe("/mnt/models/ctr/v2");
  }, 150_000);

  it("oci://: an image volume read-only at /mnt/models; admitted and Healthy", async () => {
    await applyMd(
      ns,
      "oci",
      mdSpec({
        model: { name: "recommender", version: "v1", uri: "oci://registry.example/models/ctr:2026-11-01" },
        runtime: { preset: "openInference", image: "registry.invalid/recsys:1" },
      }),
    );
    await waitForPhase(ns, "oci", "Healthy", 120_000);
    expect(await readyPodsOf(ns, "oci")).toBe(2);
    const [pod] = await podsOf("oci");
    expect(pod?.spec?.volumes?.find((v) => v.name === "model-artifacts")?.image).toMatchObject({
      reference: "registry.example/models/ctr:2026-11-01",
      // Defaulted by the API server for a tagged reference, as for a container image.
      pullPolicy: "IfNotPresent",
    });
    expect(pod?.spec?.containers[0]?.volumeMounts).toContainEqual(MOUNT);
  }, 150_000);

  it.each([
    ["s3", "s3://models/triton/repo", "triton", { credentialsSecretName: "s3-creds" }],
    ["hf", "hf://Qwen/Qwen2.5-0.5B-Instruct", "vllm", undefined],
  ])(
    "%s://: a restricted download container into a bounded emptyDir, the preset's argument; admitted",
    async (name, uri, preset, storage) => {
      await applyMd(
        ns,
        name,
        mdSpec({
          model: { name: "recommender", version: "v1", uri, ...(storage ? { storage } : {}) },
          runtime: { preset, image: "registry.invalid/server:1", port: 8080 },
          health: { intervalSeconds: 1, timeoutSeconds: 1, checks: [{ path: "/v2/health/ready" }] },
        }),
      );
      const pods = await eventually(
        `pods of ${name} admitted`,
        async () => {
          const p = await podsOf(name);
          return p.length === 2 ? p : undefined;
        },
        90_000,
      );
      const pod = pods[0]?.spec;
      const init = pod?.initContainers?.[0];
      expect(init).toMatchObject({
        name: "model-downloader",
        image: DOWNLOADER,
        args: [uri, "/mnt/models"],
        volumeMounts: [{ name: "model-artifacts", mountPath: "/mnt/models" }],
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
        resources: { limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "100m", memory: "100Mi" } },
      });
      expect(init?.envFrom).toEqual(storage ? [{ secretRef: { name: "s3-creds" } }] : undefined);
      expect(pod?.volumes).toContainEqual({ name: "model-artifacts", emptyDir: { sizeLimit: "20Gi" } });
      const server = pod?.containers[0];
      expect(server?.volumeMounts).toContainEqual(MOUNT);
      expect(server?.envFrom).toBeUndefined();
      expect(envOf(server)).toMatchObject({ MODEL_URI: uri, MODEL_PATH: "/mnt/models" });
      expect(server?.args).toEqual(
        preset === "triton"
          ? ["tritonserver", "--model-repository=/mnt/models"]
          : ["--model", "/mnt/models", "--served-model-name", "recommender"],
      );
      // kwok completes the init container and readies the pod.
      await waitForPhase(ns, name, "Healthy", 120_000);
    },
    180_000,
  );

  it("an ephemeral claim per pod: admitted, its claim made from the template", async () => {
    await applyMd(
      ns,
      "eph",
      mdSpec({
        model: {
          name: "recommender",
          version: "v1",
          uri: "gs://models-e2e/ctr",
          storage: { volume: "Ephemeral", size: "50Gi", storageClassName: "e2e-none" },
        },
        replicas: 1,
      }),
    );
    const [pod] = await eventually(
      "the pod admitted",
      async () => {
        const p = await podsOf("eph");
        return p.length === 1 ? p : undefined;
      },
      90_000,
    );
    const claimName = `${pod?.metadata?.name}-model-artifacts`;
    // kube-controller-manager's ephemeral volume controller makes the claim (nothing provisions it
    // here, so the pod stays Pending: what is proved is the claim the pod asks for).
    const claim = await eventually("the ephemeral claim", () =>
      core.readNamespacedPersistentVolumeClaim({ namespace: ns, name: claimName }).catch(() => undefined),
    );
    expect(claim.spec).toMatchObject({
      accessModes: ["ReadWriteOnce"],
      storageClassName: "e2e-none",
      resources: { requests: { storage: "50Gi" } },
    });
  }, 120_000);
});

describe("a malformed URI is refused by the API server, in the operator's words", () => {
  async function refused(model: Record<string, unknown>): Promise<string> {
    const body = JSON.stringify({
      apiVersion: "modelship.dev/v1alpha1",
      kind: "ModelDeployment",
      metadata: { name: "bad", namespace: ns },
      spec: mdSpec({ model: { name: "bad", version: "v1", ...model } }),
    });
    try {
      await kubectl(["apply", "--server-side", "-f", "-"], body);
    } catch (err) {
      return String((err as { stderr?: string }).stderr ?? err);
    }
    throw new Error(`accepted: ${body}`);
  }

  it.each([
    [{ uri: "pvc://Models/x" }, /spec\.model\.uri.*a pvc:\/\/ URI is pvc:\/\/<claim>\/<path>/],
    [{ uri: "pvc://models/../etc" }, /a pvc:\/\/ path has no '\.' or '\.\.' segments/],
    [{ uri: "oci://ubuntu" }, /an oci:\/\/ URI is oci:\/\/<registry>\/<repository>/],
    [{ uri: "s3://AB/x" }, /an s3:\/\/ URI is s3:\/\/<bucket>\/<key>/],
    [{ uri: "https://user:pw@models.example/x" }, /without user:password@/],
    [{ uri: "hf://only-org" }, /an hf:\/\/ URI is hf:\/\/<organisation>\/<repository>/],
    [
      { uri: "pvc://models/x", storage: { size: "1Gi" } },
      /spec\.model\.storage.*applies only to a downloaded model/,
    ],
    [
      { uri: "s3://models/x", storage: { storageClassName: "fast" } },
      /storageClassName applies only to volume: Ephemeral/,
    ],
  ])(
    "%j",
    async (model, message) => {
      expect(await refused(model)).toMatch(message);
    },
    30_000,
  );
});

describe("crds/samples", () => {
  it("every sample is accepted by the API server, CEL rules included (server-side dry run)", async () => {
    const out = await kubectl(["apply", "--dry-run=server", "-n", ns, "-f", "crds/samples/"]);
    for (const name of ["llama", "ranker", "ctr", "recommender", "llm"])
      expect(out).toContain(`modeldeployment.modelship.dev/${name}`);
  }, 30_000);
});

describe("operator upgrade", () => {
  it("a Deployment made before model artifacts keeps its pod template; the next revision downloads", async () => {
    const spec = mdSpec({
      model: { name: "recommender", version: "v1", uri: "s3://models/legacy/v1" },
      runtime: { preset: "triton", image: "registry.invalid/triton:1", port: 8080 },
      health: { intervalSeconds: 1, timeoutSeconds: 1, checks: [{ path: "/v2/health/ready" }] },
    });
    // No operator watches legacyNs yet: make the Deployment the operator before model artifacts made.
    await applyMd(legacyNs, "legacy", spec);
    const md = await getMd(legacyNs, "legacy");
    const parsed = parseModelDeployment({ ...md, metadata: { ...md.metadata, namespace: legacyNs } });
    if (!parsed.ok) throw new Error("spec does not parse");
    const revision = computeRevision(parsed.value.spec);
    const old = withAppliedHash(
      renderDeployment({
        owner: { name: "legacy", namespace: legacyNs, uid: md.metadata.uid ?? "" },
        spec: parsed.value.spec,
        revision,
        replicas: 2,
        madeWith: { features: new Set(["pod-security-restricted"]) },
      }),
    );
    await kubectl(["apply", "--server-side", "--field-manager=modelship", "-f", "-"], JSON.stringify(old));
    const name = old.metadata.name;
    const made = await eventually(
      "the old Deployment's pods ready",
      async () => {
        const d = await apps.readNamespacedDeployment({ namespace: legacyNs, name });
        return d.status?.readyReplicas === 2 ? d : undefined;
      },
      90_000,
    );
    expect(made.spec?.template.spec?.initContainers).toBeUndefined();

    upgraded = await startOperator({ name: "artifacts-upgraded", args: [`--namespaces=${legacyNs}`] });
    const healthy = await waitForPhase(legacyNs, "legacy", "Healthy", 120_000);
    expect(healthy.status?.stableRevision).toBe(revision);
    const kept = await apps.readNamespacedDeployment({ namespace: legacyNs, name });
    // Not rolled: the same generation, the same pod template (no download container, volume or args).
    expect(kept.metadata?.generation).toBe(made.metadata?.generation);
    expect(kept.spec?.template).toEqual(made.spec?.template);

    // The next change of the spec is a new revision, and that one downloads.
    await patchMdSpec(legacyNs, "legacy", {
      model: { name: "recommender", version: "v2", uri: "s3://models/legacy/v2" },
    });
    const next = await eventually(
      "the new revision's Deployment",
      async () => {
        const d = await deploymentsOf(legacyNs, "legacy");
        return d.find((x) => x.metadata?.name !== name);
      },
      60_000,
    );
    expect(podOf(next).initContainers?.map((c) => c.name)).toEqual(["model-downloader"]);
    expect(podOf(next).containers[0]?.args).toEqual(["tritonserver", "--model-repository=/mnt/models"]);
  }, 240_000);
});
