// Turns zod's OpenAPI 3.0 JSON Schema output into a Kubernetes *structural* schema:
// every node has a type (or is int-or-string), no $ref/anyOf/allOf except the int-or-string
// form, no additionalProperties:false, opaque nodes become preserve-unknown-fields objects.
// Anything it does not understand is an error, so a schema change cannot silently produce
// a CRD the API server would reject.
import { z } from "zod";
import { ModelDeploymentSpecSchema } from "../../operator/src/api/spec.ts";
import { ModelDeploymentStatusSchema } from "../../operator/src/api/status.ts";

export type JsonSchema = { [key: string]: unknown };

// Output key order: fixed, so the YAML is deterministic and readable.
const KEY_ORDER = [
  "description",
  "type",
  "format",
  "default",
  "enum",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "pattern",
  "minItems",
  "maxItems",
  "required",
  "properties",
  "additionalProperties",
  "items",
  "anyOf",
  "x-kubernetes-int-or-string",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-list-type",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-validations",
] as const;

const DROPPED = new Set(["$schema", "id", "title", "examples"]);
// zod's int() emits the JS safe-integer range; Kubernetes needs no bound there.
const SAFE_INT_BOUNDS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);

export class StructuralSchemaError extends Error {
  constructor(path: string, problem: string) {
    super(`${path === "" ? "<root>" : path}: ${problem}`);
    this.name = "StructuralSchemaError";
  }
}

function ordered(node: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const key of KEY_ORDER) if (node[key] !== undefined) out[key] = node[key];
  for (const [key, value] of Object.entries(node)) {
    if (value !== undefined && !(key in out))
      throw new StructuralSchemaError("", `unexpected key ${key} in output node`);
  }
  return out;
}

const isObject = (v: unknown): v is JsonSchema => typeof v === "object" && v !== null && !Array.isArray(v);
const isEmptyObject = (v: unknown): boolean => isObject(v) && Object.keys(v).length === 0;

/** Convert one node (recursively). `path` is for error messages only. */
export function toStructural(node: JsonSchema, path = ""): JsonSchema {
  const description = typeof node.description === "string" ? node.description : undefined;

  if (node["x-kubernetes-int-or-string"] === true) {
    return ordered({
      description,
      anyOf: [{ type: "integer" }, { type: "string" }],
      pattern: node.pattern,
      "x-kubernetes-int-or-string": true,
    });
  }
  if (node["x-kubernetes-preserve-unknown-fields"] === true) {
    return ordered({
      description,
      type: "object",
      "x-kubernetes-preserve-unknown-fields": true,
      "x-kubernetes-validations": node["x-kubernetes-validations"],
    });
  }

  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (DROPPED.has(key)) continue;
    switch (key) {
      case "description":
      case "type":
      case "enum":
      case "minLength":
      case "maxLength":
      case "minItems":
      case "maxItems":
      case "x-kubernetes-list-type":
      case "x-kubernetes-list-map-keys":
      case "x-kubernetes-validations":
        out[key] = value;
        break;
      case "minimum":
      case "maximum":
        if (!SAFE_INT_BOUNDS.has(value as number)) out[key] = value;
        break;
      case "format":
        // date-time is a format Kubernetes checks; zod's regex for it is redundant and not RE2-safe.
        out.format = value;
        break;
      case "pattern":
        if (node.format === undefined) out.pattern = value;
        break;
      case "default":
        // An empty object default means "the block is defaulted in memory when absent": the
        // API server stores only what the user wrote plus the defaults inside blocks they wrote.
        if (!isEmptyObject(value)) out.default = value;
        break;
      case "required":
        if (Array.isArray(value) && value.length > 0) out.required = value;
        break;
      case "properties": {
        if (!isObject(value)) throw new StructuralSchemaError(path, "properties is not an object");
        const props: JsonSchema = {};
        for (const [name, child] of Object.entries(value)) {
          if (!isObject(child))
            throw new StructuralSchemaError(`${path}.${name}`, "property schema is not an object");
          props[name] = toStructural(child, `${path}.${name}`);
        }
        if (Object.keys(props).length > 0) out.properties = props;
        break;
      }
      case "additionalProperties":
        if (value === false || isEmptyObject(value)) break;
        if (!isObject(value)) throw new StructuralSchemaError(path, "additionalProperties must be a schema");
        out.additionalProperties = toStructural(value, `${path}.*`);
        break;
      case "items":
        if (!isObject(value)) throw new StructuralSchemaError(path, "items must be a single schema");
        out.items = toStructural(value, `${path}[]`);
        break;
      default:
        throw new StructuralSchemaError(path, `unsupported JSON Schema keyword ${key} (fix the zod schema)`);
    }
  }
  if (typeof out.type !== "string") throw new StructuralSchemaError(path, "every node needs a type");
  if (out.properties !== undefined && out.additionalProperties !== undefined) {
    throw new StructuralSchemaError(path, "properties and additionalProperties are mutually exclusive");
  }
  return ordered(out);
}

function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  // io "input": a field with a default is optional for the writer, and its default is published.
  return z.toJSONSchema(schema, {
    target: "openapi-3.0",
    io: "input",
    unrepresentable: "throw",
  }) as JsonSchema;
}

export function specSchema(): JsonSchema {
  return toStructural(jsonSchemaOf(ModelDeploymentSpecSchema), "spec");
}

export function statusSchema(): JsonSchema {
  return toStructural(jsonSchemaOf(ModelDeploymentStatusSchema), "status");
}

/** The CRD's openAPIV3Schema: metadata is the API server's; spec and status come from zod. */
export function rootSchema(): JsonSchema {
  return {
    description:
      "ModelDeployment runs a served machine-learning model: workloads, scaling, step-by-step traffic shifts to a new version, health analysis, promotion and automatic rollback.",
    type: "object",
    required: ["spec"],
    properties: {
      apiVersion: { description: "APIVersion of this object (modelship.dev/v1alpha1).", type: "string" },
      kind: { description: "Kind of this object (ModelDeployment).", type: "string" },
      metadata: { type: "object" },
      spec: specSchema(),
      status: statusSchema(),
    },
  };
}
