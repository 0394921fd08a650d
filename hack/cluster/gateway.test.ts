// The loopback-only check on Traefik's listeners reads /proc; prove it on this process's own sockets.
import { createServer, type Server } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { listenersOf } from "./gateway.ts";

const servers: Server[] = [];
function listen(host: string): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    servers.push(srv);
    srv.listen(0, host, () => resolve((srv.address() as { port: number }).port));
  });
}

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

// Skipped off Linux: listenersOf reads /proc, which is where Traefik's sockets are checked.
describe.skipIf(process.platform !== "linux")("listenersOf", () => {
  it("names each listening socket of a process with its address, loopback or not", async () => {
    const lo = await listen("127.0.0.1");
    const any = await listen("0.0.0.0");
    const mine = listenersOf(process.pid);
    expect(mine).toContain(`127.0.0.1:${lo}`);
    expect(mine).toContain(`0.0.0.0:${any}`);
  });
});
