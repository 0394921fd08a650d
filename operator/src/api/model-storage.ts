// spec.model.storage: where a downloaded model (s3://, gs://, https://, hf://) is kept in the pod,
// who downloads it and with which credentials. Every default is resolved in render/, not stored, so
// adding this field changed no stored spec and no revision hash.
import { z } from "zod";
import { DOWNLOAD_URI_CEL } from "./model-uri.ts";
import { type CelRule, cel, dnsSubdomain, quantity } from "./schema-helpers.ts";

/** Size of the download volume when model.storage.size is absent. */
export const DEFAULT_MODEL_STORAGE_SIZE = "20Gi";

export const STORAGE_CLASS_NEEDS_EPHEMERAL =
  "storageClassName applies only to volume: Ephemeral (an emptyDir has no storage class)";
export const STORAGE_NEEDS_DOWNLOAD =
  "model.storage applies only to a downloaded model: a uri that starts with s3://, gs://, https:// or hf://";

export const ModelStorageSchema = cel(
  z
    .object({
      volume: z
        .enum(["EmptyDir", "Ephemeral"])
        .optional()
        .describe(
          "Where the download is kept. EmptyDir (the default): on the node's disk, bounded by size, gone with the pod. Ephemeral: a PersistentVolumeClaim made for each pod from storageClassName and size, deleted with the pod (a generic ephemeral volume); for models larger than the node's spare disk.",
        ),
      size: quantity()
        .optional()
        .describe(
          `Capacity of the download volume: the emptyDir's sizeLimit, or the ephemeral claim's storage request. Default: ${DEFAULT_MODEL_STORAGE_SIZE}.`,
        ),
      storageClassName: z
        .string()
        .min(1)
        .max(253)
        .optional()
        .describe(
          "StorageClass of the ephemeral claim (volume: Ephemeral only). Default: the cluster's default class.",
        ),
      credentialsSecretName: dnsSubdomain(
        "A Secret in the ModelDeployment's namespace whose keys become environment variables of the download container only (never of the model server): AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL for s3://; HF_TOKEN for hf://; for gs:// the key gcloud-application-credentials.json (a service account key), mounted as a file. See docs/model-artifacts.md.",
      ).optional(),
      downloaderImage: z
        .string()
        .min(1)
        .max(1024)
        .optional()
        .describe(
          "Image of the download container, called with the arguments <uri> /mnt/models (KServe's storage initializer contract). Default: the operator's --model-downloader-image (chart value modelDownloader.image).",
        ),
    })
    .superRefine((s, ctx) => {
      if (s.storageClassName !== undefined && s.volume !== "Ephemeral")
        ctx.addIssue({ code: "custom", path: ["storageClassName"], message: STORAGE_CLASS_NEEDS_EPHEMERAL });
    })
    .describe(
      "How a downloaded model (s3://, gs://, https://, hf://) reaches the pod: an init container downloads it into a volume mounted read-only at /mnt/models. Absent: defaults (an emptyDir of 20Gi, the operator's downloader, no credentials).",
    ),
  [
    {
      rule: "!has(self.storageClassName) || (has(self.volume) && self.volume == 'Ephemeral')",
      message: STORAGE_CLASS_NEEDS_EPHEMERAL,
      fieldPath: ".storageClassName",
    },
  ],
);

export type ModelStorageSpec = z.output<typeof ModelStorageSchema>;

/** The rule on spec.model that keeps storage to downloaded models (mirrored by a zod refinement). */
export const STORAGE_NEEDS_DOWNLOAD_CEL: CelRule = {
  rule: `!has(self.storage) || (has(self.uri) && ${DOWNLOAD_URI_CEL})`,
  message: STORAGE_NEEDS_DOWNLOAD,
  fieldPath: ".storage",
};
