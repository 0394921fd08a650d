// spec fields → Deployment fields, through the render layer (the file header of deployment.ts lists them).
import { describe, expect, it } from "vitest";
import { parseModelDeployment } from "../api/index.ts";
import { renderDeployment } from "./deployment.ts";

function render(spec: Record<string, unknown>) {
  const parsed = parseModelDeployment({
    apiVersion: "modelship.dev/v1alpha1",
    kind: "ModelDeployment",
    metadata: { name: "llm", namespace: "shop", uid: "u-1" },
    spec: { model: { name: "llm", version: "v1" }, runtime: { image: "registry.example/llm:1" }, ...spec },
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  const md = parsed.value;
  const owner = { name: md.metadata.name, namespace: "shop", uid: "u-1" };
  const d = renderDeployment({
    owner,
    spec: md.spec,
    revision: "abc1234",
    replicas: 1,
  }) as {
    spec: {
      progressDeadlineSeconds: number;
      template: {
        spec: { containers: { startupProbe: { periodSeconds: number; failureThreshold: number } }[] };
      };
    };
  };
  return d;
}

describe("renderDeployment: the startup budget and the progress deadline", () => {
  it("runtime.startupTimeoutSeconds becomes the startup probe's budget", () => {
    const probe = render({ runtime: { image: "r.example/llm:1", startupTimeoutSeconds: 1200 } }).spec.template
      .spec.containers[0]?.startupProbe;
    expect((probe?.periodSeconds ?? 0) * (probe?.failureThreshold ?? 0)).toBe(1200);
  });

  it("the Deployment's own deadline covers the startup budget and then the progress deadline", () => {
    // An LLM loading for 12 minutes must not be failed by the Deployment at 10.
    const d = render({
      runtime: { image: "r.example/llm:1", startupTimeoutSeconds: 1800 },
      rollout: { progressDeadlineSeconds: 600 },
    });
    expect(d.spec.progressDeadlineSeconds).toBe(2400);
  });
});

describe("renderDeployment: runtime.shmSize", () => {
  type PodSpec = {
    volumes?: unknown[];
    containers: { volumeMounts?: unknown[] }[];
  };
  const pod = (runtime: Record<string, unknown>) =>
    (
      render({ runtime: { image: "r.example/llm:1", ...runtime } }) as unknown as {
        spec: { template: { spec: PodSpec } };
      }
    ).spec.template.spec;

  it("a memory emptyDir of that size at /dev/shm", () => {
    const p = pod({ shmSize: "8Gi" });
    expect(p.volumes).toEqual([{ name: "dshm", emptyDir: { medium: "Memory", sizeLimit: "8Gi" } }]);
    expect(p.containers[0]?.volumeMounts).toEqual([{ name: "dshm", mountPath: "/dev/shm" }]);
  });

  it("absent: no volume, no mount (nothing changes for existing revisions)", () => {
    const p = pod({});
    expect(p.volumes).toBeUndefined();
    expect(p.containers[0]?.volumeMounts).toBeUndefined();
  });
});
