// The chart's Argo CD health check and resource actions, run by Argo CD itself: the argocd binary
// (built from its Go module by hack/cluster/build-argocd.sh) executes them off-line with
// `argocd admin settings resource-overrides health|list-actions|run-action`, reading an argocd-cm
// made from the chart's rendered keys, exactly as docs/argocd.md tells users to install them.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { argoCdConfigMap, chartArgoCdKeys } from "../cluster/argocd-cm.ts";
import { ensureArgoCdBinaries } from "../cluster/binaries.ts";
import { CHART, findHelm, hasGo, run } from "./tools.ts";

const ARGOCD = join(CHART, "argocd");
const ACTIONS = ["promote", "promote-full", "abort", "retry", "pause", "resume"];
const FIXTURES = readdirSync(join(ARGOCD, "testdata")).map((f) => join(ARGOCD, "testdata", f));
const helm = findHelm();
const canBuild = hasGo() || Boolean(process.env.MODELSHIP_ARGOCD_BIN_DIR);

interface HealthTests {
  tests: { inputPath: string; healthStatus: { status: string; message?: string } }[];
}
interface ActionTests {
  discoveryTests: { inputPath: string; result: { name: string; disabled: boolean }[] }[];
  actionTests: { action: string; inputPath: string; annotations: Record<string, string | null> }[];
}
interface Obj {
  metadata: { annotations?: Record<string, string> };
  spec?: unknown;
  status?: unknown;
}
const healthTests = yaml.load(readFileSync(join(ARGOCD, "health_test.yaml"), "utf8")) as HealthTests;
const actionTests = yaml.load(
  readFileSync(join(ARGOCD, "actions", "action_test.yaml"), "utf8"),
) as ActionTests;

const reason = !canBuild
  ? "skipped: needs `go` to build Argo CD, or MODELSHIP_ARGOCD_BIN_DIR"
  : !helm.path
    ? `skipped: ${helm.reason}`
    : "";

// Skipped without Go (Argo CD is built from its module) or helm (it renders the argocd-cm keys).
describe.skipIf(reason !== "")(`Argo CD runs the chart's Lua ${reason}`, () => {
  let dir: string;
  let argocd: string;
  let cm: string;
  beforeAll(async () => {
    argocd = join(await ensureArgoCdBinaries(), "argocd");
    dir = mkdtempSync(join(tmpdir(), "modelship-argocd-lua-"));
    cm = join(dir, "argocd-cm.yaml");
    writeFileSync(cm, yaml.dump(argoCdConfigMap(chartArgoCdKeys(helm.path as string))));
  }, 1_800_000); // a cold Argo CD build takes 6–8 minutes on 2 cores
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const overrides = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = run(argocd, ["admin", "settings", "resource-overrides", ...args, "--argocd-cm-path", cm], {
      env,
    });
    if (r.status !== 0) throw new Error(`argocd ${args.join(" ")}:\n${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const health = (file: string) => {
    const out = overrides(["health", file]);
    const status = /^STATUS: (.*)$/m.exec(out)?.[1];
    if (status === undefined) throw new Error(`no health from Argo CD for ${file}:\n${out}`);
    return { status, message: /^MESSAGE: (.*)$/m.exec(out)?.[1] ?? "" };
  };
  const discovery = (file: string) =>
    overrides(["list-actions", file])
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .map(([name, disabled]) => ({ name, disabled: disabled === "true" }));
  // run-action prints a diff through KUBECTL_EXTERNAL_DIFF (old file, new file): print only the
  // new one, which is the object as Argo CD would patch it.
  const action = (file: string, name: string): Obj => {
    const out = overrides(["run-action", file, name], { KUBECTL_EXTERNAL_DIFF: `sh -c 'cat "$2"' diff` });
    return yaml.load(out.slice(out.indexOf("\n\n") + 2)) as Obj;
  };
  const load = (file: string) => yaml.load(readFileSync(file, "utf8")) as Obj;

  for (const tc of healthTests.tests) {
    it(`health: ${tc.inputPath} is ${tc.healthStatus.status}`, () => {
      expect(health(join(ARGOCD, tc.inputPath))).toEqual({ message: "", ...tc.healthStatus });
    });
  }

  for (const tc of actionTests.discoveryTests) {
    it(`discovery: ${tc.inputPath}`, () => {
      const got = discovery(join(ARGOCD, "actions", tc.inputPath));
      expect(got.map((a) => a.name).sort()).toEqual([...ACTIONS].sort());
      for (const want of tc.result) {
        expect(got.find((a) => a.name === want.name)?.disabled, want.name).toBe(want.disabled);
      }
    });
  }

  for (const tc of actionTests.actionTests) {
    it(`action ${tc.action} on ${tc.inputPath} sets its annotation`, () => {
      const out = action(join(ARGOCD, "actions", tc.inputPath), tc.action);
      for (const [k, want] of Object.entries(tc.annotations)) {
        const got = out.metadata.annotations?.[k];
        if (want === null) expect(got, k).toBeUndefined();
        else if (want === "<request-id>") expect(got, k).toMatch(/^argocd-\d+(-\d+)?$/);
        else expect(got, k).toBe(want);
      }
    });
  }

  // Every status shape, including those where discovery greys an action out: Argo CD can still be
  // asked to run it (API, CLI), and it must then change one annotation and nothing else.
  for (const name of ACTIONS) {
    it(`action ${name} runs on every fixture and touches only annotations`, () => {
      for (const file of FIXTURES) {
        const before = load(file);
        const out = action(file, name);
        expect(out.spec, file).toEqual(before.spec);
        expect(out.status, file).toEqual(before.status);
        const keys = new Set([
          ...Object.keys(before.metadata.annotations ?? {}),
          ...Object.keys(out.metadata.annotations ?? {}),
        ]);
        const changed = [...keys].filter(
          (k) => before.metadata.annotations?.[k] !== out.metadata.annotations?.[k],
        );
        const key = name === "pause" || name === "resume" ? "modelship.dev/paused" : `modelship.dev/${name}`;
        // pause and resume are levels (no change when already there); the others are fresh request ids.
        const already =
          (name === "pause" && before.metadata.annotations?.[key] === "true") ||
          (name === "resume" && before.metadata.annotations?.[key] === undefined);
        expect(changed, file).toEqual(already ? [] : [key]);
      }
    }, 60_000);
  }

  it("a second click within the same second gets a new request id", () => {
    const now = Math.floor(Date.now() / 1000);
    const obj = load(join(ARGOCD, "testdata", "progressing.yaml"));
    obj.metadata.annotations = { ...obj.metadata.annotations, "modelship.dev/promote": `argocd-${now}` };
    const file = join(dir, "clicked.yaml");
    writeFileSync(file, yaml.dump(obj));
    const id = action(file, "promote").metadata.annotations?.["modelship.dev/promote"] ?? "";
    const m = /^argocd-(\d+)(-\d+)?$/.exec(id);
    expect(m, id).not.toBeNull();
    // Same second: the -2 suffix; a later second: a fresh base. Never the old id.
    expect(id === `argocd-${now}-2` || (Number(m?.[1]) > now && m?.[2] === undefined), id).toBe(true);
  });

  // What docs/argocd.md says about the sandbox, checked on Argo CD itself with throw-away scripts.
  it("the sandbox: `os` only through require, no string library", () => {
    const kind = "example.modelship.dev_Probe";
    const act = (lua: string) => ({ definitions: [{ name: "probe", "action.lua": lua }] });
    const probeCm = join(dir, "probe-cm.yaml");
    const obj = join(dir, "probe.yaml");
    writeFileSync(
      obj,
      yaml.dump({ apiVersion: "example.modelship.dev/v1", kind: "Probe", metadata: { name: "p" } }),
    );
    const probe = (health: string, lua: string) => {
      writeFileSync(
        probeCm,
        yaml.dump(
          argoCdConfigMap({
            [`resource.customizations.health.${kind}`]: health,
            [`resource.customizations.actions.${kind}`]: yaml.dump(act(lua)),
          }),
        ),
      );
      const args = ["admin", "settings", "resource-overrides"];
      const h = run(argocd, [...args, "health", obj, "--argocd-cm-path", probeCm]);
      const a = run(argocd, [...args, "run-action", obj, "probe", "--argocd-cm-path", probeCm]);
      return { health: `${h.status} ${h.stdout}${h.stderr}`, action: `${a.status} ${a.stdout}${a.stderr}` };
    };
    const setT = "obj.metadata.annotations = {t = tostring(os.time())}; return obj";
    const global = probe('return {status = "Healthy", message = tostring(os.time())}', setT);
    expect(global.health).toMatch(/non-table object\(nil\) with key 'time'/);
    expect(global.action).toMatch(/non-table object\(nil\) with key 'time'/);
    const required = probe(
      'local os = require("os"); local t = {}; table.insert(t, os.date("%Y")); return {status = "Healthy", message = t[1]}',
      `local os = require("os"); ${setT}`,
    );
    expect(required.health).toMatch(/^0 STATUS: Healthy\nMESSAGE: \d{4}/);
    expect(required.action).toMatch(/^0 /);
    for (const lib of ['string.format("%s", "x")', "math.floor(1.5)", 'io.write("x")']) {
      expect(probe(`return {status = "Healthy", message = tostring(${lib})}`, "return obj").health).toMatch(
        /non-table object\(nil\)/,
      );
    }
  }, 60_000); // ten runs of the argocd binary: seconds each on a loaded machine

  it("health on every fixture: a status Argo CD knows, never an error", () => {
    for (const file of FIXTURES) {
      expect(["Healthy", "Progressing", "Suspended", "Degraded"], file).toContain(health(file).status);
    }
  }, 60_000);
});
