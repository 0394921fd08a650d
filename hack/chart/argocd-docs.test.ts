// docs/argocd.md shows "the Application manifest the test uses": keep it the one
// e2e/argocd.e2e.test.ts applies (e2e/fixtures/argocd-app/application.yaml).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import { expect, it } from "vitest";
import { ROOT } from "./tools.ts";

it("docs/argocd.md's Application is the e2e test's", () => {
  const docs = readFileSync(join(ROOT, "docs", "argocd.md"), "utf8");
  const blocks = [...docs.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
  const shown = blocks.find((b) => b.includes("kind: Application"));
  expect(shown, "a yaml block with kind: Application in docs/argocd.md").toBeDefined();
  const tested = readFileSync(join(ROOT, "e2e", "fixtures", "argocd-app", "application.yaml"), "utf8");
  expect(yaml.load(shown ?? "")).toEqual(yaml.load(tested));
});
