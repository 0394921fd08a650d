// The loopback-only check on Traefik's listeners reads /proc; prove it on this process's own sockets.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { listenersOf, traefikCrdFile } from "./gateway.ts";

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

describe("traefikCrdFile", () => {
  it("takes the copy build-traefik.sh put beside the binary", () => {
    const bin = mkdtempSync(join(tmpdir(), "traefik-bin-"));
    writeFileSync(join(bin, "traefik-crds.yaml"), "kind: CustomResourceDefinition\n");
    expect(traefikCrdFile(bin)).toBe(join(bin, "traefik-crds.yaml"));
  });

  // Needs go (the module comes from Go's module cache, or the Go module proxy once).
  it.skipIf(spawnSync("go", ["version"]).status !== 0)(
    "else finds Traefik's CRD file in its module, TraefikService included",
    () => {
      const file = traefikCrdFile(mkdtempSync(join(tmpdir(), "traefik-bin-")));
      const text = readFileSync(file, "utf8");
      expect(text).toContain("name: traefikservices.traefik.io");
      expect(text).toContain("mirroring:");
    },
    300_000,
  );
});
