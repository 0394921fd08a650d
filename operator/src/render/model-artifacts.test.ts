// spec.model.uri (+ storage) → the rendered pod: volumes, mounts, the download container, MODEL_PATH
// and the preset's model argument; and a revision made before model artifacts keeps its pod.
import { describe, expect, it } from "vitest";
import { formatIssues, parseModelDeployment } from "../api/index.ts";
import { renderChildren } from "./children.ts";
import { renderDeployment } from "./deployment.ts";
import {
  DOWNLOADER_CONTAINER,
  type MadeWith,
  MODEL_VOLUME,
  madeWithOf,
  RENDER_FEATURES_ANNOTATION,
} from "./features.ts";
import { LABEL_REVISION } from "./labels.ts";
import { DEFAULT_MODEL_DOWNLOADER_IMAGE } from "./model-artifacts.ts";

const owner = { name: "llm", namespace: "shop", uid: "u-1" };

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string }[];
  envFrom?: unknown[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  securityContext?: Record<string, unknown>;
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
}
interface Pod {
  initContainers?: Container[];
  containers: Container[];
  volumes?: Record<string, unknown>[];
  securityContext?: Record<string, unknown>;
}

function spec(model: Record<string, unknown>, runtime: Record<string, unknown> = {}, template?: object) {
  const parsed = parseModelDeployment({
    apiVersion: "modelship.dev/v1alpha1",
    kind: "ModelDeployment",
    metadata: { name: "llm", namespace: "shop" },
    spec: {
      model: { name: "llm", version: "v1", ...model },
      runtime: { image: "r.example/llm:1", ...runtime },
      ...(template ? { template } : {}),
    },
  });
  if (!parsed.ok) throw new Error(formatIssues(parsed.issues));
  return parsed.value;
}

function render(
  model: Record<string, unknown>,
  runtime: Record<string, unknown> = {},
  opts: { madeWith?: MadeWith; image?: string; template?: object } = {},
) {
  const d = renderDeployment({
    owner,
    spec: spec(model, runtime, opts.template).spec,
    revision: "abc1234567",
    replicas: 1,
    ...(opts.madeWith ? { madeWith: opts.madeWith } : {}),
    ...(opts.image ? { modelDownloaderImage: opts.image } : {}),
  });
  const pod = (d.spec as { template: { spec: Pod } }).template.spec;
  const server = pod.containers[0] as Container;
  const env = Object.fromEntries((server.env ?? []).map((e) => [e.name, e.value]));
  return { d, pod, server, env, downloader: pod.initContainers?.[0] };
}

const READ_ONLY_MOUNT = { name: MODEL_VOLUME, mountPath: "/mnt/models", readOnly: true };

describe("model artifacts by URI scheme", () => {
  it("pvc:// mounts the claim read-only at /mnt/models and hands the path within it to the server", () => {
    const { pod, server, env, downloader } = render({ uri: "pvc://shop-models/ctr/2026-11-01" });
    expect(pod.volumes).toEqual([
      { name: MODEL_VOLUME, persistentVolumeClaim: { claimName: "shop-models", readOnly: true } },
    ]);
    expect(server.volumeMounts).toEqual([READ_ONLY_MOUNT]);
    expect(env).toMatchObject({
      MODEL_URI: "pvc://shop-models/ctr/2026-11-01",
      MODEL_PATH: "/mnt/models/ctr/2026-11-01",
    });
    expect(downloader).toBeUndefined();
  });

  it("oci:// mounts an image volume read-only at /mnt/models", () => {
    const { pod, server, env, downloader } = render({ uri: "oci://registry.example/models/ctr:2026-11-01" });
    expect(pod.volumes).toEqual([
      { name: MODEL_VOLUME, image: { reference: "registry.example/models/ctr:2026-11-01" } },
    ]);
    expect(server.volumeMounts).toEqual([READ_ONLY_MOUNT]);
    expect(env.MODEL_PATH).toBe("/mnt/models");
    expect(downloader).toBeUndefined();
  });

  it.each(["s3://models/triton", "gs://models/ctr", "https://models.example/ctr.tgz", "hf://org/model"])(
    "%s is downloaded by an init container into a bounded emptyDir the server reads",
    (uri) => {
      const { pod, server, env, downloader } = render({ uri });
      expect(pod.volumes).toEqual([{ name: MODEL_VOLUME, emptyDir: { sizeLimit: "20Gi" } }]);
      expect(server.volumeMounts).toEqual([READ_ONLY_MOUNT]);
      expect(env).toMatchObject({ MODEL_URI: uri, MODEL_PATH: "/mnt/models" });
      expect(downloader).toMatchObject({
        name: DOWNLOADER_CONTAINER,
        image: DEFAULT_MODEL_DOWNLOADER_IMAGE,
        args: [uri, "/mnt/models"],
        volumeMounts: [{ name: MODEL_VOLUME, mountPath: "/mnt/models" }],
        resources: { limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "100m", memory: "100Mi" } },
      });
      expect(downloader?.envFrom).toBeUndefined();
    },
  );

  it("an ephemeral claim when asked, sized and classed as the spec says", () => {
    const { pod } = render({
      uri: "hf://org/model",
      storage: { volume: "Ephemeral", size: "300Gi", storageClassName: "fast-nvme" },
    });
    expect(pod.volumes).toEqual([
      {
        name: MODEL_VOLUME,
        ephemeral: {
          volumeClaimTemplate: {
            spec: {
              accessModes: ["ReadWriteOnce"],
              resources: { requests: { storage: "300Gi" } },
              storageClassName: "fast-nvme",
            },
          },
        },
      },
    ]);
  });

  it("credentials reach only the download container: envFrom for s3/https/hf, a key file for gs", () => {
    const s3 = render({ uri: "s3://models/x", storage: { credentialsSecretName: "s3-creds" } });
    expect(s3.downloader?.envFrom).toEqual([{ secretRef: { name: "s3-creds" } }]);
    expect(s3.server.envFrom).toBeUndefined();
    const gs = render({ uri: "gs://models/x", storage: { credentialsSecretName: "gcs-key" } });
    expect(gs.downloader?.envFrom).toBeUndefined();
    expect(gs.downloader?.env).toEqual([
      {
        name: "GOOGLE_APPLICATION_CREDENTIALS",
        value: "/var/secrets/modelship/gcloud-application-credentials.json",
      },
    ]);
    expect(gs.pod.volumes).toContainEqual({ name: "model-credentials", secret: { secretName: "gcs-key" } });
    expect(gs.server.volumeMounts).toEqual([READ_ONLY_MOUNT]);
  });

  it("the download container runs restricted like the server, but may write scratch files", () => {
    const { pod, downloader } = render(
      { uri: "s3://models/x" },
      {},
      { template: { securityContext: { readOnlyRootFilesystem: true } } },
    );
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(downloader?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    const none = render({ uri: "s3://models/x" }, {}, { template: { securityContext: { profile: "None" } } });
    expect(none.downloader?.securityContext).toBeUndefined();
  });

  it.each([undefined, "models/ctr-v1", "http://models.example/x"])(
    "%s renders MODEL_URI only, as before",
    (uri) => {
      const { pod, server, env, downloader } = render(uri ? { uri } : {}, { preset: "vllm" });
      expect(pod.volumes).toBeUndefined();
      expect(server.volumeMounts).toBeUndefined();
      expect(server.args).toBeUndefined();
      expect(env.MODEL_PATH).toBeUndefined();
      expect(downloader).toBeUndefined();
    },
  );
});

describe("the preset's model argument", () => {
  it.each([
    ["vllm", ["--model", "/mnt/models", "--served-model-name", "llm"]],
    ["tgi", ["--model-id", "/mnt/models"]],
    ["triton", ["tritonserver", "--model-repository=/mnt/models"]],
    ["openInference", undefined],
    ["openai", undefined],
    ["torchserve", undefined],
    ["nim", undefined],
    ["http", undefined],
  ])("%s gets %j", (preset, args) => {
    expect(render({ uri: "hf://org/model" }, { preset }).server.args).toEqual(args);
  });

  it("points at the path within a claim", () => {
    expect(render({ uri: "pvc://models/llm/v1" }, { preset: "tgi" }).server.args).toEqual([
      "--model-id",
      "/mnt/models/llm/v1",
    ]);
  });

  it("is never added to the user's own args or command", () => {
    expect(
      render({ uri: "hf://org/model" }, { preset: "vllm", args: ["--max-model-len", "4096"] }).server.args,
    ).toEqual(["--max-model-len", "4096"]);
    const own = render({ uri: "hf://org/model" }, { preset: "triton", command: ["/serve.sh"] });
    expect(own.server.args).toBeUndefined();
  });

  it("a user's MODEL_PATH wins over the rendered one", () => {
    const { server } = render(
      { uri: "hf://org/model" },
      { env: [{ name: "MODEL_PATH", value: "/mnt/models/sub" }] },
    );
    expect(server.env?.filter((e) => e.name === "MODEL_PATH")).toEqual([
      { name: "MODEL_PATH", value: "/mnt/models/sub" },
    ]);
  });
});

describe("the downloader image", () => {
  it("is the spec's, else the one the revision was made with, else the operator's", () => {
    const made: MadeWith = {
      features: new Set(["pod-security-restricted", "model-artifacts"]),
      downloaderImage: "old/dl:1",
    };
    expect(render({ uri: "s3://models/x" }, {}, { image: "ops/dl:2" }).downloader?.image).toBe("ops/dl:2");
    expect(
      render({ uri: "s3://models/x" }, {}, { image: "ops/dl:2", madeWith: made }).downloader?.image,
    ).toBe("old/dl:1");
    expect(
      render(
        { uri: "s3://models/x", storage: { downloaderImage: "mine/dl:3" } },
        {},
        { image: "ops/dl:2", madeWith: made },
      ).downloader?.image,
    ).toBe("mine/dl:3");
  });
});

describe("upgrade: a revision made before model artifacts keeps its pod", () => {
  const predating: MadeWith = { features: new Set(["pod-security-restricted"]) };

  it("an s3:// revision made before renders MODEL_URI only: no volume, download container or args", () => {
    const { d, pod, server } = render(
      { uri: "s3://models/triton" },
      { preset: "triton" },
      { madeWith: predating },
    );
    expect(pod.initContainers).toBeUndefined();
    expect(pod.volumes).toBeUndefined();
    expect(server.volumeMounts).toBeUndefined();
    expect(server.args).toBeUndefined();
    expect(server.env).toEqual([
      { name: "MODEL_NAME", value: "llm" },
      { name: "MODEL_VERSION", value: "v1" },
      { name: "MODEL_URI", value: "s3://models/triton" },
    ]);
    expect(d.metadata.annotations).toEqual({ [RENDER_FEATURES_ANNOTATION]: "pod-security-restricted" });
  });

  it("reads what a live Deployment was made with: the list, or the model volume when the list was removed", () => {
    const dep = (revision: string, annotations: Record<string, string>, pod: object = {}) => ({
      metadata: { labels: { [LABEL_REVISION]: revision }, annotations },
      spec: { template: { spec: pod } },
    });
    const made = madeWithOf([
      dep("before", { [RENDER_FEATURES_ANNOTATION]: "pod-security-restricted" }),
      dep("after", { [RENDER_FEATURES_ANNOTATION]: "model-artifacts,pod-security-restricted" }),
      dep(
        "unmarked",
        {},
        {
          volumes: [{ name: MODEL_VOLUME }],
          initContainers: [{ name: DOWNLOADER_CONTAINER, image: "old/dl:1" }],
        },
      ),
    ]);
    expect(made.get("before")?.features.has("model-artifacts")).toBe(false);
    expect(made.get("after")?.features.has("model-artifacts")).toBe(true);
    expect(made.get("unmarked")).toEqual({
      features: new Set(["model-artifacts"]),
      downloaderImage: "old/dl:1",
    });
  });

  it("a canary of the same ModelDeployment gets artifacts beside a stable that keeps none", () => {
    const md = spec({ uri: "s3://models/triton" }, { preset: "triton" });
    const { objects } = renderChildren(
      md,
      { name: "llm", namespace: "shop", uid: "u-1" },
      {
        revisions: [
          { revision: "stable1234", replicas: 3, role: "stable" },
          { revision: "canary5678", replicas: 1, role: "canary" },
        ],
        traffic: { mode: "replicaRatio", serviceSelector: {} },
      },
      { stable1234: md.spec, canary5678: md.spec },
      new Map([["stable1234", predating]]),
    );
    const pod = (suffix: string) => {
      const d = objects.find((o) => o.kind === "Deployment" && o.metadata.name.endsWith(suffix));
      return (d?.spec as { template: { spec: Pod } } | undefined)?.template.spec;
    };
    expect(pod("stable1234")?.initContainers).toBeUndefined();
    expect(pod("canary5678")?.initContainers?.map((c) => c.name)).toEqual([DOWNLOADER_CONTAINER]);
  });
});
