// The chart's optional ValidatingAdmissionPolicy against the real API server: rendered by helm
// exactly as `helm install --set admissionPolicy.enabled=true` would, applied, and then what a
// ModelDeployment author meets: an image from another registry and a Secret off the allow-list are
// refused with the policy's message; allowed ones are accepted. The binding is scoped to this file's
// namespace by label, so no other test sees the policy.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, kubectl, uniqueNamespace } from "./support/cluster.ts";
import { helm, helmPath } from "./support/helm.ts";
import { core, createNamespace, installCrd, mdSpec } from "./support/mdep.ts";

const root = join(import.meta.dirname, "..");
const ns = uniqueNamespace("vap");
const outside = uniqueNamespace("vap-out");
const SCOPE_LABEL = "modelship.dev/e2e-policy";
const ALLOWED_IMAGE = "registry.invalid/recsys:1";
const helmFound = helmPath();
if (!helmFound.path) process.stderr.write(`admission-policy.e2e: skipped: ${helmFound.reason}\n`);

let manifests = "";

function md(name: string, spec: Record<string, unknown>, namespace = ns): string {
  return JSON.stringify({
    apiVersion: "modelship.dev/v1alpha1",
    kind: "ModelDeployment",
    metadata: { name, namespace },
    spec,
  });
}

/** kubectl apply; the error text when the API server refuses it, "" when it accepts. */
async function apply(body: string): Promise<string> {
  try {
    await kubectl(["apply", "--server-side", "--field-manager=e2e-user", "-f", "-"], body);
    return "";
  } catch (err) {
    return String((err as { stderr?: string }).stderr ?? err);
  }
}

const withImage = (image: string) => mdSpec({ runtime: { preset: "openInference", image } });
const withSecret = (secret: string) =>
  mdSpec({
    runtime: {
      preset: "openInference",
      image: ALLOWED_IMAGE,
      env: [
        { name: "PLAIN", value: "x" },
        { name: "TOKEN", valueFrom: { secretKeyRef: { name: secret, key: "token" } } },
      ],
    },
  });

// Skipped only where no helm binary was built (hack/test always builds it): the policy under test is
// the one helm renders from the chart.
describe.skipIf(!helmFound.path)("the chart's ValidatingAdmissionPolicy", () => {
  beforeAll(async () => {
    await installCrd();
    await core.createNamespace({ body: { metadata: { name: ns, labels: { [SCOPE_LABEL]: ns } } } });
    await createNamespace(outside);
    manifests = await helm([
      "template",
      "ms",
      join(root, "charts", "modelship"),
      "--namespace",
      "modelship-system",
      "--show-only",
      "templates/admission-policy.yaml",
      "--set",
      "admissionPolicy.enabled=true",
      "--set",
      "admissionPolicy.allowedImagePrefixes={registry.invalid/,nvcr.io/nim/}",
      "--set",
      "admissionPolicy.allowedSecretNames={hf-token}",
      "--set",
      `admissionPolicy.namespaceSelector.matchLabels.${SCOPE_LABEL.replaceAll(".", "\\.")}=${ns}`,
    ]);
    await kubectl(["apply", "--server-side", "-f", "-"], manifests);
    // The API server compiles a new policy and starts enforcing it a moment later.
    await eventually(
      "the policy enforced",
      async () => {
        const refused = /not from an allowed registry/.test(
          await apply(md("probe", withImage("docker.io/x/y:1"))),
        );
        if (!refused) await kubectl(["delete", "mdep", "probe", "-n", ns, "--ignore-not-found"]);
        return refused;
      },
      60_000,
    );
  }, 120_000);

  afterAll(async () => {
    if (manifests) await kubectl(["delete", "--ignore-not-found", "-f", "-"], manifests).catch(() => {});
    for (const n of [ns, outside]) await core.deleteNamespace({ name: n }).catch(() => {});
  });

  it("type-checks against the ModelDeployment schema without a warning", async () => {
    const name = (await kubectl(["get", "validatingadmissionpolicy", "-o", "name"]))
      .split("\n")
      .find((n) => n.endsWith("ms-modelship-modeldeployments"));
    expect(name).toBeDefined();
    const policy = await eventually("type checking done", async () => {
      const p = JSON.parse(await kubectl(["get", name ?? "", "-o", "json"]));
      return p.status?.observedGeneration === p.metadata.generation ? p : undefined;
    });
    expect(policy.status?.typeChecking?.expressionWarnings ?? []).toEqual([]);
  });

  it("refuses an image from a registry not on the list, with the policy's message", async () => {
    const out = await apply(md("miner", withImage("docker.io/evil/miner:1")));
    expect(out).toMatch(/denied request/);
    expect(out).toMatch(
      /spec\.runtime\.image: docker\.io\/evil\/miner:1 is not from an allowed registry \(registry\.invalid\/, nvcr\.io\/nim\/\)/,
    );
    // A look-alike host is not the allowed registry: the prefix ends at "/".
    expect(await apply(md("lookalike", withImage("registry.invalid.evil/recsys:1")))).toMatch(
      /not from an allowed registry/,
    );
  });

  it("refuses env that reads a Secret off the allow-list, naming it", async () => {
    const out = await apply(md("leaky", withSecret("db-password")));
    expect(out).toMatch(
      /spec\.runtime\.env: valueFrom\.secretKeyRef may read only allowed Secrets; not allowed: db-password/,
    );
  });

  it("accepts an allowed image with an allowed Secret, and an update that keeps them", async () => {
    expect(await apply(md("good", withSecret("hf-token")))).toBe("");
    expect(await apply(md("nim", withImage("nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3.3")))).toBe("");
    // A metadata-only update (what promote, pause and Argo CD do) passes.
    await kubectl(["annotate", "mdep", "good", "-n", ns, "modelship.dev/paused=true", "--overwrite"]);
    // Changing to a Secret off the list is still refused on update.
    expect(await apply(md("good", withSecret("db-password")))).toMatch(/not allowed: db-password/);
  });

  it("checks the model's images and credentials too: the downloader, an oci:// model, the storage Secret", async () => {
    const withModel = (model: Record<string, unknown>) =>
      mdSpec({
        model: { name: "recommender", version: "v1", ...model },
        runtime: { preset: "openInference", image: ALLOWED_IMAGE },
      });
    expect(
      await apply(
        md("dl", withModel({ uri: "s3://models/x", storage: { downloaderImage: "docker.io/evil/dl:1" } })),
      ),
    ).toMatch(/spec\.model: docker\.io\/evil\/dl:1 is not from an allowed registry/);
    expect(await apply(md("oci", withModel({ uri: "oci://docker.io/evil/weights:1" })))).toMatch(
      /spec\.model: docker\.io\/evil\/weights:1 is not from an allowed registry/,
    );
    expect(
      await apply(
        md("creds", withModel({ uri: "s3://models/x", storage: { credentialsSecretName: "db-password" } })),
      ),
    ).toMatch(
      /spec\.model\.storage\.credentialsSecretName may name only allowed Secrets; not allowed: db-password/,
    );
    expect(
      await apply(
        md(
          "allowed",
          withModel({
            uri: "hf://org/model",
            storage: { downloaderImage: "registry.invalid/dl:1", credentialsSecretName: "hf-token" },
          }),
        ),
      ),
    ).toBe("");
    expect(await apply(md("allowed-oci", withModel({ uri: "oci://registry.invalid/models/ctr:1" })))).toBe(
      "",
    );
  });

  it("leaves namespaces outside its selector alone", async () => {
    expect(await apply(md("elsewhere", withImage("docker.io/evil/miner:1"), outside))).toBe("");
  });
});
