// spec.runtime's container extras and spec.template's pod extras → the Deployment's pod template,
// field by field (the header of deployment.ts lists where each lands).
import { describe, expect, it } from "vitest";
import { FULL_RUNTIME, FULL_TEMPLATE } from "../../testing/pod-template.ts";
import { parseModelDeployment, SPREAD_DEFAULT_SELECTOR_KEY } from "../api/index.ts";
import { renderChildren } from "./children.ts";
import { renderDeployment } from "./deployment.ts";
import { LABEL_DEPLOYMENT } from "./labels.ts";
import { computeRevision, revisionSpecsOf } from "./revision.ts";

type Obj = Record<string, unknown>;
interface Container extends Obj {
  name: string;
  ports: Obj[];
  volumeMounts?: Obj[];
  startupProbe: { periodSeconds: number; failureThreshold: number; timeoutSeconds: number; httpGet: Obj };
  readinessProbe: Obj;
  livenessProbe: Obj;
}
interface Pod extends Obj {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Obj[];
}

function parse(runtime: Obj = {}, template?: Obj) {
  const parsed = parseModelDeployment({
    apiVersion: "modelship.dev/v1alpha1",
    kind: "ModelDeployment",
    metadata: { name: "llm", namespace: "shop", uid: "u-1" },
    spec: {
      model: { name: "llm", version: "v1" },
      runtime: { image: "registry.example/llm:1", ...runtime },
      ...(template ? { template } : {}),
    },
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value.spec;
}

function pod(runtime: Obj = {}, template?: Obj): { pod: Pod; main: Container } {
  const d = renderDeployment({
    owner: { name: "llm", namespace: "shop", uid: "u-1" },
    spec: parse(runtime, template),
    revision: "abc1234",
    replicas: 1,
  });
  const p = (d.spec as { template: { spec: Pod } }).template.spec;
  return { pod: p, main: p.containers[0] as Container };
}

describe("spec.runtime → the model-server container", () => {
  const { main } = pod(FULL_RUNTIME, FULL_TEMPLATE);

  it("envFrom, in order", () => {
    expect(main.envFrom).toEqual([
      { configMapRef: { name: "llm-config" } },
      { secretRef: { name: "hf-token", optional: true }, prefix: "HF_" },
    ]);
  });

  it("volumeMounts (readOnly only when true: the API server drops false)", () => {
    expect(main.volumeMounts).toEqual([
      { name: "weights", mountPath: "/weights", readOnly: true },
      { name: "cache", mountPath: "/root/.cache", subPath: "vllm" },
    ]);
    expect(
      pod(
        { volumeMounts: [{ name: "w", mountPath: "/w", readOnly: false }] },
        { volumes: [{ name: "w", emptyDir: {} }] },
      ).main.volumeMounts,
    ).toEqual([{ name: "w", mountPath: "/w" }]);
  });

  it("extra ports after the model server's own", () => {
    expect(main.ports).toEqual([
      { name: "http", containerPort: 8000, protocol: "TCP" },
      { name: "metrics", containerPort: 9090, protocol: "TCP" },
    ]);
  });

  it("preStop: sleep, exec, or httpGet to the pod's own port (no host)", () => {
    expect(main.lifecycle).toEqual({ preStop: { sleep: { seconds: 20 } } });
    expect(pod({ lifecycle: { preStop: { exec: { command: ["/drain"] } } } }).main.lifecycle).toEqual({
      preStop: { exec: { command: ["/drain"] } },
    });
    expect(pod({ lifecycle: { preStop: { httpGet: { path: "/drain" } } } }).main.lifecycle).toEqual({
      preStop: { httpGet: { path: "/drain", port: "http" } },
    });
  });

  it("probe overrides land on the probes; the readiness path serves the startup probe too", () => {
    expect(main.readinessProbe).toEqual({
      httpGet: { path: "/v1/models", port: "http" },
      initialDelaySeconds: 1,
      periodSeconds: 3,
      failureThreshold: 2,
      timeoutSeconds: 5,
    });
    expect(main.livenessProbe).toEqual({
      httpGet: { path: "/health", port: "http" },
      periodSeconds: 20,
      failureThreshold: 3,
      timeoutSeconds: 10,
    });
    expect(main.startupProbe).toEqual({
      httpGet: { path: "/v1/models", port: "http" },
      periodSeconds: 5,
      failureThreshold: 360,
      timeoutSeconds: 3,
    });
    expect(pod({ probes: { startup: { path: "/started" } } }).main.startupProbe.httpGet).toEqual({
      path: "/started",
      port: "http",
    });
  });

  it("an initialDelaySeconds of 0 is not sent (the API server drops it, and a resync would rewrite it)", () => {
    expect(pod({ probes: { readiness: { initialDelaySeconds: 0 } } }).main.readinessProbe).not.toHaveProperty(
      "initialDelaySeconds",
    );
  });

  it.each([1, 7, 10, 30, 600])(
    "the startup budget stays runtime.startupTimeoutSeconds whatever the period (%i s)",
    (period) => {
      for (const budget of [1, 45, 1800, 3601]) {
        const p = pod({ startupTimeoutSeconds: budget, probes: { startup: { periodSeconds: period } } }).main
          .startupProbe;
        const kubelet = p.periodSeconds * p.failureThreshold;
        // The kubelet gives up no earlier than the rollout (stuck() at the budget), and within one period of it.
        expect(kubelet).toBeGreaterThanOrEqual(budget);
        expect(kubelet).toBeLessThan(budget + period);
      }
    },
  );
});

describe("spec.template → the pod", () => {
  const { pod: p, main } = pod({ ...FULL_RUNTIME, shmSize: "8Gi" }, FULL_TEMPLATE);

  it("volumes after modelship's own dshm, each source as Kubernetes spells it", () => {
    expect(p.volumes).toEqual([
      { name: "dshm", emptyDir: { medium: "Memory", sizeLimit: "8Gi" } },
      { name: "weights", persistentVolumeClaim: { claimName: "llm-weights", readOnly: true } },
      { name: "cache", emptyDir: { sizeLimit: "20Gi" } },
      {
        name: "config",
        configMap: { name: "llm-config", items: [{ key: "chat.jinja", path: "templates/chat.jinja" }] },
      },
      { name: "tls", secret: { secretName: "llm-tls", defaultMode: 256 } },
      {
        name: "scratch",
        ephemeral: {
          volumeClaimTemplate: {
            spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "50Gi" } } },
          },
        },
      },
    ]);
    expect(main.volumeMounts?.[0]).toEqual({ name: "dshm", mountPath: "/dev/shm" });
  });

  it("init containers and native sidecars, in order, with the model server's securityContext", () => {
    expect(p.initContainers).toEqual([
      {
        name: "warm-cache",
        image: "registry.example/tools:1",
        command: ["sh", "-c", "true"],
        volumeMounts: [{ name: "cache", mountPath: "/cache" }],
        securityContext: main.securityContext,
      },
      {
        name: "metrics-proxy",
        image: "registry.example/proxy:1",
        envFrom: [{ configMapRef: { name: "proxy-config" } }],
        resources: { limits: { cpu: "100m", memory: "64Mi" } },
        ports: [{ name: "proxy", containerPort: 9091, protocol: "TCP" }],
        restartPolicy: "Always",
        securityContext: main.securityContext,
      },
    ]);
    expect(main.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
  });

  it("runtimeClassName and terminationGracePeriodSeconds (0 is sent: it means kill at once)", () => {
    expect(p.runtimeClassName).toBe("nvidia");
    expect(p.terminationGracePeriodSeconds).toBe(60);
    expect(pod({}, { terminationGracePeriodSeconds: 0 }).pod.terminationGracePeriodSeconds).toBe(0);
  });

  it("topology spread: without a labelSelector, every pod of this ModelDeployment (all revisions)", () => {
    expect(p.topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: "topology.kubernetes.io/zone",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: { [LABEL_DEPLOYMENT]: "llm" } },
      },
      {
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        whenUnsatisfiable: "DoNotSchedule",
        labelSelector: { matchLabels: { [LABEL_DEPLOYMENT]: "llm" } },
        minDomains: 1,
        matchLabelKeys: ["modelship.dev/revision"],
      },
    ]);
    expect(SPREAD_DEFAULT_SELECTOR_KEY).toBe(LABEL_DEPLOYMENT);
    const own = { matchExpressions: [{ key: "team", operator: "Exists" }] };
    const spread = {
      maxSkew: 2,
      topologyKey: "zone",
      whenUnsatisfiable: "DoNotSchedule",
      labelSelector: own,
    };
    expect(pod({}, { topologySpreadConstraints: [spread] }).pod.topologySpreadConstraints).toEqual([spread]);
  });

  it("absent fields render no key at all", () => {
    const { pod: plain, main: m } = pod();
    for (const k of [
      "initContainers",
      "volumes",
      "runtimeClassName",
      "topologySpreadConstraints",
      "terminationGracePeriodSeconds",
    ])
      expect(plain, k).not.toHaveProperty(k);
    for (const k of ["envFrom", "volumeMounts", "lifecycle"]) expect(m, k).not.toHaveProperty(k);
    expect(m.ports).toHaveLength(1);
  });
});

describe("revision identity", () => {
  it.each([
    [
      "a sidecar image",
      { initContainers: [{ name: "p", image: "registry.example/proxy:2", restartPolicy: "Always" }] },
      {},
    ],
    ["the runtime class", { runtimeClassName: "nvidia-cdi" }, {}],
    ["the grace period", { terminationGracePeriodSeconds: 90 }, {}],
    ["a probe timing", {}, { probes: { readiness: { periodSeconds: 9 } } }],
    ["an envFrom source", {}, { envFrom: [{ secretRef: { name: "other" } }] }],
  ])("changing %s makes a new revision (it changes the pods)", (_what, template, runtime) => {
    const base = parse(
      { probes: { readiness: { periodSeconds: 3 } }, envFrom: [{ secretRef: { name: "one" } }] },
      {
        initContainers: [{ name: "p", image: "registry.example/proxy:1", restartPolicy: "Always" }],
        runtimeClassName: "nvidia",
        terminationGracePeriodSeconds: 60,
      },
    );
    const changed = parse(
      { probes: { readiness: { periodSeconds: 3 } }, envFrom: [{ secretRef: { name: "one" } }], ...runtime },
      {
        initContainers: [{ name: "p", image: "registry.example/proxy:1", restartPolicy: "Always" }],
        runtimeClassName: "nvidia",
        terminationGracePeriodSeconds: 60,
        ...template,
      },
    );
    expect(computeRevision(changed)).not.toBe(computeRevision(base));
  });
});

describe("from the CR to the Deployments of a canary (revisionSpecsOf → renderChildren)", () => {
  it("the canary runs the new sidecar image; the stable revision keeps its own, from its snapshot", () => {
    const mdOf = (image: string, status?: Obj) => {
      const parsed = parseModelDeployment({
        apiVersion: "modelship.dev/v1alpha1",
        kind: "ModelDeployment",
        metadata: { name: "llm", namespace: "shop", uid: "u-1" },
        spec: {
          model: { name: "llm", version: "v1" },
          runtime: { image: "registry.example/llm:1", ...FULL_RUNTIME },
          template: {
            ...FULL_TEMPLATE,
            initContainers: FULL_TEMPLATE.initContainers.map((c) => (c.restartPolicy ? { ...c, image } : c)),
          },
        },
        ...(status ? { status } : {}),
      });
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
      return parsed.value;
    };
    const v1 = mdOf("registry.example/proxy:1");
    const stable = computeRevision(v1.spec);
    const snapshot = { model: v1.spec.model, runtime: v1.spec.runtime, template: v1.spec.template };
    // What status holds after v1 rolled out, as JSON (the API server's copy).
    const v2 = mdOf("registry.example/proxy:2", {
      revisionSpecs: { [stable]: JSON.parse(JSON.stringify(snapshot)) },
    });
    const canary = computeRevision(v2.spec);
    const { specs, ignored } = revisionSpecsOf(v2, canary, new Set([stable]));
    expect(ignored).toEqual([]);
    const { objects } = renderChildren(
      v2,
      { name: "llm", namespace: "shop", uid: "u-1" },
      {
        revisions: [
          { revision: stable, replicas: 1, role: "stable" },
          { revision: canary, replicas: 1, role: "canary" },
        ],
        traffic: { mode: "replicaRatio", serviceSelector: {} },
      },
      specs,
      new Map(),
    );
    const podOf = (rev: string): Pod => {
      const d = objects.find((o) => o.kind === "Deployment" && o.metadata.name === `llm-${rev}`);
      if (d === undefined) throw new Error(`no Deployment of ${rev}`);
      return (d.spec as { template: { spec: Pod } }).template.spec;
    };
    expect(podOf(canary).initContainers?.[1]?.image).toBe("registry.example/proxy:2");
    expect(podOf(stable).initContainers?.[1]?.image).toBe("registry.example/proxy:1");
    // Everything else of the pod is the same in both: only the sidecar changed.
    const { initContainers: _a, ...canaryRest } = podOf(canary);
    const { initContainers: _b, ...stableRest } = podOf(stable);
    expect(canaryRest).toEqual(stableRest);
  });
});
