// Tests of the fixture model server that the prober's unit tests, e2e, the demo and the benchmarks
// all run against: what it serves, how it tells pods apart, and the faults its control API injects.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadCtrModel, predictCtr } from "./ctr-model.ts";
import { LOAD_TAG_HEADER, type ModelServer, POD_HEADER, startModelServer } from "./model-server.ts";

const POD_A = "127.0.0.2";
const POD_B = "127.0.0.3";

describe("fixture model server", () => {
  let server: ModelServer;
  const get = (ip: string, path: string, init?: RequestInit) => fetch(`${server.url(ip)}${path}`, init);
  const control = (method: string, path: string, body?: unknown) =>
    fetch(`${server.controlUrl}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  beforeAll(async () => {
    server = await startModelServer({ bind: [POD_A, POD_B] });
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    await control("DELETE", `/pods/${POD_A}`);
    await control("DELETE", `/pods/${POD_B}`);
  });

  it("serves the real CTR model over OIP v2 infer", async () => {
    const model = loadCtrModel();
    const rows = [[20, 0.9, 10, 0.3, 1, 1], [120, 0.05, 0, 0, 0, 9], model.features.map((f) => f.mean)];
    const res = await get(POD_A, "/v2/models/recommender/infer", {
      method: "POST",
      body: JSON.stringify({
        id: "r1",
        inputs: [{ name: "features", shape: [3, 6], datatype: "FP32", data: rows.flat() }],
      }),
    });
    expect(res.status).toBe(200);
    const out = (await res.json()) as {
      id: string;
      outputs: { name: string; shape: number[]; data: number[] }[];
    };
    expect(out.id).toBe("r1");
    expect(out.outputs[0]?.shape).toEqual([3, 1]);
    const data = out.outputs[0]?.data ?? [];
    expect(data[2]).toBeCloseTo(1 / (1 + Math.exp(3)), 12); // all features at their means: sigmoid(bias)
    expect(data[0]).toBeCloseTo(predictCtr(model, rows[0] as number[]), 12);
    expect(data[0]).toBeGreaterThan(0.9); // cheap, liked category, many past clicks, top slot
    expect(data[1]).toBeLessThan(0.01);
  });

  it("answers infer with 400 and a reason for a wrongly shaped tensor", async () => {
    const res = await get(POD_A, "/v2/models/recommender/infer", {
      method: "POST",
      body: JSON.stringify({ inputs: [{ name: "features", shape: [1, 2], data: [1, 2] }] }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain("shape [n, 6]");
  });

  it("speaks the OpenAI, TGI, TorchServe and NIM endpoints", async () => {
    expect(await (await get(POD_A, "/v1/models")).json()).toMatchObject({ data: [{ id: "recommender" }] });
    const chat = await get(POD_A, "/v1/chat/completions", {
      method: "POST",
      body: JSON.stringify({ model: "recommender", messages: [{ role: "user", content: "{}" }] }),
    });
    expect(await chat.json()).toMatchObject({
      choices: [{ message: { content: (1 / (1 + Math.exp(3))).toFixed(6) } }],
    });
    expect(await (await get(POD_A, "/info")).json()).toMatchObject({ model_id: "recommender" });
    expect(await (await get(POD_A, "/ping")).json()).toEqual({ status: "Healthy" });
    expect((await get(POD_A, "/v1/health/ready")).status).toBe(200);
    expect((await get(POD_A, "/v2/health/live")).status).toBe(200);
  });

  it("tells pods apart by local address and keeps per-pod stats", async () => {
    const put = await control("PUT", `/pods/${POD_B}`, { ready: false, modelVersion: "v2" });
    expect(put.status).toBe(200);
    expect((await get(POD_A, "/v2/health/ready")).status).toBe(200);
    expect((await get(POD_B, "/v2/health/ready")).status).toBe(503);
    expect((await get(POD_B, "/v2/health/live")).status).toBe(200);
    expect(await (await get(POD_B, "/v2/models/recommender")).json()).toMatchObject({ versions: ["v2"] });
    const stats = await (await control("GET", `/pods/${POD_B}/stats`)).json();
    expect(stats).toEqual({
      ip: POD_B,
      requests: 3,
      errors: 1,
      byRoute: { "GET /v2/health/ready": 1, "GET /v2/health/live": 1, "GET /v2/models/recommender": 1 },
    });
    expect(server.podStats(POD_A)).toMatchObject({ requests: 1, errors: 0 });
  });

  it("sums the counts of a group of pods, and says when there is no data yet", async () => {
    await control("PUT", `/pods/${POD_A}`, { errorRate: 0.5 });
    for (let i = 0; i < 4; i++) await get(POD_A, "/v2/health/ready");
    for (let i = 0; i < 4; i++) await get(POD_B, "/v2/health/ready");
    const res = await control("GET", `/stats?ips=${POD_A},${POD_B}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { pods: { ip: string }[]; total: unknown };
    expect(body.pods.map((p) => p.ip)).toEqual([POD_A, POD_B]);
    expect(body.total).toEqual({ requests: 8, errors: 2, successRate: 0.75 });
    expect(await (await control("GET", "/stats?ips=127.0.0.9")).json()).toMatchObject({
      total: { requests: 0, errors: 0, successRate: null },
    });
    expect((await control("GET", "/stats")).status).toBe(400);
  });

  it("counts a tagged request under its route and under the route plus its tag", async () => {
    await get(POD_A, "/v2/health/ready", { headers: { [LOAD_TAG_HEADER]: "run-1" } });
    await get(POD_A, "/v2/health/ready");
    expect(server.podStats(POD_A).byRoute).toEqual({
      "GET /v2/health/ready": 2,
      "GET /v2/health/ready #run-1": 1,
    });
  });

  it("names the pod that answered in a header, errors and faults included", async () => {
    expect((await get(POD_A, "/v2/health/ready")).headers.get(POD_HEADER)).toBe(POD_A);
    expect((await get(POD_B, "/no/such/route")).headers.get(POD_HEADER)).toBe(POD_B);
    await control("PUT", `/pods/${POD_B}`, { errorRate: 1 });
    const failed = await get(POD_B, "/v2/health/ready");
    expect(failed.status).toBe(500);
    expect(failed.headers.get(POD_HEADER)).toBe(POD_B);
  });

  it("validates control input and names the bad field", async () => {
    const bad = await control("PUT", `/pods/${POD_A}`, { errorRate: 2 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain("errorRate");
    const unknown = await control("PUT", "/defaults", { latency: 5 });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: string }).error).toContain("latency");
    const notJson = await fetch(`${server.controlUrl}/defaults`, { method: "PUT", body: "{" });
    expect(notJson.status).toBe(400);
  });

  it("injects an exact error rate", async () => {
    await control("PUT", `/pods/${POD_A}`, { errorRate: 0.25 });
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) statuses.push((await get(POD_A, "/health")).status);
    expect(statuses.filter((s) => s === 500)).toHaveLength(25);
    expect(server.podStats(POD_A)).toMatchObject({ requests: 100, errors: 25 });
  });

  it("applies defaults to every pod without overrides", async () => {
    try {
      await control("PUT", "/defaults", { modelName: "ranker" });
      await control("PUT", `/pods/${POD_B}`, { modelName: "recommender" });
      expect(await (await get(POD_A, "/v1/models")).json()).toMatchObject({ data: [{ id: "ranker" }] });
      expect(await (await get(POD_B, "/v1/models")).json()).toMatchObject({ data: [{ id: "recommender" }] });
    } finally {
      server.setDefaults({ modelName: "recommender" });
    }
  });

  it("injects latency, big bodies and redirects", async () => {
    await control("PUT", `/pods/${POD_A}`, { latencyMs: 80 });
    const t0 = performance.now();
    expect((await get(POD_A, "/health")).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(75);

    await control("PUT", `/pods/${POD_B}`, { bigBodyBytes: 3_000_000 });
    expect((await (await get(POD_B, "/health")).arrayBuffer()).byteLength).toBe(3_000_000);

    await control("PUT", `/pods/${POD_B}`, { bigBodyBytes: 0, redirect: true });
    const r = await get(POD_B, "/health", { redirect: "manual" });
    expect(r.status).toBe(302);
    expect(r.headers.get("location")).toBe("/redirected");
  });

  it("trickles a body that never ends, a byte at a time, and still closes promptly", async () => {
    const other = await startModelServer({ bind: ["127.0.0.1"] });
    other.setPod("127.0.0.1", { trickleMs: 20 });
    const res = await fetch(`${other.url()}/v2/health/ready`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let bytes = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 200) bytes += (await reader.read()).value?.byteLength ?? 0;
    // about one byte per 20 ms: still arriving, never finished
    expect(bytes).toBeGreaterThanOrEqual(3);
    expect(bytes).toBeLessThan(40);
    const closing = performance.now();
    await other.close();
    expect(performance.now() - closing).toBeLessThan(1000);
    await reader.cancel().catch(() => undefined);
  });

  it("hangs on request and still closes promptly", async () => {
    const other = await startModelServer({ bind: ["127.0.0.1"] });
    other.setPod("127.0.0.1", { hang: true });
    const pending = fetch(`${other.url()}/health`, { signal: AbortSignal.timeout(5000) }).then(
      () => "answered",
      () => "failed",
    );
    const raced = await Promise.race([
      pending,
      new Promise((resolve) => setTimeout(() => resolve("hanging"), 200)),
    ]);
    expect(raced).toBe("hanging");
    const t0 = performance.now();
    await other.close();
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(await pending).toBe("failed");
  });
});
