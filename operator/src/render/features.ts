// What a revision's pods were made with, fixed for the life of its Deployment.
//
// An operator upgrade may render more into a pod than the version before it did (pod security
// defaults, model artifacts). A running revision must not get those: the Deployment would roll
// its pods outside any canary, on every ModelDeployment at once. So each Deployment lists the
// render features it was made with (RENDER_FEATURES_ANNOTATION); an existing Deployment keeps being
// rendered with exactly those, and only a new revision (a change of the spec, rolled out as a
// canary with its health gates) gets every feature of the running operator. Operator-wide settings
// that shape the pod (the default model downloader image) are read back from the live Deployment
// for the same reason.
//
// A feature also counts as present when the live pod template shows it, so removing the
// annotation by hand never makes the operator strip a feature from running pods.
import { LABEL_REVISION } from "./labels.ts";

/** On a revision's Deployment: the render features its pods were made with, comma-separated. */
export const RENDER_FEATURES_ANNOTATION = "modelship.dev/render-features";

/**
 * Every feature this operator renders. A later change of what a feature renders gets a new name
 * (e.g. pod-security-restricted-v2), so Deployments made with the old one keep it.
 */
export const RENDER_FEATURES = ["pod-security-restricted", "model-artifacts"] as const;
export type RenderFeature = (typeof RENDER_FEATURES)[number];

/** The annotation of the first pod security defaults, before the features list; read, never written. */
const LEGACY_POD_SECURITY_ANNOTATION = "modelship.dev/pod-security-defaults";

/** Names the model artifacts render into a pod; their presence shows the feature (see above). */
export const MODEL_VOLUME = "model-artifacts";
export const DOWNLOADER_CONTAINER = "model-downloader";

/** What an existing revision's Deployment was made with. */
export interface MadeWith {
  features: ReadonlySet<RenderFeature>;
  /** The image of its download container, when it has one: kept when the operator's default changes. */
  downloaderImage?: string | undefined;
}

/** A revision with no Deployment yet: everything this operator renders. */
export const NEW_REVISION: MadeWith = { features: new Set(RENDER_FEATURES) };

/** The annotation value for a set of features (sorted, so it is stable). */
export function featuresAnnotation(features: ReadonlySet<RenderFeature>): string {
  return [...features].sort().join(",");
}

/** What madeWithOf reads of a live Deployment. */
export interface DeploymentMarks {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: {
    template?: {
      spec?: {
        securityContext?: object;
        volumes?: readonly { name?: string }[];
        initContainers?: readonly { name?: string; image?: string }[];
      };
    };
  };
}

/** What each existing revision's Deployment was made with, by revision. */
export function madeWithOf(deployments: readonly DeploymentMarks[]): Map<string, MadeWith> {
  const out = new Map<string, MadeWith>();
  for (const d of deployments) {
    const revision = d.metadata?.labels?.[LABEL_REVISION];
    if (!revision) continue;
    const annotations = d.metadata?.annotations ?? {};
    const pod = d.spec?.template?.spec;
    const listed = new Set((annotations[RENDER_FEATURES_ANNOTATION] ?? "").split(","));
    const features = new Set<RenderFeature>(RENDER_FEATURES.filter((f) => listed.has(f)));
    if (annotations[LEGACY_POD_SECURITY_ANNOTATION] !== undefined || pod?.securityContext !== undefined)
      features.add("pod-security-restricted");
    if (pod?.volumes?.some((v) => v.name === MODEL_VOLUME)) features.add("model-artifacts");
    const downloaderImage = pod?.initContainers?.find((c) => c.name === DOWNLOADER_CONTAINER)?.image;
    out.set(revision, { features, ...(downloaderImage ? { downloaderImage } : {}) });
  }
  return out;
}
