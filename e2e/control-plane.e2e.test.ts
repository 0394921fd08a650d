// The ground everything stands on: the control plane runs real workloads on kwok nodes, accepts
// CRDs, and fake pod addresses stay inside the harness's network namespace.
import { AppsV1Api, CoreV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routeOf } from "../hack/cluster/network.ts";
import {
  eventually,
  kubeConfig,
  kubectl,
  localCluster,
  uniqueNamespace,
  waitForCrds,
} from "./support/cluster.ts";

const kc = kubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
const ns = uniqueNamespace("cp");

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: ns } } });
});
afterAll(async () => {
  await core.deleteNamespace({ name: ns }).catch(() => {});
});

describe("local control plane", () => {
  it("runs a Deployment to readyReplicas == replicas on kwok nodes", async () => {
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: "web" },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: "web" } },
          template: {
            metadata: { labels: { app: "web" } },
            spec: { containers: [{ name: "web", image: "registry.invalid/web:1" }] },
          },
        },
      },
    });
    const d = await eventually("3 ready replicas", async () => {
      const dep = await apps.readNamespacedDeployment({ namespace: ns, name: "web" });
      return dep.status?.readyReplicas === 3 ? dep : undefined;
    });
    expect(d.status?.availableReplicas).toBe(3);

    const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: "app=web" });
    expect(pods.items).toHaveLength(3);
    for (const p of pods.items) {
      expect(p.status?.phase).toBe("Running");
      expect(p.spec?.nodeName).toMatch(/^kwok-node-/);
      expect(p.status?.podIP).toBeTruthy();
    }
    const cluster = localCluster();
    if (cluster) {
      // Fail-closed check, end to end: the IPs kwok handed out route into our namespace.
      for (const p of pods.items) {
        const ip = p.status?.podIP ?? "";
        expect(ip.startsWith(cluster.podCidr.split(".").slice(0, 2).join("."))).toBe(true);
        expect(routeOf(ip)).toMatchObject({ dev: "ms-veth0", via: "10.239.255.2" });
      }
    }
  });

  it("installs a CRD and round-trips a custom resource", async () => {
    const crd = {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "widgets.e2e.modelship.dev" },
      spec: {
        group: "e2e.modelship.dev",
        scope: "Namespaced",
        names: { plural: "widgets", singular: "widget", kind: "Widget" },
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            subresources: { status: {} },
            schema: {
              openAPIV3Schema: {
                type: "object",
                properties: {
                  spec: {
                    type: "object",
                    properties: {
                      size: { type: "integer", minimum: 1 },
                      color: { type: "string", default: "blue" },
                    },
                  },
                  status: { type: "object", properties: { seen: { type: "boolean" } } },
                },
              },
            },
          },
        ],
      },
    };
    await kubectl(["apply", "--server-side", "-f", "-"], JSON.stringify(crd));
    waitForCrds(["widgets.e2e.modelship.dev"]);

    const custom = kc.makeApiClient(CustomObjectsApi);
    const ref = { group: "e2e.modelship.dev", version: "v1", namespace: ns, plural: "widgets" };
    await eventually("the new resource to be served", async () => {
      await custom.listNamespacedCustomObject(ref);
      return true;
    });
    await custom.createNamespacedCustomObject({
      ...ref,
      body: {
        apiVersion: "e2e.modelship.dev/v1",
        kind: "Widget",
        metadata: { name: "w1" },
        spec: { size: 3 },
      },
    });
    const got = (await custom.getNamespacedCustomObject({ ...ref, name: "w1" })) as {
      spec: { size: number; color: string };
    };
    expect(got.spec).toEqual({ size: 3, color: "blue" });

    // The schema is enforced by the real apiserver, naming the field.
    await expect(
      custom.createNamespacedCustomObject({
        ...ref,
        body: {
          apiVersion: "e2e.modelship.dev/v1",
          kind: "Widget",
          metadata: { name: "w2" },
          spec: { size: 0 },
        },
      }),
    ).rejects.toThrow(/spec\.size/);
    await kubectl(["delete", "crd", "widgets.e2e.modelship.dev", "--wait=false"]);
  });

  it("reports a stamped server version, not v0.0.0", async () => {
    const out = await kubectl(["version", "-o", "json"]);
    const v = JSON.parse(out) as { serverVersion: { gitVersion: string } };
    expect(v.serverVersion.gitVersion).toMatch(/^v1\.\d+\.\d+/);
  });
});
