// The kubectl plugin's client (cli/ holds only the wording of its failures): read a
// ModelDeployment, merge-patch it, list its revision Deployments. Connection settings follow kubectl:
// --kubeconfig, else $KUBECONFIG, else ~/.kube/config (else in-cluster); --context, else the current
// context; -n, else the context's namespace, else "default".
import {
  AppsV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { GROUP, PLURAL, VERSION } from "../api/index.ts";
import { deploymentSelector, selectorString } from "../render/labels.ts";

/** kubectl's connection flags; each absent one falls back as kubectl's does. */
export interface ConnectionSettings {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

/** A JSON merge patch (RFC 7386): null deletes a key. */
export type MergePatch = { [key: string]: MergePatch | string | number | boolean | null };

/** The cluster as the plugin sees it. Calls reject with the API error as is (see api-client.ts). */
export interface Cluster {
  readonly namespace: string;
  /** The API server's URL, for messages. */
  readonly server: string;
  getModelDeployment(name: string): Promise<unknown>;
  patchModelDeployment(name: string, patch: MergePatch): Promise<unknown>;
  /** The Deployments of ModelDeployment NAME (one per live revision), by its owner label. */
  listRevisionDeployments(name: string): Promise<unknown[]>;
}

/** Why the kubeconfig gave no usable connection. */
export type KubeconfigProblem =
  | { kind: "unreadable"; path: string; cause: unknown }
  | { kind: "unknownContext"; context: string; known: string[] }
  | { kind: "noCluster" };

export class KubeconfigError extends Error {
  override readonly name = "KubeconfigError";
  readonly problem: KubeconfigProblem;

  constructor(problem: KubeconfigProblem) {
    super(`kubeconfig: ${problem.kind}`);
    this.problem = problem;
  }
}

export function loadPluginConfig(settings: ConnectionSettings): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (settings.kubeconfig !== undefined) kc.loadFromFile(settings.kubeconfig);
    else kc.loadFromDefault();
  } catch (cause) {
    const path = settings.kubeconfig ?? process.env.KUBECONFIG ?? "~/.kube/config";
    throw new KubeconfigError({ kind: "unreadable", path, cause });
  }
  if (settings.context !== undefined) {
    if (kc.getContextObject(settings.context) === null) {
      const known = kc.getContexts().map((c) => c.name);
      throw new KubeconfigError({ kind: "unknownContext", context: settings.context, known });
    }
    kc.setCurrentContext(settings.context);
  }
  if (kc.getCurrentCluster() === null) throw new KubeconfigError({ kind: "noCluster" });
  return kc;
}

/** Throws KubeconfigError when the settings name no usable cluster; connects lazily. */
export function connectCluster(settings: ConnectionSettings): Cluster {
  const kc = loadPluginConfig(settings);
  const namespace = settings.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? "default";
  const custom = kc.makeApiClient(CustomObjectsApi);
  const apps = kc.makeApiClient(AppsV1Api);
  const ref = (name: string) => ({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name });
  return {
    namespace,
    server: kc.getCurrentCluster()?.server ?? "?",
    getModelDeployment: (name) => custom.getNamespacedCustomObject(ref(name)),
    patchModelDeployment: (name, patch) =>
      custom.patchNamespacedCustomObject(
        { ...ref(name), body: patch },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      ),
    async listRevisionDeployments(name) {
      const list = await apps.listNamespacedDeployment({
        namespace,
        labelSelector: selectorString(deploymentSelector(name)),
      });
      return list.items;
    },
  };
}
