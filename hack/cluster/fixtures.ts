// Fixture model servers inside the pod network namespace: every fake pod IP is a local address
// there, so one server on 0.0.0.0:<port> answers for every pod (and tells pods apart by the local
// address of each connection). Their control APIs listen on the namespace's veth address, which
// the host reaches directly and nothing else can.
//
// Several test runs (or a run and the demo) may share one netns, hence one server per port: each
// user registers its PID, and the last one out stops the server (by the PID it recorded).
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { alive, clustersRoot } from "./control-plane.ts";
import { NETNS, NS_ADDR } from "./network.ts";

const root = join(import.meta.dirname, "..", "..");

export interface FixtureServer {
  port: number;
  controlUrl: string;
  /** Unregisters this process; stops the server when no other live user remains. */
  stop(): Promise<void>;
}

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host, port, timeout: 500 });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
    s.once("timeout", () => {
      s.destroy();
      resolve(false);
    });
  });
}

function dirFor(port: number): string {
  const d = join(clustersRoot(), ".fixtures", String(port));
  mkdirSync(join(d, "users"), { recursive: true });
  return d;
}

function liveUsers(dir: string): number[] {
  return readdirSync(join(dir, "users"))
    .map(Number)
    .filter((pid) => {
      if (alive(pid)) return true;
      rmSync(join(dir, "users", String(pid)), { force: true });
      return false;
    });
}

/** Stops fixture servers that no live process uses any more (hack/cluster/down). */
export function stopUnusedFixtures(): void {
  const base = join(clustersRoot(), ".fixtures");
  if (!existsSync(base)) return;
  for (const port of readdirSync(base)) {
    const dir = join(base, port);
    const pidFile = join(dir, "server.pid");
    if (liveUsers(dir).length > 0 || !existsSync(pidFile)) continue;
    const pid = Number(readFileSync(pidFile, "utf8"));
    rmSync(pidFile, { force: true });
    if (pid > 0 && alive(pid)) process.kill(pid, "SIGTERM");
  }
}

/** Starts (or joins) the fixture for runtime port `port`, control API on `controlPort`. */
export async function startFixture(port: number, controlPort: number): Promise<FixtureServer> {
  const controlUrl = `http://${NS_ADDR}:${controlPort}`;
  const dir = dirFor(port);
  writeFileSync(join(dir, "users", String(process.pid)), "");
  if (!(await listening(NS_ADDR, controlPort))) {
    const log = openSync(join(dir, "server.log"), "a");
    const child = spawn(
      "ip",
      [
        ...["netns", "exec", NETNS, process.execPath, join(root, "operator/testing/model-server.ts")],
        ...[
          "--port",
          String(port),
          "--bind",
          "0.0.0.0",
          "--control-port",
          String(controlPort),
          "--control-bind",
          NS_ADDR,
        ],
      ],
      { detached: true, stdio: ["ignore", log, log] },
    );
    child.unref();
    writeFileSync(join(dir, "server.pid"), String(child.pid));
    const deadline = Date.now() + 20_000;
    while (!(await listening(NS_ADDR, controlPort))) {
      if (Date.now() > deadline)
        throw new Error(`fixture model server on :${port} did not start; see ${dir}/server.log`);
      await sleep(100);
    }
  }
  return {
    port,
    controlUrl,
    async stop() {
      rmSync(join(dir, "users", String(process.pid)), { force: true });
      if (liveUsers(dir).length > 0) return;
      const pidFile = join(dir, "server.pid");
      if (!existsSync(pidFile)) return;
      const pid = Number(readFileSync(pidFile, "utf8"));
      rmSync(pidFile, { force: true });
      // `ip netns exec` execs node, so this PID is the server itself.
      if (pid > 0 && alive(pid)) process.kill(pid, "SIGTERM");
    },
  };
}
