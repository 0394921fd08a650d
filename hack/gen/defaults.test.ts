// The API server applies the CRD's defaults; the operator applies zod's in memory. They must give
// the same spec, or a revision hash would change depending on who defaulted the object.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseModelDeployment } from "../../operator/src/api/model-deployment.ts";
import { type JsonSchema, specSchema } from "./structural.ts";

/** The API server's defaulting: set missing defaulted properties, then recurse into what exists. */
function applyDefaults(value: unknown, node: JsonSchema): unknown {
  if (Array.isArray(value)) {
    const items = node.items as JsonSchema | undefined;
    return items === undefined ? value : value.map((v) => applyDefaults(v, items));
  }
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [name, child] of Object.entries((node.properties ?? {}) as Record<string, JsonSchema>)) {
    if (out[name] === undefined && child.default !== undefined) out[name] = structuredClone(child.default);
    if (out[name] !== undefined) out[name] = applyDefaults(out[name], child);
  }
  return out;
}

const base = {
  apiVersion: "modelship.dev/v1alpha1",
  kind: "ModelDeployment",
  metadata: { name: "m" },
};

const specs = fc.record(
  {
    model: fc.constant({ name: "m", version: "1" }),
    runtime: fc.record(
      { image: fc.constant("img"), port: fc.integer({ min: 1, max: 65535 }) },
      { requiredKeys: ["image"] },
    ),
    replicas: fc.integer({ min: 0, max: 10 }),
    autoscaling: fc.record({ maxReplicas: fc.integer({ min: 10, max: 20 }) }),
    rollout: fc.record(
      {
        steps: fc.array(
          fc.oneof(fc.constant({ pause: {} }), fc.constant({ analysis: {} }), fc.constant({ setWeight: 50 })),
        ),
        analysis: fc.record({ p99LatencyMs: fc.integer({ min: 1, max: 1000 }) }, { requiredKeys: [] }),
        traffic: fc.constant({ gatewayAPI: { parentRefs: [{ name: "gw" }] } }),
      },
      { requiredKeys: [] },
    ),
    health: fc.record(
      {
        inference: fc.constant({ path: "/infer", expect: {} }),
        checks: fc.constant([{ path: "/ready" }]),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ["model", "runtime"] },
);

describe("API server defaults and in-memory defaults", () => {
  const schema = specSchema();

  it("agree for any spec: parse(raw) equals parse(defaulted by the CRD)", () => {
    fc.assert(
      fc.property(specs, (spec) => {
        const raw = parseModelDeployment({ ...base, spec });
        const served = parseModelDeployment({ ...base, spec: applyDefaults(spec, schema) });
        expect(raw.ok).toBe(true);
        expect(served).toEqual(raw);
      }),
    );
  });

  it("the CRD's own defaults produce a spec the zod schema accepts", () => {
    const defaulted = applyDefaults({ model: { name: "m", version: "1" }, runtime: { image: "i" } }, schema);
    expect(defaulted).toMatchObject({
      replicas: 1,
      runtime: { preset: "openInference", startupTimeoutSeconds: 1800 },
    });
    expect(parseModelDeployment({ ...base, spec: defaulted }).ok).toBe(true);
  });
});
