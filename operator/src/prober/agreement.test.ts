// Output agreement: how two answers compare (pure), the window of pairs, and one pair against the
// fixture model server, whose per-pod faults (scoreDrift, answerText) make a canary answer differently.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ModelServer, startModelServer } from "../../testing/model-server.ts";
import {
  type AgreementProbeSpec,
  AgreementWindow,
  type Comparison,
  compareValues,
  runAgreementPair,
  tokenOverlap,
} from "./agreement.ts";
import { parseCidrAllowList } from "./cidr.ts";
import { ProbeHttpClient } from "./http-client.ts";

const exact: Comparison = { compare: "Exact" };
const numeric = (absoluteTolerance: number, relativeTolerance = 0): Comparison => ({
  compare: "Numeric",
  absoluteTolerance,
  relativeTolerance,
});
const text = (minTokenOverlap?: number): Comparison =>
  minTokenOverlap === undefined ? { compare: "Text" } : { compare: "Text", minTokenOverlap };

describe("compareValues", () => {
  it.each<[string, unknown, unknown, Comparison, string]>([
    ["the same label", "cat", "cat", exact, "agree"],
    ["another label", "cat", "dog", exact, "disagree"],
    ["the same classes, deep", [{ label: "a", id: 1 }], [{ label: "a", id: 1 }], exact, "agree"],
    ["a number vs its text, exact", 1, "1", exact, "disagree"],
    ["a score within the absolute tolerance", 0.31, 0.35, numeric(0.05), "agree"],
    ["a score beyond it", 0.31, 0.51, numeric(0.05), "disagree"],
    ["a score within the relative tolerance", 100, 104, numeric(0, 0.05), "agree"],
    ["a score beyond both added up", 100, 106.1, numeric(1, 0.05), "disagree"],
    ["scores element by element", [0.1, [0.2, 0.3]], [0.11, [0.2, 0.29]], numeric(0.02), "agree"],
    ["one element out of tolerance", [0.1, 0.2, 0.3], [0.1, 0.2, 0.4], numeric(0.02), "disagree"],
    ["a different number of scores", [0.1, 0.2], [0.1], numeric(1), "disagree"],
    ["a canary answering text where the stable gives a number", 0.5, "0.5", numeric(1), "disagree"],
    ["a stable answer that is no number", "0.5", 0.5, numeric(1), "invalid"],
    [
      "texts differing in case and whitespace only",
      "The answer is  Paris.",
      " the answer is\nparis. ",
      text(),
      "agree",
    ],
    ["different texts", "The answer is Paris.", "The answer is Lyon.", text(), "disagree"],
    [
      "texts sharing enough tokens",
      "the capital of france is paris",
      "paris is the capital of france",
      text(0.9),
      "agree",
    ],
    ["texts sharing too few", "the capital of france is paris", "i do not know", text(0.5), "disagree"],
    ["a stable answer that is no text", 1, "1", text(), "invalid"],
  ])("%s", (_name, stable, canary, comparison, kind) => {
    expect(compareValues(stable, canary, comparison).kind).toBe(kind);
  });

  it("says which element differs and by how much", () => {
    expect(compareValues([0.1, 0.2], [0.1, 0.45], numeric(0.05))).toEqual({
      kind: "disagree",
      why: "[1] differs by 0.25 (tolerance 0.05)",
    });
  });

  it("token overlap is token F1 over word multisets", () => {
    expect(tokenOverlap("a b c d", "a b c d")).toBe(1);
    expect(tokenOverlap("a b c d", "a b x y")).toBe(0.5);
    expect(tokenOverlap("a a b", "a b b")).toBeCloseTo(2 / 3, 12);
    expect(tokenOverlap("", "")).toBe(1);
    expect(tokenOverlap("Paris!", "paris")).toBe(1);
  });
});

describe("AgreementWindow", () => {
  it("keeps the newest pairs; a skipped pair is not a sample but is remembered", () => {
    const w = new AgreementWindow({ maxSamples: 4 });
    expect(w.stats()).toMatchObject({ samples: 0, skipped: 0 });
    expect(Number.isNaN(w.stats().rate)).toBe(true);
    w.add({ kind: "disagree", message: "pair 1" }, 1);
    for (let i = 2; i <= 4; i++) w.add({ kind: "agree" }, i);
    w.add({ kind: "skipped", error: "stable pod a: timeout" }, 5);
    expect(w.stats()).toEqual({
      samples: 4,
      agreements: 3,
      rate: 0.75,
      skipped: 1,
      lastDisagreement: "pair 1",
      lastSkip: "stable pod a: timeout",
    });
    // The fifth compared pair pushes the disagreement out; the pair itself is still shown.
    w.add({ kind: "agree" }, 6);
    expect(w.stats()).toMatchObject({ samples: 4, agreements: 4, rate: 1, lastDisagreement: "pair 1" });
  });

  it("drops pairs older than maxAgeMs", () => {
    const w = new AgreementWindow({ maxAgeMs: 1000 });
    w.add({ kind: "disagree", message: "old" }, 0);
    w.add({ kind: "agree" }, 900);
    expect(w.stats(1500)).toMatchObject({ samples: 1, agreements: 1 });
  });
});

const STABLE = "127.0.0.2";
const CANARY = "127.0.0.3";

describe("runAgreementPair against the fixture model server", () => {
  let server: ModelServer;
  let client: ProbeHttpClient;
  const stable = () => ({ ip: STABLE, port: server.port, podName: "rec-a-0" });
  const canary = () => ({ ip: CANARY, port: server.port, podName: "rec-b-0" });
  const oip = (comparison: Comparison, timeoutMs = 1000): AgreementProbeSpec => ({
    request: {
      method: "POST",
      path: "/v2/models/recommender/infer",
      body: { inputs: [{ name: "price_usd", shape: [2], datatype: "FP32", data: [25, 120] }] },
    },
    jsonPath: "$.outputs[0].data",
    comparison,
    pairsPerInterval: 1,
    intervalMs: 1000,
    timeoutMs,
  });
  const chat = (comparison: Comparison): AgreementProbeSpec => ({
    request: {
      method: "POST",
      path: "/v1/chat/completions",
      body: { model: "recommender", messages: [{ role: "user", content: "{}" }], temperature: 0, seed: 7 },
    },
    jsonPath: "$.choices[0].message.content",
    comparison,
    pairsPerInterval: 1,
    intervalMs: 1000,
    timeoutMs: 1000,
  });

  beforeAll(async () => {
    server = await startModelServer({ bind: [STABLE, CANARY] });
    client = new ProbeHttpClient({ allowList: parseCidrAllowList(["127.0.0.0/8"]) });
  });
  afterAll(async () => {
    await client.close();
    await server.close();
  });
  beforeEach(() => {
    server.resetPod(STABLE);
    server.resetPod(CANARY);
  });

  it("agrees when both pods serve the same model", async () => {
    expect(await runAgreementPair(client, stable(), canary(), oip(numeric(0)))).toEqual({ kind: "agree" });
    expect(await runAgreementPair(client, stable(), canary(), chat(text()))).toEqual({ kind: "agree" });
  });

  it("a canary whose scores drifted beyond the tolerance disagrees, and the message shows both answers", async () => {
    server.setPod(CANARY, { scoreDrift: 0.2 });
    const out = await runAgreementPair(client, stable(), canary(), oip(numeric(0.05)));
    expect(out.kind).toBe("disagree");
    const message = out.kind === "disagree" ? out.message : "";
    expect(message).toMatch(
      /^at \$\.outputs\[0\]\.data stable pod rec-a-0 answered \[0\.\d+,0\.\d+\], canary pod rec-b-0 answered \[0\.\d+,0\.\d+\] \(\[0\] differs by 0\.2 \(tolerance 0\.05\)\)$/,
    );
  });

  it("a drift within the tolerance agrees", async () => {
    server.setPod(CANARY, { scoreDrift: 0.01 });
    expect((await runAgreementPair(client, stable(), canary(), oip(numeric(0.05)))).kind).toBe("agree");
    expect((await runAgreementPair(client, stable(), canary(), oip(numeric(0.001)))).kind).toBe("disagree");
  });

  it("a chat canary that answers something else disagrees in text mode, with both texts", async () => {
    server.setPod(CANARY, { answerText: "I cannot help with that." });
    const out = await runAgreementPair(client, stable(), canary(), chat(text(0.5)));
    expect(out).toEqual({
      kind: "disagree",
      message: expect.stringContaining(
        'canary pod rec-b-0 answered "I cannot help with that." (token overlap 0 below 0.5)',
      ),
    });
  });

  it("a pair without a usable answer on either side is skipped, not a disagreement", async () => {
    server.setPod(STABLE, { errorRate: 1 });
    expect(await runAgreementPair(client, stable(), canary(), oip(exact))).toEqual({
      kind: "skipped",
      error: "stable pod rec-a-0: HTTP 500",
    });
    server.resetPod(STABLE);
    server.setPod(CANARY, { hang: true });
    const started = performance.now();
    const out = await runAgreementPair(client, stable(), canary(), oip(exact, 200));
    expect(out).toEqual({ kind: "skipped", error: expect.stringMatching(/^canary pod rec-b-0: timeout/) });
    // The per-request deadline holds.
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("a canary that answers 2xx with no readable value disagrees; a stable without the field is skipped", async () => {
    server.setPod(CANARY, { bigBodyBytes: 100 });
    expect(await runAgreementPair(client, stable(), canary(), oip(exact))).toEqual({
      kind: "disagree",
      message: expect.stringContaining("canary pod rec-b-0 answered (no value) (answer is not JSON)"),
    });
    server.resetPod(CANARY);
    // Another model on the canary answers 404: an error, the success rate's business.
    server.setPod(CANARY, { modelName: "ranker" });
    expect(await runAgreementPair(client, stable(), canary(), oip(exact))).toEqual({
      kind: "skipped",
      error: "canary pod rec-b-0: HTTP 404",
    });
    const chatSpec = { ...chat(exact), jsonPath: "$.choices[0].logprobs" };
    expect(await runAgreementPair(client, stable(), canary(), chatSpec)).toEqual({
      kind: "skipped",
      error: "stable pod rec-a-0: answer has no $.choices[0].logprobs",
    });
  });
});
