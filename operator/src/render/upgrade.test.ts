// Upgrade safety: a spec written before the pod-template fields renders the same Deployment and
// the same revision as the operator did before them (upgrade.golden.ts), so an operator upgrade
// restarts no pod and starts no canary.
import { describe, expect, it } from "vitest";
import { parseModelDeployment } from "../api/index.ts";
import { canonicalJson } from "../lib/canonical-json.ts";
import { renderDeployment } from "./deployment.ts";
import { computeRevision } from "./revision.ts";
import { RENDERED_BEFORE_POD_TEMPLATE, REVISION_BEFORE_POD_TEMPLATE } from "./upgrade.golden.ts";
import { UPGRADE_CASES } from "./upgrade-cases.ts";

function parse(spec: Record<string, unknown>) {
  const parsed = parseModelDeployment({
    apiVersion: "modelship.dev/v1alpha1",
    kind: "ModelDeployment",
    metadata: { name: "rec", namespace: "shop", uid: "u-1" },
    spec: {
      model: { name: "rec", version: "v1" },
      runtime: { image: "registry.example/rec:1" },
      ...spec,
    },
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value.spec;
}

describe("a spec from before the pod-template fields", () => {
  it.each(Object.entries(UPGRADE_CASES))("%s renders the Deployment it rendered before", (name, c) => {
    const spec = parse(c.spec);
    const d = renderDeployment({
      owner: { name: "rec", namespace: "shop", uid: "u-1" },
      spec,
      revision: "abc1234",
      replicas: 2,
      predatesPodSecurityDefaults: c.predates ?? false,
    });
    expect(canonicalJson(d)).toBe(RENDERED_BEFORE_POD_TEMPLATE[name]);
    expect(computeRevision(spec)).toBe(REVISION_BEFORE_POD_TEMPLATE[name]);
  });

  it("covers every case the golden file records", () => {
    expect(Object.keys(UPGRADE_CASES).sort()).toEqual(Object.keys(RENDERED_BEFORE_POD_TEMPLATE).sort());
  });
});
