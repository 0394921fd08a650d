// Starts a local control plane for the e2e tier, or uses the cluster named by $KUBECONFIG (kind,
// k3d, a real one), so the same suite runs anywhere. Tests read what is provided here.
import type { TestProject } from "vitest/node";
import { ensureBinaries } from "../hack/cluster/binaries.ts";
import { type ClusterState, startCluster, stopCluster } from "../hack/cluster/control-plane.ts";
import { startFixture } from "../hack/cluster/fixtures.ts";
import { startK3sCluster } from "./providers/k3s.ts";

declare module "vitest" {
  export interface ProvidedContext {
    kubeconfig: string;
    /** Path of the local cluster's state.json; empty when the suite runs against $KUBECONFIG. */
    clusterStateDir: string;
    binDir: string;
    /** Control API of the fixture model servers by runtime port ("8080" → URL); empty off the local harness. */
    fixtures: Record<string, string>;
  }
}

let cluster: ClusterState | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.MODELSHIP_E2E_CLUSTER === "k3s") {
    // Contributors with Docker or Podman: the same suite against K3s in a container. Tests that need
    // the local harness (apiserver restarts, fixture model servers in the pod namespace) skip.
    const k3s = await startK3sCluster();
    project.provide("kubeconfig", k3s.kubeconfigPath);
    project.provide("clusterStateDir", "");
    project.provide("binDir", process.env.MODELSHIP_BIN_DIR ?? "");
    project.provide("fixtures", {});
    return () => k3s.stop();
  }
  if (process.env.KUBECONFIG) {
    project.provide("kubeconfig", process.env.KUBECONFIG);
    project.provide("clusterStateDir", "");
    project.provide("binDir", process.env.MODELSHIP_BIN_DIR ?? "");
    project.provide("fixtures", {});
    return async () => {};
  }
  const binDir = await ensureBinaries();
  cluster = await startCluster({ name: `e2e-${process.pid}`, binDir, nodes: 3 });
  project.provide("kubeconfig", cluster.kubeconfig);
  project.provide("clusterStateDir", cluster.dir);
  project.provide("binDir", binDir);
  // Model servers for the fake pods: the OIP/TorchServe port and the OpenAI/vLLM/Triton/NIM port.
  const fixtures = [await startFixture(8080, 9900), await startFixture(8000, 9901)];
  project.provide("fixtures", Object.fromEntries(fixtures.map((f) => [String(f.port), f.controlUrl])));
  return async () => {
    for (const f of fixtures) await f.stop();
    // Keep the logs of a failed run for CI artifacts.
    if (cluster) await stopCluster(cluster, { keepFiles: process.env.MODELSHIP_KEEP_CLUSTER === "1" });
  };
}
