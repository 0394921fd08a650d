// Labels on every child. The standard app.kubernetes.io keys say what a child is; modelship's
// own keys select it. app.kubernetes.io/instance is left out on purpose: it is Argo CD's default
// tracking label, and a child carrying it would show up in Argo as an orphan to prune.

import { ownerLabelValue } from "./names.ts";

export const MANAGED_BY = "modelship";
export const LABEL_DEPLOYMENT = "modelship.dev/deployment";
export const LABEL_REVISION = "modelship.dev/revision";

/** A label value from free text: [A-Za-z0-9._-], at most 63, alphanumeric at both ends. */
export function toLabelValue(s: string): string {
  const cleaned = s.replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 63);
  return cleaned.replace(/^[^A-Za-z0-9]+/, "").replace(/[^A-Za-z0-9]+$/, "");
}

/** Labels shared by every child of one ModelDeployment. */
export function commonLabels(mdName: string, modelName: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": toLabelValue(modelName),
    "app.kubernetes.io/component": "model-server",
    "app.kubernetes.io/managed-by": MANAGED_BY,
    [LABEL_DEPLOYMENT]: ownerLabelValue(mdName),
  };
}

/** Selects every pod of every revision of one ModelDeployment. */
export function deploymentSelector(mdName: string): Record<string, string> {
  return { [LABEL_DEPLOYMENT]: ownerLabelValue(mdName) };
}

/** The scale subresource's status.selector, in label-selector string form. */
export function selectorString(selector: Record<string, string>): string {
  return Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

/** Label selector the operator's informers use for all children it manages. */
export const MANAGED_SELECTOR = `app.kubernetes.io/managed-by=${MANAGED_BY}`;
