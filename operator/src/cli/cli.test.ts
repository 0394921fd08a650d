// The whole command path (argv → client-node → HTTP) against a local HTTP server on 127.0.0.1 that
// answers like the API server (plain HTTP needs insecure-skip-tls-verify in client-node), so the request method, path, content type and body are checked.
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { connect } from "./cluster.ts";
import { type CliDeps, runCli } from "./main.ts";
import { CANARY_REV, canaryMidStep, deployment, NOW, STABLE_REV } from "./testing.ts";

interface Seen {
  method: string;
  url: string;
  contentType: string;
  body: unknown;
}

const MD_PATH = "/apis/modelship.dev/v1alpha1/namespaces/shop/modeldeployments";
let server: Server;
let kubeconfig: string;
let seen: Seen[] = [];

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text === "" ? undefined : JSON.parse(text);
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const body = await readBody(req);
    seen.push({
      method: req.method ?? "",
      url: req.url ?? "",
      contentType: req.headers["content-type"] ?? "",
      body,
    });
    const url = new URL(req.url ?? "/", "http://localhost");
    const json = (code: number, obj: unknown) => {
      res.writeHead(code, { "content-type": "application/json" });
      res.end(JSON.stringify(obj));
    };
    if (url.pathname === `${MD_PATH}/recommender`) return json(200, canaryMidStep());
    if (url.pathname.startsWith(MD_PATH)) {
      return json(404, {
        kind: "Status",
        apiVersion: "v1",
        status: "Failure",
        reason: "NotFound",
        code: 404,
        message: 'modeldeployments.modelship.dev "missing" not found',
      });
    }
    if (url.pathname === "/apis/apps/v1/namespaces/shop/deployments") {
      return json(200, {
        kind: "DeploymentList",
        apiVersion: "apps/v1",
        metadata: {},
        items: [deployment(STABLE_REV, 3, 3), deployment(CANARY_REV, 1, 1)],
      });
    }
    json(404, { kind: "Status", code: 404, message: "no route" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const dir = mkdtempSync(join(tmpdir(), "modelship-cli-"));
  kubeconfig = join(dir, "kubeconfig");
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        { name: "local", cluster: { server: `http://127.0.0.1:${port}`, "insecure-skip-tls-verify": true } },
      ],
      users: [{ name: "me", user: { token: "t" } }],
      contexts: [{ name: "local", context: { cluster: "local", user: "me", namespace: "shop" } }],
      "current-context": "local",
    }),
  );
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen = [];
});

function deps(stop?: Promise<void>): CliDeps & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: {
      line: (t) => stdout.push(t),
      err: (t) => stderr.push(t),
      write: (t) => stdout.push(t),
      isTTY: false,
    },
    env: {},
    connect: (inv) => connect(inv.connection),
    now: () => NOW,
    watch: () => ({
      stopped: stop ?? new Promise(() => {}),
      sleep: () => new Promise((r) => setTimeout(r, 5)),
    }),
  };
}

describe("kubectl modelship against an API server", () => {
  it("promote sets the annotation with a JSON merge patch on metadata only", async () => {
    const d = deps();
    const code = await runCli(["promote", "recommender", "--kubeconfig", kubeconfig], d);
    expect(code).toBe(0);
    const patch = seen.find((s) => s.method === "PATCH");
    expect(patch).toEqual({
      method: "PATCH",
      url: `${MD_PATH}/recommender`,
      contentType: "application/merge-patch+json",
      body: { metadata: { annotations: { "modelship.dev/promote": new Date(NOW).toISOString() } } },
    });
    expect(d.stdout[0]).toContain("modeldeployment shop/recommender: promote requested");
  });

  it("resume removes the pause annotation (merge patch null) only when paused", async () => {
    const d = deps();
    expect(await runCli(["resume", "recommender", "--kubeconfig", kubeconfig], d)).toBe(0);
    expect(d.stderr).toEqual(["warning: modeldeployment shop/recommender: not paused"]);
    expect(seen.some((s) => s.method === "PATCH")).toBe(false);
  });

  it("a missing object exits 1 with a message naming it", async () => {
    const d = deps();
    const code = await runCli(["abort", "missing", "--kubeconfig", kubeconfig], d);
    expect(code).toBe(1);
    expect(d.stderr).toEqual(["error: modeldeployment shop/missing: not found"]);
  });

  it("a namespace flag overrides the context's namespace", async () => {
    const d = deps();
    expect(await runCli(["history", "recommender", "-n", "other", "--kubeconfig", kubeconfig], d)).toBe(1);
    expect(seen[0]?.url).toBe("/apis/modelship.dev/v1alpha1/namespaces/other/modeldeployments/recommender");
  });

  it("status reads the object and its Deployments by label", async () => {
    const d = deps();
    expect(await runCli(["status", "recommender", "--kubeconfig", kubeconfig], d)).toBe(0);
    expect(seen.map((s) => s.url)).toEqual([
      `${MD_PATH}/recommender`,
      "/apis/apps/v1/namespaces/shop/deployments?labelSelector=modelship.dev%2Fdeployment%3Drecommender",
    ]);
    expect(d.stdout.join("\n")).toMatch(new RegExp(`${CANARY_REV}\\s+canary\\s+2026-11-01\\s+1/1\\s+10%`));
  });

  it("status --watch into a pipe prints a frame only when something changed, and stops on the signal", async () => {
    let stop = () => {};
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const d = deps(stopped);
    // Stop once the watch has read the object a few times (not after a fixed time: a loaded machine
    // polls less often), or after 5 s, when the count below fails the test.
    const started = Date.now();
    const timer = setInterval(() => {
      if (seen.length > 2 || Date.now() - started > 5_000) {
        clearInterval(timer);
        stop();
      }
    }, 10);
    expect(await runCli(["status", "recommender", "-w", "--kubeconfig", kubeconfig], d)).toBe(0);
    expect(seen.length).toBeGreaterThan(2);
    expect(d.stdout.filter((l) => l.startsWith("ModelDeployment shop/recommender"))).toHaveLength(1);
  });

  it("undo --dry-run prints the spec change and the GitOps warning without patching", async () => {
    const d = deps();
    expect(await runCli(["undo", "recommender", "--dry-run", "--kubeconfig", kubeconfig], d)).toBe(0);
    expect(d.stderr[0]).toContain("undo CHANGES SPEC");
    expect(d.stdout.join("\n")).toContain("spec.model.version:  2026-11-01 -> 2026-09-01");
    expect(seen.some((s) => s.method === "PATCH")).toBe(false);
  });

  it("an unknown context is an error naming the known ones", async () => {
    const d = deps();
    expect(await runCli(["status", "x", "--context", "nope", "--kubeconfig", kubeconfig], d)).toBe(1);
    expect(d.stderr).toEqual(['error: context "nope" is not in the kubeconfig (known: local)']);
  });
});
