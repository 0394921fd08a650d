// The pod template model servers need, typed and bounded, assembled: volumes (volumes.ts), init
// containers and native sidecars (init-containers.ts), runtimeClassName, topology spread
// (topology-spread.ts) and termination grace go to spec.template; envFrom, volumeMounts, ports
// (container.ts), probes and the preStop hook (probes.ts) to spec.runtime. No field here can make a pod privileged or reach
// the node: there is no hostPath, no securityContext per container and no host networking; the pod
// and every container get the securityContext of spec.template.securityContext (render/pod-security.ts).
// Rules that span spec.runtime and spec.template (a mount names a volume, ports unique in the pod,
// a preStop sleep within the grace period) are checked once on the whole spec: checkPodTemplate
// (zod) and POD_TEMPLATE_RULES (CEL), in the same words.
import { z } from "zod";
import { ContainerPortsSchema, EnvFromSchema, RUNTIME_PORT_NAME, VolumeMountsSchema } from "./container.ts";
import { type InitContainerSpec, InitContainersSchema } from "./init-containers.ts";
import { PRESET_DEFAULTS, type RuntimePreset, resolveRuntimeEndpoints } from "./presets.ts";
import { LifecycleSchema, ProbesSchema } from "./probes.ts";
import { type CelRule, dnsSubdomain } from "./schema-helpers.ts";
import { TopologySpreadConstraintsSchema } from "./topology-spread.ts";
import { VolumesSchema } from "./volumes.ts";

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

/** spec.runtime fields for the model server container (spread into RuntimeSchema). */
export const runtimeContainerFields = {
  envFrom: EnvFromSchema.optional(),
  volumeMounts: VolumeMountsSchema.optional(),
  ports: ContainerPortsSchema.optional(),
  probes: ProbesSchema.optional(),
  lifecycle: LifecycleSchema.optional(),
};

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
  initContainers?: InitContainerSpec[] | undefined;
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
// Lists are read through has() guards, never through `cond ? list : []`: a conditional hides the
// list's maxItems from the API server's cost estimate, which then refuses the CRD.
const HAS_INITS = "has(self.template) && has(self.template.initContainers)";
const INITS = "self.template.initContainers";
/** `body` holds for every init container `c` (true when there are none). */
const allInits = (c: string, body: string) => `(!(${HAS_INITS}) || ${INITS}.all(${c}, ${body}))`;
/** Some extra port `q` of the model server satisfies `body`. */
const someRuntimePort = (body: string) =>
  `(has(self.runtime.ports) && self.runtime.ports.exists(q, ${body}))`;
const VOLUME_EXISTS =
  "has(self.template) && has(self.template.volumes) && self.template.volumes.exists(v, v.name == m.name)";
const clash = (q: string, p: string) =>
  `(${q}.name == ${p}.name || ${q}.containerPort == ${p}.containerPort)`;
/** Port `p` is not the model server's own, and no other port of its container `own` clashes with it. */
const portOwn = (p: string, own: string) =>
  `${p}.name != '${RUNTIME_PORT_NAME}' && ${p}.containerPort != ${RUNTIME_PORT_CEL} && ${own}.exists_one(q, ${clash("q", p)})`;
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
    rule: allInits("c", `!has(c.volumeMounts) || c.volumeMounts.all(m, ${VOLUME_EXISTS})`),
    message: MOUNT_NEEDS_VOLUME,
    fieldPath: ".template.initContainers",
  },
  {
    rule: `!has(self.runtime.ports) || self.runtime.ports.all(p, ${portOwn("p", "self.runtime.ports")} && ${allInits("d", `!has(d.ports) || !d.ports.exists(q, ${clash("q", "p")})`)})`,
    message: PORTS_UNIQUE_IN_POD,
    fieldPath: ".runtime.ports",
  },
  {
    rule: allInits(
      "c",
      `!has(c.ports) || c.ports.all(p, ${portOwn("p", "c.ports")} && !${someRuntimePort(clash("q", "p"))} && ${INITS}.all(d, d.name == c.name || !has(d.ports) || !d.ports.exists(q, ${clash("q", "p")})))`,
    ),
    message: PORTS_UNIQUE_IN_POD,
    fieldPath: ".template.initContainers",
  },
  {
    rule: `!(${HAS_PRESTOP} && has(${PRESTOP}.sleep)) || ${PRESTOP}.sleep.seconds <= (has(self.template) && has(self.template.terminationGracePeriodSeconds) ? self.template.terminationGracePeriodSeconds : ${DEFAULT_GRACE_SECONDS})`,
    message: SLEEP_WITHIN_GRACE,
    fieldPath: ".runtime.lifecycle.preStop.sleep.seconds",
  },
  {
    rule: `!(${HAS_PRESTOP} && has(${PRESTOP}.httpGet) && has(${PRESTOP}.httpGet.port)) || type(${PRESTOP}.httpGet.port) == int || ${PRESTOP}.httpGet.port == '${RUNTIME_PORT_NAME}' || ${someRuntimePort(`q.name == ${PRESTOP}.httpGet.port`)}`,
    message: PRESTOP_PORT_UNKNOWN,
    fieldPath: ".runtime.lifecycle.preStop.httpGet.port",
  },
];
