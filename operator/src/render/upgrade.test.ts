// Upgrade safety: a spec written before the pod-template fields and model artifacts renders, for
// the Deployment an older operator made (upgrade.golden.ts), the same pod template and the same
// revision, so an operator upgrade restarts no pod and starts no canary. What the Deployment was
// made with is read back from that Deployment (features.ts), as the reconciler does.
import { describe, expect, it } from "vitest";
import { parseModelDeployment } from "../api/index.ts";
import { canonicalJson } from "../lib/canonical-json.ts";
import { renderDeployment } from "./deployment.ts";
import { madeWithOf, RENDER_FEATURES_ANNOTATION } from "./features.ts";
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
    const before = JSON.parse(RENDERED_BEFORE_POD_TEMPLATE[name] ?? "{}");
    const d = renderDeployment({
      owner: { name: "rec", namespace: "shop", uid: "u-1" },
      spec,
      revision: "abc1234",
      replicas: 2,
      madeWith: madeWithOf([before]).get("abc1234"),
    });
    expect(canonicalJson(d.spec)).toBe(canonicalJson(before.spec));
    expect(d.metadata.labels).toEqual(before.metadata.labels);
    // Only the annotation that records the features changes name (a metadata write, no restart).
    const { [RENDER_FEATURES_ANNOTATION]: features, ...rest } = d.metadata.annotations ?? {};
    const { "modelship.dev/pod-security-defaults": legacy, ...restBefore } =
      before.metadata.annotations ?? {};
    expect(rest).toEqual(restBefore);
    const listed = (features ?? "").split(",");
    expect(listed.includes("model-artifacts")).toBe(false);
    expect(listed.includes("pod-security-restricted")).toBe(legacy !== undefined);
    expect(computeRevision(spec)).toBe(REVISION_BEFORE_POD_TEMPLATE[name]);
  });

  it("covers every case the golden file records", () => {
    expect(Object.keys(UPGRADE_CASES).sort()).toEqual(Object.keys(RENDERED_BEFORE_POD_TEMPLATE).sort());
  });
});
