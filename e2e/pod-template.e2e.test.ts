// The pod template model servers need (api/pod-template.ts), against the real API server: a
// ModelDeployment that uses every field is admitted, its Deployment's pod template carries each one,
// PodSecurity admission (restricted, enforced on the namespace) admits its pods, the scheduler and
// the volume controllers place them (topology spread, a PVC, an ephemeral volume, a RuntimeClass),
// it becomes Healthy, and a changed sidecar image rolls out as a canary. What the schema refuses
// (hostPath, a privileged sidecar, a mount of no volume, ...) the API server refuses in its words.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FULL_RUNTIME, FULL_TEMPLATE } from "../operator/testing/pod-template.ts";
import { eventually, kubectl, localCluster, uniqueNamespace } from "./support/cluster.ts";
import {
  applyMd,
  core,
  deploymentsOf,
  getMd,
  installCrd,
  mdSpec,
  operatorWritesSince,
  promote,
  readyPodsOf,
  waitForPhase,
} from "./support/mdep.ts";
import { type RunningOperator, startOperator } from "./support/operator.ts";

const ns = uniqueNamespace("podtpl");
// Cluster-scoped objects get the namespace in their names, so parallel runs never share them.
const runtimeClass = `nvidia-${ns}`;
const storageClass = `static-${ns}`;
const PVS = 10;
let operator: RunningOperator;

const apply = (obj: unknown) => kubectl(["apply", "-f", "-"], JSON.stringify(obj));

/** A PV the PV controller binds to a claim of `storageClass` at once (no provisioner on this cluster). */
const pv = (i: number, accessModes: string[]) => ({
  apiVersion: "v1",
  kind: "PersistentVolume",
  metadata: { name: `${ns}-${i}`, labels: { "e2e.modelship.dev/ns": ns } },
  spec: {
    storageClassName: storageClass,
    capacity: { storage: "100Gi" },
    accessModes,
    persistentVolumeReclaimPolicy: "Retain",
    // Never mounted: pods on kwok nodes run nowhere. A PV needs some source.
    hostPath: { path: `/tmp/${ns}-${i}` },
  },
});

const template = (sidecarImage: string) => ({
  ...FULL_TEMPLATE,
  runtimeClassName: runtimeClass,
  volumes: FULL_TEMPLATE.volumes.map((v) =>
    "ephemeral" in v && v.ephemeral
      ? {
          ...v,
          ephemeral: {
            volumeClaimTemplate: {
              metadata: { labels: { purpose: "scratch" } },
              spec: { ...v.ephemeral.volumeClaimTemplate.spec, storageClassName: storageClass },
            },
          },
        }
      : v,
  ),
  initContainers: FULL_TEMPLATE.initContainers.map((c) =>
    c.name === "metrics-proxy" ? { ...c, image: sidecarImage } : c,
  ),
});

const spec = (sidecarImage: string) =>
  mdSpec({
    runtime: { ...FULL_RUNTIME, image: "registry.invalid/vllm:1", shmSize: "1Gi" },
    template: template(sidecarImage),
    rollout: {
      steps: [{ setWeight: 50 }, { pause: {} }],
      scaleDownDelaySeconds: 2,
      progressDeadlineSeconds: 60,
      analysis: { minSamples: 4 },
    },
  });

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
  // The API server refuses a pod whose RuntimeClass does not exist; its handler is never run here.
  await apply({
    apiVersion: "node.k8s.io/v1",
    kind: "RuntimeClass",
    metadata: { name: runtimeClass },
    handler: "nvidia",
  });
  await apply({
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: storageClass },
    provisioner: "kubernetes.io/no-provisioner",
    volumeBindingMode: "Immediate",
  });
  await apply({
    apiVersion: "v1",
    kind: "List",
    items: [pv(0, ["ReadOnlyMany"]), ...Array.from({ length: PVS }, (_, i) => pv(i + 1, ["ReadWriteOnce"]))],
  });
  await apply({
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: "llm-weights", namespace: ns },
    spec: {
      storageClassName: storageClass,
      volumeName: `${ns}-0`,
      accessModes: ["ReadOnlyMany"],
      resources: { requests: { storage: "100Gi" } },
    },
  });
  operator = await startOperator({ name: "pod-template", args: ["--resync-seconds=5"] });
});

afterAll(async () => {
  await operator?.stop();
  await core.deleteNamespace({ name: ns }).catch(() => {});
  await kubectl(["delete", "pv", "-l", `e2e.modelship.dev/ns=${ns}`, "--wait=false"]).catch(() => {});
  await kubectl(["delete", "storageclass", storageClass, "runtimeclass", runtimeClass, "--wait=false"]).catch(
    () => {},
  );
});

describe("a ModelDeployment using every pod-template field, in a namespace that enforces restricted", () => {
  let stableRevision = "";

  it("is admitted, its pod template carries each field, its pods are admitted, and it becomes Healthy", async () => {
    await applyMd(ns, "llm", spec("registry.invalid/proxy:1"));
    const md = await waitForPhase(ns, "llm", "Healthy", 120_000);
    stableRevision = md.status?.stableRevision ?? "";
    expect(await readyPodsOf(ns, "llm")).toBe(2);

    const [dep] = await deploymentsOf(ns, "llm");
    const pod = dep?.spec?.template.spec;
    const main = pod?.containers[0];
    expect(main?.envFrom).toEqual(FULL_RUNTIME.envFrom);
    expect(main?.volumeMounts).toEqual([
      { name: "dshm", mountPath: "/dev/shm" },
      ...FULL_RUNTIME.volumeMounts,
    ]);
    expect(main?.ports).toEqual([
      { name: "http", containerPort: 8000, protocol: "TCP" },
      { name: "metrics", containerPort: 9090, protocol: "TCP" },
    ]);
    expect(main?.lifecycle).toEqual({ preStop: { sleep: { seconds: 20 } } });
    expect(main?.readinessProbe).toMatchObject({
      httpGet: { path: "/v1/models" },
      periodSeconds: 3,
      initialDelaySeconds: 1,
    });
    expect(main?.livenessProbe).toMatchObject({ periodSeconds: 20, timeoutSeconds: 10, failureThreshold: 3 });
    // The startup budget stays runtime.startupTimeoutSeconds (1800 s) at the 5 s period asked for.
    expect(main?.startupProbe).toMatchObject({ periodSeconds: 5, failureThreshold: 360, timeoutSeconds: 3 });
    expect(pod?.volumes?.map((v) => v.name)).toEqual([
      "dshm",
      "weights",
      "cache",
      "config",
      "tls",
      "scratch",
    ]);
    expect(pod?.volumes?.find((v) => v.name === "weights")?.persistentVolumeClaim).toEqual({
      claimName: "llm-weights",
      readOnly: true,
    });
    expect(pod?.initContainers?.map((c) => [c.name, c.restartPolicy, c.securityContext])).toEqual([
      ["warm-cache", undefined, main?.securityContext],
      ["metrics-proxy", "Always", main?.securityContext],
    ]);
    expect(main?.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(pod?.runtimeClassName).toBe(runtimeClass);
    expect(pod?.terminationGracePeriodSeconds).toBe(60);
    expect(pod?.topologySpreadConstraints?.map((t) => t.labelSelector)).toEqual([
      { matchLabels: { "modelship.dev/deployment": "llm" } },
      { matchLabels: { "modelship.dev/deployment": "llm" } },
    ]);

    // The pods themselves, as admitted: spread one per node (DoNotSchedule on the hostname, per
    // revision by matchLabelKeys), each with its own ephemeral claim, bound.
    const pods = (
      await core.listNamespacedPod({ namespace: ns, labelSelector: "modelship.dev/deployment=llm" })
    ).items;
    expect(new Set(pods.map((p) => p.spec?.nodeName)).size).toBe(2);
    for (const p of pods) {
      expect(p.spec?.runtimeClassName).toBe(runtimeClass);
      const claim = await core.readNamespacedPersistentVolumeClaim({
        namespace: ns,
        name: `${p.metadata?.name}-scratch`,
      });
      expect(claim.status?.phase).toBe("Bound");
      expect(claim.metadata?.labels?.purpose).toBe("scratch");
    }
    // PodSecurity checked every pod at admission; a server-side dry run of the label reports any
    // running pod that would violate restricted: none.
    const dry = await kubectl([
      "label",
      "--dry-run=server",
      "--overwrite",
      "ns",
      ns,
      "pod-security.kubernetes.io/enforce=restricted",
    ]).catch((err: { stderr?: string }) => String(err.stderr));
    expect(dry).not.toMatch(/violate/i);
  }, 150_000);

  // Skipped off the local harness: writes are counted in its apiserver's audit log.
  it.skipIf(!localCluster())(
    "a resync writes nothing: every rendered field matches what the API server stored",
    async () => {
      const since = Date.now();
      await new Promise((r) => setTimeout(r, 12_000)); // two resyncs at --resync-seconds=5
      // The prober's status.health measurements may move; everything the operator renders must not.
      const writes = operatorWritesSince(since).filter(
        (w) => w.objectRef?.namespace === ns && !w.requestURI.includes("fieldManager=modelship-prober"),
      );
      expect(writes.map((w) => `${w.verb} ${w.requestURI}`)).toEqual([]);
    },
    30_000,
  );

  it("a new sidecar image rolls out as a canary; the stable revision's pods are untouched", async () => {
    const [before] = await deploymentsOf(ns, "llm");
    await applyMd(ns, "llm", spec("registry.invalid/proxy:2"));
    const paused = await waitForPhase(ns, "llm", "Paused", 120_000);
    const canary = paused.status?.canaryRevision ?? "";
    expect(canary).not.toBe("");
    expect(canary).not.toBe(stableRevision);
    expect(paused.status?.stableRevision).toBe(stableRevision);
    expect(paused.status?.canaryWeight).toBe(50);

    const deps = await deploymentsOf(ns, "llm");
    const sidecarImage = (rev: string) =>
      deps.find((d) => d.metadata?.labels?.["modelship.dev/revision"] === rev)?.spec?.template.spec
        ?.initContainers?.[1]?.image;
    expect(sidecarImage(canary)).toBe("registry.invalid/proxy:2");
    expect(sidecarImage(stableRevision)).toBe("registry.invalid/proxy:1");
    // The stable revision's pod template is as it was (its replica count may follow the step).
    const stableNow = deps.find((d) => d.metadata?.name === before?.metadata?.name);
    expect(stableNow?.spec?.template).toEqual(before?.spec?.template);

    await promote(ns, "llm");
    const done = await waitForPhase(ns, "llm", "Healthy", 120_000);
    expect(done.status?.stableRevision).toBe(canary);
    await eventually(
      "old revision scaled away",
      async () => (await getMd(ns, "llm")).status?.readyReplicas === 2,
    );
  }, 300_000);
});

async function rejected(spec: Record<string, unknown>): Promise<string> {
  const body = JSON.stringify({
    apiVersion: "modelship.dev/v1alpha1",
    kind: "ModelDeployment",
    metadata: { name: "bad", namespace: ns },
    spec,
  });
  try {
    await kubectl(["apply", "--server-side", "-f", "-"], body);
  } catch (err) {
    return String((err as { stderr?: string }).stderr ?? err);
  }
  throw new Error(`accepted: ${body}`);
}

const vol = { name: "w", emptyDir: {} };
const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** A field the schema does not have: server-side apply's words, or kubectl's strict validation's. */
const unknownField = (path: string) =>
  new RegExp(`\\.${literal(path)}: field not declared in schema|unknown field "${literal(path)}"`);

describe("refused at admission, with the field named", () => {
  it.each([
    [
      "a hostPath volume",
      { template: { volumes: [{ name: "h", hostPath: { path: "/" } }] } },
      unknownField("spec.template.volumes[0].hostPath"),
    ],
    [
      "a privileged sidecar",
      {
        template: {
          initContainers: [
            { name: "s", image: "i", restartPolicy: "Always", securityContext: { privileged: true } },
          ],
        },
      },
      unknownField("spec.template.initContainers[0].securityContext"),
    ],
    [
      "a volume with no source",
      { template: { volumes: [{ name: "x" }] } },
      /spec\.template\.volumes\[0\].*each volume needs exactly one of configMap, secret, emptyDir, persistentVolumeClaim, ephemeral/,
    ],
    [
      "modelship's dshm volume name",
      { template: { volumes: [{ name: "dshm", emptyDir: {} }] } },
      /spec\.template\.volumes\[0\]\.name.*modelship's own/,
    ],
    ["two volumes of one name", { template: { volumes: [vol, vol] } }, /volume names must be unique/],
    [
      "a mount of no volume",
      { runtime: { image: "i", volumeMounts: [{ name: "nope", mountPath: "/x" }] } },
      /spec\.runtime\.volumeMounts.*every volumeMount must name a volume of spec\.template\.volumes/,
    ],
    [
      "a sidecar's mount of no volume",
      {
        template: {
          initContainers: [{ name: "s", image: "i", volumeMounts: [{ name: "nope", mountPath: "/x" }] }],
        },
      },
      /spec\.template\.initContainers.*every volumeMount must name a volume/,
    ],
    [
      "a mount over /dev/shm",
      {
        runtime: { image: "i", volumeMounts: [{ name: "w", mountPath: "/dev/shm" }] },
        template: { volumes: [vol] },
      },
      /spec\.runtime\.volumeMounts\[0\]\.mountPath.*modelship's own mounts/,
    ],
    [
      "a mount path with ..",
      {
        runtime: { image: "i", volumeMounts: [{ name: "w", mountPath: "/a/../mnt/models" }] },
        template: { volumes: [vol] },
      },
      /spec\.runtime\.volumeMounts\[0\]\.mountPath.*without '\.' or '\.\.' segments/,
    ],
    [
      "two mounts at one path",
      {
        runtime: {
          image: "i",
          volumeMounts: [
            { name: "w", mountPath: "/w" },
            { name: "w", mountPath: "/w" },
          ],
        },
        template: { volumes: [vol] },
      },
      /mountPath must be unique within a container/,
    ],
    [
      "envFrom with both refs",
      { runtime: { image: "i", envFrom: [{ configMapRef: { name: "a" }, secretRef: { name: "b" } }] } },
      /exactly one of configMapRef and secretRef/,
    ],
    [
      "an extra port on the preset's port",
      { runtime: { image: "i", ports: [{ name: "again", containerPort: 8080 }] } },
      /spec\.runtime\.ports.*port names and numbers must be unique in the pod/,
    ],
    [
      "two extra ports of one name",
      {
        runtime: {
          image: "i",
          ports: [
            { name: "m", containerPort: 9000 },
            { name: "m", containerPort: 9001 },
          ],
        },
      },
      /port names and numbers must be unique in the pod/,
    ],
    [
      "a sidecar port clashing with the model server's extra port",
      {
        runtime: { image: "i", ports: [{ name: "m", containerPort: 9000 }] },
        template: {
          initContainers: [
            { name: "s", image: "i", restartPolicy: "Always", ports: [{ name: "n", containerPort: 9000 }] },
          ],
        },
      },
      /spec\.template\.initContainers.*port names and numbers must be unique in the pod/,
    ],
    [
      "a port name that is no IANA name",
      { runtime: { image: "i", ports: [{ name: "m--x", containerPort: 9000 }] } },
      /spec\.runtime\.ports\[0\]\.name.*must be an IANA service name/,
    ],
    [
      "ports on a plain init container",
      {
        template: {
          initContainers: [{ name: "s", image: "i", ports: [{ name: "p", containerPort: 9000 }] }],
        },
      },
      /ports are only for sidecars/,
    ],
    [
      "a sidecar named model-server",
      { template: { initContainers: [{ name: "model-server", image: "i" }] } },
      /spec\.template\.initContainers\[0\]\.name.*modelship's own/,
    ],
    [
      "two init containers of one name",
      {
        template: {
          initContainers: [
            { name: "a", image: "i" },
            { name: "a", image: "j" },
          ],
        },
      },
      /container names must be unique/,
    ],
    [
      "preStop with two actions",
      {
        runtime: { image: "i", lifecycle: { preStop: { sleep: { seconds: 1 }, exec: { command: ["x"] } } } },
      },
      /preStop needs exactly one of exec, sleep, httpGet/,
    ],
    [
      "a preStop sleep beyond the grace period",
      {
        runtime: { image: "i", lifecycle: { preStop: { sleep: { seconds: 45 } } } },
        template: { terminationGracePeriodSeconds: 40 },
      },
      /spec\.runtime\.lifecycle\.preStop\.sleep\.seconds.*must not exceed/,
    ],
    [
      "a preStop httpGet to an unknown port name",
      { runtime: { image: "i", lifecycle: { preStop: { httpGet: { path: "/d", port: "admin" } } } } },
      /preStop\.httpGet\.port must be a number/,
    ],
    [
      "a startup failureThreshold (the budget is startupTimeoutSeconds)",
      { runtime: { image: "i", probes: { startup: { failureThreshold: 3 } } } },
      unknownField("spec.runtime.probes.startup.failureThreshold"),
    ],
    [
      "minDomains with ScheduleAnyway",
      {
        template: {
          topologySpreadConstraints: [
            { maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "ScheduleAnyway", minDomains: 2 },
          ],
        },
      },
      /minDomains needs whenUnsatisfiable: DoNotSchedule/,
    ],
    [
      "matchLabelKeys repeating the default selector",
      {
        template: {
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: "zone",
              whenUnsatisfiable: "DoNotSchedule",
              matchLabelKeys: ["modelship.dev/deployment"],
            },
          ],
        },
      },
      /matchLabelKeys must not repeat a key of the labelSelector/,
    ],
    [
      "In without values",
      {
        template: {
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: "zone",
              whenUnsatisfiable: "DoNotSchedule",
              labelSelector: { matchExpressions: [{ key: "a", operator: "In" }] },
            },
          ],
        },
      },
      /In and NotIn need values/,
    ],
    [
      "two constraints on one key",
      {
        template: {
          topologySpreadConstraints: [
            { maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule" },
            { maxSkew: 2, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule" },
          ],
        },
      },
      /each topologyKey and whenUnsatisfiable pair may appear once/,
    ],
  ])("%s", async (_what, override, message) => {
    const base = mdSpec();
    const o = override as { runtime?: Record<string, unknown>; template?: Record<string, unknown> };
    const out = await rejected({
      ...base,
      ...(o.runtime ? { runtime: { ...(base.runtime as object), ...o.runtime } } : {}),
      ...(o.template ? { template: o.template } : {}),
    });
    expect(out).toMatch(message);
  });
});
