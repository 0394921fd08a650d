// The gateway for an e2e file: Traefik beside the local control plane (hack/cluster/gateway.ts),
// started by the file that needs it and stopped by PID in its afterAll (or with the cluster).
import { ensureTraefikBinary } from "../../hack/cluster/binaries.ts";
import { type GatewayState, startGateway, stopGateway } from "../../hack/cluster/gateway.ts";
import { eventually, kubectl, localCluster } from "./cluster.ts";

export type { GatewayState };

export async function startGatewayForFile(): Promise<GatewayState> {
  const cluster = localCluster();
  if (!cluster) throw new Error("the gateway runs beside the local harness only");
  return startGateway({ cluster, binDir: await ensureTraefikBinary() });
}

export async function stopGatewayForFile(): Promise<void> {
  const cluster = localCluster();
  if (cluster) await stopGateway(cluster);
}

/** An HTTPRoute attached to the harness Gateway that sends everything to one Service, as a user would write. */
export async function routeToService(
  gw: GatewayState,
  opts: { namespace: string; name: string; service: string; port: number; hostname: string },
): Promise<void> {
  const route = {
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: { name: opts.name, namespace: opts.namespace },
    spec: {
      parentRefs: [{ name: gw.gateway.name, namespace: gw.gateway.namespace }],
      hostnames: [opts.hostname],
      rules: [{ backendRefs: [{ name: opts.service, port: opts.port }] }],
    },
  };
  await kubectl(["apply", "--server-side", "--field-manager=e2e-user", "-f", "-"], JSON.stringify(route));
}

interface RouteParentStatus {
  parentRef: { name: string };
  conditions?: { type: string; status: string }[];
}

/** Waits until the gateway has accepted the route and resolved its backends (its own status says so). */
export async function waitRouteAccepted(gw: GatewayState, namespace: string, name: string): Promise<void> {
  await eventually(`HTTPRoute ${namespace}/${name} Accepted and ResolvedRefs by Traefik`, async () => {
    const r = JSON.parse(await kubectl(["get", "httproute", name, "-n", namespace, "-o", "json"])) as {
      status?: { parents?: RouteParentStatus[] };
    };
    const parent = r.status?.parents?.find((p) => p.parentRef.name === gw.gateway.name);
    const ok = (t: string) => parent?.conditions?.some((c) => c.type === t && c.status === "True");
    return ok("Accepted") && ok("ResolvedRefs");
  });
}
