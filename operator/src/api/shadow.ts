// Shadow (mirror) steps and the Traefik traffic provider that can run them. A shadow step is a pause
// during which a share of live requests is also copied to the canary, whose answers are thrown
// away: the prober and the analysis judge the canary under real load while every answer still comes
// from stable. It needs a traffic layer that can mirror: Gateway API (the RequestMirror filter, where
// the implementation supports it) or Traefik (a `mirroring` TraefikService). Used by spec (a step,
// spec.rollout.traffic.traefik) and status (the mirror in force).
import { z } from "zod";
import { DURATION_MAX_LENGTH, DURATION_PATTERN, durationToMs, parseDuration } from "./duration.ts";
import { cel, DNS1123_SUBDOMAIN_PATTERN } from "./schema-helpers.ts";

/** A shadow is a pause, so it has a pause's bound (a longer hold is a shadow without a duration). */
const MAX_SHADOW_MS = 168 * 3600 * 1000;
const SHADOW_TOO_LONG =
  "must be at most 168h (7 days); to shadow longer, leave out the duration and promote when done";

export const ShadowSchema = z
  .object({
    percent: z
      .int()
      .min(1)
      .max(100)
      .describe("Percentage (1..100) of live requests copied to the canary; its answers are discarded."),
    duration: cel(
      z
        .string()
        .min(1)
        .max(DURATION_MAX_LENGTH)
        .regex(new RegExp(DURATION_PATTERN), 'must be a duration like "30s", "2m" or "1h30m"')
        .refine((d) => !parseDuration(d).ok || durationToMs(d) <= MAX_SHADOW_MS, SHADOW_TOO_LONG)
        .describe(
          'How long to mirror ("30s", "2m", "1h30m"), at most 168h, counted from when the mirror starts. Absent: until a person promotes.',
        ),
      [{ rule: "duration(self) <= duration('168h')", message: SHADOW_TOO_LONG }],
    ).optional(),
  })
  .describe(
    "Mirror this share of live traffic to the canary for the step's duration while it serves no answers; the prober and the analysis keep judging it (a Fail aborts). The mirror starts once the canary has the Ready pods for that share and ends when the step ends (promotion and abort included). Needs spec.rollout.traffic.gatewayAPI (RequestMirror filter; not every implementation supports it) or spec.rollout.traffic.traefik.",
  );
export type Shadow = z.output<typeof ShadowSchema>;

export const SHADOW_NEEDS_MIRROR =
  "shadow steps need spec.rollout.traffic.gatewayAPI or spec.rollout.traffic.traefik (one Service cannot mirror)";

/** The mirror in force, as status shows it. */
export const ShadowStatusSchema = z
  .object({
    percent: z.int().min(1).max(100).describe("Percentage of live requests copied to the canary."),
  })
  .describe(
    "The mirror in force: this share of live requests is also copied to the canary, whose answers are discarded. Set by a shadow step once the canary has Ready pods for it, removed when the step ends.",
  );
export type ShadowStatus = z.output<typeof ShadowStatusSchema>;

/** Room for the "-weighted" suffix of the split the mirror wraps (render/traefik-service.ts). */
const TRAEFIK_SERVICE_NAME_MAX = 253 - "-weighted".length;

export const TraefikTrafficSchema = z
  .object({
    serviceName: z
      .string()
      .min(1)
      .max(TRAEFIK_SERVICE_NAME_MAX)
      .regex(new RegExp(DNS1123_SUBDOMAIN_PATTERN), "must be a DNS-1123 subdomain")
      .optional()
      .describe(
        "Name of the TraefikService (traefik.io/v1alpha1) the operator manages and your IngressRoute or HTTPRoute (backendRef kind TraefikService, group traefik.io) points at. The operator also manages <serviceName>-weighted, the split a shadow step's mirror wraps. Default: the ModelDeployment's name.",
      ),
  })
  .describe(
    "Split traffic with Traefik's CRD provider: a `weighted` TraefikService over the -stable and -canary Services that follows the rollout, which becomes a `mirroring` one during a shadow step. Needs Traefik's CRDs and its kubernetescrd provider.",
  );
export type TraefikTraffic = z.output<typeof TraefikTrafficSchema>;
