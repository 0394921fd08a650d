// Builds the kube client: in-cluster service account first, else the kubeconfig given or found.
import { KubeConfig, VersionApi } from "@kubernetes/client-node";

export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

export async function serverVersion(kc: KubeConfig): Promise<string> {
  const v = await kc.makeApiClient(VersionApi).getCode();
  return v.gitVersion;
}
