import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ModelServer, startModelServer } from "../../testing/model-server.ts";
import type { RuntimePreset } from "../api/presets.ts";
import { inferenceCheck, presetChecks, readJsonPath, runProbeRound } from "./checks.ts";
import { parseCidrAllowList } from "./cidr.ts";
import { ProbeHttpClient } from "./http-client.ts";

// Two "pods" of one fixture server: 127.0.0.2 healthy, 127.0.0.3 with faults injected per test.
const GOOD = "127.0.0.2";
const BAD = "127.0.0.3";

describe("deep checks per runtime preset, against the fixture model server", () => {
  let server: ModelServer;
  let client: ProbeHttpClient;

  beforeAll(async () => {
    server = await startModelServer({ bind: [GOOD, BAD] });
    client = new ProbeHttpClient({ allowList: parseCidrAllowList(["127.0.0.0/8"]) });
  });
  afterAll(async () => {
    await client.close();
    await server.close();
  });
  beforeEach(() => {
    server.resetPod(GOOD);
    server.resetPod(BAD);
  });

  const round = (ip: string, preset: RuntimePreset, modelName = "recommender", path?: string) =>
    runProbeRound(
      client,
      { ip, port: server.port },
      presetChecks(path === undefined ? { preset, modelName } : { preset, modelName, path }),
      1000,
    );

  it.each([
    ["openInference", ["server-ready", "model-ready"]],
    ["triton", ["server-ready", "model-ready"]],
    ["openai", ["health", "models-list"]],
    ["vllm", ["health", "models-list"]],
    ["tgi", ["health", "info"]],
    ["torchserve", ["ping"]],
    ["nim", ["ready"]],
  ] as const)("%s passes on a ready pod and fails on a pod that is not ready", async (preset, checks) => {
    server.setPod(BAD, { ready: false });
    const good = await round(GOOD, preset);
    expect(good.ok).toBe(true);
    expect(good.checks.map((c) => c.check)).toEqual(checks);
    const bad = await round(BAD, preset);
    expect(bad.ok).toBe(false);
    expect(bad.checks.at(-1)).toMatchObject({ ok: false, reason: "status" });
    expect(bad.error).toContain("503");
  });

  it("http preset probes the given path", async () => {
    server.setPod(BAD, { ready: false });
    expect((await round(GOOD, "http", "x", "/v2/health/ready")).ok).toBe(true);
    expect((await round(BAD, "http", "x", "/v2/health/ready")).error).toBe("http: HTTP 503");
    expect((await round(GOOD, "http", "x", "/nope")).error).toBe("http: HTTP 404");
  });

  it.each([
    ["openai", 'models-list: /v1/models does not list "recommender" (serves: ranker)', "model-missing"],
    ["vllm", 'models-list: /v1/models does not list "recommender" (serves: ranker)', "model-missing"],
    ["openInference", "model-ready: HTTP 404", "status"],
    ["tgi", 'info: /info serves "ranker", expected "recommender"', "model-missing"],
  ] as const)("%s fails when the pod serves another model", async (preset, error, reason) => {
    server.setPod(BAD, { modelName: "ranker" });
    const r = await round(BAD, preset);
    expect(r).toMatchObject({ ok: false, error });
    expect(r.checks.at(-1)).toMatchObject({ reason });
  });

  it("tgi accepts a Hugging Face repo id ending in the model name", async () => {
    server.setPod(BAD, { modelName: "shop/recommender" });
    expect((await round(BAD, "tgi")).ok).toBe(true);
  });

  it("a round stops at the first failing check", async () => {
    server.setPod(BAD, { errorRate: 1 });
    const r = await round(BAD, "openInference");
    expect(r.checks).toHaveLength(1);
    expect(r.error).toBe("server-ready: HTTP 500");
  });

  describe("inference check", () => {
    const body = {
      inputs: [{ name: "features", shape: [1, 6], datatype: "FP32", data: [20, 0.9, 10, 0.3, 1, 1] }],
    };

    it("passes when the answer has the expected field, and its latency is the sample's", async () => {
      const checks = [
        ...presetChecks({ preset: "openInference", modelName: "recommender" }),
        inferenceCheck({
          path: "/v2/models/recommender/infer",
          body,
          expectField: { path: "outputs[0].data[0]" },
        }),
      ];
      const r = await runProbeRound(client, { ip: GOOD, port: server.port }, checks, 1000);
      expect(r).toMatchObject({ ok: true, inferenceOk: true });
      expect(r.latencyMs).toBe(r.checks[2]?.latencyMs);
    });

    it("compares a field with an expected value", async () => {
      const pass = inferenceCheck({
        path: "/v2/models/recommender/infer",
        body,
        expectField: { path: "outputs.0.name", equals: "probability" },
      });
      const fail = inferenceCheck({
        path: "/v2/models/recommender/infer",
        body,
        expectField: { path: "outputs.0.name", equals: "logits" },
      });
      expect((await runProbeRound(client, { ip: GOOD, port: server.port }, [pass], 1000)).ok).toBe(true);
      const r = await runProbeRound(client, { ip: GOOD, port: server.port }, [fail], 1000);
      expect(r).toMatchObject({
        ok: false,
        inferenceOk: false,
        error: 'inference: outputs.0.name is "probability", expected "logits"',
      });
    });

    it("fails a correct but slow answer", async () => {
      server.setPod(BAD, { latencyMs: 120 });
      const check = inferenceCheck({ path: "/v2/models/recommender/infer", body, maxLatencyMs: 50 });
      const r = await runProbeRound(client, { ip: BAD, port: server.port }, [check], 1000);
      expect(r.checks[0]).toMatchObject({ ok: false, reason: "slow" });
      expect(r.error).toMatch(/inference: took \d+ ms, above the 50 ms limit/);
    });

    it("checks an expected status and the OpenAI completion shape", async () => {
      const check = inferenceCheck({
        path: "/v1/completions",
        body: { model: "recommender", prompt: '{"price_usd": 20}' },
        expectStatus: 200,
        expectField: { path: "choices[0].text" },
      });
      expect((await runProbeRound(client, { ip: GOOD, port: server.port }, [check], 1000)).ok).toBe(true);
      server.setPod(BAD, { modelName: "ranker" });
      const r = await runProbeRound(client, { ip: BAD, port: server.port }, [check], 1000);
      expect(r.error).toBe("inference: HTTP 404, expected 200");
    });
  });
});

describe("readJsonPath", () => {
  it.each([
    ["a.b", { a: { b: 1 } }, 1],
    ["a[1].c", { a: [{}, { c: "x" }] }, "x"],
    ["a.1.c", { a: [{}, { c: "x" }] }, "x"],
    ["a.missing", { a: {} }, undefined],
    ["a.0", { a: "str" }, undefined],
    ["toString", {}, undefined],
  ])("%s", (path, value, expected) => {
    expect(readJsonPath(value, path)).toEqual(expected);
  });
});
