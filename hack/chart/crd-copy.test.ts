// The chart ships a copy of the generated CRD (Helm installs crds/ from inside the chart); the
// copy must be the generated file, byte for byte.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { CHART, ROOT } from "./tools.ts";

it("charts/modelship/crds holds exactly the generated CRD", () => {
  const generated = readFileSync(join(ROOT, "crds", "modelship.dev_modeldeployments.yaml"), "utf8");
  const copy = readFileSync(join(CHART, "crds", "modelship.dev_modeldeployments.yaml"), "utf8");
  expect(
    copy === generated,
    "charts/modelship/crds/modelship.dev_modeldeployments.yaml differs from crds/: run `node hack/gen/crd.ts`",
  ).toBe(true);
});
