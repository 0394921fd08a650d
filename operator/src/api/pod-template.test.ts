// The pod-template fields of spec.runtime and spec.template: what the schema accepts, and what it
// refuses with which message at which path (the CEL rules in the CRD say the same words; the API
// server's side is e2e/pod-template.e2e.test.ts).
import { describe, expect, it } from "vitest";
import { FULL_RUNTIME, FULL_TEMPLATE } from "../../testing/pod-template.ts";
import { parseModelDeployment } from "./model-deployment.ts";
import {
  MOUNT_NEEDS_VOLUME,
  PORTS_UNIQUE_IN_POD,
  PRESTOP_PORT_UNKNOWN,
  SLEEP_WITHIN_GRACE,
} from "./pod-template.ts";

function parse(runtime: Record<string, unknown> = {}, template?: Record<string, unknown>) {
  return parseModelDeployment({
    apiVersion: "modelship.dev/v1alpha1",
    kind: "ModelDeployment",
    metadata: { name: "llm", namespace: "shop" },
    spec: {
      model: { name: "llm", version: "v1" },
      runtime: { image: "registry.example/llm:1", ...runtime },
      ...(template ? { template } : {}),
    },
  });
}

function issues(runtime: Record<string, unknown> = {}, template?: Record<string, unknown>) {
  const r = parse(runtime, template);
  if (r.ok) throw new Error("expected the parse to fail");
  return r.issues.map((i) => `${i.path.replace(/^spec\./, "")}: ${i.message}`);
}

const weights = { name: "weights", persistentVolumeClaim: { claimName: "llm-weights", readOnly: true } };

describe("pod template fields: accepted", () => {
  it("a spec using every field parses, and keeps what was written", () => {
    const r = parse(FULL_RUNTIME, FULL_TEMPLATE);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.value.spec.template?.initContainers?.[1]?.restartPolicy).toBe("Always");
    expect(r.value.spec.runtime.probes?.startup).toEqual({ periodSeconds: 5, timeoutSeconds: 3 });
  });

  it("stores no defaults for the new fields (a stored spec and its revision do not change)", () => {
    const r = parse();
    if (!r.ok) throw new Error("parse failed");
    for (const k of ["envFrom", "volumeMounts", "ports", "probes", "lifecycle"])
      expect(k in r.value.spec.runtime, k).toBe(false);
    expect(r.value.spec.template).toBeUndefined();
  });

  it("a preStop sleep up to a longer grace period, and httpGet to a named extra port", () => {
    expect(
      parse({ lifecycle: { preStop: { sleep: { seconds: 90 } } } }, { terminationGracePeriodSeconds: 120 })
        .ok,
    ).toBe(true);
    expect(
      parse({
        ports: [{ name: "admin", containerPort: 9000 }],
        lifecycle: { preStop: { httpGet: { path: "/drain", port: "admin" } } },
      }).ok,
    ).toBe(true);
    expect(parse({ lifecycle: { preStop: { httpGet: { path: "/drain", port: 8080 } } } }).ok).toBe(true);
  });
});

describe("pod template fields: refused, with the field named", () => {
  it.each([
    [
      "a hostPath volume (not a source modelship accepts)",
      {},
      { volumes: [{ name: "host", hostPath: { path: "/" } }] },
      "template.volumes[0]: each volume needs exactly one of configMap, secret, emptyDir, persistentVolumeClaim, ephemeral",
    ],
    [
      "a volume with two sources",
      {},
      { volumes: [{ name: "x", emptyDir: {}, persistentVolumeClaim: { claimName: "c" } }] },
      "template.volumes[0]: each volume needs exactly one of",
    ],
    [
      "modelship's /dev/shm volume name",
      {},
      { volumes: [{ name: "dshm", emptyDir: {} }] },
      "template.volumes[0].name: volume names 'dshm', 'model-artifacts', 'model-credentials' and names starting with 'modelship-' are modelship's own",
    ],
    [
      "a modelship- volume name",
      {},
      { volumes: [{ name: "modelship-x", emptyDir: {} }] },
      "template.volumes[0].name: volume names",
    ],
    [
      "two volumes of one name",
      {},
      { volumes: [weights, weights] },
      "template.volumes[1]: volume names must be unique",
    ],
    [
      "a mount of no volume",
      { volumeMounts: [{ name: "nope", mountPath: "/x" }] },
      undefined,
      `runtime.volumeMounts[0].name: ${MOUNT_NEEDS_VOLUME}`,
    ],
    [
      "a sidecar's mount of no volume",
      {},
      { initContainers: [{ name: "s", image: "i", volumeMounts: [{ name: "nope", mountPath: "/x" }] }] },
      `template.initContainers[0].volumeMounts[0].name: ${MOUNT_NEEDS_VOLUME}`,
    ],
    [
      "a mount over /dev/shm",
      { volumeMounts: [{ name: "weights", mountPath: "/dev/shm" }] },
      { volumes: [weights] },
      "runtime.volumeMounts[0].mountPath: /dev/shm and /mnt/models (and paths under them) are modelship's own mounts",
    ],
    [
      "a mount under /mnt/models",
      { volumeMounts: [{ name: "weights", mountPath: "/mnt/models/extra" }] },
      { volumes: [weights] },
      "runtime.volumeMounts[0].mountPath: /dev/shm and /mnt/models",
    ],
    [
      "a relative mount path",
      { volumeMounts: [{ name: "weights", mountPath: "weights" }] },
      { volumes: [weights] },
      "runtime.volumeMounts[0].mountPath: must be an absolute path",
    ],
    [
      "a mount path with ..",
      { volumeMounts: [{ name: "weights", mountPath: "/mnt/x/../models" }] },
      { volumes: [weights] },
      "runtime.volumeMounts[0].mountPath: must be an absolute path of non-empty segments, without '.' or '..'",
    ],
    [
      "a subPath leaving the volume",
      { volumeMounts: [{ name: "weights", mountPath: "/w", subPath: "../etc" }] },
      { volumes: [weights] },
      "runtime.volumeMounts[0].subPath: must be a relative path without '..' segments",
    ],
    [
      "two mounts at one path",
      {
        volumeMounts: [
          { name: "weights", mountPath: "/w" },
          { name: "weights", mountPath: "/w" },
        ],
      },
      { volumes: [weights] },
      "runtime.volumeMounts[1].mountPath: mountPath must be unique within a container",
    ],
    [
      "envFrom with both refs",
      { envFrom: [{ configMapRef: { name: "a" }, secretRef: { name: "b" } }] },
      undefined,
      "runtime.envFrom[0]: each envFrom entry needs exactly one of configMapRef and secretRef",
    ],
    [
      "an extra port named http",
      { ports: [{ name: "http", containerPort: 9000 }] },
      undefined,
      `runtime.ports[0]: ${PORTS_UNIQUE_IN_POD}`,
    ],
    [
      "an extra port on the model server's port (the preset's 8000)",
      { preset: "vllm", ports: [{ name: "other", containerPort: 8000 }] },
      undefined,
      `runtime.ports[0]: ${PORTS_UNIQUE_IN_POD}`,
    ],
    [
      "a sidecar port clashing with the model server's",
      { ports: [{ name: "metrics", containerPort: 9090 }] },
      {
        initContainers: [
          { name: "s", image: "i", restartPolicy: "Always", ports: [{ name: "m2", containerPort: 9090 }] },
        ],
      },
      `template.initContainers[0].ports[0]: ${PORTS_UNIQUE_IN_POD}`,
    ],
    [
      "a port name that is no IANA name",
      { ports: [{ name: "Metrics_1", containerPort: 9000 }] },
      undefined,
      "runtime.ports[0].name: must be an IANA service name",
    ],
    [
      "ports on an init container that is not a sidecar",
      {},
      { initContainers: [{ name: "s", image: "i", ports: [{ name: "p", containerPort: 9000 }] }] },
      "template.initContainers[0].ports: ports are only for sidecars (restartPolicy: Always)",
    ],
    [
      "a sidecar named like the model server",
      {},
      { initContainers: [{ name: "model-server", image: "i" }] },
      "template.initContainers[0].name: container names 'model-server', 'model-downloader' and names starting with 'modelship-' are modelship's own",
    ],
    [
      "two init containers of one name",
      {},
      {
        initContainers: [
          { name: "a", image: "i" },
          { name: "a", image: "j" },
        ],
      },
      "template.initContainers[1]: container names must be unique",
    ],
    [
      "a restartPolicy other than Always",
      {},
      { initContainers: [{ name: "a", image: "i", restartPolicy: "OnFailure" }] },
      "template.initContainers[0].restartPolicy",
    ],
    [
      "preStop with two actions",
      { lifecycle: { preStop: { sleep: { seconds: 5 }, exec: { command: ["x"] } } } },
      undefined,
      "runtime.lifecycle.preStop: preStop needs exactly one of exec, sleep, httpGet",
    ],
    [
      "a preStop sleep beyond the default grace period",
      { lifecycle: { preStop: { sleep: { seconds: 45 } } } },
      undefined,
      `runtime.lifecycle.preStop.sleep.seconds: ${SLEEP_WITHIN_GRACE}`,
    ],
    [
      "a preStop sleep beyond the grace period given",
      { lifecycle: { preStop: { sleep: { seconds: 45 } } } },
      { terminationGracePeriodSeconds: 40 },
      `runtime.lifecycle.preStop.sleep.seconds: ${SLEEP_WITHIN_GRACE}`,
    ],
    [
      "a preStop httpGet to a port name that does not exist",
      { lifecycle: { preStop: { httpGet: { path: "/drain", port: "admin" } } } },
      undefined,
      `runtime.lifecycle.preStop.httpGet.port: ${PRESTOP_PORT_UNKNOWN}`,
    ],
    [
      "a preStop httpGet path naming another host",
      { lifecycle: { preStop: { httpGet: { path: "//169.254.169.254/" } } } },
      undefined,
      "runtime.lifecycle.preStop.httpGet.path: must be an absolute path",
    ],
    [
      "a grace period above an hour",
      {},
      { terminationGracePeriodSeconds: 7200 },
      "template.terminationGracePeriodSeconds",
    ],
    [
      "a startup probe period of 0",
      { probes: { startup: { periodSeconds: 0 } } },
      undefined,
      "runtime.probes.startup.periodSeconds",
    ],
    [
      "a readiness failureThreshold above 1000",
      { probes: { readiness: { failureThreshold: 5000 } } },
      undefined,
      "runtime.probes.readiness.failureThreshold",
    ],
    [
      "minDomains with ScheduleAnyway",
      {},
      {
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: "kubernetes.io/hostname",
            whenUnsatisfiable: "ScheduleAnyway",
            minDomains: 2,
          },
        ],
      },
      "template.topologySpreadConstraints[0].minDomains: minDomains needs whenUnsatisfiable: DoNotSchedule",
    ],
    [
      "matchLabelKeys repeating the default selector's key",
      {},
      {
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: "kubernetes.io/hostname",
            whenUnsatisfiable: "DoNotSchedule",
            matchLabelKeys: ["modelship.dev/deployment"],
          },
        ],
      },
      "template.topologySpreadConstraints[0].matchLabelKeys: matchLabelKeys must not repeat a key of the labelSelector",
    ],
    [
      "In without values",
      {},
      {
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: "kubernetes.io/hostname",
            whenUnsatisfiable: "DoNotSchedule",
            labelSelector: { matchExpressions: [{ key: "app", operator: "In" }] },
          },
        ],
      },
      "template.topologySpreadConstraints[0].labelSelector.matchExpressions[0].values: In and NotIn need values",
    ],
    [
      "two constraints on one key and policy",
      {},
      {
        topologySpreadConstraints: [
          { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule" },
          { maxSkew: 2, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule" },
        ],
      },
      "template.topologySpreadConstraints[1]: each topologyKey and whenUnsatisfiable pair may appear once",
    ],
    [
      "a runtimeClassName that is no DNS name",
      {},
      { runtimeClassName: "Nvidia GPU" },
      "template.runtimeClassName: must be a DNS-1123 subdomain",
    ],
  ])("%s", (_what, runtime, template, expected) => {
    const found = issues(runtime, template);
    expect(
      found.some((i) => i.startsWith(expected)),
      found.join("\n"),
    ).toBe(true);
  });

  it("bounds counts: 9 init containers are too many", () => {
    const inits = Array.from({ length: 9 }, (_, i) => ({ name: `c${i}`, image: "i" }));
    expect(issues({}, { initContainers: inits }).join()).toMatch(/template\.initContainers: Too big/);
  });
});
