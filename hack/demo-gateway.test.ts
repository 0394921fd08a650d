// The demo's live share: bounded batches through a gateway, answers counted per revision.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POD_HEADER } from "../operator/testing/model-server.ts";
import { describeShare, startLiveShare } from "./demo-gateway.ts";

describe("startLiveShare", () => {
  let server: Server;
  let url = "";
  let served = 0;
  beforeAll(async () => {
    // A stand-in gateway: every third request fails, the rest alternate between two pods.
    server = createServer((req, res) => {
      req.resume();
      const n = served++;
      if (n % 3 === 2) res.writeHead(500).end();
      else res.writeHead(200, { [POD_HEADER]: n % 3 === 0 ? "10.240.0.1" : "10.240.0.2" }).end("{}");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("sends bounded batches and counts answers per revision and failures", async () => {
    served = 0;
    const live = startLiveShare({
      url,
      host: "recommender.shop.demo",
      path: "/v2/models/recommender/infer",
      body: "{}",
      podRevisions: () => ({ "10.240.0.1": "aaa111", "10.240.0.2": "bbb222" }),
      batch: 30,
      intervalMs: 10,
      maxBatches: 2,
    });
    // Two batches and no more: the bound holds without stop().
    for (let i = 0; i < 200 && served < 60; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    await live.stop();
    expect(served).toBe(60);
    const share = live.latest();
    expect(share).toEqual({ byRevision: { aaa111: 10, bbb222: 10 }, failures: 10, total: 30 });
    expect(describeShare(share ?? { byRevision: {}, failures: 0, total: 0 })).toBe(
      "aaa111 33%, bbb222 33%; 10 of 30 failed",
    );
  });

  it("dials loopback only", () => {
    expect(() =>
      startLiveShare({ url: "http://10.0.0.1:80", host: "x", path: "/", body: "", podRevisions: () => ({}) }),
    ).toThrow(/loopback only/);
  });
});
