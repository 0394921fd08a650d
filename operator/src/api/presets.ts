// Per-runtime defaults: the port the server listens on and the endpoints the kubelet may call.
// Readiness (and the startup probe) use the server's "ready" endpoint; liveness uses only a cheap
// "live" endpoint and never one that runs inference, so a slow model is never killed for being busy.
// Sources: research/anchors-serving.md §4 (KServe OIP, vLLM, TGI, Triton, TorchServe, NIM docs).

export const RUNTIME_PRESETS = [
  "openInference",
  "openai",
  "vllm",
  "tgi",
  "triton",
  "torchserve",
  "nim",
  "http",
] as const;
export type RuntimePreset = (typeof RUNTIME_PRESETS)[number];

export interface PresetDefaults {
  /** Container port the server listens on when spec.runtime.port is absent. */
  readonly port: number;
  /** Path for the readiness and startup probes. */
  readonly readinessPath: string;
  /** Path for the liveness probe; never an inference call. */
  readonly livenessPath: string;
}

export const PRESET_DEFAULTS: Readonly<Record<RuntimePreset, PresetDefaults>> = Object.freeze({
  // Open Inference Protocol (KServe v2, MLServer, OpenVINO): 8080 is MLServer's and KServe's HTTP port.
  openInference: { port: 8080, readinessPath: "/v2/health/ready", livenessPath: "/v2/health/live" },
  // Generic OpenAI-compatible server; vLLM's default port.
  openai: { port: 8000, readinessPath: "/health", livenessPath: "/health" },
  // vLLM: /health answers 503 once the engine is dead, so it serves both probes.
  vllm: { port: 8000, readinessPath: "/health", livenessPath: "/health" },
  // TGI's container image listens on 80 (launcher default 3000 is overridden by the image's PORT).
  tgi: { port: 80, readinessPath: "/health", livenessPath: "/health" },
  // Triton's HTTP endpoint speaks the Open Inference Protocol health API.
  triton: { port: 8000, readinessPath: "/v2/health/ready", livenessPath: "/v2/health/live" },
  // TorchServe's inference API port; /ping reports worker health.
  torchserve: { port: 8080, readinessPath: "/ping", livenessPath: "/ping" },
  // NVIDIA NIM: split live/ready endpoints, like the NIM Operator's own probes.
  nim: { port: 8000, readinessPath: "/v1/health/ready", livenessPath: "/v1/health/live" },
  // Any HTTP server: spec.runtime.healthPath, or "/".
  http: { port: 8080, readinessPath: "/", livenessPath: "/" },
});

export interface ResolvedEndpoints {
  port: number;
  readinessPath: string;
  livenessPath: string;
}

/** What the kubelet probes and the container port, after applying the preset to the spec. */
export function resolveRuntimeEndpoints(runtime: {
  preset: RuntimePreset;
  port?: number | undefined;
  healthPath?: string | undefined;
}): ResolvedEndpoints {
  const preset = PRESET_DEFAULTS[runtime.preset];
  const port = runtime.port ?? preset.port;
  if (runtime.preset === "http" && runtime.healthPath !== undefined) {
    return { port, readinessPath: runtime.healthPath, livenessPath: runtime.healthPath };
  }
  return { port, readinessPath: preset.readinessPath, livenessPath: preset.livenessPath };
}
