import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ModelServer, startModelServer } from "../../testing/model-server.ts";
import type { RuntimePreset } from "../api/presets.ts";
import { checksFor, httpCheck, inferenceCheck, presetChecks, readJsonPath, runProbeRound } from "./checks.ts";
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

describe("expected fields and spec.health.checks, against the fixture model server", () => {
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

  const run = (ip: string, ...checks: ReturnType<typeof httpCheck>[]) =>
    runProbeRound(client, { ip, port: server.port }, checks, 1000);
  // GET /v2/models/recommender answers {name, versions, platform, inputs, outputs}: no "error".
  const metadata = (expectField: Parameters<typeof httpCheck>[1]["expectField"], expectStatus?: number) =>
    httpCheck("metadata", {
      path: "/v2/models/recommender",
      ...(expectField ? { expectField } : {}),
      ...(expectStatus !== undefined ? { expectStatus } : {}),
    });

  it.each([
    ["exists: false passes when the field is absent", { path: "error", exists: false }, undefined],
    [
      "exists: false fails when the field is there",
      { path: "name", exists: false },
      'metadata: answer has field name ("recommender"), expected none',
    ],
    ["exists: true passes when the field is there", { path: "name", exists: true }, undefined],
    [
      "exists: true fails when the field is absent",
      { path: "error", exists: true },
      "metadata: answer has no field error",
    ],
    ["a path alone means exists: true", { path: "error" }, "metadata: answer has no field error"],
    ["exists: false: null counts as absent", { path: "outputs.0.shape.9", exists: false }, undefined],
    [
      "equalsText matches a string as text",
      { path: "platform", equalsText: "modelship-fixture-logreg" },
      undefined,
    ],
    ["equalsText matches a string written as JSON", { path: "versions.0", equalsText: '"v1"' }, undefined],
    [
      "equalsText matches a number rendered as JSON",
      { path: "outputs.0.shape.1", equalsText: "1" },
      undefined,
    ],
    [
      "equalsText matches an array rendered as JSON",
      { path: "outputs.0.shape", equalsText: "[-1, 1]" },
      undefined,
    ],
    [
      "equalsText fails on another value",
      { path: "outputs.0.shape.1", equalsText: "2" },
      "metadata: outputs.0.shape.1 is 1, expected 2",
    ],
    [
      "equalsText fails on an absent field",
      { path: "nope", equalsText: "null" },
      "metadata: nope is undefined, expected null",
    ],
  ])("%s", async (_name, field, error) => {
    server.setPod(GOOD, { modelVersion: "v1" });
    const r = await run(GOOD, metadata(field));
    expect(r.error).toBe(error);
    expect(r.ok).toBe(error === undefined);
  });

  it("an error answer with the expected status is judged by its fields too", async () => {
    const r = await run(
      GOOD,
      httpCheck("gone", { path: "/nope", expectStatus: 404, expectField: { path: "error", exists: false } }),
    );
    expect(r.error).toMatch(/^gone: answer has field error \("no route for GET \/nope"\), expected none$/);
  });

  it("the inference check's exists: false passes an answer without the field and fails one with it", async () => {
    const body = { inputs: [{ name: "price_usd", shape: [1], datatype: "FP32", data: [25] }] };
    const infer = (field: string) =>
      inferenceCheck({
        path: "/v2/models/recommender/infer",
        body,
        expectField: { path: field, exists: false },
      });
    expect(await run(GOOD, infer("error"))).toMatchObject({ ok: true, inferenceOk: true });
    const bad = await run(GOOD, infer("model_name"));
    expect(bad).toMatchObject({ ok: false, inferenceOk: false });
    expect(bad.error).toBe('inference: answer has field model_name ("recommender"), expected none');
  });

  it("spec.health.checks replace the preset's checks and run in order before the inference check", async () => {
    const checks = checksFor({
      preset: "openInference",
      modelName: "recommender",
      path: "/ignored",
      checks: [
        { path: "/v2/health/live" },
        {
          name: "metadata",
          path: "/v2/models/recommender",
          expectField: { path: "name", equalsText: "recommender" },
        },
        { path: "/v2/health/live" },
      ],
      inference: { path: "/v2/models/recommender", method: "GET" },
    });
    expect(checks.map((c) => [c.name, c.request.method, c.request.path, c.inference ?? false])).toEqual([
      ["GET /v2/health/live", "GET", "/v2/health/live", false],
      ["metadata", "GET", "/v2/models/recommender", false],
      ["GET /v2/health/live #2", "GET", "/v2/health/live", false],
      ["inference", "GET", "/v2/models/recommender", true],
    ]);
    expect(await run(GOOD, ...checks)).toMatchObject({ ok: true, inferenceOk: true });
    server.setPod(BAD, { modelName: "ranker" });
    const bad = await run(BAD, ...checks);
    expect(bad.checks.map((c) => [c.check, c.ok])).toEqual([
      ["GET /v2/health/live", true],
      ["metadata", false],
    ]);
    expect(bad.error).toBe("metadata: HTTP 404, expected 2xx");
  });

  it("without spec.health.checks the preset's checks run (with health.path)", () => {
    expect(
      checksFor({ preset: "openInference", modelName: "m", path: "/r" }).map((c) => c.request.path),
    ).toEqual(["/r", "/v2/models/m/ready"]);
    expect(checksFor({ preset: "nim", modelName: "m", checks: [] }).map((c) => c.name)).toEqual(["ready"]);
  });

  it("a user check named like the inference check is not taken for it", async () => {
    const checks = checksFor({
      preset: "http",
      modelName: "m",
      checks: [{ name: "inference", path: "/v2/health/live" }],
    });
    const r = await run(GOOD, ...checks);
    expect(r).toMatchObject({ ok: true });
    expect(r).not.toHaveProperty("inferenceOk");
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
