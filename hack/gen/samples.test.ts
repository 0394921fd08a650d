import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { formatIssues, parseModelDeployment } from "../../operator/src/api/model-deployment.ts";

const samplesDir = fileURLToPath(new URL("../../crds/samples/", import.meta.url));
const files = readdirSync(samplesDir).filter((f) => f.endsWith(".yaml"));

describe("crds/samples", () => {
  it("has the samples the docs point to", () => {
    expect(files).toEqual(
      expect.arrayContaining([
        "recommender.yaml",
        "recommender-autoscaled.yaml",
        "recommender-agreement.yaml",
        "llm-gateway.yaml",
        "llm-gpu.yaml",
        "triton-s3.yaml",
        "ctr-pvc.yaml",
      ]),
    );
  });

  it.each(files)("%s parses as a ModelDeployment and has no namespace (kubectl apply -n decides)", (file) => {
    for (const doc of yaml.loadAll(readFileSync(`${samplesDir}${file}`, "utf8"))) {
      const result = parseModelDeployment(doc);
      if (!result.ok) throw new Error(`${file}: ${formatIssues(result.issues)}`);
      expect(result.value.metadata.namespace).toBeUndefined();
    }
  });
});
