import { readFileSync } from "node:fs";
import yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { buildCrd, CRD_PATH, renderCrdYaml } from "./crd.ts";
import { type JsonSchema, StructuralSchemaError, toStructural } from "./structural.ts";

type Node = JsonSchema;

function openApiSchema(crd: Record<string, unknown>): Node {
  const versions = (crd.spec as { versions: { schema: { openAPIV3Schema: Node } }[] }).versions;
  const first = versions[0];
  if (first === undefined) throw new Error("CRD has no versions");
  return first.schema.openAPIV3Schema;
}

/** Visit every schema node with its path. */
function walk(node: Node, path: string, visit: (node: Node, path: string) => void): void {
  visit(node, path);
  const props = node.properties as Record<string, Node> | undefined;
  for (const [name, child] of Object.entries(props ?? {})) walk(child, `${path}.${name}`, visit);
  if (typeof node.items === "object" && node.items !== null) walk(node.items as Node, `${path}[]`, visit);
  if (typeof node.additionalProperties === "object" && node.additionalProperties !== null) {
    walk(node.additionalProperties as Node, `${path}.*`, visit);
  }
}

/** Find a node by a dotted path like "spec.rollout.steps[]". */
function at(root: Node, path: string): Node {
  let node = root;
  for (const part of path.split(".")) {
    const isItems = part.endsWith("[]");
    const name = isItems ? part.slice(0, -2) : part;
    node = (node.properties as Record<string, Node>)[name] as Node;
    if (isItems) node = node.items as Node;
    if (node === undefined) throw new Error(`no schema node at ${path}`);
  }
  return node;
}

describe("generated CRD file", () => {
  it("matches the committed crds/modelship.dev_modeldeployments.yaml (run `node hack/gen/crd.ts`)", () => {
    expect(readFileSync(CRD_PATH, "utf8")).toBe(renderCrdYaml());
  });

  it("is deterministic", () => {
    expect(renderCrdYaml()).toBe(renderCrdYaml());
  });

  it("round-trips through YAML to the same object", () => {
    expect(yaml.load(renderCrdYaml())).toEqual(buildCrd());
  });
});

describe("structural schema", () => {
  const root = openApiSchema(buildCrd());
  const forbidden = [
    "$ref",
    "$schema",
    "allOf",
    "oneOf",
    "not",
    "nullable",
    "definitions",
    "$defs",
    "exclusiveMinimum",
  ];

  it("gives every node a type, except int-or-string nodes", () => {
    walk(root, "", (node, path) => {
      if (node["x-kubernetes-int-or-string"] === true) {
        expect(node.type, path).toBeUndefined();
        expect(node.anyOf, path).toEqual([{ type: "integer" }, { type: "string" }]);
      } else {
        expect(["object", "array", "string", "integer", "number", "boolean"], path).toContain(node.type);
      }
    });
  });

  it("uses no keyword a structural schema forbids", () => {
    walk(root, "", (node, path) => {
      for (const key of forbidden) expect(node[key], `${path} has ${key}`).toBeUndefined();
      expect(node.additionalProperties, path).not.toBe(false);
      if (node.anyOf !== undefined) expect(node["x-kubernetes-int-or-string"], path).toBe(true);
      if (node.properties !== undefined) expect(node.additionalProperties, path).toBeUndefined();
      if (node.type === "array") expect(node.items, path).toBeDefined();
    });
  });

  it("makes preserve-unknown-fields nodes plain objects", () => {
    let count = 0;
    walk(root, "", (node, path) => {
      if (node["x-kubernetes-preserve-unknown-fields"] === true) {
        count++;
        expect(node.type, path).toBe("object");
        expect(node.properties, path).toBeUndefined();
      }
    });
    expect(count).toBeGreaterThanOrEqual(6);
  });

  it("bounds every list and string that a CEL rule reads, and only puts rules on typed nodes", () => {
    walk(root, "", (node, path) => {
      const rules = node["x-kubernetes-validations"] as { rule: string; message: string }[] | undefined;
      if (rules === undefined) return;
      expect(node.type, path).toBeDefined();
      for (const r of rules) expect(r.message.length, `${path}: ${r.rule}`).toBeGreaterThan(0);
      if (node.type === "string") expect(node.maxLength, path).toBeDefined();
    });
    walk(root, "", (node, path) => {
      if (node.type === "array") expect(node.maxItems, `${path} needs maxItems`).toBeDefined();
    });
  });

  it("has defaults that satisfy their own node's enum and bounds", () => {
    walk(root, "", (node, path) => {
      const d = node.default;
      if (d === undefined) return;
      if (Array.isArray(node.enum)) expect(node.enum, path).toContain(d);
      if (typeof d === "number") {
        if (typeof node.minimum === "number") expect(d, path).toBeGreaterThanOrEqual(node.minimum);
        if (typeof node.maximum === "number") expect(d, path).toBeLessThanOrEqual(node.maximum);
        if (node.type === "integer") expect(Number.isInteger(d), path).toBe(true);
      }
      if (Array.isArray(d)) expect(node.type, path).toBe("array");
    });
  });

  it("publishes the rules users rely on", () => {
    const rulesAt = (path: string) =>
      ((at(root, path)["x-kubernetes-validations"] ?? []) as { rule: string }[]).map((r) => r.rule);
    expect(rulesAt("spec.rollout.steps[]").join()).toContain("has(self.setWeight)");
    expect(rulesAt("spec.autoscaling")).toContain("self.minReplicas <= self.maxReplicas");
    expect(rulesAt("spec.model.name").join()).toContain("self.matches");
    expect(at(root, "status.conditions")["x-kubernetes-list-map-keys"]).toEqual(["type"]);
    expect(at(root, "spec.replicas").default).toBe(1);
    // Absent blocks are defaulted in memory only: the API server stores what the user wrote.
    expect(at(root, "spec.rollout").default).toBeUndefined();
    expect(at(root, "spec.rollout.analysis.minSamples").default).toBe(20);
  });

  it("offers no way out of Pod Security: no hostPath, no container securityContext, no host fields", () => {
    const props = (path: string) => Object.keys((at(root, path).properties ?? {}) as object);
    expect(props("spec.template.volumes[]").sort()).toEqual(
      ["configMap", "emptyDir", "ephemeral", "name", "persistentVolumeClaim", "secret"].sort(),
    );
    expect(props("spec.template.initContainers[]")).not.toContain("securityContext");
    for (const path of ["spec.template", "spec.runtime", "spec.template.initContainers[]"])
      expect(
        props(path).filter((k) => k.startsWith("host") || k === "privileged"),
        path,
      ).toEqual([]);
    expect(props("spec.runtime.volumeMounts[]")).not.toContain("mountPropagation");
    // The startup budget is runtime.startupTimeoutSeconds: no threshold of its own to contradict it.
    expect(props("spec.runtime.probes.startup")).not.toContain("failureThreshold");
  });

  it("declares the scale subresource on the paths the HPA uses", () => {
    const version = (buildCrd().spec as { versions: { subresources: unknown }[] }).versions[0];
    expect(version?.subresources).toEqual({
      status: {},
      scale: {
        specReplicasPath: ".spec.replicas",
        statusReplicasPath: ".status.replicas",
        labelSelectorPath: ".status.selector",
      },
    });
  });
});

describe("toStructural", () => {
  it("refuses a node without a type", () => {
    expect(() => toStructural({ type: "object", properties: { x: {} } })).toThrow(StructuralSchemaError);
  });
  it("refuses a union it cannot express", () => {
    expect(() => toStructural({ anyOf: [{ type: "string" }, { type: "integer" }] }, "spec.x")).toThrow(
      /spec\.x: unsupported/,
    );
  });
  it("drops additionalProperties:false and safe-integer bounds", () => {
    expect(
      toStructural({
        type: "object",
        additionalProperties: false,
        properties: { n: { type: "integer", minimum: -9007199254740991 } },
      }),
    ).toEqual({ type: "object", properties: { n: { type: "integer" } } });
  });
});
