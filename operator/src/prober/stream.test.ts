import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ModelServer, startModelServer } from "../../testing/model-server.ts";
import { checksFor, runProbeRound } from "./checks.ts";
import { parseCidrAllowList } from "./cidr.ts";
import { ProbeHttpClient } from "./http-client.ts";
import { runStreamCheck, type StreamCheckSpec } from "./stream.ts";

// One fixture server; 127.0.0.4 is the pod whose stream behaviour each test sets.
const POD = "127.0.0.4";

describe("the streaming check against the fixture's OpenAI-compatible streaming endpoint", () => {
  let server: ModelServer;
  let client: ProbeHttpClient;
  let spec: StreamCheckSpec;

  beforeAll(async () => {
    server = await startModelServer({ bind: [POD] });
    client = new ProbeHttpClient({ allowList: parseCidrAllowList(["127.0.0.0/8"]) });
    spec = { path: "/v1/chat/completions", model: server.model.name, prompt: "hi", maxTokens: 6 };
  });
  afterAll(async () => {
    await client.close();
    await server.close();
  });
  beforeEach(() => server.resetPod(POD));

  const stream = (timeoutMs = 2000, s: Partial<StreamCheckSpec> = {}) =>
    runStreamCheck(client, { ip: POD, port: server.port }, { ...spec, ...s }, timeoutMs);

  it("measures TTFT and TPOT as the pod paces its tokens, capped at maxTokens", async () => {
    server.setPod(POD, { ttftMs: 120, tpotMs: 25, streamTokens: 50 });
    const r = await stream();
    if (!r.ok) throw new Error(r.error);
    expect(r.sample.tokens).toBe(6);
    expect(r.sample.ttftMs).toBeGreaterThanOrEqual(115);
    expect(r.sample.ttftMs).toBeLessThan(400);
    expect(r.sample.tpotMs).toBeGreaterThanOrEqual(20);
    expect(r.sample.tpotMs).toBeLessThan(120);
    expect(r.sample.tokensPerSecond).toBeCloseTo((6 * 1000) / (r.sample.ttftMs + 5 * r.sample.tpotMs), 0);
  });

  it("reuses the keep-alive connection stream after stream", async () => {
    for (let i = 0; i < 3; i++) expect((await stream()).ok).toBe(true);
    expect(client.poolCount).toBe(1);
  });

  it("fails an early-stopping stream with a clear error", async () => {
    server.setPod(POD, { streamFault: "early-stop", streamTokens: 8 }); // 6 (maxTokens), half of them
    expect(await stream()).toMatchObject({
      ok: false,
      reason: "stream-ended",
      error: "stream ended early: 3 tokens, then the connection closed before [DONE] or a finish_reason",
    });
  });

  it("fails a malformed event", async () => {
    server.setPod(POD, { streamFault: "malformed" });
    expect(await stream()).toMatchObject({
      ok: false,
      reason: "stream-malformed",
      error: expect.stringContaining("is not JSON"),
    });
  });

  it("fails a pod that sends no first token within the timeout, however long it keeps the stream open", async () => {
    server.setPod(POD, { ttftMs: 5000 });
    const started = Date.now();
    expect(await stream(300)).toMatchObject({
      ok: false,
      reason: "no-first-token",
      error: "no first token within 300 ms",
    });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it("fails a stream that outlives the deadline after its first token, with the count so far", async () => {
    server.setPod(POD, { tpotMs: 200, streamTokens: 20 });
    expect(await stream(500, { maxTokens: 20 })).toMatchObject({
      ok: false,
      reason: "timeout",
      error: expect.stringMatching(/^stream not complete within 500 ms \(\d tokens so far\)$/),
    });
  });

  it("cuts off a stream past its byte budget", async () => {
    server.setPod(POD, { streamTokens: 4096 });
    expect(await stream(2000, { maxTokens: 4096, maxBytes: 8 * 1024 })).toMatchObject({
      ok: false,
      reason: "body-too-large",
      error: "stream exceeds the 8192-byte limit; cut off",
    });
  });

  it("fails an HTTP error with its status and the start of its body", async () => {
    expect(await stream(2000, { model: "no-such-model" })).toMatchObject({
      ok: false,
      reason: "status",
      error: expect.stringMatching(/^HTTP 404: .*no-such-model does not exist/),
    });
  });

  it("runs last in a probe round: the round's latency leaves the stream out, its timings come back", async () => {
    server.setPod(POD, { ttftMs: 150 });
    const checks = checksFor({ preset: "vllm", modelName: server.model.name, stream: spec });
    expect(checks.map((c) => c.name)).toEqual(["health", "models-list", "stream"]);
    const round = await runProbeRound(client, { ip: POD, port: server.port }, checks, 2000);
    expect(round.ok).toBe(true);
    expect(round.latencyMs).toBeLessThan(150);
    expect(round.stream?.ttftMs).toBeGreaterThanOrEqual(145);
    server.setPod(POD, { streamFault: "early-stop" });
    const failed = await runProbeRound(client, { ip: POD, port: server.port }, checks, 2000);
    expect(failed).toMatchObject({ ok: false, error: expect.stringMatching(/^stream: stream ended early/) });
    expect(failed.stream).toBeUndefined();
  });
});
