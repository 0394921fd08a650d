// Identity of the ModelDeployment API. Everything that names the group, version or kind imports
// these, so the CRD generator, the informers and the printer columns can never disagree.

export const GROUP = "modelship.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = "ModelDeployment";
export const LIST_KIND = "ModelDeploymentList";
export const PLURAL = "modeldeployments";
export const SINGULAR = "modeldeployment";
export const SHORT_NAMES: readonly string[] = ["mdep"];
export const CATEGORIES: readonly string[] = ["modelship"];
export const CRD_NAME = `${PLURAL}.${GROUP}`;

/**
 * A ServiceAccount named in spec.template.serviceAccountName must carry this label with value
 * "true". Only someone allowed to edit ServiceAccounts (a namespace admin) can set it, so a user
 * who may only create ModelDeployments cannot borrow a powerful account (docs/service-accounts.md).
 */
export const MODEL_RUNTIME_SA_LABEL = "modelship.dev/model-runtime";
export const MODEL_RUNTIME_SA_LABEL_VALUE = "true";
