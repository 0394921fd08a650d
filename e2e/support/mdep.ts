// Helpers for tests that drive ModelDeployments through the real API: install the CRD, build
// specs, read status, count pods, read the apiserver's audit log.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type V1Deployment } from "@kubernetes/client-node";
import { OPERATOR_USER } from "../../hack/cluster/control-plane.ts";
import { deploymentSelector, selectorString } from "../../operator/src/render/labels.ts";
import { eventually, kubeConfig, kubectl, localCluster } from "./cluster.ts";

const root = join(import.meta.dirname, "..", "..");
export const CRD_FILE = join(root, "crds", "modelship.dev_modeldeployments.yaml");

const kc = kubeConfig();
export const core = kc.makeApiClient(CoreV1Api);
export const apps = kc.makeApiClient(AppsV1Api);
export const custom = kc.makeApiClient(CustomObjectsApi);

export async function installCrd(): Promise<void> {
  await kubectl(["apply", "--server-side", "--force-conflicts", "-f", CRD_FILE]);
  // Polled here rather than with `kubectl wait`, which fails outright ("accessor error") when it
  // reads the CRD before the API server has written any condition (seen on a loaded machine).
  await eventually("CRD Established", async () => {
    const out = await kubectl(["get", "crd/modeldeployments.modelship.dev", "-o", "json"]);
    const conditions = (JSON.parse(out) as { status?: { conditions?: { type: string; status: string }[] } })
      .status?.conditions;
    return conditions?.some((c) => c.type === "Established" && c.status === "True") === true;
  });
}

export async function createNamespace(name: string): Promise<void> {
  await core.createNamespace({ body: { metadata: { name } } });
}

export interface MdStatus {
  observedGeneration?: number;
  phase?: string;
  message?: string;
  stableRevision?: string;
  canaryRevision?: string;
  canaryWeight?: number;
  headerRoute?: { matches: { headers: { name: string; value: string; type?: string }[] }[] };
  shadow?: { percent: number };
  currentStepIndex?: number;
  replicas?: number;
  readyReplicas?: number;
  rejectedRevision?: string;
  history?: { revision: string; outcome: string; reason?: string; message?: string }[];
  conditions?: {
    type: string;
    status: string;
    reason: string;
    message: string;
    observedGeneration?: number;
  }[];
  health?: Record<string, unknown>;
}

export interface Md {
  metadata: {
    name: string;
    namespace: string;
    generation: number;
    uid: string;
    resourceVersion: string;
    annotations?: Record<string, string>;
  };
  spec: Record<string, unknown> & { replicas?: number };
  status?: MdStatus;
}

const ref = (namespace: string) => ({
  group: "modelship.dev",
  version: "v1alpha1",
  namespace,
  plural: "modeldeployments",
});

export async function getMd(namespace: string, name: string): Promise<Md> {
  return (await custom.getNamespacedCustomObject({ ...ref(namespace), name })) as Md;
}

/** A small valid spec; override any part. */
export function mdSpec(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model: { name: "recommender", version: "v1" },
    runtime: { preset: "openInference", image: "registry.invalid/recsys:1" },
    replicas: 2,
    rollout: { scaleDownDelaySeconds: 2, progressDeadlineSeconds: 60, analysis: { minSamples: 4 } },
    health: { intervalSeconds: 1, timeoutSeconds: 1 },
    ...overrides,
  };
}

export async function applyMd(
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
  annotations?: Record<string, string>,
) {
  const body = {
    apiVersion: "modelship.dev/v1alpha1",
    kind: "ModelDeployment",
    metadata: { name, namespace, ...(annotations ? { annotations } : {}) },
    spec,
  };
  // A person's kubectl apply, with its own field manager.
  await kubectl(
    ["apply", "--server-side", "--field-manager=e2e-user", "--force-conflicts", "-f", "-"],
    JSON.stringify(body),
  );
}

/** What `kubectl modelship promote` does (and an Argo CD action): a fresh value of the promote annotation. */
export async function promote(namespace: string, name: string): Promise<void> {
  await kubectl([
    "annotate",
    "mdep",
    name,
    "-n",
    namespace,
    `modelship.dev/promote=e2e-${Date.now()}`,
    "--overwrite",
  ]);
}

/** Sets (or with null clears) metadata.finalizers, as another controller would. */
export async function setFinalizers(namespace: string, name: string, finalizers: string[] | null) {
  await kubectl([
    "patch",
    "mdep",
    name,
    "-n",
    namespace,
    "--type=merge",
    "-p",
    JSON.stringify({ metadata: { finalizers } }),
  ]);
}

export async function patchMdSpec(namespace: string, name: string, patch: Record<string, unknown>) {
  await kubectl([
    "patch",
    "mdep",
    name,
    "-n",
    namespace,
    "--type=merge",
    "-p",
    JSON.stringify({ spec: patch }),
  ]);
}

/** Waits until the operator has observed the current generation and the phase matches. */
export async function waitForPhase(
  namespace: string,
  name: string,
  phase: string,
  timeoutMs = 90_000,
): Promise<Md> {
  return eventually(
    `${namespace}/${name} phase ${phase}`,
    async () => {
      const md = await getMd(namespace, name);
      return md.status?.observedGeneration === md.metadata.generation && md.status?.phase === phase
        ? md
        : undefined;
    },
    timeoutMs,
  );
}

export async function deploymentsOf(namespace: string, name: string): Promise<V1Deployment[]> {
  const list = await apps.listNamespacedDeployment({
    namespace,
    labelSelector: selectorString(deploymentSelector(name)),
  });
  return list.items.filter((d) => !d.metadata?.deletionTimestamp);
}

export async function readyPodsOf(namespace: string, name: string): Promise<number> {
  const list = await core.listNamespacedPod({
    namespace,
    labelSelector: selectorString(deploymentSelector(name)),
  });
  return list.items.filter(
    (p) =>
      !p.metadata?.deletionTimestamp &&
      p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
  ).length;
}

export function condition(md: Md, type: string) {
  return md.status?.conditions?.find((c) => c.type === type);
}

interface AuditEvent {
  verb: string;
  user: { username: string };
  /** The operator's is `modelship/<version> (<identity>)`: it tells two operator processes apart. */
  userAgent?: string;
  responseStatus?: { code?: number };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  requestReceivedTimestamp: string;
  requestURI: string;
  stage: string;
}

/**
 * Writes (create/update/patch/delete) the operator made since `sinceMs`, from the apiserver's audit
 * log, whatever their answer (a refused write was still sent); with `identity`, only that process's.
 */
export function operatorWritesSince(sinceMs: number, identity?: string): AuditEvent[] {
  const cluster = localCluster();
  if (!cluster) throw new Error("operatorWritesSince needs the local control plane's audit log");
  return readFileSync(cluster.auditLog, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditEvent)
    .filter((e) => e.stage === "ResponseComplete" && e.user.username === OPERATOR_USER)
    .filter((e) => Date.parse(e.requestReceivedTimestamp) >= sinceMs)
    .filter((e) => identity === undefined || (e.userAgent ?? "").endsWith(`(${identity})`));
}
