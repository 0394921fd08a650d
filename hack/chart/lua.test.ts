// Argo CD's health and action scripts under the same Lua VM as Argo CD (gopher-lua, Lua 5.1,
// sandboxed libraries), through the Go harness in hack/lua. Skips only when `go` is missing.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHART, GO_ENV, hasGo, ROOT, run } from "./tools.ts";

const ARGOCD = join(CHART, "argocd");
const HARNESS = join(ROOT, "hack", "lua");
const go = hasGo();

interface HealthTests {
  tests: { inputPath: string; healthStatus: { status: string; message?: string } }[];
}
interface ActionTests {
  discoveryTests: { inputPath: string; result: { name: string; disabled: boolean }[] }[];
  actionTests: { action: string; inputPath: string; annotations: Record<string, string | null> }[];
}
const healthTests = yaml.load(readFileSync(join(ARGOCD, "health_test.yaml"), "utf8")) as HealthTests;
const actionTests = yaml.load(
  readFileSync(join(ARGOCD, "actions", "action_test.yaml"), "utf8"),
) as ActionTests;

// Skipped without a Go toolchain: the Lua 5.1 VM is gopher-lua, built by hack/lua (CI machines have Go).
describe.skipIf(!go)(
  go ? "Argo CD Lua under gopher-lua" : "Argo CD Lua (skipped: `go` is not on PATH)",
  () => {
    let dir: string;
    let bin: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), "modelship-lua-"));
      bin = join(dir, "luaharness");
      const r = run("go", ["build", "-o", bin, "."], { cwd: HARNESS, env: GO_ENV });
      if (r.status !== 0) throw new Error(`go build in hack/lua failed:\n${r.stderr}`);
    }, 300_000);
    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const harness = (kind: string, script: string, fixture: string): unknown => {
      const r = run(bin, [kind, script, fixture]);
      if (r.status !== 0) throw new Error(`luaharness ${kind} ${script} ${fixture}:\n${r.stderr}`);
      return JSON.parse(r.stdout);
    };

    for (const tc of healthTests.tests) {
      it(`health: ${tc.inputPath} is ${tc.healthStatus.status}`, () => {
        expect(harness("health", join(ARGOCD, "health.lua"), join(ARGOCD, tc.inputPath))).toEqual(
          tc.healthStatus,
        );
      });
    }

    for (const tc of actionTests.discoveryTests) {
      it(`discovery: ${tc.inputPath}`, () => {
        const got = harness(
          "discovery",
          join(ARGOCD, "discovery.lua"),
          join(ARGOCD, "actions", tc.inputPath),
        ) as {
          name: string;
          disabled: boolean;
        }[];
        for (const want of tc.result) {
          expect(got.find((a) => a.name === want.name)?.disabled, want.name).toBe(want.disabled);
        }
      });
    }

    for (const tc of actionTests.actionTests) {
      it(`action ${tc.action} on ${tc.inputPath} sets only annotations`, () => {
        const fixture = join(ARGOCD, "actions", tc.inputPath);
        const before = yaml.load(readFileSync(fixture, "utf8")) as Record<string, unknown>;
        const out = harness("action", join(ARGOCD, "actions", tc.action, "action.lua"), fixture) as {
          metadata: { annotations?: Record<string, string> };
          spec: unknown;
          status: unknown;
        };
        for (const [k, want] of Object.entries(tc.annotations)) {
          const got = out.metadata.annotations?.[k];
          if (want === null) expect(got, k).toBeUndefined();
          else if (want === "<request-id>") expect(got, k).toMatch(/^argocd-\d+(-\d+)?$/);
          else expect(got, k).toBe(want);
        }
        expect(out.spec).toEqual(before.spec);
        expect(out.status).toEqual(before.status);
      });
    }

    it("passes the Go harness's own tests (sandbox strictness, timeouts, request ids)", () => {
      const r = run("go", ["test", "-count=1", "./..."], { cwd: HARNESS, env: GO_ENV });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    }, 300_000);
  },
);
