// The pod template model servers need, typed and bounded: volumes, init containers and native
// sidecars, runtimeClassName, topology spread, termination grace (spec.template), and the model
// server's probes and preStop hook (spec.runtime). No field here can make a pod privileged or reach
// the node: there is no hostPath, no securityContext per container and no host networking; the pod
// and every container get the securityContext of spec.template.securityContext (render/pod-security.ts).
// Rules that span spec.runtime and spec.template (a mount names a volume, ports unique in the pod,
// a preStop sleep within the grace period) are checked once on the whole spec: checkPodTemplate
// (zod) and POD_TEMPLATE_RULES (CEL), in the same words.
import { z } from "zod";
import {
  ContainerPortsSchema,
  EnvFromSchema,
  EnvVarSchema,
  RESERVED_CONTAINER_NAMES,
  RESERVED_VOLUME_NAMES,
  ResourcesSchema,
  RUNTIME_PORT_NAME,
  relativePath,
  unreservedName,
  VolumeMountsSchema,
} from "./container.ts";
import { PRESET_DEFAULTS, type RuntimePreset, resolveRuntimeEndpoints } from "./presets.ts";
import {
  type CelRule,
  cel,
  dnsSubdomain,
  httpPath,
  INT_OR_STRING,
  quantity,
  stringMap,
} from "./schema-helpers.ts";

// ---- volumes ---------------------------------------------------------------------------------

/** The volume sources a tenant may use; see docs/security.md#volumes for why these and no others. */
export const VOLUME_SOURCES = [
  "configMap",
  "secret",
  "emptyDir",
  "persistentVolumeClaim",
  "ephemeral",
] as const;
const ONE_VOLUME_SOURCE = `each volume needs exactly one of ${VOLUME_SOURCES.join(", ")}`;

const fileMode = (description: string) => z.int().min(0).max(0o777).describe(description);

const KeyToPathsSchema = z
  .array(
    z
      .object({
        key: z.string().min(1).max(253).describe("Key in the ConfigMap or Secret."),
        path: relativePath("File name (relative path) of the key inside the volume."),
        mode: fileMode("File mode bits, 0..0777 (decimal in JSON, e.g. 256 for 0400).").optional(),
      })
      .describe("One key projected to a file."),
  )
  .max(64)
  .describe("Only these keys, as these files. Default: every key, as a file of its name.");

const EphemeralSchema = z
  .object({
    volumeClaimTemplate: z
      .object({
        metadata: z
          .object({
            labels: stringMap("Labels of the PersistentVolumeClaim.").optional(),
            annotations: stringMap("Annotations of the PersistentVolumeClaim.").optional(),
          })
          .optional()
          .describe("Extra metadata of the claim."),
        spec: z
          .object({
            accessModes: z
              .array(z.enum(["ReadWriteOnce", "ReadWriteOncePod", "ReadOnlyMany", "ReadWriteMany"]))
              .min(1)
              .max(4)
              .describe("Access modes of the claim."),
            storageClassName: dnsSubdomain(
              "StorageClass of the claim. Default: the cluster's default.",
            ).optional(),
            resources: z
              .object({
                requests: z
                  .object({ storage: quantity().describe("Size of the volume, e.g. 100Gi.") })
                  .describe("Requested storage."),
              })
              .describe("Size of the claim."),
          })
          .describe("The claim: access modes, StorageClass and size (filesystem volumes only)."),
      })
      .describe("The PersistentVolumeClaim made for each pod."),
  })
  .describe(
    "A PersistentVolumeClaim created with each pod and deleted with it (scratch space larger than a node's disk, e.g. downloaded weights).",
  );

export const VolumeSchema = cel(
  z
    .object({
      name: unreservedName(
        "Volume name, as volumeMounts refer to it (unique in the pod).",
        RESERVED_VOLUME_NAMES,
        "volume names",
      ),
      configMap: z
        .object({
          name: dnsSubdomain("ConfigMap in the ModelDeployment's namespace."),
          items: KeyToPathsSchema.optional(),
          defaultMode: fileMode("Mode of the files, 0..0777. Default: 0644.").optional(),
          optional: z.boolean().optional().describe("Start even if the ConfigMap does not exist."),
        })
        .optional()
        .describe("A ConfigMap's keys as files."),
      secret: z
        .object({
          secretName: dnsSubdomain("Secret in the ModelDeployment's namespace."),
          items: KeyToPathsSchema.optional(),
          defaultMode: fileMode("Mode of the files, 0..0777. Default: 0644.").optional(),
          optional: z.boolean().optional().describe("Start even if the Secret does not exist."),
        })
        .optional()
        .describe("A Secret's keys as files."),
      emptyDir: z
        .object({
          medium: z
            .enum(["Memory"])
            .optional()
            .describe(
              "Memory: a tmpfs, counted against the container's memory limit. Default: the node's disk.",
            ),
          sizeLimit: quantity()
            .optional()
            .describe("Most the volume may hold; the kubelet evicts a pod beyond it."),
        })
        .optional()
        .describe("Scratch space that lives as long as the pod."),
      persistentVolumeClaim: z
        .object({
          claimName: dnsSubdomain("PersistentVolumeClaim in the ModelDeployment's namespace."),
          readOnly: z.boolean().optional().describe("Mount the claim read-only in every container."),
        })
        .optional()
        .describe(
          "An existing PersistentVolumeClaim (e.g. model weights shared by all replicas: use a ReadOnlyMany or ReadWriteMany claim).",
        ),
      ephemeral: EphemeralSchema.optional(),
    })
    .superRefine((v, ctx) => {
      if (VOLUME_SOURCES.filter((s) => v[s] !== undefined).length !== 1)
        ctx.addIssue({ code: "custom", message: ONE_VOLUME_SOURCE });
    })
    .describe(
      "A pod volume: configMap, secret, emptyDir, persistentVolumeClaim or ephemeral. No hostPath or other node or network volume types (docs/security.md#volumes).",
    ),
  [
    {
      rule: `${VOLUME_SOURCES.map((s) => `(has(self.${s}) ? 1 : 0)`).join(" + ")} == 1`,
      message: ONE_VOLUME_SOURCE,
    },
  ],
);

const UNIQUE_VOLUME_NAMES = "volume names must be unique";

const VolumesSchema = cel(
  z
    .array(VolumeSchema)
    .max(32)
    .superRefine((vs, ctx) => duplicates(vs, (v) => v.name, ctx, UNIQUE_VOLUME_NAMES))
    .describe(
      "Volumes of the model server pods, mounted with runtime.volumeMounts and initContainers[].volumeMounts.",
    ),
  [{ rule: "self.all(v, self.exists_one(w, w.name == v.name))", message: UNIQUE_VOLUME_NAMES }],
);

// ---- init containers and sidecars ------------------------------------------------------------

const PORTS_NEED_SIDECAR = "ports are only for sidecars (restartPolicy: Always)";

export const InitContainerSchema = cel(
  z
    .object({
      name: unreservedName(
        "Container name (unique in the pod).",
        RESERVED_CONTAINER_NAMES,
        "container names",
      ),
      image: z.string().min(1).max(1024).describe("Container image."),
      command: z.array(z.string().max(4096)).max(256).optional().describe("Entrypoint override."),
      args: z.array(z.string().max(4096)).max(256).optional().describe("Arguments."),
      env: z.array(EnvVarSchema).max(128).optional().describe("Environment variables."),
      envFrom: EnvFromSchema.optional(),
      resources: ResourcesSchema.optional(),
      volumeMounts: VolumeMountsSchema.optional(),
      ports: ContainerPortsSchema.optional(),
      restartPolicy: z
        .enum(["Always"])
        .optional()
        .describe(
          "Always: a native sidecar, started before the model server (in list order) and kept running beside it (e.g. a proxy or a metrics exporter). Absent: an init container that runs to completion before the next one starts.",
        ),
    })
    .superRefine((c, ctx) => {
      if (c.ports !== undefined && c.restartPolicy !== "Always")
        ctx.addIssue({ code: "custom", path: ["ports"], message: PORTS_NEED_SIDECAR });
    })
    .describe(
      "An init container or (restartPolicy: Always) a native sidecar. It runs with the same securityContext as the model server (spec.template.securityContext); there is no per-container override.",
    ),
  [
    {
      rule: "!has(self.ports) || (has(self.restartPolicy) && self.restartPolicy == 'Always')",
      message: PORTS_NEED_SIDECAR,
      fieldPath: ".ports",
    },
  ],
);

const UNIQUE_CONTAINER_NAMES = "container names must be unique";

const InitContainersSchema = cel(
  z
    .array(InitContainerSchema)
    .max(8)
    .superRefine((cs, ctx) => duplicates(cs, (c) => c.name, ctx, UNIQUE_CONTAINER_NAMES))
    .describe(
      "Init containers and native sidecars of the model server pods, in start order. Each one's image is part of the revision: changing it rolls out a new revision.",
    ),
  [{ rule: "self.all(c, self.exists_one(d, d.name == c.name))", message: UNIQUE_CONTAINER_NAMES }],
);

// ---- topology spread -------------------------------------------------------------------------

const LABEL_KEY_PATTERN =
  "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$";
const labelKey = (description: string) =>
  z
    .string()
    .min(1)
    .max(317)
    .regex(new RegExp(LABEL_KEY_PATTERN), "must be a label key ([prefix/]name)")
    .describe(description);

const VALUES_BY_OPERATOR = "In and NotIn need values; Exists and DoesNotExist take none";

const LabelSelectorSchema = z
  .object({
    matchLabels: stringMap("Labels a pod must have.").optional(),
    matchExpressions: z
      .array(
        cel(
          z
            .object({
              key: labelKey("Label key."),
              operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist"]).describe("How the key is matched."),
              values: z.array(z.string().max(63)).max(64).optional().describe("Values for In and NotIn."),
            })
            .superRefine((e, ctx) => {
              const needs = e.operator === "In" || e.operator === "NotIn";
              if (needs !== (e.values !== undefined && e.values.length > 0))
                ctx.addIssue({ code: "custom", path: ["values"], message: VALUES_BY_OPERATOR });
            })
            .describe("A label selector requirement."),
          [
            {
              rule: "(self.operator == 'In' || self.operator == 'NotIn') == (has(self.values) && size(self.values) > 0)",
              message: VALUES_BY_OPERATOR,
              fieldPath: ".values",
            },
          ],
        ),
      )
      .max(16)
      .optional()
      .describe("Label requirements a pod must meet."),
  })
  .describe(
    "Pods counted for the spread. Default: every pod of this ModelDeployment (stable and canary together).",
  );

/** The label the default spread selector uses (render/labels.ts LABEL_DEPLOYMENT). */
export const SPREAD_DEFAULT_SELECTOR_KEY = "modelship.dev/deployment";

const MIN_DOMAINS_NEEDS_DO_NOT_SCHEDULE = "minDomains needs whenUnsatisfiable: DoNotSchedule";
const MATCH_LABEL_KEYS_CLASH = "matchLabelKeys must not repeat a key of the labelSelector";
const UNIQUE_SPREAD = "each topologyKey and whenUnsatisfiable pair may appear once";

const TopologySpreadConstraintSchema = cel(
  z
    .object({
      maxSkew: z
        .int()
        .min(1)
        .max(1000)
        .describe("Most the pod count may differ between two topology domains."),
      topologyKey: labelKey("Node label that defines a domain, e.g. topology.kubernetes.io/zone."),
      whenUnsatisfiable: z
        .enum(["DoNotSchedule", "ScheduleAnyway"])
        .describe(
          "DoNotSchedule: leave a pod Pending rather than break the skew; ScheduleAnyway: prefer only.",
        ),
      labelSelector: LabelSelectorSchema.optional(),
      minDomains: z
        .int()
        .min(1)
        .max(1000)
        .optional()
        .describe("Domains to count as existing (DoNotSchedule only)."),
      matchLabelKeys: z
        .array(labelKey("Pod label key."))
        .max(16)
        .optional()
        .describe(
          "Spread pods that share these labels' values separately, e.g. [modelship.dev/revision] spreads each revision on its own.",
        ),
      nodeAffinityPolicy: z
        .enum(["Honor", "Ignore"])
        .optional()
        .describe("Count only nodes the pod's affinity allows (Honor, the default)."),
      nodeTaintsPolicy: z
        .enum(["Honor", "Ignore"])
        .optional()
        .describe("Count only nodes whose taints the pod tolerates (Honor; default Ignore)."),
    })
    .superRefine((t, ctx) => {
      if (t.minDomains !== undefined && t.whenUnsatisfiable !== "DoNotSchedule")
        ctx.addIssue({ code: "custom", path: ["minDomains"], message: MIN_DOMAINS_NEEDS_DO_NOT_SCHEDULE });
      const selectorKeys = t.labelSelector
        ? [
            ...Object.keys(t.labelSelector.matchLabels ?? {}),
            ...(t.labelSelector.matchExpressions ?? []).map((e) => e.key),
          ]
        : [SPREAD_DEFAULT_SELECTOR_KEY];
      if ((t.matchLabelKeys ?? []).some((k) => selectorKeys.includes(k)))
        ctx.addIssue({ code: "custom", path: ["matchLabelKeys"], message: MATCH_LABEL_KEYS_CLASH });
    })
    .describe("A Kubernetes TopologySpreadConstraint."),
  [
    {
      rule: "!has(self.minDomains) || self.whenUnsatisfiable == 'DoNotSchedule'",
      message: MIN_DOMAINS_NEEDS_DO_NOT_SCHEDULE,
      fieldPath: ".minDomains",
    },
    {
      rule: `!has(self.matchLabelKeys) || !self.matchLabelKeys.exists(k, has(self.labelSelector) ? ((has(self.labelSelector.matchLabels) && k in self.labelSelector.matchLabels) || (has(self.labelSelector.matchExpressions) && self.labelSelector.matchExpressions.exists(e, e.key == k))) : k == '${SPREAD_DEFAULT_SELECTOR_KEY}')`,
      message: MATCH_LABEL_KEYS_CLASH,
      fieldPath: ".matchLabelKeys",
    },
  ],
);

const TopologySpreadConstraintsSchema = cel(
  z
    .array(TopologySpreadConstraintSchema)
    .max(8)
    .superRefine((ts, ctx) =>
      duplicates(ts, (t) => `${t.topologyKey}/${t.whenUnsatisfiable}`, ctx, UNIQUE_SPREAD),
    )
    .describe(
      "How the pods spread over zones or nodes. A constraint without labelSelector counts every pod of this ModelDeployment, stable and canary together.",
    ),
  [
    {
      rule: "self.all(t, self.exists_one(u, u.topologyKey == t.topologyKey && u.whenUnsatisfiable == t.whenUnsatisfiable))",
      message: UNIQUE_SPREAD,
    },
  ],
);

/** spec.template fields for the pod (spread into TemplateSchema). */
export const podTemplateFields = {
  volumes: VolumesSchema.optional(),
  initContainers: InitContainersSchema.optional(),
  runtimeClassName: dnsSubdomain(
    "RuntimeClass of the pods, e.g. nvidia for the NVIDIA container runtime. The RuntimeClass must exist, or the API server refuses the pods (reported as ReplicaFailure).",
  ).optional(),
  topologySpreadConstraints: TopologySpreadConstraintsSchema.optional(),
  terminationGracePeriodSeconds: z
    .int()
    .min(0)
    .max(3600)
    .optional()
    .describe(
      "Seconds a stopping pod gets for runtime.lifecycle.preStop and then SIGTERM before it is killed (in-flight requests, long streams). Default: 30 (Kubernetes).",
    ),
};

// ---- the model server's probes and preStop ---------------------------------------------------

const periodSeconds = (max: number) => z.int().min(1).max(max).optional().describe("Seconds between probes.");
const timeoutSeconds = z
  .int()
  .min(1)
  .max(600)
  .optional()
  .describe("Seconds before a probe counts as failed.");
const failureThreshold = z
  .int()
  .min(1)
  .max(1000)
  .optional()
  .describe("Consecutive failures before the kubelet acts (not Ready; restart for liveness).");
const initialDelaySeconds = z
  .int()
  .min(0)
  .max(3600)
  .optional()
  .describe("Seconds after the container starts before the first probe (the startup probe gates it anyway).");

/** The kubelet's defaults for the model server's probes (what render/deployment.ts used before overrides). */
export const PROBE_DEFAULTS = {
  startup: { periodSeconds: 10, timeoutSeconds: 5 },
  readiness: { periodSeconds: 5, failureThreshold: 3, timeoutSeconds: 5 },
  liveness: { periodSeconds: 10, failureThreshold: 6, timeoutSeconds: 5 },
} as const;

const ProbesSchema = z
  .object({
    startup: z
      .object({
        path: httpPath("Path of the startup probe. Default: the readiness path.").optional(),
        periodSeconds: periodSeconds(600).describe(
          `Seconds between startup probes. Default: ${PROBE_DEFAULTS.startup.periodSeconds}. The failure threshold is derived: ceil(runtime.startupTimeoutSeconds / periodSeconds), so the budget stays runtime.startupTimeoutSeconds.`,
        ),
        timeoutSeconds: timeoutSeconds.describe(
          `Seconds per probe. Default: ${PROBE_DEFAULTS.startup.timeoutSeconds}.`,
        ),
      })
      .optional()
      .describe(
        "Startup probe tuning. Its budget is runtime.startupTimeoutSeconds (no failureThreshold or initialDelaySeconds here): the kubelet restarts a server that is not Ready within ceil(startupTimeoutSeconds / periodSeconds) × periodSeconds, and the rollout treats a pod as loading for startupTimeoutSeconds.",
      ),
    readiness: z
      .object({
        path: httpPath(
          "Path of the readiness probe. Default: the preset's (or runtime.healthPath).",
        ).optional(),
        periodSeconds: periodSeconds(3600).describe(`Default: ${PROBE_DEFAULTS.readiness.periodSeconds}.`),
        timeoutSeconds: timeoutSeconds.describe(`Default: ${PROBE_DEFAULTS.readiness.timeoutSeconds}.`),
        failureThreshold: failureThreshold.describe(`Default: ${PROBE_DEFAULTS.readiness.failureThreshold}.`),
        initialDelaySeconds,
      })
      .optional()
      .describe("Readiness probe tuning (the kubelet's; the prober's checks are spec.health)."),
    liveness: z
      .object({
        path: httpPath(
          "Path of the liveness probe. Default: the preset's (or runtime.healthPath). Never an inference call: a busy model is not dead.",
        ).optional(),
        periodSeconds: periodSeconds(3600).describe(`Default: ${PROBE_DEFAULTS.liveness.periodSeconds}.`),
        timeoutSeconds: timeoutSeconds.describe(`Default: ${PROBE_DEFAULTS.liveness.timeoutSeconds}.`),
        failureThreshold: failureThreshold.describe(`Default: ${PROBE_DEFAULTS.liveness.failureThreshold}.`),
        initialDelaySeconds,
      })
      .optional()
      .describe("Liveness probe tuning."),
  })
  .describe(
    "Overrides of the kubelet probes of the model server (HTTP GET on its port). Absent fields keep the defaults.",
  );

const ONE_PRESTOP_ACTION = "preStop needs exactly one of exec, sleep, httpGet";

const LifecycleSchema = z
  .object({
    preStop: cel(
      z
        .object({
          exec: z
            .object({
              command: z
                .array(z.string().max(4096))
                .min(1)
                .max(64)
                .describe("Command run in the container (no shell unless you call one)."),
            })
            .optional()
            .describe("Run a command in the model server container."),
          sleep: z
            .object({
              seconds: z
                .int()
                .min(1)
                .max(3600)
                .describe(
                  "Seconds to wait (at most spec.template.terminationGracePeriodSeconds, default 30).",
                ),
            })
            .optional()
            .describe("Wait before SIGTERM, e.g. while load balancers stop sending new requests."),
          httpGet: z
            .object({
              path: httpPath("Path requested on the pod itself."),
              port: z
                .union([z.int().min(1).max(65535), z.string().min(1).max(15)])
                .meta({ [INT_OR_STRING]: true })
                .optional()
                .describe(
                  `Port number, or the name of the model server's port ('${RUNTIME_PORT_NAME}') or of runtime.ports. Default: '${RUNTIME_PORT_NAME}'.`,
                ),
            })
            .optional()
            .describe("Send an HTTP GET to the pod itself (no other host), e.g. a drain endpoint."),
        })
        .superRefine((p, ctx) => {
          if ([p.exec, p.sleep, p.httpGet].filter((a) => a !== undefined).length !== 1)
            ctx.addIssue({ code: "custom", message: ONE_PRESTOP_ACTION });
        })
        .describe("Runs before the model server gets SIGTERM; within terminationGracePeriodSeconds."),
      [
        {
          rule: "(has(self.exec) ? 1 : 0) + (has(self.sleep) ? 1 : 0) + (has(self.httpGet) ? 1 : 0) == 1",
          message: ONE_PRESTOP_ACTION,
        },
      ],
    ).optional(),
  })
  .describe("Lifecycle hooks of the model server container.");

/** spec.runtime fields for the model server container (spread into RuntimeSchema). */
export const runtimeContainerFields = {
  envFrom: EnvFromSchema.optional(),
  volumeMounts: VolumeMountsSchema.optional(),
  ports: ContainerPortsSchema.optional(),
  probes: ProbesSchema.optional(),
  lifecycle: LifecycleSchema.optional(),
};

// ---- rules across spec.runtime and spec.template ---------------------------------------------

export const MOUNT_NEEDS_VOLUME = "every volumeMount must name a volume of spec.template.volumes";
export const PORTS_UNIQUE_IN_POD = `port names and numbers must be unique in the pod and differ from the model server's port (named '${RUNTIME_PORT_NAME}')`;
export const SLEEP_WITHIN_GRACE =
  "preStop.sleep.seconds must not exceed spec.template.terminationGracePeriodSeconds (default 30)";
export const PRESTOP_PORT_UNKNOWN = `preStop.httpGet.port must be a number, '${RUNTIME_PORT_NAME}' or the name of one of runtime.ports`;
/** The kubelet's default terminationGracePeriodSeconds. */
export const DEFAULT_GRACE_SECONDS = 30;

type Runtime = {
  preset: RuntimePreset;
  port?: number | undefined;
  volumeMounts?: { name: string }[] | undefined;
  ports?: { name: string; containerPort: number }[] | undefined;
  lifecycle?: z.output<typeof LifecycleSchema> | undefined;
};
type Template = {
  volumes?: { name: string }[] | undefined;
  initContainers?: z.output<typeof InitContainerSchema>[] | undefined;
  terminationGracePeriodSeconds?: number | undefined;
};

/** The zod half of the rules across runtime and template; POD_TEMPLATE_RULES is the CEL half. */
export function checkPodTemplate(
  spec: { runtime: Runtime; template?: Template | undefined },
  ctx: z.RefinementCtx,
) {
  const { runtime, template } = spec;
  const volumes = new Set((template?.volumes ?? []).map((v) => v.name));
  const issue = (path: (string | number)[], message: string) =>
    ctx.addIssue({ code: "custom", path, message });
  for (const [i, m] of (runtime.volumeMounts ?? []).entries())
    if (!volumes.has(m.name)) issue(["runtime", "volumeMounts", i, "name"], MOUNT_NEEDS_VOLUME);
  for (const [c, init] of (template?.initContainers ?? []).entries())
    for (const [i, m] of (init.volumeMounts ?? []).entries())
      if (!volumes.has(m.name))
        issue(["template", "initContainers", c, "volumeMounts", i, "name"], MOUNT_NEEDS_VOLUME);

  const runtimePort = resolveRuntimeEndpoints(runtime).port;
  const names = new Set([RUNTIME_PORT_NAME]);
  const numbers = new Set([runtimePort]);
  const ports: [(string | number)[], { name: string; containerPort: number }][] = [
    ...(runtime.ports ?? []).map((p, i): [(string | number)[], typeof p] => [["runtime", "ports", i], p]),
    ...(template?.initContainers ?? []).flatMap((c, ci) =>
      (c.ports ?? []).map((p, i): [(string | number)[], typeof p] => [
        ["template", "initContainers", ci, "ports", i],
        p,
      ]),
    ),
  ];
  for (const [path, p] of ports) {
    if (names.has(p.name) || numbers.has(p.containerPort)) issue(path, PORTS_UNIQUE_IN_POD);
    names.add(p.name);
    numbers.add(p.containerPort);
  }

  const preStop = runtime.lifecycle?.preStop;
  const grace = template?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
  if (preStop?.sleep !== undefined && preStop.sleep.seconds > grace)
    issue(["runtime", "lifecycle", "preStop", "sleep", "seconds"], SLEEP_WITHIN_GRACE);
  const port = preStop?.httpGet?.port;
  if (
    typeof port === "string" &&
    port !== RUNTIME_PORT_NAME &&
    !(runtime.ports ?? []).some((p) => p.name === port)
  )
    issue(["runtime", "lifecycle", "preStop", "httpGet", "port"], PRESTOP_PORT_UNKNOWN);
}

const RUNTIME_PORT_CEL = `(has(self.runtime.port) ? self.runtime.port : {${Object.entries(PRESET_DEFAULTS)
  .map(([preset, d]) => `'${preset}': ${d.port}`)
  .join(", ")}}[self.runtime.preset])`;
const INITS = "(has(self.template) && has(self.template.initContainers) ? self.template.initContainers : [])";
const RUNTIME_PORTS = "(has(self.runtime.ports) ? self.runtime.ports : [])";
const VOLUME_EXISTS =
  "has(self.template) && has(self.template.volumes) && self.template.volumes.exists(v, v.name == m.name)";
const clash = (q: string, p: string) => `${q}.name == ${p}.name || ${q}.containerPort == ${p}.containerPort`;
/** Port `p` is not the model server's, and no port of `own` but itself, nor any other container's, clashes with it. */
const portFree = (p: string, own: string, otherInits: string) =>
  `${p}.name != '${RUNTIME_PORT_NAME}' && ${p}.containerPort != ${RUNTIME_PORT_CEL}` +
  ` && ${own}.exists_one(q, ${clash("q", p)})` +
  ` && ${INITS}.all(d, ${otherInits} || !has(d.ports) || !d.ports.exists(q, ${clash("q", p)}))`;
const PRESTOP = "self.runtime.lifecycle.preStop";
const HAS_PRESTOP = `has(self.runtime.lifecycle) && has(${PRESTOP})`;

/** The CEL half of checkPodTemplate, on the spec. */
export const POD_TEMPLATE_RULES: CelRule[] = [
  {
    rule: `!has(self.runtime.volumeMounts) || self.runtime.volumeMounts.all(m, ${VOLUME_EXISTS})`,
    message: MOUNT_NEEDS_VOLUME,
    fieldPath: ".runtime.volumeMounts",
  },
  {
    rule: `${INITS}.all(c, !has(c.volumeMounts) || c.volumeMounts.all(m, ${VOLUME_EXISTS}))`,
    message: MOUNT_NEEDS_VOLUME,
    fieldPath: ".template.initContainers",
  },
  {
    rule: `${RUNTIME_PORTS}.all(p, ${portFree("p", RUNTIME_PORTS, "false")})`,
    message: PORTS_UNIQUE_IN_POD,
    fieldPath: ".runtime.ports",
  },
  {
    rule: `${INITS}.all(c, !has(c.ports) || c.ports.all(p, ${portFree("p", "c.ports", "d.name == c.name")} && !${RUNTIME_PORTS}.exists(q, ${clash("q", "p")})))`,
    message: PORTS_UNIQUE_IN_POD,
    fieldPath: ".template.initContainers",
  },
  {
    rule: `!(${HAS_PRESTOP} && has(${PRESTOP}.sleep)) || ${PRESTOP}.sleep.seconds <= (has(self.template) && has(self.template.terminationGracePeriodSeconds) ? self.template.terminationGracePeriodSeconds : ${DEFAULT_GRACE_SECONDS})`,
    message: SLEEP_WITHIN_GRACE,
    fieldPath: ".runtime.lifecycle.preStop.sleep.seconds",
  },
  {
    rule: `!(${HAS_PRESTOP} && has(${PRESTOP}.httpGet) && has(${PRESTOP}.httpGet.port)) || type(${PRESTOP}.httpGet.port) == int || ${PRESTOP}.httpGet.port == '${RUNTIME_PORT_NAME}' || ${RUNTIME_PORTS}.exists(q, q.name == ${PRESTOP}.httpGet.port)`,
    message: PRESTOP_PORT_UNKNOWN,
    fieldPath: ".runtime.lifecycle.preStop.httpGet.port",
  },
];

function duplicates<T>(items: T[], key: (t: T) => string, ctx: z.RefinementCtx, message: string) {
  const seen = new Set<string>();
  for (const [i, item] of items.entries()) {
    const k = key(item);
    if (seen.has(k)) ctx.addIssue({ code: "custom", path: [i], message });
    seen.add(k);
  }
}

export type VolumeSpec = z.output<typeof VolumeSchema>;
export type InitContainerSpec = z.output<typeof InitContainerSchema>;
export type TopologySpreadConstraintSpec = z.output<typeof TopologySpreadConstraintSchema>;
export type ProbesSpec = z.output<typeof ProbesSchema>;
export type LifecycleSpec = z.output<typeof LifecycleSchema>;
