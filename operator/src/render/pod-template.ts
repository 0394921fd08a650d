// spec.runtime's container extras and spec.template's pod extras → the Deployment's pod template:
//   runtime.envFrom / volumeMounts / ports / lifecycle   → the model-server container
//   runtime.probes + runtime.startupTimeoutSeconds       → its startup, readiness and liveness probes
//   template.volumes / initContainers / runtimeClassName
//     / topologySpreadConstraints / terminationGracePeriodSeconds → the pod
// Absent fields render nothing at all, so a revision made before they existed renders as it did
// (upgrade.test.ts). Values the API server would drop (false, 0, empty lists where Kubernetes omits
// them) are not sent either: the live object would never match and every resync would write it.
import {
  type ContainerPort,
  type EnvFromSource,
  type InitContainerSpec,
  type ModelDeploymentSpec,
  PROBE_DEFAULTS,
  type ResolvedEndpoints,
  RUNTIME_PORT_NAME,
  type TopologySpreadConstraintSpec,
  type VolumeMount,
  type VolumeSpec,
} from "../api/index.ts";
import { deploymentSelector } from "./labels.ts";

type Obj = Record<string, unknown>;

/** Only the keys whose value is neither undefined nor an empty list. */
function present(o: Obj): Obj {
  return Object.fromEntries(
    Object.entries(o).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)),
  );
}

const nonEmpty = <T>(xs: readonly T[] | undefined): T[] | undefined =>
  xs !== undefined && xs.length > 0 ? [...xs] : undefined;
/** A bool Kubernetes omits when false. */
const ifTrue = (b: boolean | undefined) => (b === true ? true : undefined);

export function renderVolumeMounts(mounts: readonly VolumeMount[] | undefined): Obj[] {
  return (mounts ?? []).map((m) =>
    present({ name: m.name, mountPath: m.mountPath, subPath: m.subPath, readOnly: ifTrue(m.readOnly) }),
  );
}

export function renderEnvFrom(sources: readonly EnvFromSource[] | undefined): Obj[] | undefined {
  return nonEmpty(
    (sources ?? []).map((s) =>
      present({
        configMapRef: s.configMapRef && present({ ...s.configMapRef }),
        secretRef: s.secretRef && present({ ...s.secretRef }),
        prefix: s.prefix,
      }),
    ),
  );
}

export function renderPorts(ports: readonly ContainerPort[] | undefined): Obj[] {
  return (ports ?? []).map((p) => ({
    name: p.name,
    containerPort: p.containerPort,
    protocol: p.protocol ?? "TCP",
  }));
}

function keyToPaths(items: readonly { key: string; path: string; mode?: number | undefined }[] | undefined) {
  return nonEmpty((items ?? []).map((i) => present({ key: i.key, path: i.path, mode: i.mode })));
}

export function renderVolume(v: VolumeSpec): Obj {
  if (v.configMap) {
    const c = v.configMap;
    return {
      name: v.name,
      configMap: present({
        name: c.name,
        items: keyToPaths(c.items),
        defaultMode: c.defaultMode,
        optional: c.optional,
      }),
    };
  }
  if (v.secret) {
    const s = v.secret;
    return {
      name: v.name,
      secret: present({
        secretName: s.secretName,
        items: keyToPaths(s.items),
        defaultMode: s.defaultMode,
        optional: s.optional,
      }),
    };
  }
  if (v.emptyDir) {
    const sizeLimit = v.emptyDir.sizeLimit;
    return {
      name: v.name,
      emptyDir: present({
        medium: v.emptyDir.medium,
        sizeLimit: sizeLimit === undefined ? undefined : String(sizeLimit),
      }),
    };
  }
  if (v.persistentVolumeClaim) {
    const p = v.persistentVolumeClaim;
    return {
      name: v.name,
      persistentVolumeClaim: present({ claimName: p.claimName, readOnly: ifTrue(p.readOnly) }),
    };
  }
  if (v.ephemeral) {
    const t = v.ephemeral.volumeClaimTemplate;
    const metadata = present({
      labels: t.metadata?.labels && Object.keys(t.metadata.labels).length > 0 ? t.metadata.labels : undefined,
      annotations:
        t.metadata?.annotations && Object.keys(t.metadata.annotations).length > 0
          ? t.metadata.annotations
          : undefined,
    });
    return {
      name: v.name,
      ephemeral: {
        volumeClaimTemplate: present({
          metadata: Object.keys(metadata).length > 0 ? metadata : undefined,
          spec: present({
            accessModes: t.spec.accessModes,
            storageClassName: t.spec.storageClassName,
            resources: { requests: { storage: String(t.spec.resources.requests.storage) } },
          }),
        }),
      },
    };
  }
  // The schema admits exactly one source (api/pod-template.ts); this is unreachable for parsed specs.
  throw new Error(`volume ${v.name} has no source`);
}

/**
 * Init containers and native sidecars. Each gets the model server's container securityContext
 * (render/pod-security.ts), so a sidecar is exactly as restricted as the model server.
 */
export function renderInitContainers(
  inits: readonly InitContainerSpec[] | undefined,
  securityContext: Obj | undefined,
): Obj[] | undefined {
  return nonEmpty(
    (inits ?? []).map((c) =>
      present({
        name: c.name,
        image: c.image,
        command: c.command,
        args: c.args,
        env: c.env,
        envFrom: renderEnvFrom(c.envFrom),
        resources: c.resources,
        volumeMounts: renderVolumeMounts(c.volumeMounts),
        ports: renderPorts(c.ports),
        restartPolicy: c.restartPolicy,
        securityContext,
      }),
    ),
  );
}

/** A constraint without a labelSelector counts every pod of this ModelDeployment, all revisions. */
export function renderTopologySpread(
  mdName: string,
  constraints: readonly TopologySpreadConstraintSpec[] | undefined,
): Obj[] | undefined {
  return nonEmpty(
    (constraints ?? []).map((t) => {
      const selector = t.labelSelector
        ? present({
            matchLabels:
              t.labelSelector.matchLabels && Object.keys(t.labelSelector.matchLabels).length > 0
                ? t.labelSelector.matchLabels
                : undefined,
            matchExpressions: nonEmpty(
              (t.labelSelector.matchExpressions ?? []).map((e) =>
                present({ key: e.key, operator: e.operator, values: e.values }),
              ),
            ),
          })
        : { matchLabels: deploymentSelector(mdName) };
      return present({
        maxSkew: t.maxSkew,
        topologyKey: t.topologyKey,
        whenUnsatisfiable: t.whenUnsatisfiable,
        labelSelector: selector,
        minDomains: t.minDomains,
        matchLabelKeys: t.matchLabelKeys,
        nodeAffinityPolicy: t.nodeAffinityPolicy,
        nodeTaintsPolicy: t.nodeTaintsPolicy,
      });
    }),
  );
}

/**
 * The three kubelet probes of the model server. The startup probe's failure threshold is derived
 * from runtime.startupTimeoutSeconds, whatever its period, so the kubelet's startup budget and the
 * rollout's (rollout/canary-checks.ts stuck(), which reads runtime.startupTimeoutSeconds) agree:
 * the kubelet gives up within one period after the rollout does.
 */
export function renderProbes(runtime: ModelDeploymentSpec["runtime"], endpoints: ResolvedEndpoints): Obj {
  const o = runtime.probes ?? {};
  const httpGet = (path: string) => ({ path, port: RUNTIME_PORT_NAME });
  const readinessPath = o.readiness?.path ?? endpoints.readinessPath;
  const startupPeriod = o.startup?.periodSeconds ?? PROBE_DEFAULTS.startup.periodSeconds;
  const delay = (s: number | undefined) => (s !== undefined && s > 0 ? s : undefined);
  return {
    // Big models load for minutes: the startup probe carries that budget so liveness never
    // kills a pod that is still loading.
    startupProbe: {
      httpGet: httpGet(o.startup?.path ?? readinessPath),
      periodSeconds: startupPeriod,
      failureThreshold: Math.max(1, Math.ceil(runtime.startupTimeoutSeconds / startupPeriod)),
      timeoutSeconds: o.startup?.timeoutSeconds ?? PROBE_DEFAULTS.startup.timeoutSeconds,
    },
    readinessProbe: present({
      httpGet: httpGet(readinessPath),
      initialDelaySeconds: delay(o.readiness?.initialDelaySeconds),
      periodSeconds: o.readiness?.periodSeconds ?? PROBE_DEFAULTS.readiness.periodSeconds,
      failureThreshold: o.readiness?.failureThreshold ?? PROBE_DEFAULTS.readiness.failureThreshold,
      timeoutSeconds: o.readiness?.timeoutSeconds ?? PROBE_DEFAULTS.readiness.timeoutSeconds,
    }),
    // Liveness only asks "is the process alive", never runs inference: a busy model is not dead.
    livenessProbe: present({
      httpGet: httpGet(o.liveness?.path ?? endpoints.livenessPath),
      initialDelaySeconds: delay(o.liveness?.initialDelaySeconds),
      periodSeconds: o.liveness?.periodSeconds ?? PROBE_DEFAULTS.liveness.periodSeconds,
      failureThreshold: o.liveness?.failureThreshold ?? PROBE_DEFAULTS.liveness.failureThreshold,
      timeoutSeconds: o.liveness?.timeoutSeconds ?? PROBE_DEFAULTS.liveness.timeoutSeconds,
    }),
  };
}

/** runtime.lifecycle → the container's lifecycle; httpGet has no host, so it reaches the pod only. */
export function renderLifecycle(lifecycle: ModelDeploymentSpec["runtime"]["lifecycle"]): Obj | undefined {
  const p = lifecycle?.preStop;
  if (p === undefined) return undefined;
  if (p.exec) return { preStop: { exec: { command: [...p.exec.command] } } };
  if (p.sleep) return { preStop: { sleep: { seconds: p.sleep.seconds } } };
  if (p.httpGet)
    return { preStop: { httpGet: { path: p.httpGet.path, port: p.httpGet.port ?? RUNTIME_PORT_NAME } } };
  return undefined;
}

/** The pod-level fields of spec.template this file renders (absent ones: no key). */
export function renderPodExtras(mdName: string, template: ModelDeploymentSpec["template"]): Obj {
  return present({
    runtimeClassName: template?.runtimeClassName,
    topologySpreadConstraints: renderTopologySpread(mdName, template?.topologySpreadConstraints),
    terminationGracePeriodSeconds: template?.terminationGracePeriodSeconds,
  });
}
