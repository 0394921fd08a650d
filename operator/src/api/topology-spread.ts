// spec.template.topologySpreadConstraints, typed. A constraint without a labelSelector counts every
// pod of the ModelDeployment, stable and canary together (render/pod-template.ts fills it), like
// the PodDisruptionBudget; matchLabelKeys [modelship.dev/revision] spreads each revision on its own.
import { z } from "zod";
import { cel, stringMap, uniqueBy } from "./schema-helpers.ts";

const LABEL_KEY_PATTERN =
  "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$";
const labelKey = (description: string) =>
  z
    .string()
    .min(1)
    .max(317)
    .regex(new RegExp(LABEL_KEY_PATTERN), "must be a label key ([prefix/]name)")
    .describe(description);

const VALUES_BY_OPERATOR = "In and NotIn need values; Exists and DoesNotExist take none";

const LabelSelectorSchema = z
  .object({
    matchLabels: stringMap("Labels a pod must have.").optional(),
    matchExpressions: z
      .array(
        cel(
          z
            .object({
              key: labelKey("Label key."),
              operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist"]).describe("How the key is matched."),
              values: z.array(z.string().max(63)).max(64).optional().describe("Values for In and NotIn."),
            })
            .superRefine((e, ctx) => {
              const needs = e.operator === "In" || e.operator === "NotIn";
              if (needs !== (e.values !== undefined && e.values.length > 0))
                ctx.addIssue({ code: "custom", path: ["values"], message: VALUES_BY_OPERATOR });
            })
            .describe("A label selector requirement."),
          [
            {
              rule: "(self.operator == 'In' || self.operator == 'NotIn') == (has(self.values) && size(self.values) > 0)",
              message: VALUES_BY_OPERATOR,
              fieldPath: ".values",
            },
          ],
        ),
      )
      .max(16)
      .optional()
      .describe("Label requirements a pod must meet."),
  })
  .describe(
    "Pods counted for the spread. Default: every pod of this ModelDeployment (stable and canary together).",
  );

/** The label the default spread selector uses (render/labels.ts LABEL_DEPLOYMENT). */
export const SPREAD_DEFAULT_SELECTOR_KEY = "modelship.dev/deployment";

const MIN_DOMAINS_NEEDS_DO_NOT_SCHEDULE = "minDomains needs whenUnsatisfiable: DoNotSchedule";
const MATCH_LABEL_KEYS_CLASH = "matchLabelKeys must not repeat a key of the labelSelector";
const UNIQUE_SPREAD = "each topologyKey and whenUnsatisfiable pair may appear once";

const TopologySpreadConstraintSchema = cel(
  z
    .object({
      maxSkew: z
        .int()
        .min(1)
        .max(1000)
        .describe("Most the pod count may differ between two topology domains."),
      topologyKey: labelKey("Node label that defines a domain, e.g. topology.kubernetes.io/zone."),
      whenUnsatisfiable: z
        .enum(["DoNotSchedule", "ScheduleAnyway"])
        .describe(
          "DoNotSchedule: leave a pod Pending rather than break the skew; ScheduleAnyway: prefer only.",
        ),
      labelSelector: LabelSelectorSchema.optional(),
      minDomains: z
        .int()
        .min(1)
        .max(1000)
        .optional()
        .describe("Domains to count as existing (DoNotSchedule only)."),
      matchLabelKeys: z
        .array(labelKey("Pod label key."))
        .max(16)
        .optional()
        .describe(
          "Spread pods that share these labels' values separately, e.g. [modelship.dev/revision] spreads each revision on its own.",
        ),
      nodeAffinityPolicy: z
        .enum(["Honor", "Ignore"])
        .optional()
        .describe("Count only nodes the pod's affinity allows (Honor, the default)."),
      nodeTaintsPolicy: z
        .enum(["Honor", "Ignore"])
        .optional()
        .describe("Count only nodes whose taints the pod tolerates (Honor; default Ignore)."),
    })
    .superRefine((t, ctx) => {
      if (t.minDomains !== undefined && t.whenUnsatisfiable !== "DoNotSchedule")
        ctx.addIssue({ code: "custom", path: ["minDomains"], message: MIN_DOMAINS_NEEDS_DO_NOT_SCHEDULE });
      const selectorKeys = t.labelSelector
        ? [
            ...Object.keys(t.labelSelector.matchLabels ?? {}),
            ...(t.labelSelector.matchExpressions ?? []).map((e) => e.key),
          ]
        : [SPREAD_DEFAULT_SELECTOR_KEY];
      if ((t.matchLabelKeys ?? []).some((k) => selectorKeys.includes(k)))
        ctx.addIssue({ code: "custom", path: ["matchLabelKeys"], message: MATCH_LABEL_KEYS_CLASH });
    })
    .describe("A Kubernetes TopologySpreadConstraint."),
  [
    {
      rule: "!has(self.minDomains) || self.whenUnsatisfiable == 'DoNotSchedule'",
      message: MIN_DOMAINS_NEEDS_DO_NOT_SCHEDULE,
      fieldPath: ".minDomains",
    },
    {
      rule: `!has(self.matchLabelKeys) || !self.matchLabelKeys.exists(k, has(self.labelSelector) ? ((has(self.labelSelector.matchLabels) && k in self.labelSelector.matchLabels) || (has(self.labelSelector.matchExpressions) && self.labelSelector.matchExpressions.exists(e, e.key == k))) : k == '${SPREAD_DEFAULT_SELECTOR_KEY}')`,
      message: MATCH_LABEL_KEYS_CLASH,
      fieldPath: ".matchLabelKeys",
    },
  ],
);

export const TopologySpreadConstraintsSchema = cel(
  z
    .array(TopologySpreadConstraintSchema)
    .max(8)
    .superRefine((ts, ctx) =>
      uniqueBy(ts, (t) => `${t.topologyKey}/${t.whenUnsatisfiable}`, ctx, UNIQUE_SPREAD),
    )
    .describe(
      "How the pods spread over zones or nodes. A constraint without labelSelector counts every pod of this ModelDeployment, stable and canary together.",
    ),
  [
    {
      rule: "self.all(t, self.exists_one(u, u.topologyKey == t.topologyKey && u.whenUnsatisfiable == t.whenUnsatisfiable))",
      message: UNIQUE_SPREAD,
    },
  ],
);

export type TopologySpreadConstraintSpec = z.output<typeof TopologySpreadConstraintSchema>;
