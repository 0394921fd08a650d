// The image's software bill of materials: CycloneDX JSON from `npm sbom`, cut to the production
// dependency tree, i.e. every npm package the bundle dist/main.js may contain (the bundler keeps a
// subset of them). Node itself and the base image's Debian packages are not in it
// (docs/security.md#supply-chain says what covers those). The Dagger pipeline runs this.
//
// Not `npm sbom --omit dev`: it drops production packages that a dev dependency also uses (here
// undici, a direct dependency; npm/cli#7909). npm marks development-only components itself in
// the full SBOM (property cdx:npm:package:development), and those are what is cut; sbomProblems
// checks the result against the lockfile.
//
//   node hack/sbom.ts [out]        # default dist/sbom.cdx.json; run after npm ci
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export const ROOT = join(import.meta.dirname, "..");
export const SBOM_FILE = join(ROOT, "dist", "sbom.cdx.json");

interface Component {
  "bom-ref"?: string;
  name: string;
  version: string;
  purl?: string;
  properties?: { name: string; value: string }[];
}

export interface CycloneDx {
  bomFormat: string;
  specVersion: string;
  metadata: { component?: Component };
  components: Component[];
  dependencies?: { ref: string; dependsOn?: string[] }[];
}

const DEVELOPMENT = "cdx:npm:package:development";

interface Lockfile {
  name: string;
  version: string;
  packages: Record<string, { version?: string; dev?: boolean; optional?: boolean; devOptional?: boolean }>;
}

/** `npm sbom` for the production tree of the project at `root` (its node_modules must be installed). */
export function npmSbom(root = ROOT): CycloneDx {
  const out = execFileSync("npm", ["sbom", "--sbom-format", "cyclonedx", "--sbom-type", "application"], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const full = JSON.parse(out) as CycloneDx;
  const dev = new Set(
    full.components
      .filter((c) => c.properties?.some((p) => p.name === DEVELOPMENT && p.value === "true"))
      .map((c) => c["bom-ref"]),
  );
  const bom: CycloneDx = {
    ...full,
    components: full.components.filter((c) => !dev.has(c["bom-ref"])),
    ...(full.dependencies
      ? {
          dependencies: full.dependencies
            .filter((d) => !dev.has(d.ref))
            .map((d) => ({ ...d, dependsOn: (d.dependsOn ?? []).filter((r) => !dev.has(r)) })),
        }
      : {}),
  };
  // npm names the root component after the directory it ran in ("src" in the pipeline's container).
  const lock = readLock(root);
  if (bom.metadata.component) bom.metadata.component.name = lock.name;
  return bom;
}

function readLock(root: string): Lockfile {
  return JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as Lockfile;
}

/**
 * What is wrong with `bom` against the lockfile: a production package missing or at another
 * version, or a development-only package listed. Empty when it is right.
 */
export function sbomProblems(bom: CycloneDx, root = ROOT): string[] {
  const prod = new Set<string>();
  const dev = new Set<string>();
  for (const [path, p] of Object.entries(readLock(root).packages)) {
    if (!path.startsWith("node_modules/") || !p.version) continue;
    const id = `${path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length)}@${p.version}`;
    if (p.dev) dev.add(id);
    else if (!p.optional && !p.devOptional) prod.add(id);
  }
  const listed = new Set(bom.components.map((c) => `${c.name}@${c.version}`));
  const problems: string[] = [];
  if (bom.bomFormat !== "CycloneDX") problems.push(`bomFormat is ${bom.bomFormat}`);
  for (const id of prod) if (!listed.has(id)) problems.push(`production ${id} is missing`);
  // The same name@version may sit in the tree twice, once for each side: only dev-only ones count.
  for (const id of dev)
    if (listed.has(id) && !prod.has(id)) problems.push(`development-only ${id} is listed`);
  return problems;
}

if (import.meta.main) {
  const out = process.argv[2] ?? SBOM_FILE;
  const bom = npmSbom();
  const problems = sbomProblems(bom);
  if (problems.length > 0) {
    process.stderr.write(`sbom: ${problems.join("; ")}\n`);
    process.exit(1);
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(bom, null, 2)}\n`);
  process.stderr.write(`sbom: ${bom.components.length} components, CycloneDX ${bom.specVersion} -> ${out}\n`);
}
