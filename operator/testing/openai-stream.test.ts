import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ModelServer, startModelServer } from "./model-server.ts";

// The fixture's streaming completions, as a client without the prober sees them.
describe("fixture: OpenAI-compatible streaming completions", () => {
  let server: ModelServer;
  const post = (path: string, body: unknown) =>
    fetch(`${server.url()}${path}`, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "content-type": "application/json" },
    });

  beforeAll(async () => {
    server = await startModelServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it("streams chat chunks (role first, one token each, finish_reason, usage, [DONE]) capped at max_tokens", async () => {
    server.setDefaults({ streamTokens: 5 });
    const res = await post("/v1/chat/completions", {
      model: server.model.name,
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 3,
      stream: true,
    });
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const events = (await res.text()).split("\n\n").filter((e) => e !== "");
    expect(events.at(-1)).toBe("data: [DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice("data: ".length)));
    expect(chunks[0].choices[0].delta).toEqual({ role: "assistant", content: "" });
    expect(chunks.slice(1, 4).map((c) => c.choices[0].delta.content)).toEqual(["Hello", " tok1", " tok2"]);
    expect(chunks.at(-1)).toMatchObject({
      choices: [{ finish_reason: "length" }],
      usage: { completion_tokens: 3 },
    });
  });

  it("streams legacy completions as text chunks, and still answers without stream as before", async () => {
    const streamed = await (
      await post("/v1/completions", { model: server.model.name, prompt: "hi", stream: true })
    ).text();
    expect(streamed).toContain('"text":"Hello"');
    const plain = (await (
      await post("/v1/chat/completions", {
        model: server.model.name,
        messages: [{ role: "user", content: "{}" }],
      })
    ).json()) as {
      choices: { message: { content: string } }[];
    };
    expect(plain.choices[0]?.message.content).toMatch(/^0\.\d{6}$/);
  });

  it("takes per-pod stream behaviour from the control API and refuses an unknown fault", async () => {
    const put = (body: unknown) =>
      fetch(`${server.controlUrl}/pods/127.0.0.1`, { method: "PUT", body: JSON.stringify(body) });
    expect((await put({ ttftMs: 50, streamFault: "early-stop" })).status).toBe(200);
    expect((await put({ streamFault: "explode" })).status).toBe(400);
    const text = await (
      await post("/v1/chat/completions", {
        model: server.model.name,
        messages: [],
        stream: true,
        max_tokens: 4,
      })
    ).text();
    expect(text).not.toContain("[DONE]");
    expect(text).not.toContain('finish_reason":"');
    server.resetPod("127.0.0.1");
  });
});
