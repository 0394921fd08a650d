// Container-level types shared by the model server (spec.runtime) and the pod's init containers and
// sidecars (spec.template.initContainers): environment, resources, envFrom, volume mounts, ports.
// Each is typed and bounded; none carries a securityContext (render/pod-security.ts sets it).
import { z } from "zod";
import { cel, dnsLabel, dnsSubdomain, opaqueObject, quantity } from "./schema-helpers.ts";

export const EnvVarSchema = z
  .object({
    name: z.string().min(1).max(256).describe("Environment variable name."),
    value: z.string().max(32768).optional().describe("Literal value."),
    valueFrom: opaqueObject(
      "A Kubernetes EnvVarSource (secretKeyRef, configMapKeyRef, fieldRef, resourceFieldRef), passed through unchanged.",
    ).optional(),
  })
  .describe("A Kubernetes EnvVar.");

export const ResourcesSchema = z
  .object({
    limits: z
      .record(z.string().max(253), quantity())
      .optional()
      .describe("Maximum compute resources (e.g. cpu: 4, memory: 16Gi, nvidia.com/gpu: 1)."),
    requests: z
      .record(z.string().max(253), quantity())
      .optional()
      .describe("Requested compute resources; defaults to limits where unset (Kubernetes rule)."),
  })
  .describe("Kubernetes ResourceRequirements of the container.");

/** Paths modelship mounts itself: runtime.shmSize at /dev/shm, model artifacts at /mnt/models. */
export const RESERVED_MOUNT_PATHS = ["/dev/shm", "/mnt/models"] as const;
/** Volume names modelship uses itself (dshm for runtime.shmSize; the model artifacts' and their credentials'). */
export const RESERVED_VOLUME_NAMES = ["dshm", "model-artifacts", "model-credentials"] as const;
/** Container names modelship uses itself (the model server; the model downloader). */
export const RESERVED_CONTAINER_NAMES = ["model-server", "model-downloader"] as const;
/** Any volume or container name with this prefix is modelship's. */
export const RESERVED_NAME_PREFIX = "modelship-";
/** The name of the model server's own port (runtime.port or the preset's). */
export const RUNTIME_PORT_NAME = "http";

const celList = (xs: readonly string[]) => `[${xs.map((x) => `'${x}'`).join(", ")}]`;

export function isReservedPath(path: string): boolean {
  return RESERVED_MOUNT_PATHS.some((r) => path === r || path.startsWith(`${r}/`));
}

export function isReservedName(name: string, reserved: readonly string[]): boolean {
  return reserved.includes(name) || name.startsWith(RESERVED_NAME_PREFIX);
}

/** A name (volume or container) that must not be one of modelship's own. */
export function unreservedName(description: string, reserved: readonly string[], what: string) {
  const message = `${what} ${reserved.map((r) => `'${r}'`).join(", ")} and names starting with '${RESERVED_NAME_PREFIX}' are modelship's own`;
  return cel(
    dnsLabel(description).refine((n) => !isReservedName(n, reserved), message),
    [{ rule: `!(self in ${celList(reserved)}) && !self.startsWith('${RESERVED_NAME_PREFIX}')`, message }],
  );
}

const MOUNT_PATH_MESSAGE =
  "must be an absolute path of non-empty segments, without '.' or '..' segments and without a trailing '/'";
const MOUNT_PATH_RESERVED = `${RESERVED_MOUNT_PATHS.join(" and ")} (and paths under them) are modelship's own mounts`;

export function isMountPath(path: string): boolean {
  return /^(\/[^/]+)+$/.test(path) && !/(^|\/)\.\.?(\/|$)/.test(path);
}

const mountPath = (description: string) =>
  cel(
    z
      .string()
      .min(2)
      .max(1024)
      .refine(isMountPath, MOUNT_PATH_MESSAGE)
      .refine((p) => !isReservedPath(p), MOUNT_PATH_RESERVED)
      .describe(description),
    [
      {
        rule: `self.matches(r"^(/[^/]+)+$") && !self.matches(r"(^|/)\\.\\.?(/|$)")`,
        message: MOUNT_PATH_MESSAGE,
      },
      {
        rule: `!${celList(RESERVED_MOUNT_PATHS)}.exists(r, self == r || self.startsWith(r + '/'))`,
        message: MOUNT_PATH_RESERVED,
      },
    ],
  );

const RELATIVE_PATH_MESSAGE = "must be a relative path without '..' segments";

export function isRelativePath(path: string): boolean {
  return !path.startsWith("/") && !/(^|\/)\.\.(\/|$)/.test(path);
}

/** A path inside a volume (subPath, a key's file name). */
export const relativePath = (description: string) =>
  cel(z.string().min(1).max(1024).refine(isRelativePath, RELATIVE_PATH_MESSAGE).describe(description), [
    { rule: `!self.startsWith('/') && !self.matches(r"(^|/)\\.\\.(/|$)")`, message: RELATIVE_PATH_MESSAGE },
  ]);

const UNIQUE_MOUNT_PATHS = "mountPath must be unique within a container";

export const VolumeMountsSchema = cel(
  z
    .array(
      z
        .object({
          name: dnsLabel("Name of a volume in spec.template.volumes."),
          mountPath: mountPath(
            "Where the volume appears in the container. Not /dev/shm or /mnt/models (modelship's own).",
          ),
          subPath: relativePath("Mount only this path inside the volume.").optional(),
          readOnly: z.boolean().optional().describe("Mount read-only. Default: read-write."),
        })
        .describe("A Kubernetes VolumeMount (no mount propagation: that needs a privileged container)."),
    )
    .max(32)
    .superRefine((mounts, ctx) => {
      const seen = new Set<string>();
      for (const [i, m] of mounts.entries()) {
        if (seen.has(m.mountPath))
          ctx.addIssue({ code: "custom", path: [i, "mountPath"], message: UNIQUE_MOUNT_PATHS });
        seen.add(m.mountPath);
      }
    })
    .describe("Volumes of spec.template.volumes mounted into this container."),
  [{ rule: "self.all(m, self.exists_one(n, n.mountPath == m.mountPath))", message: UNIQUE_MOUNT_PATHS }],
);

const ONE_ENV_SOURCE = "each envFrom entry needs exactly one of configMapRef and secretRef";
const C_IDENTIFIER = "^[A-Za-z_][A-Za-z0-9_]*$";

const envSourceRef = (kind: string) =>
  z
    .object({
      name: dnsSubdomain(`Name of the ${kind} in the ModelDeployment's namespace.`),
      optional: z
        .boolean()
        .optional()
        .describe(`Start the container even if the ${kind} does not exist. Default: false.`),
    })
    .describe(`Every key of a ${kind} as an environment variable.`);

export const EnvFromSchema = z
  .array(
    cel(
      z
        .object({
          configMapRef: envSourceRef("ConfigMap").optional(),
          secretRef: envSourceRef("Secret").optional(),
          prefix: z
            .string()
            .min(1)
            .max(253)
            .regex(new RegExp(C_IDENTIFIER), "must be a C identifier (letters, digits, '_')")
            .optional()
            .describe("Prepended to every variable name from this source."),
        })
        .superRefine((e, ctx) => {
          if ((e.configMapRef === undefined) === (e.secretRef === undefined))
            ctx.addIssue({ code: "custom", message: ONE_ENV_SOURCE });
        })
        .describe("A Kubernetes EnvFromSource: one ConfigMap or Secret."),
      [{ rule: "has(self.configMapRef) != has(self.secretRef)", message: ONE_ENV_SOURCE }],
    ),
  )
  .max(32)
  .describe(
    "ConfigMaps and Secrets whose keys become environment variables (a later source wins on a clash; env wins over all).",
  );

const PORT_NAME_MESSAGE =
  "must be an IANA service name: at most 15 lowercase letters, digits and '-', with a letter, no '--', not starting or ending with '-'";

export function isPortName(name: string): boolean {
  return /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(name) && /[a-z]/.test(name) && !name.includes("--");
}

/** A container port's name, as Services and probes refer to it. */
export const portName = (description: string) =>
  cel(z.string().min(1).max(15).refine(isPortName, PORT_NAME_MESSAGE).describe(description), [
    {
      rule: `self.matches(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$") && self.matches(r"[a-z]") && !self.contains('--')`,
      message: PORT_NAME_MESSAGE,
    },
  ]);

export const ContainerPortsSchema = z
  .array(
    z
      .object({
        name: portName(
          `Port name (unique in the pod; '${RUNTIME_PORT_NAME}' is the model server's own port).`,
        ),
        containerPort: z.int().min(1).max(65535).describe("Port number the container listens on."),
        protocol: z.enum(["TCP", "UDP", "SCTP"]).optional().describe("Default: TCP."),
      })
      .describe("A named container port (e.g. metrics or gRPC)."),
  )
  .max(16)
  .describe(
    "Extra named ports, e.g. a metrics or gRPC port. Names and numbers are unique in the pod and differ from the model server's port.",
  );

export type VolumeMount = z.output<typeof VolumeMountsSchema>[number];
export type EnvFromSource = z.output<typeof EnvFromSchema>[number];
export type ContainerPort = z.output<typeof ContainerPortsSchema>[number];
