// CI pipeline on Dagger: lint + typecheck, unit tests, the image from ./Dockerfile, its SBOM
// (CycloneDX, hack/sbom.ts), the Helm chart packaged by a helm built from its Go module (same pin
// as the local tools), and, when asked, a push of both to an OCI registry.
//
// Base image: every stage runs on one Node image digest per run. MODELSHIP_NODE_IMAGE names it
// (give a digest-pinned reference, e.g. node:24-bookworm-slim@sha256:...); by default the
// Dockerfile's tag is resolved to its digest once, at the start, and printed.
//
// Needs a Dagger Engine, hence a container runtime (none on the project's build machines; there
// hack/check-dockerfile.sh stands in for the image build). From the repository root:
//
//   dagger run node hack/dagger/pipeline.ts                    # lint, test, build, package
//   MODELSHIP_PUBLISH=1 MODELSHIP_REGISTRY=ghcr.io/acme \
//   MODELSHIP_REGISTRY_USERNAME=bot MODELSHIP_REGISTRY_PASSWORD=*** \
//     dagger run node hack/dagger/pipeline.ts                  # … and push image + chart
//
// Env: MODELSHIP_VERSION (default: package.json version), MODELSHIP_REVISION (default: unknown),
// MODELSHIP_SOURCE (image source label), MODELSHIP_NODE_IMAGE (above). The password only ever
// travels as a Dagger secret. Outputs: dist/modelship-<version>.tgz, dist/sbom.cdx.json.

import { readFileSync } from "node:fs";
import { type Client, type Container, connect, type Directory } from "@dagger.io/dagger";

/** The Dockerfile's default base image (its ARG NODE_IMAGE), so the two never disagree. */
function dockerfileNodeImage(): string {
  const arg = /^ARG NODE_IMAGE=(\S+)$/m.exec(readFileSync("Dockerfile", "utf8"));
  if (!arg?.[1]) throw new Error("Dockerfile has no ARG NODE_IMAGE=...");
  return arg[1];
}
const GO_IMAGE = "golang:1.26-bookworm";

type Settings = {
  version: string;
  revision: string;
  source: string;
  nodeImage: string;
  publish: { registry: string; username: string; password: string } | undefined;
};

function readSettings(env: NodeJS.ProcessEnv): Settings {
  const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
  const wantsPublish = env.MODELSHIP_PUBLISH === "1";
  const registry = env.MODELSHIP_REGISTRY ?? "";
  const username = env.MODELSHIP_REGISTRY_USERNAME ?? "";
  const password = env.MODELSHIP_REGISTRY_PASSWORD ?? "";
  if (wantsPublish && (!registry || !username || !password)) {
    throw new Error(
      "MODELSHIP_PUBLISH=1 needs MODELSHIP_REGISTRY, MODELSHIP_REGISTRY_USERNAME and MODELSHIP_REGISTRY_PASSWORD",
    );
  }
  return {
    version: env.MODELSHIP_VERSION ?? pkg.version,
    revision: env.MODELSHIP_REVISION ?? "unknown",
    source: env.MODELSHIP_SOURCE ?? "",
    nodeImage: env.MODELSHIP_NODE_IMAGE ?? dockerfileNodeImage(),
    publish: wantsPublish ? { registry: registry.replace(/\/+$/, ""), username, password } : undefined,
  };
}

function helmVersion(): string {
  const pinned = /^HELM_VERSION=(\S+)$/m.exec(readFileSync("hack/cluster/versions.env", "utf8"));
  if (!pinned?.[1]) throw new Error("hack/cluster/versions.env has no HELM_VERSION");
  return pinned[1];
}

/** Node 24 with the repository and its npm packages, npm's cache kept between runs. */
function workspace(client: Client, repo: Directory, nodeImage: string): Container {
  return (
    client
      .container()
      .from(nodeImage)
      .withMountedCache("/root/.npm", client.cacheVolume("modelship-npm"))
      .withWorkdir("/src")
      .withFile("/src/package.json", repo.file("package.json"))
      .withFile("/src/package-lock.json", repo.file("package-lock.json"))
      // As in the Dockerfile: no package's install script runs.
      .withExec(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"])
      .withDirectory("/src", repo)
  );
}

/** helm built from its Go module, so CI and local runs use the same pinned helm. */
function helm(client: Client, nodeImage: string): Container {
  const built = client
    .container()
    .from(GO_IMAGE)
    .withMountedCache("/go/pkg/mod", client.cacheVolume("modelship-gomod"))
    .withEnvVariable("CGO_ENABLED", "0")
    .withExec(["go", "install", `helm.sh/helm/v3/cmd/helm@${helmVersion()}`]);
  return client
    .container()
    .from(nodeImage)
    .withFile("/usr/local/bin/helm", built.file("/go/bin/helm"))
    .withWorkdir("/work");
}

async function main(client: Client): Promise<void> {
  const settings = readSettings(process.env);
  const repo = client
    .host()
    .directory(".", { exclude: ["node_modules/", "dist/", ".git/", ".e2e-artifacts/"] });

  // One digest for every stage of this run, whatever the tag points at a minute later.
  const nodeImage = await client.container().from(settings.nodeImage).imageRef();
  console.log(`base image: ${nodeImage}`);

  const ws = workspace(client, repo, nodeImage);
  await ws.withExec(["npx", "biome", "ci", "."]).withExec(["npm", "run", "typecheck"]).sync();
  await ws.withExec(["npm", "run", "test:unit"]).sync();

  // The SBOM of the npm packages the image's bundle is built from (checked against the lockfile).
  await ws
    .withExec(["node", "hack/sbom.ts", "/out/sbom.cdx.json"])
    .file("/out/sbom.cdx.json")
    .export("dist/sbom.cdx.json");
  console.log("sbom: dist/sbom.cdx.json");

  const image = repo.dockerBuild({
    dockerfile: "Dockerfile",
    buildArgs: [
      { name: "NODE_IMAGE", value: nodeImage },
      { name: "VERSION", value: settings.version },
      { name: "REVISION", value: settings.revision },
      { name: "SOURCE", value: settings.source },
      { name: "CREATED", value: new Date().toISOString() },
    ],
  });
  // The image must at least start, through its ENTRYPOINT as the chart runs it, and report its version.
  const reported = await image.withExec(["--version"], { useEntrypoint: true }).stdout();
  console.log(`image: ${reported.trim()}`);

  const chartFile = `modelship-${settings.version}.tgz`;
  const packaged = helm(client, nodeImage)
    .withDirectory("/work/charts/modelship", repo.directory("charts/modelship"))
    .withExec(["helm", "lint", "charts/modelship"])
    .withExec([
      "helm",
      "package",
      "charts/modelship",
      "--version",
      settings.version,
      "--app-version",
      settings.version,
      "--destination",
      "/out",
    ]);
  await packaged.file(`/out/${chartFile}`).export(`dist/${chartFile}`);
  console.log(`chart: dist/${chartFile}`);

  if (!settings.publish) return;
  const { registry, username, password } = settings.publish;
  const secret = client.setSecret("modelship-registry-password", password);
  const ref = await image
    .withRegistryAuth(registry.split("/")[0] ?? registry, username, secret)
    .publish(`${registry}/modelship:${settings.version}`);
  console.log(`pushed image ${ref}`);
  await packaged
    .withSecretVariable("REGISTRY_PASSWORD", secret)
    .withEnvVariable("REGISTRY_USERNAME", username)
    .withEnvVariable("REGISTRY_HOST", registry.split("/")[0] ?? registry)
    .withExec([
      "sh",
      "-c",
      'printf %s "$REGISTRY_PASSWORD" | helm registry login "$REGISTRY_HOST" -u "$REGISTRY_USERNAME" --password-stdin',
    ])
    .withExec(["helm", "push", `/out/${chartFile}`, `oci://${registry}/charts`])
    .sync();
  console.log(`pushed chart oci://${registry}/charts/modelship:${settings.version}`);
}

await connect(main, { LogOutput: process.stderr });
