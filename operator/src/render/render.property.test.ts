// Random specs through parse and every builder: never a crash, the same output for the same input,
// names within Kubernetes' limits, and the revision independent of fields that must not restart pods.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseModelDeployment } from "../api/index.ts";
import { renderDeployment } from "./deployment.ts";
import { renderHpa } from "./hpa.ts";
import { renderHttpRoute } from "./httproute.ts";
import { deploymentName, ownerLabelValue, serviceName } from "./names.ts";
import { computeRevision } from "./revision.ts";
import { renderService } from "./service.ts";

const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$/);
const spec = fc.record(
  {
    model: fc.record(
      { name: label, version: fc.string({ minLength: 1, maxLength: 63 }), uri: fc.webUrl() },
      { requiredKeys: ["name", "version"] },
    ),
    runtime: fc.record(
      {
        image: fc.string({ minLength: 1, maxLength: 60 }),
        preset: fc.constantFrom("openInference", "openai", "vllm", "tgi", "triton", "torchserve", "nim"),
        port: fc.integer({ min: 1, max: 65535 }),
        args: fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }),
        env: fc.array(
          fc.record({ name: fc.stringMatching(/^[A-Z_]{1,12}$/), value: fc.string({ maxLength: 10 }) }),
          { maxLength: 3 },
        ),
        resources: fc.record({
          limits: fc.record({
            cpu: fc.constantFrom("500m", "2", 4),
            memory: fc.constantFrom("1Gi", "512Mi"),
          }),
        }),
        startupTimeoutSeconds: fc.integer({ min: 1, max: 86400 }),
      },
      { requiredKeys: ["image"] },
    ),
    replicas: fc.integer({ min: 0, max: 50 }),
    autoscaling: fc.record({
      minReplicas: fc.integer({ min: 1, max: 5 }),
      maxReplicas: fc.integer({ min: 5, max: 50 }),
    }),
    template: fc.record(
      {
        nodeSelector: fc.dictionary(label, label, { maxKeys: 2 }),
        metadata: fc.record({ labels: fc.dictionary(label, label, { maxKeys: 2 }) }, { requiredKeys: [] }),
      },
      { requiredKeys: [] },
    ),
    rollout: fc.record(
      {
        traffic: fc.record({
          gatewayAPI: fc.record({
            parentRefs: fc.array(fc.record({ name: label }), { minLength: 1, maxLength: 2 }),
          }),
        }),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ["model", "runtime"] },
);
/** metadata.name as the API server accepts it (DNS-1123 subdomain): dots, leading digits, up to 253. */
const name = fc.oneof(
  fc.stringMatching(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/),
  fc.stringMatching(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/).filter((n) => !/\.\.|\.-|-\./.test(n)),
);

describe("render properties", () => {
  it("renders every child deterministically, with names Kubernetes accepts", () => {
    fc.assert(
      fc.property(name, spec, fc.integer({ min: 0, max: 100 }), (mdName, s, weight) => {
        const parsed = parseModelDeployment({
          apiVersion: "modelship.dev/v1alpha1",
          kind: "ModelDeployment",
          metadata: { name: mdName },
          spec: s,
        });
        if (!parsed.ok) return; // the API rejects it; rendering never sees it
        const owner = { name: mdName, namespace: "ns", uid: "u" };
        const md = parsed.value;
        const revision = computeRevision(md.spec);
        const render = () => [
          renderDeployment({
            owner,
            spec: md.spec,
            revision,
            replicas: 3,
          }),
          renderService({ owner, spec: md.spec, revision }),
          renderService({ owner, spec: md.spec, role: "canary", revision }),
          renderHpa(owner, md.spec),
          ...(md.spec.rollout.traffic?.gatewayAPI
            ? [
                renderHttpRoute(owner, md.spec, md.spec.rollout.traffic.gatewayAPI, {
                  stable: 100 - weight,
                  canary: weight,
                }),
              ]
            : []),
        ];
        const a = render();
        expect(JSON.stringify(render())).toBe(JSON.stringify(a));
        for (const obj of a) {
          if (!obj) continue;
          expect(obj.metadata.name.length).toBeLessThanOrEqual(obj.kind === "Service" ? 63 : 253);
          // Services (and Deployments, for their pods' hostnames) are DNS-1035 labels; the rest subdomains.
          if (obj.kind === "Service" || obj.kind === "Deployment")
            expect(obj.metadata.name).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
          else expect(obj.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
          for (const v of Object.values(obj.metadata.labels ?? {}))
            expect(v).toMatch(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/);
        }
        // Deployment names leave room for the ReplicaSet and pod suffixes.
        expect(a[0]?.metadata.name.length).toBeLessThanOrEqual(47);
      }),
      { numRuns: 300 },
    );
  });

  it("gives two different names different children and pod labels, however alike the names", () => {
    const alike = fc
      .tuple(name, fc.constantFrom("", "x", ".1", "-1"))
      .map(([n, tail]) => [n, `${n}${tail}`.slice(0, 253)]);
    fc.assert(
      fc.property(fc.oneof(fc.tuple(name, name), alike), ([a, b]) => {
        if (a === b || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(b)) return;
        expect(serviceName(a)).not.toBe(serviceName(b));
        expect(serviceName(a, "canary")).not.toBe(serviceName(b, "canary"));
        expect(deploymentName(a, "0123456789")).not.toBe(deploymentName(b, "0123456789"));
        expect(ownerLabelValue(a)).not.toBe(ownerLabelValue(b));
      }),
      { numRuns: 500 },
    );
    // The cases people hit: a dotted model name, its dashed twin, a long shared prefix.
    expect(serviceName("llama-3.1-8b")).toMatch(/^llama-3-1-8b-[0-9a-f]{6}$/);
    expect(serviceName("llama-3-1-8b")).toBe("llama-3-1-8b");
    expect(serviceName("3b-chat")).toMatch(/^m-3b-chat-[0-9a-f]{6}$/);
    const long = "a".repeat(70);
    expect(ownerLabelValue(`${long}-one`)).not.toBe(ownerLabelValue(`${long}-two`));
  });

  it("keeps the revision when only replicas, rollout or health change", () => {
    fc.assert(
      fc.property(
        spec,
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 1, max: 60 }),
        (s, replicas, interval) => {
          const a = parseModelDeployment({
            apiVersion: "modelship.dev/v1alpha1",
            kind: "ModelDeployment",
            metadata: { name: "m" },
            spec: s,
          });
          if (!a.ok) return;
          const b = parseModelDeployment({
            apiVersion: "modelship.dev/v1alpha1",
            kind: "ModelDeployment",
            metadata: { name: "m" },
            spec: {
              ...s,
              replicas,
              rollout: { steps: [{ setWeight: 10 }] },
              health: { intervalSeconds: interval, timeoutSeconds: 1 },
            },
          });
          if (!b.ok) return;
          expect(computeRevision(b.value.spec)).toBe(computeRevision(a.value.spec));
        },
      ),
    );
  });
});
