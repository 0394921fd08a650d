// spec.template.securityContext → the rendered pod template, checked against the rules of the
// restricted Pod Security Standard that a pod template can break (the API server's PodSecurity
// admission applies the same ones; e2e/pod-security.e2e.test.ts proves it there).
import { describe, expect, it } from "vitest";
import { parseModelDeployment } from "../api/index.ts";
import { renderChildren } from "./children.ts";
import { renderDeployment } from "./deployment.ts";
import { madeWithOf, RENDER_FEATURES_ANNOTATION } from "./features.ts";
import { LABEL_REVISION } from "./labels.ts";
import { computeRevision } from "./revision.ts";

const owner = { name: "rec", namespace: "shop", uid: "u-1" };

function parse(template?: Record<string, unknown>) {
  const parsed = parseModelDeployment({
    apiVersion: "modelship.dev/v1alpha1",
    kind: "ModelDeployment",
    metadata: { name: "rec", namespace: "shop" },
    spec: {
      model: { name: "rec", version: "v1" },
      runtime: { image: "registry.example/rec:1" },
      ...(template ? { template } : {}),
    },
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
}

interface PodSpec {
  securityContext?: Record<string, unknown>;
  containers: { securityContext?: Record<string, unknown> }[];
  initContainers?: { securityContext?: Record<string, unknown> }[];
}

function render(template?: Record<string, unknown>, predatesPodSecurityDefaults = false) {
  const md = parse(template);
  const d = renderDeployment({
    owner,
    spec: md.spec,
    revision: computeRevision(md.spec),
    replicas: 1,
    ...(predatesPodSecurityDefaults ? { madeWith: { features: new Set() } } : {}),
  });
  const spec = d.spec as { template: { spec: PodSpec } };
  return { d, pod: spec.template.spec, container: spec.template.spec.containers[0] ?? {} };
}

/** What the restricted Pod Security Standard (latest) refuses in a pod like ours; [] = admitted. */
function restrictedViolations(pod: PodSpec): string[] {
  const out: string[] = [];
  const psc = pod.securityContext ?? {};
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
    const csc = c.securityContext ?? {};
    if (csc.allowPrivilegeEscalation !== false) out.push("allowPrivilegeEscalation != false");
    const caps = csc.capabilities as { drop?: string[]; add?: string[] } | undefined;
    if (!caps?.drop?.includes("ALL")) out.push("unrestricted capabilities");
    if ((caps?.add ?? []).some((a) => a !== "NET_BIND_SERVICE")) out.push("capabilities added");
    if ((csc.runAsNonRoot ?? psc.runAsNonRoot) !== true) out.push("runAsNonRoot != true");
    if ((csc.runAsUser ?? psc.runAsUser) === 0) out.push("runAsUser=0");
    const seccomp = (csc.seccompProfile ?? psc.seccompProfile) as { type?: string } | undefined;
    if (seccomp?.type !== "RuntimeDefault" && seccomp?.type !== "Localhost") out.push("seccompProfile");
    if (csc.privileged === true) out.push("privileged");
  }
  return out;
}

describe("pod security of model pods", () => {
  it("is restricted by default: the pod passes every restricted rule", () => {
    const { d, pod, container } = render();
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(restrictedViolations(pod)).toEqual([]);
    expect(d.metadata.annotations?.[RENDER_FEATURES_ANNOTATION]).toBe(
      "model-artifacts,pod-security-restricted",
    );
  });

  it.each([
    ["runAsUser", { runAsUser: 1000 }, "pod", { runAsUser: 1000 }],
    ["runAsGroup", { runAsGroup: 2000 }, "pod", { runAsGroup: 2000 }],
    ["fsGroup", { fsGroup: 3000 }, "pod", { fsGroup: 3000 }],
    ["runAsGroup 0 (root group is not root)", { runAsGroup: 0 }, "pod", { runAsGroup: 0 }],
    [
      "readOnlyRootFilesystem",
      { readOnlyRootFilesystem: true },
      "container",
      { readOnlyRootFilesystem: true },
    ],
  ] as const)("%s reaches the pod template and keeps it restricted", (_what, sc, where, want) => {
    const { pod, container } = render({ securityContext: sc });
    expect((where === "pod" ? pod : container).securityContext).toMatchObject(want);
    expect(restrictedViolations(pod)).toEqual([]);
  });

  it("init containers and sidecars get the model server's restrictions (no per-container way out)", () => {
    const inits = [
      { name: "fetch", image: "registry.example/tools:1" },
      { name: "proxy", image: "registry.example/proxy:1", restartPolicy: "Always" },
    ];
    const { pod, container } = render({
      initContainers: inits,
      securityContext: { readOnlyRootFilesystem: true },
    });
    expect(pod.initContainers?.map((c) => c.securityContext)).toEqual([
      container.securityContext,
      container.securityContext,
    ]);
    expect(restrictedViolations(pod)).toEqual([]);
    // A privileged sidecar cannot be written: the schema has no securityContext per container.
    const md = parse({ initContainers: [{ ...inits[1], securityContext: { privileged: true } }] });
    expect(md.spec.template?.initContainers?.[0]).not.toHaveProperty("securityContext");
  });

  it("profile None adds nothing of modelship's own: only the fields set, and restricted refuses it", () => {
    expect(render({ securityContext: { profile: "None" } }).pod.securityContext).toBeUndefined();
    expect(render({ securityContext: { profile: "None" } }).container.securityContext).toBeUndefined();
    const root = render({ securityContext: { profile: "None", runAsUser: 0, fsGroup: 0 } });
    expect(root.pod.securityContext).toEqual({ runAsUser: 0, fsGroup: 0 });
    expect(root.container.securityContext).toBeUndefined();
    expect(restrictedViolations(root.pod)).toEqual(
      expect.arrayContaining(["allowPrivilegeEscalation != false", "runAsNonRoot != true", "runAsUser=0"]),
    );
  });

  it("refuses root under Restricted at parse, naming the field and the way out", () => {
    for (const sc of [{ runAsUser: 0 }, { profile: "Restricted", runAsUser: 0 }]) {
      const parsed = parseModelDeployment({
        apiVersion: "modelship.dev/v1alpha1",
        kind: "ModelDeployment",
        metadata: { name: "rec" },
        spec: {
          model: { name: "rec", version: "v1" },
          runtime: { image: "i" },
          template: { securityContext: sc },
        },
      });
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) {
        expect(JSON.stringify(parsed.issues)).toMatch(/runAsUser/);
        expect(JSON.stringify(parsed.issues)).toMatch(/profile: None/);
      }
    }
  });

  it("refuses an id out of range and an unknown profile", () => {
    for (const sc of [{ runAsUser: -1 }, { fsGroup: 2 ** 31 }, { profile: "Privileged" }]) {
      expect(() => parse({ securityContext: sc })).toThrow();
    }
  });

  it("makes a new revision when the security settings change (they change the pods)", () => {
    const a = parse().spec;
    const b = parse({ securityContext: { runAsUser: 1000 } }).spec;
    expect(computeRevision(a)).not.toBe(computeRevision(b));
  });

  it("keeps the revision hash of a spec written before the field existed", () => {
    // Hashed by the operator before pod security defaults (main at 3283a89): an upgrade must not
    // change it, or every ModelDeployment would start a canary of itself.
    expect(computeRevision(parse().spec)).toBe(PRE_DEFAULTS_REVISION);
  });
});

describe("a revision made before the defaults keeps its pods", () => {
  it("renders a predating revision exactly as it was made: no securityContext, no annotation", () => {
    const { d, pod, container } = render(undefined, true);
    expect(pod.securityContext).toBeUndefined();
    expect(container.securityContext).toBeUndefined();
    expect(d.metadata.annotations).toBeUndefined();
  });

  it("tells the revisions apart by the annotation on their Deployments", () => {
    const dep = (revision: string, annotations?: Record<string, string>, securityContext?: object) => ({
      metadata: { labels: { [LABEL_REVISION]: revision }, ...(annotations ? { annotations } : {}) },
      spec: { template: { spec: securityContext ? { securityContext } : {} } },
    });
    const made = madeWithOf([
      dep("aaa"),
      dep("bbb", { [RENDER_FEATURES_ANNOTATION]: "pod-security-restricted" }),
      // The first operator with the defaults marked them with an annotation of their own.
      dep("bbc", { "modelship.dev/pod-security-defaults": "restricted" }),
      dep("ccc", { other: "x" }),
      // The annotation removed by hand: its pods still show the defaults, so it keeps them.
      dep("ddd", undefined, { runAsNonRoot: true }),
      { metadata: {} },
    ]);
    const predating = [...made].filter(([, m]) => !m.features.has("pod-security-restricted")).map(([r]) => r);
    expect(predating.sort()).toEqual(["aaa", "ccc"]);
    expect([...made.keys()].sort()).toEqual(["aaa", "bbb", "bbc", "ccc", "ddd"]);
  });

  it("renders a canary with the defaults beside a stable that predates them", () => {
    const md = parse();
    const spec = md.spec;
    const children = renderChildren(
      md,
      owner,
      {
        revisions: [
          { revision: "stable1234", replicas: 3, role: "stable" },
          { revision: "canary5678", replicas: 1, role: "canary" },
        ],
        traffic: { mode: "replicaRatio", serviceSelector: {} },
      },
      { stable1234: spec, canary5678: spec },
      new Map([["stable1234", { features: new Set() }]]),
    );
    const deployments = children.objects.filter((o) => o.kind === "Deployment");
    const podSc = (name: string) => {
      const d = deployments.find((o) => o.metadata.name.endsWith(name));
      return (d?.spec as { template: { spec: PodSpec } } | undefined)?.template.spec.securityContext;
    };
    expect(podSc("stable1234")).toBeUndefined();
    expect(podSc("canary5678")).toMatchObject({ runAsNonRoot: true });
  });
});

const PRE_DEFAULTS_REVISION = "129c60b575";
