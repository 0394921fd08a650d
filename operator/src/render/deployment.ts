// spec → one apps/v1 Deployment per live revision. Field by field:
//   spec.runtime.image/command/args/env/resources → the model-server container
//   spec.runtime.envFrom/volumeMounts/lifecycle   → the same fields of it (pod-template.ts)
//   spec.runtime.preset (+ port, healthPath)     → container port "http" and the three probes
//   spec.runtime.ports                            → more container ports, after "http"
//   spec.runtime.probes                           → probe paths and timings (pod-template.ts)
//   spec.runtime.startupTimeoutSeconds            → startupProbe.failureThreshold × periodSeconds
//   spec.runtime.shmSize                          → a memory emptyDir mounted at /dev/shm
//   spec.model.name/version/uri                   → MODEL_NAME, MODEL_VERSION, MODEL_URI env
//   spec.model.uri + storage                      → model volume, downloader, MODEL_PATH, args (model-artifacts.ts)
//   spec.template.metadata/nodeSelector/tolerations/affinity/imagePullSecrets/priorityClassName
//     /serviceAccountName                         → the same pod fields (pod metadata, scheduling, SA)
//   spec.template.volumes                         → pod volumes, after dshm and the model's (pod-template.ts)
//   spec.template.initContainers                  → pod initContainers after the model downloader,
//                                                    native sidecars included
//   spec.template.runtimeClassName/terminationGracePeriodSeconds → the same pod fields
//   spec.template.topologySpreadConstraints       → the same, labelSelector defaulting to this
//                                                    ModelDeployment's pods (all revisions)
//   spec.template.securityContext                 → pod + every container's securityContext (pod-security.ts)
//   spec.rollout.progressDeadlineSeconds
//     + spec.runtime.startupTimeoutSeconds         → Deployment.spec.progressDeadlineSeconds
// The replica count comes from the rollout decision, not from the spec.
import type { ModelDeploymentSpec } from "../api/index.ts";
import { RUNTIME_PORT_NAME, resolveRuntimeEndpoints } from "../api/index.ts";
import { featuresAnnotation, type MadeWith, NEW_REVISION, RENDER_FEATURES_ANNOTATION } from "./features.ts";
import { commonLabels, deploymentSelector, LABEL_REVISION, toLabelValue } from "./labels.ts";
import { DEFAULT_MODEL_DOWNLOADER_IMAGE, renderModelArtifacts } from "./model-artifacts.ts";
import { deploymentName } from "./names.ts";
import { ownerReference } from "./owner.ts";
import { effectiveProfile, renderPodSecurity } from "./pod-security.ts";
import {
  renderEnvFrom,
  renderInitContainers,
  renderLifecycle,
  renderPodExtras,
  renderPorts,
  renderProbes,
  renderVolume,
  renderVolumeMounts,
} from "./pod-template.ts";
import type { ApplyObject, Owner } from "./types.ts";

export const CONTAINER_NAME = "model-server";
export const PORT_NAME = RUNTIME_PORT_NAME;
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
  const mounts = [
    ...(shm ? [{ name: SHM_VOLUME, mountPath: "/dev/shm" }] : []),
    ...(artifacts?.mounts ?? []),
    ...renderVolumeMounts(spec.runtime.volumeMounts),
  ];
  const volumes = [
    ...(shm ? [{ name: SHM_VOLUME, emptyDir: { medium: "Memory", sizeLimit: String(shm) } }] : []),
    ...(artifacts?.volumes ?? []),
    ...(template.volumes ?? []).map(renderVolume),
  ];
  const envFrom = renderEnvFrom(spec.runtime.envFrom);
  const lifecycle = renderLifecycle(spec.runtime.lifecycle);
  // The model downloader first: the user's init containers may read the weights it fetched.
  const initContainers = [
    ...(artifacts?.initContainers ?? []),
    ...(renderInitContainers(template.initContainers, security.container) ?? []),
  ];
  const container = {
    name: CONTAINER_NAME,
    image: spec.runtime.image,
    ...(spec.runtime.command ? { command: spec.runtime.command } : {}),
    ...(args ? { args } : {}),
    env,
    ...(envFrom ? { envFrom } : {}),
    ports: [
      { name: PORT_NAME, containerPort: endpoints.port, protocol: "TCP" },
      ...renderPorts(spec.runtime.ports),
    ],
    ...(spec.runtime.resources ? { resources: spec.runtime.resources } : {}),
    ...(security.container ? { securityContext: security.container } : {}),
    ...(mounts.length > 0 ? { volumeMounts: mounts } : {}),
    ...(lifecycle ? { lifecycle } : {}),
    ...renderProbes(spec.runtime, endpoints),
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
          ...(initContainers.length > 0 ? { initContainers } : {}),
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
          ...renderPodExtras(owner.name, spec.template),
        },
      },
    },
  };
}
