// Small zod builders for the Kubernetes OpenAPI idioms the CRD needs. The metadata keys they set
// ("x-kubernetes-...") pass through z.toJSONSchema unchanged; hack/gen/crd.ts turns the marked
// nodes into their structural-schema form.
import { z } from "zod";
import { HTTP_PATH_CEL, HTTP_PATH_MAX, HTTP_PATH_MESSAGE, isHttpRequestPath } from "./http-path.ts";

/** A CEL validation rule as the CRD carries it (x-kubernetes-validations). */
export interface CelRule {
  rule: string;
  message: string;
  /** Relative JSON path (".field") the API server reports the error against. */
  fieldPath?: string;
  reason?: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";
}

export const PRESERVE_UNKNOWN = "x-kubernetes-preserve-unknown-fields";
export const INT_OR_STRING = "x-kubernetes-int-or-string";
export const VALIDATIONS = "x-kubernetes-validations";

/** An object kept as-is (e.g. a Kubernetes type we pass through without modelling it). */
export function opaqueObject(description: string) {
  return z.record(z.string(), z.unknown()).meta({ description, [PRESERVE_UNKNOWN]: true });
}

/** The Kubernetes resource.Quantity grammar (the same pattern Kubernetes publishes). */
export const QUANTITY_PATTERN =
  "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$";

/** A resource quantity: 2, "500m", "16Gi". */
export function quantity() {
  return z
    .union([z.int().min(0), z.string().regex(new RegExp(QUANTITY_PATTERN), "must be a Kubernetes quantity")])
    .meta({ [INT_OR_STRING]: true, pattern: QUANTITY_PATTERN });
}

const PERCENT_PATTERN = "^(100|[1-9]?[0-9])%$";

/** A count or a percentage, as PodDisruptionBudget and rolling-update fields take them: 1, "25%". */
export function intOrPercent(description: string) {
  return z
    .union([
      z.int().min(0).max(10000),
      z.string().regex(new RegExp(PERCENT_PATTERN), "must be a percentage like 25%"),
    ])
    .meta({ [INT_OR_STRING]: true, pattern: PERCENT_PATTERN })
    .describe(description);
}

/** A map of string to string (labels, annotations, nodeSelector). */
export function stringMap(description: string) {
  return z.record(z.string().max(253), z.string().max(4096)).describe(description);
}

/** Attach CEL rules to a schema node; the generator copies them into the CRD verbatim. */
export function cel<T extends z.ZodType>(schema: T, rules: CelRule[]): T {
  return schema.meta({ [VALIDATIONS]: rules });
}

/** DNS-1123 label: the rule for Kubernetes object names that become part of other names. */
export const DNS1123_LABEL_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
/** DNS-1123 subdomain: the rule for most Kubernetes object names. */
export const DNS1123_SUBDOMAIN_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

export function dnsLabel(description: string) {
  return z
    .string()
    .min(1)
    .max(63)
    .regex(new RegExp(DNS1123_LABEL_PATTERN), "must be a DNS-1123 label (lowercase letters, digits, '-')")
    .describe(description);
}

export function dnsSubdomain(description: string) {
  return z
    .string()
    .min(1)
    .max(253)
    .regex(new RegExp(DNS1123_SUBDOMAIN_PATTERN), "must be a DNS-1123 subdomain")
    .describe(description);
}

/** An HTTP path the prober or the kubelet requests: what a request line can carry (api/http-path.ts). */
export function httpPath(description: string) {
  // No `pattern` in the CRD: the API server would answer with the bare regex; the CEL rule says it
  // in the same words as zod.
  return cel(
    z.string().min(1).max(HTTP_PATH_MAX).refine(isHttpRequestPath, HTTP_PATH_MESSAGE).describe(description),
    [{ rule: HTTP_PATH_CEL, message: HTTP_PATH_MESSAGE }],
  );
}

/** Reports every item whose key an earlier item already had (zod's half of an exists_one CEL rule). */
export function uniqueBy<T>(items: T[], key: (t: T) => string, ctx: z.RefinementCtx, message: string): void {
  const seen = new Set<string>();
  for (const [i, item] of items.entries()) {
    const k = key(item);
    if (seen.has(k)) ctx.addIssue({ code: "custom", path: [i], message });
    seen.add(k);
  }
}
