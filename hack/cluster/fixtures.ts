// Fixture model servers inside the pod network namespace: every fake pod IP is a local address
// there, so one server on 0.0.0.0:<port> answers for every pod (and tells pods apart by the local
// address of each connection). Their control APIs listen on the namespace's veth address, which
// the host reaches directly and nothing else can.
import { type ChildProcess, spawn } from "node:child_process";
import { createConnection } from "node:net";
import { join } from "node:path";
import { NETNS, NS_ADDR } from "./network.ts";

const root = join(import.meta.dirname, "..", "..");

export interface FixtureServer {
  port: number;
  controlUrl: string;
  pid: number | undefined;
  /** false when an earlier run's server was already listening (it is left alone). */
  ownedByUs: boolean;
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

/** Starts (or finds) the fixture for runtime port `port`, control API on `controlPort`. */
export async function startFixture(port: number, controlPort: number): Promise<FixtureServer> {
  const controlUrl = `http://${NS_ADDR}:${controlPort}`;
  if (await listening(NS_ADDR, controlPort)) {
    return { port, controlUrl, pid: undefined, ownedByUs: false, stop: async () => {} };
  }
  const child: ChildProcess = spawn(
    "ip",
    [
      "netns",
      "exec",
      NETNS,
      process.execPath,
      join(root, "e2e/fixtures/model-server.ts"),
      "--port",
      String(port),
      "--bind",
      "0.0.0.0",
      "--control-port",
      String(controlPort),
      "--control-bind",
      NS_ADDR,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("model server listening")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`fixture model server on :${port} exited (${code})`)));
  });
  return {
    port,
    controlUrl,
    pid: child.pid,
    ownedByUs: true,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    },
  };
}
