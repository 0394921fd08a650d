// spec → one apps/v1 Deployment per live revision. Field by field:
//   spec.runtime.image/command/args/env/resources → the model-server container
//   spec.runtime.preset (+ port, healthPath)     → container port and the three probes
//   spec.runtime.startupTimeoutSeconds            → startupProbe.failureThreshold × periodSeconds
//   spec.runtime.shmSize                          → a memory emptyDir mounted at /dev/shm
//   spec.model.name/version/uri                   → MODEL_NAME, MODEL_VERSION, MODEL_URI env
//   spec.model.uri + storage                      → model volume, downloader, MODEL_PATH, args (model-artifacts.ts)
//   spec.template.*                               → pod metadata, scheduling, pull secrets, SA
//   spec.template.securityContext                 → pod + container securityContext (pod-security.ts)
//   spec.rollout.progressDeadlineSeconds
//     + spec.runtime.startupTimeoutSeconds         → Deployment.spec.progressDeadlineSeconds
// The replica count comes from the rollout decision, not from the spec.
import type { ModelDeploymentSpec } from "../api/index.ts";
import { resolveRuntimeEndpoints } from "../api/index.ts";
import { featuresAnnotation, type MadeWith, NEW_REVISION, RENDER_FEATURES_ANNOTATION } from "./features.ts";
import { commonLabels, deploymentSelector, LABEL_REVISION, toLabelValue } from "./labels.ts";
import { DEFAULT_MODEL_DOWNLOADER_IMAGE, renderModelArtifacts } from "./model-artifacts.ts";
import { deploymentName } from "./names.ts";
import { ownerReference } from "./owner.ts";
import { effectiveProfile, renderPodSecurity } from "./pod-security.ts";
import type { ApplyObject, Owner } from "./types.ts";

export const CONTAINER_NAME = "model-server";
export const PORT_NAME = "http";
const STARTUP_PERIOD_SECONDS = 10;
const SHM_VOLUME = "dshm";

export interface DeploymentInput {
  owner: Owner;
  spec: ModelDeploymentSpec;
  revision: string;
  replicas: number;
  /** The revision's Deployment exists: what it was made with (features.ts). Absent: a new revision. */
  madeWith?: MadeWith | undefined;
  /** The operator's download container image for new revisions. Default: DEFAULT_MODEL_DOWNLOADER_IMAGE. */
  modelDownloaderImage?: string | undefined;
}

export function revisionSelector(mdName: string, revision: string): Record<string, string> {
  return { ...deploymentSelector(mdName), [LABEL_REVISION]: revision };
}

export function renderDeployment({
  owner,
  spec,
  revision,
  replicas,
  madeWith = NEW_REVISION,
  modelDownloaderImage,
}: DeploymentInput): ApplyObject {
  const features = madeWith.features;
  const endpoints = resolveRuntimeEndpoints(spec.runtime);
  const labels = {
    ...commonLabels(owner.name, spec.model.name),
    "app.kubernetes.io/version": toLabelValue(spec.model.version),
    [LABEL_REVISION]: revision,
  };
  const template = spec.template ?? {};
  const httpGet = (path: string) => ({ path, port: PORT_NAME });
  const modelEnv = [
    { name: "MODEL_NAME", value: spec.model.name },
    { name: "MODEL_VERSION", value: spec.model.version },
    ...(spec.model.uri ? [{ name: "MODEL_URI", value: spec.model.uri }] : []),
  ];
  const security = renderPodSecurity(
    template.securityContext,
    effectiveProfile(template.securityContext, !features.has("pod-security-restricted")),
  );
  const artifacts = features.has("model-artifacts")
    ? renderModelArtifacts({
        model: spec.model,
        runtime: spec.runtime,
        downloaderImage:
          spec.model.storage?.downloaderImage ??
          madeWith.downloaderImage ??
          modelDownloaderImage ??
          DEFAULT_MODEL_DOWNLOADER_IMAGE,
        containerSecurity: security.container,
      })
    : undefined;
  modelEnv.push(...(artifacts?.env ?? []));
  const userEnv = spec.runtime.env ?? [];
  const env = [...modelEnv.filter((e) => !userEnv.some((u) => u.name === e.name)), ...userEnv];
  const args = spec.runtime.args ?? artifacts?.args;

  const shm = spec.runtime.shmSize;
  const volumeMounts = [
    ...(shm ? [{ name: SHM_VOLUME, mountPath: "/dev/shm" }] : []),
    ...(artifacts?.mounts ?? []),
  ];
  const volumes = [
    ...(shm ? [{ name: SHM_VOLUME, emptyDir: { medium: "Memory", sizeLimit: String(shm) } }] : []),
    ...(artifacts?.volumes ?? []),
  ];
  const container = {
    name: CONTAINER_NAME,
    image: spec.runtime.image,
    ...(spec.runtime.command ? { command: spec.runtime.command } : {}),
    ...(args ? { args } : {}),
    env,
    ports: [{ name: PORT_NAME, containerPort: endpoints.port, protocol: "TCP" }],
    ...(spec.runtime.resources ? { resources: spec.runtime.resources } : {}),
    ...(security.container ? { securityContext: security.container } : {}),
    ...(volumeMounts.length > 0 ? { volumeMounts } : {}),
    // Big models load for minutes: the startup probe carries that budget so liveness never
    // kills a pod that is still loading.
    startupProbe: {
      httpGet: httpGet(endpoints.readinessPath),
      periodSeconds: STARTUP_PERIOD_SECONDS,
      failureThreshold: Math.max(1, Math.ceil(spec.runtime.startupTimeoutSeconds / STARTUP_PERIOD_SECONDS)),
      timeoutSeconds: 5,
    },
    readinessProbe: {
      httpGet: httpGet(endpoints.readinessPath),
      periodSeconds: 5,
      failureThreshold: 3,
      timeoutSeconds: 5,
    },
    // Liveness only asks "is the process alive", never runs inference: a busy model is not dead.
    livenessProbe: {
      httpGet: httpGet(endpoints.livenessPath),
      periodSeconds: 10,
      failureThreshold: 6,
      timeoutSeconds: 5,
    },
  };

  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: deploymentName(owner.name, revision),
      namespace: owner.namespace,
      labels,
      ...(features.size > 0
        ? { annotations: { [RENDER_FEATURES_ANNOTATION]: featuresAnnotation(features) } }
        : {}),
      ownerReferences: [ownerReference(owner)],
    },
    spec: {
      replicas,
      selector: { matchLabels: revisionSelector(owner.name, revision) },
      // The Deployment's own deadline (fatal to a canary when it fires) must not cut a model that is
      // still loading within its startup budget: the engine applies both budgets itself.
      progressDeadlineSeconds: spec.rollout.progressDeadlineSeconds + spec.runtime.startupTimeoutSeconds,
      // A revision's pod template never changes (it is the revision); history is ours, not the Deployment's.
      revisionHistoryLimit: 0,
      template: {
        metadata: {
          labels: { ...(template.metadata?.labels ?? {}), ...labels },
          ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
        },
        spec: {
          ...(artifacts?.initContainers.length ? { initContainers: artifacts.initContainers } : {}),
          containers: [container],
          ...(volumes.length > 0 ? { volumes } : {}),
          ...(security.pod ? { securityContext: security.pod } : {}),
          ...(template.serviceAccountName
            ? { serviceAccountName: template.serviceAccountName }
            : { automountServiceAccountToken: false }),
          ...(template.nodeSelector ? { nodeSelector: template.nodeSelector } : {}),
          ...(template.tolerations ? { tolerations: template.tolerations } : {}),
          ...(template.affinity ? { affinity: template.affinity } : {}),
          ...(template.imagePullSecrets ? { imagePullSecrets: template.imagePullSecrets } : {}),
          ...(template.priorityClassName ? { priorityClassName: template.priorityClassName } : {}),
        },
      },
    },
  };
}
