// A cluster for the e2e tier from K3s in a container (@testcontainers/k3s), chosen with
// MODELSHIP_E2E_CLUSTER=k3s where a container engine exists (Docker, or Podman via DOCKER_HOST).
//
// The container runs privileged (K3s needs it), so rootless engines and restricted DinD cannot
// host it. Unlike the local control plane, K3s runs real pods: the model server images must be
// pullable from inside it, and no network namespace fences pod IPs (they live inside the container).
// The kubeconfig points at 127.0.0.1 and a port mapped by the engine.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { K3sContainer } from "@testcontainers/k3s";
import { getContainerRuntimeClient } from "testcontainers";

/** The K3s release the testcontainers module tests against; Kubernetes 1.36 like the local harness. */
export const K3S_IMAGE = "rancher/k3s:v1.36.2-k3s1";

export type K3sCluster = {
  /** kubeconfig YAML whose server is the engine's port mapping on this machine. */
  kubeconfig: string;
  /** The same kubeconfig written to a private temp file, for tools that want a path. */
  kubeconfigPath: string;
  /** Stops and removes the container and the kubeconfig file. */
  stop(): Promise<void>;
};

/** True when testcontainers finds a container engine; e2e setup checks this before choosing K3s. */
export async function containerEngineAvailable(): Promise<boolean> {
  try {
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

export async function startK3sCluster(options: { image?: string } = {}): Promise<K3sCluster> {
  const container = await new K3sContainer(options.image ?? K3S_IMAGE)
    .withLabels({ "dev.modelship.e2e": "k3s" })
    .start();
  const kubeconfig = container.getKubeConfig();
  const dir = await mkdtemp(join(tmpdir(), "modelship-k3s-"));
  const kubeconfigPath = join(dir, "kubeconfig");
  await writeFile(kubeconfigPath, kubeconfig, { mode: 0o600 });
  let stopped = false;
  return {
    kubeconfig,
    kubeconfigPath,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await container.stop();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
