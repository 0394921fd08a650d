// spec.template.securityContext → the pod's and the model-server container's securityContext.
//
// Profile Restricted (the default) meets the restricted Pod Security Standard; profile None adds
// nothing of modelship's own. Only the typed fields of the spec ever reach the pod.
//
// Upgrades. The revision hash covers the spec as written (render/revision.ts), and the default
// profile is resolved here, not stored, so an operator upgrade changes no revision and starts no
// canary. A revision whose Deployment was made before the defaults existed keeps being rendered
// without them (render feature "pod-security-restricted", features.ts): an image that runs as root
// would otherwise fail to start under runAsNonRoot, and an upgrade would take capacity away.
import type { PodSecuritySpec } from "../api/index.ts";

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
