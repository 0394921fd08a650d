// spec.template.securityContext → the pod's and the model-server container's securityContext.
//
// Profile Restricted (the default) meets the restricted Pod Security Standard; profile None adds
// nothing of modelship's own. Only the typed fields of the spec ever reach the pod.
//
// Upgrades. The revision hash covers the spec as written (render/revision.ts), and the default
// profile is resolved here, not stored, so an operator upgrade changes no revision and starts no
// canary. But a default that changed the pod template of a running revision would still restart
// its pods (the Deployment rolls them), on every ModelDeployment at once, and an image that runs as
// root would then fail to start under runAsNonRoot: an operator upgrade would take capacity away.
// So the defaults are fixed per revision when its Deployment is created, and the Deployment says
// so (POD_SECURITY_DEFAULTS_ANNOTATION). A Deployment made before the defaults existed keeps being
// rendered without them; the next change of the spec makes a new revision, which gets them and is
// rolled out, canary and health gates included, like any other change.
import type { PodSecuritySpec } from "../api/index.ts";
import { LABEL_REVISION } from "./labels.ts";

/** On a revision's Deployment: its pods were made with modelship's pod security defaults. */
export const POD_SECURITY_DEFAULTS_ANNOTATION = "modelship.dev/pod-security-defaults";
/** The defaults this operator applies; a later change of the defaults gets a new value. */
export const POD_SECURITY_DEFAULTS = "restricted";

export type PodSecurityProfile = NonNullable<PodSecuritySpec["profile"]>;

export interface RenderedPodSecurity {
  pod?: Record<string, unknown>;
  container?: Record<string, unknown>;
}

/**
 * The profile in force for one revision: the spec's, Restricted when unset, and None for a
 * revision whose Deployment predates the defaults (it keeps the pods it was made with).
 */
export function effectiveProfile(
  sc: PodSecuritySpec | undefined,
  predatesDefaults: boolean,
): PodSecurityProfile {
  if (predatesDefaults) return "None";
  return sc?.profile ?? "Restricted";
}

/** The pod-level and container-level securityContext; an absent part renders no field at all. */
export function renderPodSecurity(
  sc: PodSecuritySpec | undefined,
  profile: PodSecurityProfile,
): RenderedPodSecurity {
  const restricted = profile === "Restricted";
  const pod = {
    ...(restricted ? { runAsNonRoot: true } : {}),
    ...(sc?.runAsUser !== undefined ? { runAsUser: sc.runAsUser } : {}),
    ...(sc?.runAsGroup !== undefined ? { runAsGroup: sc.runAsGroup } : {}),
    ...(sc?.fsGroup !== undefined ? { fsGroup: sc.fsGroup } : {}),
    ...(restricted ? { seccompProfile: { type: "RuntimeDefault" } } : {}),
  };
  const container = {
    ...(restricted ? { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } } : {}),
    ...(sc?.readOnlyRootFilesystem !== undefined
      ? { readOnlyRootFilesystem: sc.readOnlyRootFilesystem }
      : {}),
  };
  return {
    ...(Object.keys(pod).length > 0 ? { pod } : {}),
    ...(Object.keys(container).length > 0 ? { container } : {}),
  };
}

/** What revisionsPredatingDefaults reads of a live Deployment. */
export interface DeploymentSecurityMarks {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { template?: { spec?: { securityContext?: object } } };
}

/**
 * Revisions whose existing Deployment was made without the defaults (by an operator from before
 * them): these are rendered as they were made. A revision with no Deployment is new and gets them.
 * Made before the defaults means no annotation and no pod securityContext (such an operator never
 * set one), so removing the annotation by hand does not make the operator drop the defaults.
 */
export function revisionsPredatingDefaults(deployments: readonly DeploymentSecurityMarks[]): Set<string> {
  const out = new Set<string>();
  for (const d of deployments) {
    const revision = d.metadata?.labels?.[LABEL_REVISION];
    const marked = d.metadata?.annotations?.[POD_SECURITY_DEFAULTS_ANNOTATION] !== undefined;
    if (revision && !marked && d.spec?.template?.spec?.securityContext === undefined) out.add(revision);
  }
  return out;
}
