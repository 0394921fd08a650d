// Deterministic child names that fit Kubernetes' limits. A stale cache can never create a second
// copy: the name of a child follows from the owner's name and the revision alone.
import { createHash } from "node:crypto";

/** Services are DNS-1035 labels (63); a Deployment's pods get a 16-char suffix, so 47 keeps them readable. */
const MAX_SERVICE_NAME = 63;
const MAX_DEPLOYMENT_NAME = 47;

function fitName(base: string, suffix: string, max: number): string {
  const full = suffix ? `${base}-${suffix}` : base;
  if (full.length <= max) return full;
  const hash = createHash("sha256").update(base).digest("hex").slice(0, 6);
  const room = max - (suffix ? suffix.length + 1 : 0) - hash.length - 1;
  const head = base.slice(0, Math.max(1, room)).replace(/-+$/, "");
  return suffix ? `${head}-${hash}-${suffix}` : `${head}-${hash}`;
}

export function deploymentName(mdName: string, revision: string): string {
  return fitName(mdName, revision, MAX_DEPLOYMENT_NAME);
}

export function serviceName(mdName: string, role?: "stable" | "canary"): string {
  return fitName(mdName, role ?? "", MAX_SERVICE_NAME);
}

export function hpaName(mdName: string): string {
  return fitName(mdName, "", 253);
}
