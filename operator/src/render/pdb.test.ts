// spec.disruption → the PodDisruptionBudget, through parse (defaults, validation) and render.
import { describe, expect, it } from "vitest";
import { parseModelDeployment } from "../api/index.ts";
import { deploymentSelector } from "./labels.ts";
import { renderPdb } from "./pdb.ts";

const owner = { name: "llama-3.1-8b", namespace: "shop", uid: "u-1" };
function parse(disruption: unknown) {
  return parseModelDeployment({
    apiVersion: "modelship.dev/v1alpha1",
    kind: "ModelDeployment",
    metadata: { name: owner.name, namespace: owner.namespace, uid: owner.uid },
    spec: {
      model: { name: "llama", version: "v1" },
      runtime: { image: "registry.example/vllm:1" },
      ...(disruption === undefined ? {} : { disruption }),
    },
  });
}

describe("spec.disruption → PodDisruptionBudget", () => {
  it.each([[{ maxUnavailable: 1 }], [{ minAvailable: "50%" }]])("%j over every pod, all revisions", (d) => {
    const md = parse(d);
    if (!md.ok) throw new Error(JSON.stringify(md.issues));
    const pdb = renderPdb(owner, md.value.spec) as {
      metadata: { name: string };
      spec: Record<string, unknown>;
    };
    expect(pdb.metadata.name).toBe("llama-3.1-8b");
    expect(pdb.spec).toEqual({ selector: { matchLabels: deploymentSelector(owner.name) }, ...d });
    // The selector has no revision: stable and canary pods count together.
    expect(Object.keys(deploymentSelector(owner.name))).not.toContain("modelship.dev/revision");
  });

  it("absent: no PDB", () => {
    const md = parse(undefined);
    if (!md.ok) throw new Error("parse");
    expect(renderPdb(owner, md.value.spec)).toBeUndefined();
  });

  it.each([
    [{}, /exactly one of minAvailable and maxUnavailable/],
    [{ minAvailable: 1, maxUnavailable: 1 }, /exactly one of minAvailable and maxUnavailable/],
    [{ maxUnavailable: "150%" }, /percentage/],
    [{ maxUnavailable: -1 }, /too small|>=0/],
  ])("refuses %j", (d, message) => {
    const md = parse(d);
    expect(md.ok).toBe(false);
    if (!md.ok) expect(JSON.stringify(md.issues)).toMatch(message);
  });
});
