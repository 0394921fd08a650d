// CI pipeline on Dagger: lint + typecheck, unit tests, the image from ./Dockerfile, the Helm chart
// packaged by a helm built from its Go module (same pin as the local tools), and, when asked, a
// push of both to an OCI registry.
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
// MODELSHIP_SOURCE (image source label). The password only ever travels as a Dagger secret.

import { readFileSync } from "node:fs";
import { type Client, type Container, connect, type Directory } from "@dagger.io/dagger";

const NODE_IMAGE = "node:24-bookworm-slim";
const GO_IMAGE = "golang:1.26-bookworm";

type Settings = {
  version: string;
  revision: string;
  source: string;
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
    publish: wantsPublish ? { registry: registry.replace(/\/+$/, ""), username, password } : undefined,
  };
}

function helmVersion(): string {
  const pinned = /^HELM_VERSION=(\S+)$/m.exec(readFileSync("hack/cluster/versions.env", "utf8"));
  if (!pinned?.[1]) throw new Error("hack/cluster/versions.env has no HELM_VERSION");
  return pinned[1];
}

/** Node 24 with the repository and its npm packages, npm's cache kept between runs. */
function workspace(client: Client, repo: Directory): Container {
  return client
    .container()
    .from(NODE_IMAGE)
    .withMountedCache("/root/.npm", client.cacheVolume("modelship-npm"))
    .withWorkdir("/src")
    .withFile("/src/package.json", repo.file("package.json"))
    .withFile("/src/package-lock.json", repo.file("package-lock.json"))
    .withExec(["npm", "ci", "--no-audit", "--no-fund"])
    .withDirectory("/src", repo);
}

/** helm built from its Go module, so CI and local runs use the same pinned helm. */
function helm(client: Client): Container {
  const built = client
    .container()
    .from(GO_IMAGE)
    .withMountedCache("/go/pkg/mod", client.cacheVolume("modelship-gomod"))
    .withEnvVariable("CGO_ENABLED", "0")
    .withExec(["go", "install", `helm.sh/helm/v3/cmd/helm@${helmVersion()}`]);
  return client
    .container()
    .from(NODE_IMAGE)
    .withFile("/usr/local/bin/helm", built.file("/go/bin/helm"))
    .withWorkdir("/work");
}

async function main(client: Client): Promise<void> {
  const settings = readSettings(process.env);
  const repo = client
    .host()
    .directory(".", { exclude: ["node_modules/", "dist/", ".git/", ".e2e-artifacts/"] });

  const ws = workspace(client, repo);
  await ws.withExec(["npx", "biome", "ci", "."]).withExec(["npm", "run", "typecheck"]).sync();
  await ws.withExec(["npm", "run", "test:unit"]).sync();

  const image = repo.dockerBuild({
    dockerfile: "Dockerfile",
    buildArgs: [
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
  const packaged = helm(client)
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
