// The plugin's cluster, in a person's words: kube/plugin-client.ts makes the calls; this turns each
// failure into one CliError that names the object and what to do.
import { apiErrorCode, apiErrorMessage } from "../kube/api-client.ts";
import {
  type Cluster,
  type ConnectionSettings,
  connectCluster,
  KubeconfigError,
  type KubeconfigProblem,
} from "../kube/plugin-client.ts";
import { CliError } from "./errors.ts";

export function connect(flags: ConnectionSettings): Cluster {
  let cluster: Cluster;
  try {
    cluster = connectCluster(flags);
  } catch (err) {
    if (err instanceof KubeconfigError) throw new CliError(describeKubeconfigProblem(err.problem));
    throw err;
  }
  const { namespace, server } = cluster;
  const worded = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      throw new CliError(`${what}: ${describeFailure(err, server)}`, { notFound: apiErrorCode(err) === 404 });
    }
  };
  return {
    namespace,
    server,
    getModelDeployment: (name) =>
      worded(`modeldeployment ${namespace}/${name}`, () => cluster.getModelDeployment(name)),
    patchModelDeployment: (name, patch) =>
      worded(`modeldeployment ${namespace}/${name}: patch failed`, () =>
        cluster.patchModelDeployment(name, patch),
      ),
    listRevisionDeployments: (name) =>
      worded(`deployments of modeldeployment ${namespace}/${name}`, () =>
        cluster.listRevisionDeployments(name),
      ),
  };
}

function describeKubeconfigProblem(p: KubeconfigProblem): string {
  switch (p.kind) {
    case "unreadable":
      return `cannot load kubeconfig ${p.path}: ${p.cause instanceof Error ? p.cause.message : String(p.cause)}`;
    case "unknownContext":
      return `context "${p.context}" is not in the kubeconfig (known: ${p.known.join(", ") || "none"})`;
    case "noCluster":
      return "the kubeconfig has no current cluster: pass --context or --kubeconfig";
  }
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
