import { describe, expect, it } from "vitest";
import { type ModelDeploymentInput, parseModelDeployment } from "./index.ts";
import { STREAM_GATES_NEED_STREAM, STREAM_NEEDS_OPENAI_PRESET } from "./stream-health.ts";

function parse(spec: Partial<ModelDeploymentInput["spec"]>) {
  return parseModelDeployment({
    apiVersion: "modelship.dev/v1alpha1",
    kind: "ModelDeployment",
    metadata: { name: "chat", namespace: "llm" },
    spec: { model: { name: "chat", version: "1" }, runtime: { image: "vllm:1", preset: "vllm" }, ...spec },
  });
}

const issues = (r: ReturnType<typeof parse>) => (r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`));

describe("spec.health.stream and the stream gates", () => {
  it("accepts a vLLM model with a stream and every gate, in analysis and in a step", () => {
    const r = parse({
      health: { stream: { maxTokens: 16 } },
      rollout: {
        analysis: {
          maxTTFTp99Ms: 500,
          maxTPOTp99Ms: 50,
          minTokensPerSecond: 10,
          maxTTFTp99RelativeToStable: 1.5,
        },
        steps: [{ setWeight: 10 }, { analysis: { maxTPOTp99RelativeToStable: 1.2 } }],
      },
    });
    expect(issues(r)).toEqual([]);
    // No defaults are stored inside the stream block: they are resolved in memory.
    expect(r.ok && r.value.spec.health.stream).toEqual({ maxTokens: 16 });
  });

  it.each([
    ["analysis", { rollout: { analysis: { maxTTFTp99Ms: 500 } } }, "rollout.analysis"],
    [
      "a step",
      { rollout: { steps: [{ analysis: { minTokensPerSecond: 5 } }] } },
      "rollout.steps[0].analysis",
    ],
  ])("refuses a stream gate in %s without spec.health.stream", (_, spec, path) => {
    expect(issues(parse(spec)).join("\n")).toContain(`${path}: ${STREAM_GATES_NEED_STREAM}`);
  });

  it("refuses a stream for a preset that does not speak OpenAI's streaming chat API", () => {
    const r = parse({ runtime: { image: "i", preset: "openInference" }, health: { stream: {} } });
    expect(issues(r).join("\n")).toContain(STREAM_NEEDS_OPENAI_PRESET);
  });

  it.each([
    ["maxTokens 0", { stream: { maxTokens: 0 } }],
    ["maxTokens above 256", { stream: { maxTokens: 257 } }],
    ["a path a request line cannot carry", { stream: { path: "/v1 x" } }],
    ["an empty prompt", { stream: { prompt: "" } }],
  ])("bounds the stream's inputs: %s", (_, health) => {
    expect(parse({ health }).ok).toBe(false);
  });
});
