// spec.model.uri (+ storage) → how the weights reach the model server (docs/model-artifacts.md):
//   pvc://   the claim as a read-only volume at /mnt/models
//   oci://   an image volume (Kubernetes ImageVolume) at /mnt/models
//   s3:// gs:// https:// hf://   an init container that runs `<downloader> <uri> /mnt/models` into an
//            emptyDir (or a generic ephemeral claim), which the server mounts read-only
// and, for each: env MODEL_PATH (the local path) and the preset's model argument when the user set
// neither runtime.command nor runtime.args. Any other URI renders nothing here (MODEL_URI only).
import {
  DEFAULT_MODEL_STORAGE_SIZE,
  localModelPath,
  MODEL_MOUNT_PATH,
  type ModelSpec,
  modelSource,
  type RuntimeSpec,
} from "../api/index.ts";
import { DOWNLOADER_CONTAINER, MODEL_VOLUME } from "./features.ts";

/**
 * The default download container: KServe's storage initializer, whose contract is `<uri> <dest>`
 * and which reads s3://, gs://, https:// and hf:// (with credentials from its environment).
 * Pinned by tag, not digest: see docs/security.md "Not kept yet".
 */
export const DEFAULT_MODEL_DOWNLOADER_IMAGE = "kserve/storage-initializer:v0.16.0";

/** The env var that carries the local model path to the server (one name, every scheme). */
export const MODEL_PATH_ENV = "MODEL_PATH";

/** Where a gs:// credentials Secret is mounted in the download container. */
const CREDENTIALS_MOUNT = "/var/secrets/modelship";
const CREDENTIALS_VOLUME = "model-credentials";
/** The Secret key KServe's storage initializer reads a GCS service account key from. */
export const GCS_CREDENTIALS_KEY = "gcloud-application-credentials.json";

/** The download container's share of the node: enough for a streaming copy, bounded like any container. */
const DOWNLOADER_RESOURCES = {
  requests: { cpu: "100m", memory: "100Mi" },
  limits: { cpu: "1", memory: "1Gi" },
};

export interface RenderedArtifacts {
  volumes: Record<string, unknown>[];
  /** Mounts of the model server container. */
  mounts: Record<string, unknown>[];
  initContainers: Record<string, unknown>[];
  env: { name: string; value: string }[];
  /** The preset's model arguments, only when the user set neither command nor args. */
  args?: string[];
}

export interface ArtifactsInput {
  model: ModelSpec;
  runtime: RuntimeSpec;
  /** The image the download container runs (resolved per revision: spec, made-with, operator default). */
  downloaderImage: string;
  /** The download container's securityContext: the model server's own (pod-security.ts). */
  containerSecurity?: Record<string, unknown> | undefined;
}

/** What the URI adds to the pod; undefined for an opaque URI (or none). */
export function renderModelArtifacts(input: ArtifactsInput): RenderedArtifacts | undefined {
  const { model, runtime } = input;
  const source = modelSource(model.uri);
  const path = localModelPath(source);
  if (source.kind === "opaque" || path === undefined) return undefined;
  const mount = { name: MODEL_VOLUME, mountPath: MODEL_MOUNT_PATH, readOnly: true };
  const args = presetModelArgs(runtime, model.name, path);
  const common = {
    mounts: [mount],
    env: [{ name: MODEL_PATH_ENV, value: path }],
    ...(args ? { args } : {}),
  };
  if (source.kind === "pvc") {
    return {
      ...common,
      volumes: [
        { name: MODEL_VOLUME, persistentVolumeClaim: { claimName: source.claimName, readOnly: true } },
      ],
      initContainers: [],
    };
  }
  if (source.kind === "oci") {
    return {
      ...common,
      volumes: [{ name: MODEL_VOLUME, image: { reference: source.reference } }],
      initContainers: [],
    };
  }
  const storage = model.storage ?? {};
  const size = String(storage.size ?? DEFAULT_MODEL_STORAGE_SIZE);
  const volume =
    storage.volume === "Ephemeral"
      ? {
          name: MODEL_VOLUME,
          ephemeral: {
            volumeClaimTemplate: {
              spec: {
                accessModes: ["ReadWriteOnce"],
                resources: { requests: { storage: size } },
                ...(storage.storageClassName ? { storageClassName: storage.storageClassName } : {}),
              },
            },
          },
        }
      : { name: MODEL_VOLUME, emptyDir: { sizeLimit: size } };
  const secret = storage.credentialsSecretName;
  const gcsKey = source.scheme === "gs" && secret !== undefined;
  const downloader = {
    name: DOWNLOADER_CONTAINER,
    image: input.downloaderImage,
    args: [model.uri, MODEL_MOUNT_PATH],
    // gs:// reads a key file; the other schemes read their credentials from the environment.
    ...(secret && !gcsKey ? { envFrom: [{ secretRef: { name: secret } }] } : {}),
    ...(gcsKey
      ? {
          env: [
            { name: "GOOGLE_APPLICATION_CREDENTIALS", value: `${CREDENTIALS_MOUNT}/${GCS_CREDENTIALS_KEY}` },
          ],
        }
      : {}),
    resources: DOWNLOADER_RESOURCES,
    ...downloaderSecurity(input.containerSecurity),
    volumeMounts: [
      { name: MODEL_VOLUME, mountPath: MODEL_MOUNT_PATH },
      ...(gcsKey ? [{ name: CREDENTIALS_VOLUME, mountPath: CREDENTIALS_MOUNT, readOnly: true }] : []),
    ],
    terminationMessagePolicy: "FallbackToLogsOnError",
  };
  return {
    ...common,
    volumes: [volume, ...(gcsKey ? [{ name: CREDENTIALS_VOLUME, secret: { secretName: secret } }] : [])],
    initContainers: [downloader],
  };
}

/** The server's container securityContext, less a read-only root (a downloader may need scratch space). */
function downloaderSecurity(sc: Record<string, unknown> | undefined): {
  securityContext?: Record<string, unknown>;
} {
  if (!sc) return {};
  const { readOnlyRootFilesystem: _ro, ...rest } = sc;
  return Object.keys(rest).length > 0 ? { securityContext: rest } : {};
}

/**
 * The argument each preset's server takes for a local model, as its own docs write it; none for
 * servers with no such argument (Open Inference servers read /mnt/models by KServe's convention,
 * TorchServe, NIM and generic servers are told by their image or by MODEL_PATH).
 */
export function presetModelArgs(
  runtime: RuntimeSpec,
  servedName: string,
  path: string,
): string[] | undefined {
  if (runtime.command !== undefined || runtime.args !== undefined) return undefined;
  switch (runtime.preset) {
    // vllm/vllm-openai's entrypoint is the OpenAI server; the served name is the one the health
    // checks and clients ask for (it would otherwise be the path).
    case "vllm":
      return ["--model", path, "--served-model-name", servedName];
    // TGI's entrypoint is text-generation-launcher.
    case "tgi":
      return ["--model-id", path];
    // Triton's image entrypoint runs its arguments: the server and its model repository.
    case "triton":
      return ["tritonserver", `--model-repository=${path}`];
    default:
      return undefined;
  }
}
