// spec.template.volumes: the volume sources a tenant may use (configMap, secret, emptyDir,
// persistentVolumeClaim, ephemeral), typed and bounded. No hostPath, no network or inline CSI
// volumes, no projected tokens: docs/security.md#volumes-init-containers-and-sidecars says why.
import { z } from "zod";
import { RESERVED_VOLUME_NAMES, relativePath, unreservedName } from "./container.ts";
import { cel, dnsSubdomain, quantity, stringMap, uniqueBy } from "./schema-helpers.ts";

/** The volume sources a tenant may use. */
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
      "A pod volume: configMap, secret, emptyDir, persistentVolumeClaim or ephemeral. No hostPath or other node or network volume types (docs/security.md#volumes-init-containers-and-sidecars).",
    ),
  [
    {
      rule: `${VOLUME_SOURCES.map((s) => `(has(self.${s}) ? 1 : 0)`).join(" + ")} == 1`,
      message: ONE_VOLUME_SOURCE,
    },
  ],
);

const UNIQUE_VOLUME_NAMES = "volume names must be unique";

export const VolumesSchema = cel(
  z
    .array(VolumeSchema)
    .max(32)
    .superRefine((vs, ctx) => uniqueBy(vs, (v) => v.name, ctx, UNIQUE_VOLUME_NAMES))
    .describe(
      "Volumes of the model server pods, mounted with runtime.volumeMounts and initContainers[].volumeMounts.",
    ),
  [{ rule: "self.all(v, self.exists_one(w, w.name == v.name))", message: UNIQUE_VOLUME_NAMES }],
);

export type VolumeSpec = z.output<typeof VolumeSchema>;
