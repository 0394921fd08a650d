// Deterministic child names that fit Kubernetes' rules. A stale cache can never create a second
// copy: the name of a child follows from the owner's name and the revision alone. People name
// ModelDeployments as they name models (`llama-3.1-8b`, `3b-chat`, 200 characters): every such
// name gets valid children, and two different names never share one.
import { createHash } from "node:crypto";

/** Services are DNS-1035 labels (63); a Deployment's pods get a 16-char suffix, so 47 keeps them readable. */
const MAX_SERVICE_NAME = 63;
const MAX_DEPLOYMENT_NAME = 47;
const MAX_LABEL_VALUE = 63;
const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

const hash6 = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 6);

/**
 * `base` (plus `-suffix`) within `max` characters. When it must be cut, a hash of the whole base
 * keeps two long names with the same start apart.
 */
function fitName(base: string, suffix: string, max: number): string {
  const full = suffix ? `${base}-${suffix}` : base;
  if (full.length <= max) return full;
  const hash = hash6(base);
  const room = max - (suffix ? suffix.length + 1 : 0) - hash.length - 1;
  const head = base.slice(0, Math.max(1, room)).replace(/[-.]+$/, "");
  return suffix ? `${head}-${hash}-${suffix}` : `${head}-${hash}`;
}

/**
 * The owner's name as a DNS-1035 label start (what a Service name must be): unchanged when it
 * already is one; otherwise dots become dashes, a leading digit gets an `m-`, and a hash of the
 * original name is added so `llama-3.1-8b` and `llama-3-1-8b` still get different Services.
 */
function dns1035Base(mdName: string): string {
  if (DNS_1035.test(mdName)) return mdName;
  const cleaned = mdName.replace(/[^a-z0-9-]/g, "-").replace(/-+$/, "");
  const lead = /^[a-z]/.test(cleaned) ? cleaned : `m-${cleaned}`;
  return `${lead}-${hash6(mdName)}`;
}

export function deploymentName(mdName: string, revision: string): string {
  return fitName(dns1035Base(mdName), revision, MAX_DEPLOYMENT_NAME);
}

export function serviceName(mdName: string, role?: "stable" | "canary"): string {
  return fitName(dns1035Base(mdName), role ?? "", MAX_SERVICE_NAME);
}

export function hpaName(mdName: string): string {
  return fitName(mdName, "", 253);
}

export function pdbName(mdName: string): string {
  return fitName(mdName, "", 253);
}

/** The owner's name as a label value (63 at most), distinct for distinct names. */
export function ownerLabelValue(mdName: string): string {
  return fitName(mdName, "", MAX_LABEL_VALUE);
}

/** Object names may be DNS-1123 subdomains of 253 (TraefikServices, HTTPRoutes). */
const MAX_OBJECT_NAME = 253;

/** The split a shadow step's mirroring TraefikService wraps: `<name>-weighted`, cut with a hash when long. */
export function weightedTraefikServiceName(name: string): string {
  return fitName(name, "weighted", MAX_OBJECT_NAME);
}
