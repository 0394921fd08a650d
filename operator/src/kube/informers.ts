// The informers the operator runs: ModelDeployments, and the children it manages (label-selected,
// so the caches hold only our objects). One list+watch per resource, across all namespaces or
// one per configured namespace.
import {
  ApisApi,
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  PolicyV1Api,
} from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { Clock } from "../lib/clock.ts";
import { listWatchFactory, SupervisedInformer } from "./informer.ts";
import { dropManagedFields, type Trim, trimPod, trimReplicaSet } from "./trim.ts";

export interface InformerSet {
  modelDeployments: MultiInformer<KubernetesObject>;
  deployments: MultiInformer<KubernetesObject>;
  services: MultiInformer<KubernetesObject>;
  hpas: MultiInformer<KubernetesObject>;
  pdbs: MultiInformer<KubernetesObject>;
  replicaSets: MultiInformer<KubernetesObject>;
  pods: MultiInformer<KubernetesObject>;
  httpRoutes: MultiInformer<KubernetesObject> | undefined;
  /** Absent unless Traefik's TraefikService kind is served (spec.rollout.traffic.traefik). */
  traefikServices: MultiInformer<KubernetesObject> | undefined;
  all(): MultiInformer<KubernetesObject>[];
}

/** One informer per namespace (or one for all), read as a single cache. */
export class MultiInformer<T extends KubernetesObject> {
  readonly name: string;
  readonly parts: SupervisedInformer<T>[];
  constructor(name: string, parts: SupervisedInformer<T>[]) {
    this.name = name;
    this.parts = parts;
  }
  get(name: string, namespace?: string): T | undefined {
    for (const p of this.parts) {
      const o = p.get(name, namespace);
      if (o) return o;
    }
    return undefined;
  }
  list(namespace?: string): T[] {
    return this.parts.flatMap((p) => p.list(namespace));
  }
  byController(uid: string): T[] {
    return this.parts.flatMap((p) => p.byController(uid));
  }
  async start(): Promise<void> {
    await Promise.all(this.parts.map((p) => p.start()));
  }
  async stop(): Promise<void> {
    await Promise.all(this.parts.map((p) => p.stop()));
  }
  hasSynced(): boolean {
    return this.parts.every((p) => p.hasSynced());
  }
  onChange(cb: Parameters<SupervisedInformer<T>["onChange"]>[0]): void {
    for (const p of this.parts) p.onChange(cb);
  }
  onResync(cb: Parameters<SupervisedInformer<T>["onResync"]>[0]): void {
    for (const p of this.parts) p.onResync(cb);
  }
}

type ListFn = (ns: string | undefined) => Promise<unknown>;

export interface InformerOptions {
  kc: KubeConfig;
  namespaces: string[];
  labelSelector: string;
  log: Logger;
  clock: Clock;
  resyncMs?: number;
  gatewayApi: boolean;
  /** Whether traefik.io/v1alpha1 TraefikService is served (discovery). */
  traefik?: boolean;
  /** Every list goes through the API client (rate limit, metrics). */
  call: <R>(verb: string, resource: string, fn: () => Promise<R>) => Promise<R>;
}

export function createInformers(o: InformerOptions): InformerSet {
  const core = o.kc.makeApiClient(CoreV1Api);
  const apps = o.kc.makeApiClient(AppsV1Api);
  const hpa = o.kc.makeApiClient(AutoscalingV2Api);
  const policy = o.kc.makeApiClient(PolicyV1Api);
  const custom = o.kc.makeApiClient(CustomObjectsApi);
  const scopes: (string | undefined)[] = o.namespaces.length ? o.namespaces : [undefined];

  const make = (
    resource: string,
    pathOf: (ns?: string) => string,
    list: ListFn,
    labelSelector?: string,
    trim: Trim = dropManagedFields,
  ) =>
    new MultiInformer(
      resource,
      scopes.map(
        (ns) =>
          new SupervisedInformer<KubernetesObject>({
            name: ns ? `${resource}/${ns}` : resource,
            log: o.log,
            clock: o.clock,
            ...(o.resyncMs !== undefined ? { resyncMs: o.resyncMs } : {}),
            trim,
            informerFactory: listWatchFactory<KubernetesObject>({
              kubeConfig: o.kc,
              path: pathOf(ns),
              listFn: () =>
                o.call("list", resource, () => list(ns)) as Promise<KubernetesListObject<KubernetesObject>>,
              ...(labelSelector ? { labelSelector } : {}),
            }),
          }),
      ),
    );
  const nsPath = (prefix: string, plural: string) => (ns?: string) =>
    ns ? `${prefix}/namespaces/${ns}/${plural}` : `${prefix}/${plural}`;
  const sel = o.labelSelector;

  const modelDeployments = make(
    "modeldeployments",
    nsPath("/apis/modelship.dev/v1alpha1", "modeldeployments"),
    (ns) =>
      ns
        ? custom.listNamespacedCustomObject({
            group: "modelship.dev",
            version: "v1alpha1",
            plural: "modeldeployments",
            namespace: ns,
          })
        : custom.listClusterCustomObject({
            group: "modelship.dev",
            version: "v1alpha1",
            plural: "modeldeployments",
          }),
  );
  const deployments = make(
    "deployments",
    nsPath("/apis/apps/v1", "deployments"),
    (ns) =>
      ns
        ? apps.listNamespacedDeployment({ namespace: ns, labelSelector: sel })
        : apps.listDeploymentForAllNamespaces({ labelSelector: sel }),
    sel,
  );
  const services = make(
    "services",
    nsPath("/api/v1", "services"),
    (ns) =>
      ns
        ? core.listNamespacedService({ namespace: ns, labelSelector: sel })
        : core.listServiceForAllNamespaces({ labelSelector: sel }),
    sel,
  );
  const hpas = make(
    "horizontalpodautoscalers",
    nsPath("/apis/autoscaling/v2", "horizontalpodautoscalers"),
    (ns) =>
      ns
        ? hpa.listNamespacedHorizontalPodAutoscaler({ namespace: ns, labelSelector: sel })
        : hpa.listHorizontalPodAutoscalerForAllNamespaces({ labelSelector: sel }),
    sel,
  );
  const pdbs = make(
    "poddisruptionbudgets",
    nsPath("/apis/policy/v1", "poddisruptionbudgets"),
    (ns) =>
      ns
        ? policy.listNamespacedPodDisruptionBudget({ namespace: ns, labelSelector: sel })
        : policy.listPodDisruptionBudgetForAllNamespaces({ labelSelector: sel }),
    sel,
  );
  // The links pod → ReplicaSet → Deployment (metadata only): probe targets are pods we own.
  const replicaSets = make(
    "replicasets",
    nsPath("/apis/apps/v1", "replicasets"),
    (ns) =>
      ns
        ? apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: sel })
        : apps.listReplicaSetForAllNamespaces({ labelSelector: sel }),
    sel,
    trimReplicaSet,
  );
  const pods = make(
    "pods",
    nsPath("/api/v1", "pods"),
    (ns) =>
      ns
        ? core.listNamespacedPod({ namespace: ns, labelSelector: sel })
        : core.listPodForAllNamespaces({ labelSelector: sel }),
    sel,
    trimPod,
  );
  const httpRoutes = o.gatewayApi
    ? make(
        "httproutes",
        nsPath("/apis/gateway.networking.k8s.io/v1", "httproutes"),
        (ns) =>
          ns
            ? custom.listNamespacedCustomObject({
                group: "gateway.networking.k8s.io",
                version: "v1",
                plural: "httproutes",
                namespace: ns,
                labelSelector: sel,
              })
            : custom.listClusterCustomObject({
                group: "gateway.networking.k8s.io",
                version: "v1",
                plural: "httproutes",
                labelSelector: sel,
              }),
        sel,
      )
    : undefined;
  const traefikServices = o.traefik
    ? make(
        "traefikservices",
        nsPath("/apis/traefik.io/v1alpha1", "traefikservices"),
        (ns) =>
          ns
            ? custom.listNamespacedCustomObject({
                group: "traefik.io",
                version: "v1alpha1",
                plural: "traefikservices",
                namespace: ns,
                labelSelector: sel,
              })
            : custom.listClusterCustomObject({
                group: "traefik.io",
                version: "v1alpha1",
                plural: "traefikservices",
                labelSelector: sel,
              }),
        sel,
      )
    : undefined;
  const all = () => [
    modelDeployments,
    deployments,
    services,
    hpas,
    pdbs,
    replicaSets,
    pods,
    ...(httpRoutes ? [httpRoutes] : []),
    ...(traefikServices ? [traefikServices] : []),
  ];
  return {
    modelDeployments,
    deployments,
    services,
    hpas,
    pdbs,
    replicaSets,
    pods,
    httpRoutes,
    traefikServices,
    all,
  };
}

/** Whether the API serves a group/version/kind, from discovery. */
export async function apiServes(kc: KubeConfig, groupVersion: string, kind: string): Promise<boolean> {
  try {
    const [group] = groupVersion.split("/");
    const groups = await kc.makeApiClient(ApisApi).getAPIVersions();
    const g = groups.groups.find((x) => x.name === group);
    if (!g?.versions.some((v) => v.groupVersion === groupVersion)) return false;
    const res = (await kc
      .makeApiClient(CustomObjectsApi)
      .getAPIResources({ group: group ?? "", version: groupVersion.split("/")[1] ?? "" })) as {
      resources: { kind: string }[];
    };
    return res.resources.some((r) => r.kind === kind);
  } catch {
    return false;
  }
}
