// Builds the kube client: in-cluster service account first, else the kubeconfig given or found.
import { createHash } from "node:crypto";
import { KubeConfig, VersionApi } from "@kubernetes/client-node";

// The wiring (controller/manager.ts, main.ts) hands the connection and cached objects along by these
// types without importing client-node itself: only kube/ does (biome.json enforces it).
export type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";

type RequestContext = Parameters<KubeConfig["applySecurityAuthentication"]>[0];
type Dispatcher = NonNullable<ReturnType<RequestContext["getDispatcher"]>>;

/**
 * client-node 2.0.1 builds a new undici Agent for every request (KubeConfig.createDispatcher), so
 * every API call opened its own TLS connection: a full handshake, a new SecureContext, and a socket
 * left to linger. hack/bench measured 4.9 CPU-ms and most of the operator's RSS going there. This
 * keeps one dispatcher per (cluster, credentials), so calls reuse keep-alive connections the way
 * client-go does. Tokens travel in headers, which are still applied per request.
 */
export class PooledKubeConfig extends KubeConfig {
  readonly #pool = new Map<string, Dispatcher>();

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getDispatcher();
    if (!fresh) return;
    const key = this.#poolKey();
    const shared = this.#pool.get(key);
    if (shared) {
      // The fresh agent never connected: nothing to close but the object itself.
      context.setDispatcher(shared);
      return;
    }
    this.#pool.set(key, fresh);
  }

  /** What decides the TLS connection: server, CA, client certificate, verification settings. */
  #poolKey(): string {
    const c = this.getCurrentCluster();
    const u = this.getCurrentUser();
    const digest = (s: string | undefined) =>
      s ? createHash("sha256").update(s).digest("hex").slice(0, 16) : "";
    return [
      c?.server,
      c?.caFile,
      digest(c?.caData),
      c?.skipTLSVerify,
      c?.tlsServerName,
      c?.proxyUrl,
      u?.name,
      u?.certFile,
      u?.keyFile,
      digest(u?.certData),
      digest(u?.keyData),
    ].join("|");
  }
}

export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new PooledKubeConfig();
  if (path) kc.loadFromFile(path);
  else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

export async function serverVersion(kc: KubeConfig): Promise<string> {
  const v = await kc.makeApiClient(VersionApi).getCode();
  return v.gitVersion;
}
