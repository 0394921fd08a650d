// Specs written before the pod-template fields existed (spec.runtime.envFrom/volumeMounts/ports/
// probes/lifecycle, spec.template.volumes/initContainers/runtimeClassName/topologySpreadConstraints/
// terminationGracePeriodSeconds). upgrade.test.ts renders each and compares with what the operator
// rendered before those fields existed (upgrade.golden.ts): an upgrade must not change them.
export const UPGRADE_CASES: Record<string, { spec: Record<string, unknown>; predates?: boolean }> = {
  minimal: { spec: {} },
  everyPresetField: {
    spec: {
      model: { name: "llm", version: "2026-11-01" },
      runtime: {
        preset: "vllm",
        image: "registry.example/vllm:0.9",
        port: 8001,
        command: ["python", "-m", "vllm.entrypoints.openai.api_server"],
        args: ["--model", "/mnt/models"],
        env: [
          { name: "HF_HOME", value: "/tmp/hf" },
          { name: "TOKEN", valueFrom: { secretKeyRef: { name: "hf", key: "token" } } },
        ],
        resources: { limits: { "nvidia.com/gpu": 1, memory: "32Gi" }, requests: { cpu: "4" } },
        shmSize: "8Gi",
        startupTimeoutSeconds: 3600,
      },
    },
  },
  // The artifacts work (issue #13) gives URIs volumes and arguments; a revision made before it
  // must keep running with MODEL_URI only.
  modelUri: { spec: { model: { name: "rec", version: "v1", uri: "s3://models/rec/v1" } } },
  httpPreset: { spec: { runtime: { preset: "http", image: "registry.example/h:1", healthPath: "/ok" } } },
  template: {
    spec: {
      template: {
        metadata: { labels: { team: "recs" }, annotations: { "example.com/a": "b" } },
        nodeSelector: { gpu: "a100" },
        tolerations: [{ key: "gpu", operator: "Exists", effect: "NoSchedule" }],
        affinity: { nodeAffinity: {} },
        imagePullSecrets: [{ name: "regcred" }],
        priorityClassName: "high",
        serviceAccountName: "model-sa",
        securityContext: { runAsUser: 1000, fsGroup: 2000, readOnlyRootFilesystem: true },
      },
    },
  },
  profileNone: { spec: { template: { securityContext: { profile: "None" } } } },
  predatesPodSecurity: { spec: {}, predates: true },
};
