import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCidrAllowList } from "./cidr.ts";
import { ProbeHttpClient } from "./http-client.ts";

interface Rig {
  server: Server;
  port: number;
  connections: number;
  hits: Map<string, number>;
  aborted: number;
}

async function startRig(host: string): Promise<Rig> {
  const rig: Rig = { server: createServer(), port: 0, connections: 0, hits: new Map(), aborted: 0 };
  rig.server.on("connection", () => {
    rig.connections++;
  });
  rig.server.on("request", (req, res) => {
    const path = req.url ?? "/";
    rig.hits.set(path, (rig.hits.get(path) ?? 0) + 1);
    res.on("close", () => {
      if (!res.writableFinished) rig.aborted++;
    });
    if (path === "/hang") return;
    if (path === "/headers-then-hang") {
      res.writeHead(200, { "content-type": "application/json" });
      res.flushHeaders();
      return;
    }
    if (path === "/trickle") {
      // One byte every 50 ms, for ever: under any per-chunk timeout, never a complete body.
      res.writeHead(200, { "content-type": "application/json" });
      res.write("[");
      const drip = setInterval(() => {
        if (res.destroyed) clearInterval(drip);
        else res.write(" ");
      }, 50);
      res.on("close", () => clearInterval(drip));
      return;
    }
    if (path === "/redirect") {
      res.writeHead(302, { location: "/target" }).end();
      return;
    }
    if (path === "/big" || path === "/big-declared") {
      const total = 10 * 1024 * 1024;
      res.writeHead(200, path === "/big-declared" ? { "content-length": total } : {});
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let left = total;
      const pump = () => {
        while (left > 0 && !res.destroyed) {
          left -= chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        if (!res.destroyed) res.end();
      };
      pump();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ path }));
  });
  await new Promise<void>((resolve) => rig.server.listen(0, host, resolve));
  rig.port = (rig.server.address() as AddressInfo).port;
  return rig;
}

describe("ProbeHttpClient", () => {
  let a: Rig; // 127.0.0.4: allowed
  let b: Rig; // 127.0.0.5: allowed
  let outside: Rig; // 127.0.0.6: listening but outside the allow-list
  let client: ProbeHttpClient;

  beforeAll(async () => {
    [a, b, outside] = await Promise.all([
      startRig("127.0.0.4"),
      startRig("127.0.0.5"),
      startRig("127.0.0.6"),
    ]);
    client = new ProbeHttpClient({ allowList: parseCidrAllowList(["127.0.0.4/31"]) });
  });
  afterAll(async () => {
    await client.close();
    for (const r of [a, b, outside]) {
      r.server.closeAllConnections();
      await new Promise<void>((resolve) => r.server.close(() => resolve()));
    }
  });

  it("reuses one keep-alive connection per target", async () => {
    const before = b.connections;
    for (let i = 0; i < 20; i++) {
      const r = await client.request(
        { ip: "127.0.0.5", port: b.port },
        { method: "GET", path: "/ok", timeoutMs: 1000 },
      );
      expect(r).toMatchObject({ kind: "response", status: 200, body: '{"path":"/ok"}' });
    }
    expect(b.connections - before).toBe(1);
  });

  it("times out a hanging server without stalling probes of other targets", async () => {
    const t0 = performance.now();
    const hanging = client.request(
      { ip: "127.0.0.4", port: a.port },
      { method: "GET", path: "/hang", timeoutMs: 400 },
    );
    const others = await Promise.all(
      Array.from({ length: 10 }, () =>
        client.request({ ip: "127.0.0.5", port: b.port }, { method: "GET", path: "/ok", timeoutMs: 1000 }),
      ),
    );
    const othersDone = performance.now() - t0;
    expect(others.every((r) => r.kind === "response" && r.status === 200)).toBe(true);
    expect(othersDone).toBeLessThan(300);
    const r = await hanging;
    expect(r.kind).toBe("timeout");
    expect(r.latencyMs).toBeGreaterThanOrEqual(390);
    expect(r.latencyMs).toBeLessThan(1500);
    // and the target works again afterwards on a fresh connection
    const again = await client.request(
      { ip: "127.0.0.4", port: a.port },
      { method: "GET", path: "/ok", timeoutMs: 1000 },
    );
    expect(again.kind).toBe("response");
  });

  it.each([
    ["hangs after the headers", "/headers-then-hang"],
    ["trickles the body a byte every 50 ms (under the per-chunk timeout)", "/trickle"],
    ["never answers", "/hang"],
  ])("ends an exchange whose server %s at its deadline and destroys the connection", async (_what, path) => {
    const target = { ip: "127.0.0.4", port: a.port };
    await client.request(target, { method: "GET", path: "/ok", timeoutMs: 1000 });
    const pools = client.poolCount;
    const abortedBefore = a.aborted;
    const r = await client.request(target, { method: "GET", path, timeoutMs: 400 });
    expect(r.kind).toBe("timeout");
    if (r.kind === "timeout") expect(r.error).toContain("within 400 ms (connect, headers and body)");
    expect(r.latencyMs).toBeGreaterThanOrEqual(390);
    expect(r.latencyMs).toBeLessThan(700);
    expect(client.poolCount).toBe(pools - 1);
    // the server sees its side torn down, not left open
    await expect.poll(() => a.aborted - abortedBefore, { timeout: 2000 }).toBe(1);
    // and the next probe dials afresh and works
    const connections = a.connections;
    const again = await client.request(target, { method: "GET", path: "/ok", timeoutMs: 1000 });
    expect(again.kind).toBe("response");
    expect(a.connections).toBe(connections + 1);
  });

  it("drops the pool of a target that refused the connection", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.5", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const pools = client.poolCount;
    const r = await client.request({ ip: "127.0.0.5", port }, { method: "GET", path: "/", timeoutMs: 500 });
    expect(r.kind).toBe("connect-error");
    expect(client.poolCount).toBe(pools);
  });

  it.each([["/big"], ["/big-declared"]])("cuts off a 10 MB body (%s) at the 1 MiB cap", async (path) => {
    const abortedBefore = a.aborted;
    const r = await client.request(
      { ip: "127.0.0.4", port: a.port },
      { method: "GET", path, timeoutMs: 5000 },
    );
    expect(r.kind).toBe("body-too-large");
    expect(r).toMatchObject({ status: 200 });
    if (r.kind === "body-too-large") expect(r.error).toContain("1048576-byte limit");
    // the server sees its response torn down, not read to the end
    await expect.poll(() => a.aborted - abortedBefore, { timeout: 2000 }).toBe(1);
  });

  it("treats a redirect as a failure and never follows it", async () => {
    const r = await client.request(
      { ip: "127.0.0.4", port: a.port },
      { method: "GET", path: "/redirect", timeoutMs: 1000 },
    );
    expect(r).toMatchObject({ kind: "redirect", status: 302 });
    if (r.kind === "redirect") expect(r.error).toContain("/target");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(a.hits.get("/target") ?? 0).toBe(0);
  });

  it.each([
    ["a loopback address outside the list", "127.0.0.6"],
    ["the cloud metadata address", "169.254.169.254"],
    ["a host name", "localhost"],
    ["an IPv4-mapped form of an address outside the list", "::ffff:127.0.0.6"],
  ])("refuses %s without dialling", async (_name, ip) => {
    const before = outside.connections;
    const r = await client.request(
      { ip, port: outside.port },
      { method: "GET", path: "/ok", timeoutMs: 500 },
    );
    expect(r.kind).toBe("refused");
    if (r.kind === "refused") expect(r.error).toMatch(/outside the prober allow-list|never dialled/);
    expect(r.latencyMs).toBe(0);
    expect(outside.connections).toBe(before);
    expect(outside.hits.size).toBe(0);
  });

  it.each([["//evil/x"], ["relative"], ["/a b"], ["/a\r\nHost: evil"], ["/v2/../admin"]])(
    "refuses the path %j without a request",
    async (path) => {
      const hits = [...a.hits.values()].reduce((x, y) => x + y, 0);
      const r = await client.request(
        { ip: "127.0.0.4", port: a.port },
        { method: "GET", path, timeoutMs: 500 },
      );
      expect(r.kind).toBe("refused");
      expect([...a.hits.values()].reduce((x, y) => x + y, 0)).toBe(hits);
    },
  );

  it("reports a closed port as a connect error", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.4", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const r = await client.request({ ip: "127.0.0.4", port }, { method: "GET", path: "/", timeoutMs: 500 });
    expect(r.kind).toBe("connect-error");
    if (r.kind === "connect-error") expect(r.error).toContain("ECONNREFUSED");
  });

  it("forget closes the target's connection", async () => {
    await client.request({ ip: "127.0.0.5", port: b.port }, { method: "GET", path: "/ok", timeoutMs: 1000 });
    const pools = client.poolCount;
    client.forget({ ip: "127.0.0.5", port: b.port });
    expect(client.poolCount).toBe(pools - 1);
  });
});
