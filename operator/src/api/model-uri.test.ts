// spec.model.uri and spec.model.storage: which URIs each scheme accepts, what they ask for, and that
// zod refuses what the CRD's CEL rules refuse (e2e/model-artifacts.e2e.test.ts runs the CEL side).
import { describe, expect, it } from "vitest";
import { formatIssues, parseModelDeployment } from "./model-deployment.ts";
import { STORAGE_CLASS_NEEDS_EPHEMERAL, STORAGE_NEEDS_DOWNLOAD } from "./model-storage.ts";
import { localModelPath, MODEL_URI_CEL, MODEL_URI_RULES, modelSource, modelUriProblem } from "./model-uri.ts";

function parse(model: Record<string, unknown>) {
  return parseModelDeployment({
    apiVersion: "modelship.dev/v1alpha1",
    kind: "ModelDeployment",
    metadata: { name: "m", namespace: "shop" },
    spec: { model: { name: "m", version: "v1", ...model }, runtime: { image: "r.example/m:1" } },
  });
}

describe("model URIs", () => {
  it.each([
    ["pvc://models", { kind: "pvc", claimName: "models", subPath: "" }, "/mnt/models"],
    ["pvc://models/", { kind: "pvc", claimName: "models", subPath: "" }, "/mnt/models"],
    [
      "pvc://shop-models/ctr/2026-11-01",
      { kind: "pvc", claimName: "shop-models", subPath: "ctr/2026-11-01" },
      "/mnt/models/ctr/2026-11-01",
    ],
    [
      "oci://registry.example/models/ctr:2026-11-01",
      { kind: "oci", reference: "registry.example/models/ctr:2026-11-01" },
      "/mnt/models",
    ],
    [
      `oci://localhost:5000/m/x@sha256:${"a".repeat(64)}`,
      { kind: "oci", reference: `localhost:5000/m/x@sha256:${"a".repeat(64)}` },
      "/mnt/models",
    ],
    ["s3://models/triton/repo", { kind: "download", scheme: "s3" }, "/mnt/models"],
    ["gs://my_models.example/ctr", { kind: "download", scheme: "gs" }, "/mnt/models"],
    [
      "https://models.example:8443/ctr.tar.gz?sig=a%2Fb",
      { kind: "download", scheme: "https" },
      "/mnt/models",
    ],
    ["hf://meta-llama/Llama-3.1-8B-Instruct", { kind: "download", scheme: "hf" }, "/mnt/models"],
    ["hf://Qwen/Qwen2.5-0.5B-Instruct:main", { kind: "download", scheme: "hf" }, "/mnt/models"],
    ["file:///models/x", { kind: "opaque" }, undefined],
    ["http://models.example/x", { kind: "opaque" }, undefined],
    ["recommender-2026-11-01", { kind: "opaque" }, undefined],
  ])("%s is accepted and asks for %j", (uri, source, path) => {
    expect(modelUriProblem(uri)).toBeUndefined();
    const parsed = parse({ uri });
    if (!parsed.ok) throw new Error(formatIssues(parsed.issues));
    expect(modelSource(uri)).toEqual(source);
    expect(localModelPath(modelSource(uri))).toBe(path);
  });

  it.each([
    ["pvc://", /pvc:\/\/<claim>/],
    ["pvc://Models/x", /pvc:\/\/<claim>/],
    ["pvc://models/a b", /pvc:\/\/<claim>/],
    ["pvc://models/../etc", /no '\.' or '\.\.' segments/],
    ["pvc://models/./x", /no '\.' or '\.\.' segments/],
    ["oci://", /oci:\/\/<registry>/],
    ["oci://ubuntu", /oci:\/\/<registry>/],
    ["oci://Registry.example/m:1", /oci:\/\/<registry>/],
    ["s3://", /s3:\/\/<bucket>/],
    ["s3://AB/x", /s3:\/\/<bucket>/],
    ["s3://models/x\ny", /s3:\/\/<bucket>/],
    ["gs://a", /gs:\/\/<bucket>/],
    ["https://user:secret@models.example/x", /without user:password@/],
    ["https://", /https:\/\/<host>/],
    ["hf://meta-llama", /hf:\/\/<organisation>/],
    ["hf://a/b/c", /hf:\/\/<organisation>/],
  ])("%j is refused: %s", (uri, message) => {
    expect(modelUriProblem(uri)).toMatch(message);
    const parsed = parse({ uri });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(formatIssues(parsed.issues)).toMatch(message);
  });

  it("has one CEL rule per scheme, each with the zod message, plus the dot-segment rule", () => {
    expect(MODEL_URI_CEL.map((r) => r.message)).toEqual([
      ...MODEL_URI_RULES.map((r) => r.message),
      modelUriProblem("pvc://m/../x"),
    ]);
    // The patterns are written so that JS and RE2 read them alike: no lookaround, no backreference.
    for (const r of MODEL_URI_RULES) expect(r.pattern).not.toMatch(/\(\?[=!<]|\\[1-9]/);
  });
});

describe("model.storage", () => {
  it("is accepted with a downloaded model", () => {
    const parsed = parse({
      uri: "s3://models/ctr",
      storage: {
        volume: "Ephemeral",
        size: "200Gi",
        storageClassName: "fast",
        credentialsSecretName: "s3-creds",
      },
    });
    if (!parsed.ok) throw new Error(formatIssues(parsed.issues));
    expect(parsed.value.spec.model.storage).toMatchObject({ volume: "Ephemeral", size: "200Gi" });
  });

  it.each([
    ["a pvc:// URI", { uri: "pvc://models/ctr", storage: { size: "1Gi" } }, STORAGE_NEEDS_DOWNLOAD],
    ["no URI", { storage: { size: "1Gi" } }, STORAGE_NEEDS_DOWNLOAD],
    ["an opaque URI", { uri: "ctr-v1", storage: {} }, STORAGE_NEEDS_DOWNLOAD],
    [
      "a storage class for an emptyDir",
      { uri: "hf://a/b", storage: { storageClassName: "fast" } },
      STORAGE_CLASS_NEEDS_EPHEMERAL,
    ],
    ["a size that is no quantity", { uri: "hf://a/b", storage: { size: "lots" } }, "quantity"],
  ])("is refused with %s", (_what, model, message) => {
    const parsed = parse(model);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(formatIssues(parsed.issues)).toContain(message);
  });

  it("has no schema defaults, so stored specs and revision hashes do not change", () => {
    const parsed = parse({ uri: "hf://a/b", storage: {} });
    if (!parsed.ok) throw new Error(formatIssues(parsed.issues));
    expect(parsed.value.spec.model.storage).toEqual({});
  });
});
