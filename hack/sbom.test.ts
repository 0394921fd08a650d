// The SBOM the pipeline ships, from the real `npm sbom` over this checkout's node_modules.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { npmSbom, ROOT, sbomProblems } from "./sbom.ts";

describe("SBOM (hack/sbom.ts)", () => {
  const bom = npmSbom();

  it("lists every production package at its locked version and no development-only one", () => {
    expect(bom.bomFormat).toBe("CycloneDX");
    expect(sbomProblems(bom)).toEqual([]);
    const names = bom.components.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(["@kubernetes/client-node", "zod", "pino", "undici"]));
    expect(names).not.toContain("vitest");
    expect(bom.metadata.component).toMatchObject({
      name: "modelship",
      purl: expect.stringMatching(/^pkg:npm\/modelship@/),
    });
  }, 60_000);

  it("catches an SBOM that lists a dev tool or misses a dependency", () => {
    const withDev = {
      ...bom,
      components: [...bom.components, { name: "vitest", version: devVersion("vitest") }],
    };
    expect(sbomProblems(withDev).join()).toMatch(/development-only vitest@/);
    const without = { ...bom, components: bom.components.filter((c) => c.name !== "zod") };
    expect(sbomProblems(without).join()).toMatch(/production zod@.* is missing/);
  });
});

function devVersion(name: string): string {
  const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, { version: string }>;
  };
  return lock.packages[`node_modules/${name}`]?.version ?? "";
}
