// The image's bundle: what hack/build.ts writes must hold only ASCII (so V8 keeps its source one byte
// per character) and still run.
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { asciiOnly, buildOperator, ROOT } from "./build.ts";

const nonAscii = (s: string) => [...s].filter((c) => c.charCodeAt(0) > 0x7f);

describe("hack/build", () => {
  it("escapes non-ASCII characters so literals keep their meaning", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: source text holding a template literal
    const src = 'const a = "x… ÷ → ✅"; const b = `${a}…`; const r = /→/;';
    const out = asciiOnly(src);
    expect(nonAscii(out)).toEqual([]);
    // Evaluated, the escaped source yields the same strings and pattern as the original.
    const run = (code: string) => new Function(`${code} return [a, b, r.source, r.test("a→b")];`)();
    expect(run(out)).toEqual(["x… ÷ → ✅", "x… ÷ → ✅…", "\\u2192", true]);
    expect(run(src)[1]).toBe("x… ÷ → ✅…");
  });

  // Beside dist/main.js: the bundle finds package.json (its version) one directory up, as in the image.
  const file = join(ROOT, "dist", `main-test-${process.pid}.js`);
  afterAll(() => rmSync(file, { force: true }));

  it("writes a bundle of ASCII only, without JSDoc, that runs", async () => {
    await buildOperator(file);
    const text = readFileSync(file, "utf8");
    expect(nonAscii(text)).toEqual([]);
    expect(text).not.toMatch(/^\s*\/\*\*\s*$/m);
    const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version;
    expect(execFileSync(process.execPath, [file, "--version"], { encoding: "utf8" })).toContain(version);
  }, 60_000);
});
