import { describe, expect, it } from "vitest";
import { PRESET_DEFAULTS, RUNTIME_PRESETS, resolveRuntimeEndpoints } from "./presets.ts";

describe("runtime presets", () => {
  it("cover every preset with an absolute path and a valid port", () => {
    for (const preset of RUNTIME_PRESETS) {
      const d = PRESET_DEFAULTS[preset];
      expect(d.readinessPath.startsWith("/")).toBe(true);
      expect(d.livenessPath.startsWith("/")).toBe(true);
      expect(d.port).toBeGreaterThan(0);
    }
  });

  it("never point liveness at an inference or model endpoint", () => {
    for (const preset of RUNTIME_PRESETS) {
      expect(PRESET_DEFAULTS[preset].livenessPath).not.toMatch(/infer|completions|models|predictions/);
    }
  });

  it.each([
    ["openInference", 8080, "/v2/health/ready", "/v2/health/live"],
    ["triton", 8000, "/v2/health/ready", "/v2/health/live"],
    ["vllm", 8000, "/health", "/health"],
    ["nim", 8000, "/v1/health/ready", "/v1/health/live"],
    ["torchserve", 8080, "/ping", "/ping"],
  ] as const)("%s defaults to port %i, ready %s, live %s", (preset, port, readinessPath, livenessPath) => {
    expect(resolveRuntimeEndpoints({ preset })).toEqual({ port, readinessPath, livenessPath });
  });

  it("lets spec.runtime.port override the preset's port", () => {
    expect(resolveRuntimeEndpoints({ preset: "vllm", port: 9000 }).port).toBe(9000);
  });

  it("uses healthPath for preset http, and / without it", () => {
    expect(resolveRuntimeEndpoints({ preset: "http", healthPath: "/status" })).toMatchObject({
      readinessPath: "/status",
      livenessPath: "/status",
    });
    expect(resolveRuntimeEndpoints({ preset: "http" }).readinessPath).toBe("/");
  });
});
