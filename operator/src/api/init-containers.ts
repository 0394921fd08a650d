// spec.template.initContainers: init containers and native sidecars (restartPolicy: Always), typed
// like the model server's container and without a securityContext of their own: render/ gives each
// the model server's (render/pod-security.ts), so a sidecar is never more privileged than it.
import { z } from "zod";
import {
  ContainerPortsSchema,
  EnvFromSchema,
  EnvVarSchema,
  RESERVED_CONTAINER_NAMES,
  ResourcesSchema,
  unreservedName,
  VolumeMountsSchema,
} from "./container.ts";
import { cel, uniqueBy } from "./schema-helpers.ts";

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
      env: z.array(EnvVarSchema).max(64).optional().describe("Environment variables."),
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

export const InitContainersSchema = cel(
  z
    .array(InitContainerSchema)
    .max(8)
    .superRefine((cs, ctx) => uniqueBy(cs, (c) => c.name, ctx, UNIQUE_CONTAINER_NAMES))
    .describe(
      "Init containers and native sidecars of the model server pods, in start order. Each one's image is part of the revision: changing it rolls out a new revision.",
    ),
  [{ rule: "self.all(c, self.exists_one(d, d.name == c.name))", message: UNIQUE_CONTAINER_NAMES }],
);

export type InitContainerSpec = z.output<typeof InitContainerSchema>;
