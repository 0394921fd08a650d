// A ModelDeployment's runtime and template using every pod-template field (api/pod-template.ts):
// the schema, render and e2e tests (e2e/pod-template.e2e.test.ts) all use this one shape.
/** A spec that uses every field this schema adds; the render and e2e tests use the same shape. */
export const FULL_RUNTIME = {
  preset: "vllm",
  envFrom: [
    { configMapRef: { name: "llm-config" } },
    { secretRef: { name: "hf-token", optional: true }, prefix: "HF_" },
  ],
  volumeMounts: [
    { name: "weights", mountPath: "/weights", readOnly: true },
    { name: "cache", mountPath: "/root/.cache", subPath: "vllm" },
  ],
  ports: [{ name: "metrics", containerPort: 9090 }],
  probes: {
    startup: { periodSeconds: 5, timeoutSeconds: 3 },
    readiness: { path: "/v1/models", periodSeconds: 3, failureThreshold: 2, initialDelaySeconds: 1 },
    liveness: { periodSeconds: 20, timeoutSeconds: 10, failureThreshold: 3 },
  },
  lifecycle: { preStop: { sleep: { seconds: 20 } } },
};
export const FULL_TEMPLATE = {
  volumes: [
    { name: "weights", persistentVolumeClaim: { claimName: "llm-weights", readOnly: true } },
    { name: "cache", emptyDir: { sizeLimit: "20Gi" } },
    {
      name: "config",
      configMap: { name: "llm-config", items: [{ key: "chat.jinja", path: "templates/chat.jinja" }] },
    },
    { name: "tls", secret: { secretName: "llm-tls", defaultMode: 0o400 } },
    {
      name: "scratch",
      ephemeral: {
        volumeClaimTemplate: {
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "50Gi" } } },
        },
      },
    },
  ],
  initContainers: [
    {
      name: "warm-cache",
      image: "registry.example/tools:1",
      command: ["sh", "-c", "true"],
      volumeMounts: [{ name: "cache", mountPath: "/cache" }],
    },
    {
      name: "metrics-proxy",
      image: "registry.example/proxy:1",
      restartPolicy: "Always",
      ports: [{ name: "proxy", containerPort: 9091 }],
      envFrom: [{ configMapRef: { name: "proxy-config" } }],
      resources: { limits: { cpu: "100m", memory: "64Mi" } },
    },
  ],
  runtimeClassName: "nvidia",
  topologySpreadConstraints: [
    { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway" },
    {
      maxSkew: 1,
      topologyKey: "kubernetes.io/hostname",
      whenUnsatisfiable: "DoNotSchedule",
      matchLabelKeys: ["modelship.dev/revision"],
      minDomains: 1,
    },
  ],
  terminationGracePeriodSeconds: 60,
};
