// spec → one apps/v1 Deployment per live revision. Field by field:
//   spec.runtime.image/command/args/env/resources → the model-server container
//   spec.runtime.preset (+ port, healthPath)     → container port and the three probes
//   spec.runtime.startupTimeoutSeconds            → startupProbe.failureThreshold × periodSeconds
//   spec.runtime.shmSize                          → a memory emptyDir mounted at /dev/shm
//   spec.model.name/version/uri                   → MODEL_NAME, MODEL_VERSION, MODEL_URI env
//   spec.template.*                               → pod metadata, scheduling, pull secrets, SA
//   spec.template.securityContext                 → pod + container securityContext (pod-security.ts)
//   spec.rollout.progressDeadlineSeconds
//     + spec.runtime.startupTimeoutSeconds         → Deployment.spec.progressDeadlineSeconds
// The replica count comes from the rollout decision, not from the spec.
import type { ModelDeploymentSpec } from "../api/index.ts";
import { resolveRuntimeEndpoints } from "../api/index.ts";
import { commonLabels, deploymentSelector, LABEL_REVISION, toLabelValue } from "./labels.ts";
import { deploymentName } from "./names.ts";
import { ownerReference } from "./owner.ts";
import {
  effectiveProfile,
  POD_SECURITY_DEFAULTS,
  POD_SECURITY_DEFAULTS_ANNOTATION,
  renderPodSecurity,
} from "./pod-security.ts";
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
  /** The revision's Deployment exists and was made without the pod security defaults (pod-security.ts). */
  predatesPodSecurityDefaults: boolean;
}

export function revisionSelector(mdName: string, revision: string): Record<string, string> {
  return { ...deploymentSelector(mdName), [LABEL_REVISION]: revision };
}

export function renderDeployment({
  owner,
  spec,
  revision,
  replicas,
  predatesPodSecurityDefaults,
}: DeploymentInput): ApplyObject {
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
  const userEnv = spec.runtime.env ?? [];
  const env = [...modelEnv.filter((e) => !userEnv.some((u) => u.name === e.name)), ...userEnv];
  const security = renderPodSecurity(
    template.securityContext,
    effectiveProfile(template.securityContext, predatesPodSecurityDefaults),
  );

  const shm = spec.runtime.shmSize;
  const container = {
    name: CONTAINER_NAME,
    image: spec.runtime.image,
    ...(spec.runtime.command ? { command: spec.runtime.command } : {}),
    ...(spec.runtime.args ? { args: spec.runtime.args } : {}),
    env,
    ports: [{ name: PORT_NAME, containerPort: endpoints.port, protocol: "TCP" }],
    ...(spec.runtime.resources ? { resources: spec.runtime.resources } : {}),
    ...(security.container ? { securityContext: security.container } : {}),
    ...(shm ? { volumeMounts: [{ name: SHM_VOLUME, mountPath: "/dev/shm" }] } : {}),
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
      ...(predatesPodSecurityDefaults
        ? {}
        : { annotations: { [POD_SECURITY_DEFAULTS_ANNOTATION]: POD_SECURITY_DEFAULTS } }),
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
          containers: [container],
          ...(shm
            ? { volumes: [{ name: SHM_VOLUME, emptyDir: { medium: "Memory", sizeLimit: String(shm) } }] }
            : {}),
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
