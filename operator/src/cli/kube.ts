// The plugin's only contact with the API: read a ModelDeployment, merge-patch it, list its
// revision Deployments. Connection settings follow kubectl: --kubeconfig, else $KUBECONFIG, else
// ~/.kube/config (else in-cluster); --context, else the current context; -n, else the context's
// namespace, else "default".
import {
  AppsV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { GROUP, PLURAL, VERSION } from "../api/index.ts";
import { apiErrorCode, apiErrorMessage } from "../kube/api-client.ts";
import { deploymentSelector, selectorString } from "../render/labels.ts";
import type { ConnectionFlags } from "./args.ts";
import { CliError } from "./errors.ts";

/** A JSON merge patch (RFC 7386): null deletes a key. */
export type MergePatch = { [key: string]: MergePatch | string | number | boolean | null };

export interface Cluster {
  readonly namespace: string;
  getModelDeployment(name: string): Promise<unknown>;
  patchModelDeployment(name: string, patch: MergePatch): Promise<unknown>;
  /** Deployments labelled modelship.dev/deployment=NAME (one per live revision). */
  listRevisionDeployments(name: string): Promise<unknown[]>;
}

export function loadConfig(flags: ConnectionFlags): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (flags.kubeconfig !== undefined) kc.loadFromFile(flags.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    const where = flags.kubeconfig ?? process.env.KUBECONFIG ?? "~/.kube/config";
    throw new CliError(
      `cannot load kubeconfig ${where}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (flags.context !== undefined) {
    if (kc.getContextObject(flags.context) === null) {
      const known = kc.getContexts().map((c) => c.name);
      throw new CliError(
        `context "${flags.context}" is not in the kubeconfig (known: ${known.join(", ") || "none"})`,
      );
    }
    kc.setCurrentContext(flags.context);
  }
  if (kc.getCurrentCluster() === null) {
    throw new CliError("the kubeconfig has no current cluster: pass --context or --kubeconfig");
  }
  return kc;
}

export function connect(flags: ConnectionFlags): Cluster {
  const kc = loadConfig(flags);
  const namespace = flags.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? "default";
  const server = kc.getCurrentCluster()?.server ?? "?";
  const custom = kc.makeApiClient(CustomObjectsApi);
  const apps = kc.makeApiClient(AppsV1Api);
  const ref = (name: string) => ({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name });
  const fail = (what: string, err: unknown): never => {
    throw new CliError(`${what}: ${describeFailure(err, server)}`, { notFound: apiErrorCode(err) === 404 });
  };
  return {
    namespace,
    async getModelDeployment(name) {
      try {
        return await custom.getNamespacedCustomObject(ref(name));
      } catch (err) {
        return fail(`modeldeployment ${namespace}/${name}`, err);
      }
    },
    async patchModelDeployment(name, patch) {
      try {
        return await custom.patchNamespacedCustomObject(
          { ...ref(name), body: patch },
          setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
        );
      } catch (err) {
        return fail(`modeldeployment ${namespace}/${name}: patch failed`, err);
      }
    },
    async listRevisionDeployments(name) {
      try {
        const list = await apps.listNamespacedDeployment({
          namespace,
          labelSelector: selectorString(deploymentSelector(name)),
        });
        return list.items;
      } catch (err) {
        return fail(`deployments of modeldeployment ${namespace}/${name}`, err);
      }
    },
  };
}

/** One phrase for a person: not found, forbidden (with the verb), unreachable, or the API's message. */
export function describeFailure(err: unknown, server: string): string {
  const code = apiErrorCode(err);
  if (code === 404) return "not found";
  if (code === 401) return `unauthorized at ${server}: check the kubeconfig's credentials`;
  if (code === 403) return `forbidden: ${apiErrorMessage(err)}`;
  if (code === 409)
    return `conflict, the object changed meanwhile; run the command again (${apiErrorMessage(err)})`;
  if (code !== 0) return `HTTP ${code}: ${apiErrorMessage(err)}`;
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : "";
  return `cannot reach the API server at ${server} (${err instanceof Error ? err.message : String(err)}${cause})`;
}
