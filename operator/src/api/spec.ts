// spec of a ModelDeployment. This zod schema is the one source of truth: it types the operator,
// validates what it reads, and generates the CRD (hack/gen/crd.ts) and docs/api-reference.md.
// Rules the API server can check are written twice on purpose: as zod refinements (so parse
// reports them) and as CEL rules (so kubectl apply is rejected with the same message).
import { z } from "zod";
import {
  AGREEMENT_NEEDS_REQUEST,
  AGREEMENT_REQUEST_CEL,
  AgreementSchema,
  agreementGateFields,
  MIN_AGREEMENT_NEEDS_AGREEMENT,
  STEP_MIN_AGREEMENT_CEL,
} from "./agreement.ts";
import { EnvVarSchema, ResourcesSchema } from "./container.ts";
import { DURATION_MAX_LENGTH, DURATION_PATTERN, durationToMs, parseDuration } from "./duration.ts";
import { MODEL_RUNTIME_SA_LABEL } from "./group.ts";
import { HeaderRouteSchema } from "./header-route.ts";
import { ModelStorageSchema, STORAGE_NEEDS_DOWNLOAD, STORAGE_NEEDS_DOWNLOAD_CEL } from "./model-storage.ts";
import { MODEL_MOUNT_PATH, MODEL_URI_CEL, modelSource, modelUriProblem } from "./model-uri.ts";
import {
  checkPodTemplate,
  POD_TEMPLATE_RULES,
  podTemplateFields,
  runtimeContainerFields,
} from "./pod-template.ts";
import { RUNTIME_PRESETS } from "./presets.ts";
import {
  cel,
  dnsLabel,
  dnsSubdomain,
  httpPath,
  intOrPercent,
  opaqueObject,
  quantity,
  stringMap,
} from "./schema-helpers.ts";
import { SHADOW_NEEDS_MIRROR, ShadowSchema, TraefikTrafficSchema } from "./shadow.ts";
import {
  STREAM_CEL_RULES,
  StreamCheckSchema,
  streamAnalysisFields,
  streamSpecIssues,
} from "./stream-health.ts";

const ModelSchema = cel(
  z
    .object({
      name: cel(
        dnsLabel(
          "The served model name, used in health and inference checks (e.g. /v2/models/{name}/ready) and in labels.",
        ),
        [
          {
            rule: "self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",
            message:
              "must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit",
          },
        ],
      ),
      version: z
        .string()
        .min(1)
        .max(63)
        .describe(
          "Free-text model version (e.g. a date or a registry tag). Part of the revision identity; shown in status and history.",
        ),
      uri: cel(
        z
          .string()
          .min(1)
          .max(2048)
          .superRefine((uri, ctx) => {
            const problem = modelUriProblem(uri);
            if (problem) ctx.addIssue({ code: "custom", message: problem });
          }),
        MODEL_URI_CEL,
      )
        .optional()
        .describe(
          `Where the model lives. pvc://<claim>/<path>: the claim mounted read-only at ${MODEL_MOUNT_PATH}. oci://<image>: an image volume mounted read-only at ${MODEL_MOUNT_PATH}. s3://, gs://, https://, hf://: downloaded into ${MODEL_MOUNT_PATH} by an init container before the server starts (see storage). The server gets MODEL_URI and, for these schemes, MODEL_PATH (the local path) and the preset's model argument when runtime.command and runtime.args are unset. Any other value: handed over as MODEL_URI only. See docs/model-artifacts.md.`,
        ),
      storage: ModelStorageSchema.optional(),
    })
    .superRefine((m, ctx) => {
      if (m.storage !== undefined && modelSource(m.uri).kind !== "download")
        ctx.addIssue({ code: "custom", path: ["storage"], message: STORAGE_NEEDS_DOWNLOAD });
    })
    .describe("The model being served."),
  [STORAGE_NEEDS_DOWNLOAD_CEL],
);

const RuntimeSchema = cel(
  z
    .object({
      preset: z
        .enum(RUNTIME_PRESETS)
        .default("openInference")
        .describe(
          "Serving protocol of the image. Sets the default port and the readiness/liveness probe paths: openInference /v2/health/ready + /v2/health/live (8080), openai and vllm /health (8000), tgi /health (80), triton /v2/health/ready + /v2/health/live (8000), torchserve /ping (8080), nim /v1/health/ready + /v1/health/live (8000), http healthPath or / (8080).",
        ),
      image: z.string().min(1).max(1024).describe("Container image of the model server."),
      port: z
        .int()
        .min(1)
        .max(65535)
        .optional()
        .describe(
          "Container port of the HTTP endpoint. Default: the preset's port (resolved by the operator, not stored).",
        ),
      command: z
        .array(z.string().max(4096))
        .max(256)
        .optional()
        .describe("Entrypoint override, as in a Kubernetes container."),
      args: z
        .array(z.string().max(4096))
        .max(256)
        .optional()
        .describe("Arguments, as in a Kubernetes container."),
      env: z
        .array(EnvVarSchema)
        .max(256)
        .optional()
        .describe("Environment variables of the model server container."),
      resources: ResourcesSchema.optional(),
      shmSize: quantity()
        .optional()
        .describe(
          'Size of a memory-backed /dev/shm for the model server, e.g. "8Gi" (vLLM and PyTorch with tensor parallelism need more than the container default of 64Mi). Counts against the pod\'s memory limit. Absent: the runtime default.',
        ),
      startupTimeoutSeconds: z
        .int()
        .min(1)
        .max(86400)
        .default(1800)
        .describe(
          "Budget for the server to become Ready after its container starts (a startup probe; large models load slowly; never a liveness kill). While a pod loads within it, the progress deadline waits and status says how much is left; a pod that spends it without becoming Ready aborts the canary (StartupBudgetExceeded).",
        ),
      healthPath: httpPath(
        "Readiness and liveness path for preset http. Not allowed with other presets (use spec.health.path for the prober).",
      ).optional(),
      ...runtimeContainerFields,
    })
    .superRefine((runtime, ctx) => {
      if (runtime.healthPath !== undefined && runtime.preset !== "http") {
        ctx.addIssue({
          code: "custom",
          path: ["healthPath"],
          message: "healthPath is only allowed with preset http",
        });
      }
    })
    .describe("The model server: image, protocol preset and container settings."),
  [
    {
      rule: "!has(self.healthPath) || self.preset == 'http'",
      message: "healthPath is only allowed with preset http",
      fieldPath: ".healthPath",
    },
  ],
);

const AutoscalingSchema = cel(
  z
    .object({
      minReplicas: z.int().min(1).max(10000).default(1).describe("Lower bound of the total replica count."),
      maxReplicas: z.int().min(1).max(10000).describe("Upper bound of the total replica count."),
      metrics: z
        .array(opaqueObject("An autoscaling/v2 MetricSpec."))
        .max(16)
        .optional()
        .describe(
          "autoscaling/v2 MetricSpecs, copied into the HorizontalPodAutoscaler. Default (Kubernetes): 80% average CPU utilization.",
        ),
      behavior: opaqueObject(
        "autoscaling/v2 HorizontalPodAutoscalerBehavior, copied into the HorizontalPodAutoscaler.",
      ).optional(),
    })
    .superRefine((a, ctx) => {
      if (a.minReplicas > a.maxReplicas) {
        ctx.addIssue({
          code: "custom",
          path: ["minReplicas"],
          message: "minReplicas must not exceed maxReplicas",
        });
      }
    })
    .describe(
      "Autoscale the total replica count with a HorizontalPodAutoscaler that targets this ModelDeployment's scale subresource. The HPA then owns spec.replicas (leave it out of your manifests); the operator shares the total between the stable and canary revisions.",
    ),
  [
    {
      rule: "self.minReplicas <= self.maxReplicas",
      message: "minReplicas must not exceed maxReplicas",
      fieldPath: ".minReplicas",
    },
  ],
);

const ONE_DISRUPTION_BOUND = "set exactly one of minAvailable and maxUnavailable";

const DisruptionSchema = cel(
  z
    .object({
      minAvailable: intOrPercent(
        "Pods (or a percentage of all pods) that must stay up through a voluntary disruption.",
      ).optional(),
      maxUnavailable: intOrPercent(
        "Pods (or a percentage of all pods) a voluntary disruption may take down at once.",
      ).optional(),
    })
    .superRefine((d, ctx) => {
      if ((d.minAvailable === undefined) === (d.maxUnavailable === undefined))
        ctx.addIssue({ code: "custom", message: ONE_DISRUPTION_BOUND });
    })
    .describe(
      "A PodDisruptionBudget over all pods of this ModelDeployment, stable and canary together, so node drains and cluster upgrades keep serving capacity. Absent: none.",
    ),
  [{ rule: "has(self.minAvailable) != has(self.maxUnavailable)", message: ONE_DISRUPTION_BOUND }],
);

/** A timed pause longer than a week is a hold; that is what a pause without a duration is for. */
const MAX_PAUSE_MS = 168 * 3600 * 1000;
const PAUSE_TOO_LONG =
  "must be at most 168h (7 days); to hold a canary longer, use a pause without a duration and promote it";

const durationString = (description: string) =>
  z
    .string()
    .min(1)
    .max(DURATION_MAX_LENGTH)
    .regex(new RegExp(DURATION_PATTERN), 'must be a duration like "30s", "2m" or "1h30m"')
    .describe(description);

/** Thresholds a revision must meet; shared by rollout.analysis (defaults) and step overrides. */
const analysisFields = {
  successRate: z
    .number()
    .min(0)
    .max(1)
    .describe(
      "Minimum fraction of successful probes (0..1); a probe succeeds when every check and the inference request pass.",
    ),
  p99LatencyMs: z
    .int()
    .min(1)
    .max(3_600_000)
    .describe(
      "Maximum p99 latency of inference checks, in milliseconds (of whole probe rounds when there is no inference check).",
    ),
  maxP99RelativeToStable: z
    .number()
    .min(1)
    .max(1000)
    .describe("Maximum canary p99 latency as a multiple of the stable revision's p99 (e.g. 1.5)."),
  minSamples: z
    .int()
    .min(1)
    .max(1_000_000)
    .describe("Samples needed before a verdict; fewer means Inconclusive."),
  failureLimit: z
    .int()
    .min(0)
    .max(1000)
    .describe(
      "Consecutive failed probes (over all pods of the canary) that fail it at once, even before minSamples are in; 0 turns this rule off.",
    ),
  warmupInferences: z
    .int()
    .min(0)
    .max(1_000_000)
    .describe(
      "Successful inference checks every pod of a new revision needs before the revision counts as Ready capacity and traffic moves to it (cache and JIT warm-up). They count in the verdict like any probe. Needs health.inference; without it there is no warm-up.",
    ),
  ...agreementGateFields,
  ...streamAnalysisFields,
};

const AnalysisSchema = cel(
  z
    .object({
      successRate: analysisFields.successRate.default(0.99),
      p99LatencyMs: analysisFields.p99LatencyMs.optional(),
      maxP99RelativeToStable: analysisFields.maxP99RelativeToStable.optional(),
      minSamples: analysisFields.minSamples.default(20),
      failureLimit: analysisFields.failureLimit.default(2),
      warmupInferences: analysisFields.warmupInferences.default(0),
      maxTTFTp99Ms: analysisFields.maxTTFTp99Ms.optional(),
      maxTPOTp99Ms: analysisFields.maxTPOTp99Ms.optional(),
      minTokensPerSecond: analysisFields.minTokensPerSecond.optional(),
      maxTTFTp99RelativeToStable: analysisFields.maxTTFTp99RelativeToStable.optional(),
      maxTPOTp99RelativeToStable: analysisFields.maxTPOTp99RelativeToStable.optional(),
      // No schema defaults below: a stored spec that does not use agreement stays as it was.
      agreement: AgreementSchema.optional(),
      minAgreement: analysisFields.minAgreement.optional(),
      minAgreementSamples: analysisFields.minAgreementSamples.optional(),
    })
    .superRefine((a, ctx) => {
      if (a.minAgreement !== undefined && a.agreement === undefined)
        ctx.addIssue({ code: "custom", path: ["minAgreement"], message: MIN_AGREEMENT_NEEDS_AGREEMENT });
    })
    .describe(
      "Health thresholds applied during the whole rollout and by analysis steps. Default: {} (all defaults, resolved in memory when absent).",
    ),
  [
    {
      rule: "!has(self.minAgreement) || has(self.agreement)",
      message: MIN_AGREEMENT_NEEDS_AGREEMENT,
      fieldPath: ".minAgreement",
    },
  ],
);

const StepAnalysisSchema = z
  .object({
    successRate: analysisFields.successRate.optional(),
    p99LatencyMs: analysisFields.p99LatencyMs.optional(),
    maxP99RelativeToStable: analysisFields.maxP99RelativeToStable.optional(),
    minSamples: analysisFields.minSamples.optional(),
    failureLimit: analysisFields.failureLimit.optional(),
    minAgreement: analysisFields.minAgreement.optional(),
    minAgreementSamples: analysisFields.minAgreementSamples.optional(),
    maxTTFTp99Ms: analysisFields.maxTTFTp99Ms.optional(),
    maxTPOTp99Ms: analysisFields.maxTPOTp99Ms.optional(),
    minTokensPerSecond: analysisFields.minTokensPerSecond.optional(),
    maxTTFTp99RelativeToStable: analysisFields.maxTTFTp99RelativeToStable.optional(),
    maxTPOTp99RelativeToStable: analysisFields.maxTPOTp99RelativeToStable.optional(),
  })
  .describe(
    "Wait here until the analysis passes ({} uses spec.rollout.analysis). Fields given here override it for this step only.",
  );

const ONE_STEP_KIND = "each step must have exactly one of setWeight, pause, analysis, headerRoute, shadow";
const HEADER_ROUTE_NEEDS_GATEWAY =
  "headerRoute steps need spec.rollout.traffic.gatewayAPI (one Service cannot route by header)";

const StepSchema = cel(
  z
    .object({
      setWeight: z
        .int()
        .min(0)
        .max(100)
        .optional()
        .describe("Send this percentage of traffic (0..100) to the canary revision."),
      pause: z
        .object({
          duration: cel(
            durationString(
              'How long to wait ("30s", "2m", "1h30m"), at most 168h. Absent: wait until a person promotes.',
            ).refine((d) => !parseDuration(d).ok || durationToMs(d) <= MAX_PAUSE_MS, PAUSE_TOO_LONG),
            [{ rule: "duration(self) <= duration('168h')", message: PAUSE_TOO_LONG }],
          ).optional(),
        })
        .optional()
        .describe("Wait for a duration, or ({}) until a person promotes."),
      analysis: StepAnalysisSchema.optional(),
      headerRoute: HeaderRouteSchema.optional(),
      shadow: ShadowSchema.optional(),
    })
    .superRefine((step, ctx) => {
      const count = [step.setWeight, step.pause, step.analysis, step.headerRoute, step.shadow].filter(
        (x) => x !== undefined,
      ).length;
      if (count !== 1) ctx.addIssue({ code: "custom", message: ONE_STEP_KIND });
    })
    .describe("One rollout step: exactly one of setWeight, pause, analysis, headerRoute, shadow."),
  [
    {
      rule: "(has(self.setWeight) ? 1 : 0) + (has(self.pause) ? 1 : 0) + (has(self.analysis) ? 1 : 0) + (has(self.headerRoute) ? 1 : 0) + (has(self.shadow) ? 1 : 0) == 1",
      message: ONE_STEP_KIND,
    },
  ],
);

const ParentRefSchema = z
  .object({
    name: dnsSubdomain("Name of the Gateway."),
    namespace: dnsLabel("Namespace of the Gateway. Default: the ModelDeployment's namespace.").optional(),
    sectionName: z.string().min(1).max(253).optional().describe("Listener name on the Gateway."),
    port: z.int().min(1).max(65535).optional().describe("Listener port on the Gateway."),
  })
  .describe("A Gateway API parentRef (group gateway.networking.k8s.io, kind Gateway).");

const ONE_TRAFFIC_PROVIDER = "set at most one of gatewayAPI and traefik";

const TrafficSchema = cel(
  z
    .object({
      gatewayAPI: z
        .object({
          parentRefs: z.array(ParentRefSchema).min(1).max(16).describe("Gateways the HTTPRoute attaches to."),
          hostnames: z
            .array(z.string().min(1).max(253))
            .max(16)
            .optional()
            .describe("Hostnames the HTTPRoute matches."),
          routeName: dnsSubdomain(
            "Name of the HTTPRoute the operator manages. Default: the ModelDeployment's name.",
          ).optional(),
        })
        .optional()
        .describe("Split traffic with a Gateway API HTTPRoute whose backend weights follow the rollout."),
      traefik: TraefikTrafficSchema.optional(),
    })
    .refine((t) => t.gatewayAPI === undefined || t.traefik === undefined, ONE_TRAFFIC_PROVIDER)
    .describe("How traffic is split between revisions. Absent: by replica ratio behind one Service."),
  [{ rule: "!has(self.gatewayAPI) || !has(self.traefik)", message: ONE_TRAFFIC_PROVIDER }],
);

const RolloutSchema = cel(
  z
    .object({
      steps: z
        .array(StepSchema)
        .max(50)
        .default([])
        .describe(
          "Ordered steps from a new revision to full promotion. Empty: all at once, still gated by health.",
        ),
      analysis: AnalysisSchema.prefault({}),
      traffic: TrafficSchema.optional(),
      progressDeadlineSeconds: z
        .int()
        .min(1)
        .max(86400)
        .default(600)
        .describe(
          "A step that makes no progress for this long aborts the rollout (pauses without a duration excepted). A pod still loading its model within runtime.startupTimeoutSeconds is not stuck: the deadline waits for it.",
        ),
      scaleDownDelaySeconds: z
        .int()
        .min(0)
        .max(3600)
        .default(30)
        .describe(
          "After traffic leaves a revision, wait this long before scaling it down (lets in-flight requests drain).",
        ),
      revisionHistoryLimit: z
        .int()
        .min(0)
        .max(50)
        .default(5)
        .describe("How many old revisions to keep in status.history."),
    })
    .superRefine((rollout, ctx) => {
      if (rollout.steps.some((s) => s.headerRoute !== undefined) && rollout.traffic?.gatewayAPI === undefined)
        ctx.addIssue({ code: "custom", path: ["steps"], message: HEADER_ROUTE_NEEDS_GATEWAY });
      const mirrors = rollout.traffic?.gatewayAPI !== undefined || rollout.traffic?.traefik !== undefined;
      if (rollout.steps.some((s) => s.shadow !== undefined) && !mirrors)
        ctx.addIssue({ code: "custom", path: ["steps"], message: SHADOW_NEEDS_MIRROR });
      if (
        rollout.steps.some((s) => s.analysis?.minAgreement !== undefined) &&
        rollout.analysis.agreement === undefined
      )
        ctx.addIssue({ code: "custom", path: ["steps"], message: MIN_AGREEMENT_NEEDS_AGREEMENT });
    })
    .describe("How a new revision replaces the stable one. Default: {} (resolved in memory when absent)."),
  [
    {
      rule: "!has(self.steps) || !self.steps.exists(s, has(s.headerRoute)) || (has(self.traffic) && has(self.traffic.gatewayAPI))",
      message: HEADER_ROUTE_NEEDS_GATEWAY,
    },
    {
      rule: "!has(self.steps) || !self.steps.exists(s, has(s.shadow)) || (has(self.traffic) && (has(self.traffic.gatewayAPI) || has(self.traffic.traefik)))",
      message: SHADOW_NEEDS_MIRROR,
    },
    { rule: STEP_MIN_AGREEMENT_CEL, message: MIN_AGREEMENT_NEEDS_AGREEMENT, fieldPath: ".steps" },
  ],
);

const ExpectSchema = cel(
  z
    .object({
      status: z.int().min(100).max(599).default(200).describe("Expected HTTP status code."),
      jsonPath: z
        .string()
        .min(1)
        .max(256)
        .optional()
        .describe(
          "A field of the JSON response to check, as a path of names and array indexes, e.g. $.outputs[0].data (no filters or wildcards).",
        ),
      equals: z
        .string()
        .max(1024)
        .optional()
        .describe("The field at jsonPath, rendered as JSON text for non-strings, must equal this."),
      exists: z
        .boolean()
        .optional()
        .describe(
          "The field at jsonPath must exist (true) or be absent (false); null counts as absent. Without equals and exists, a jsonPath must exist.",
        ),
    })
    .superRefine((e, ctx) => {
      if (e.equals !== undefined && e.exists !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["equals"],
          message: "equals and exists are mutually exclusive",
        });
      }
      if ((e.equals !== undefined || e.exists !== undefined) && e.jsonPath === undefined) {
        ctx.addIssue({ code: "custom", path: ["jsonPath"], message: "equals and exists need jsonPath" });
      }
    })
    .describe("What a passing response looks like."),
  [
    {
      rule: "!(has(self.equals) && has(self.exists))",
      message: "equals and exists are mutually exclusive",
      fieldPath: ".equals",
    },
    {
      rule: "!(has(self.equals) || has(self.exists)) || has(self.jsonPath)",
      message: "equals and exists need jsonPath",
      fieldPath: ".jsonPath",
    },
  ],
);

/**
 * The longest a probe request may take. A model's health answer (even an LLM's one-token inference)
 * comes well within a minute; a longer budget only lets a hung pod hold a probe slot longer.
 */
export const MAX_PROBE_TIMEOUT_SECONDS = 60;

const HttpCheckSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(63)
      .optional()
      .describe("Name of the check in status.health (default: the method and path, e.g. 'GET /healthz')."),
    path: httpPath("Path requested on each pod."),
    method: z.enum(["GET", "POST"]).default("GET").describe("HTTP method."),
    expect: ExpectSchema.prefault({}),
  })
  .describe("An HTTP check the prober runs against each ready pod.");

const InferenceCheckSchema = z
  .object({
    path: httpPath("Inference path, e.g. /v2/models/recommender/infer or /v1/chat/completions."),
    method: z.enum(["POST", "GET"]).default("POST").describe("HTTP method."),
    body: opaqueObject("JSON request body sent as-is.").optional(),
    maxLatencyMs: z
      .int()
      .min(1)
      .max(MAX_PROBE_TIMEOUT_SECONDS * 1000)
      .optional()
      .describe("A response slower than this counts as a failure (a request never outlives timeoutSeconds)."),
    expect: ExpectSchema.prefault({}),
  })
  .describe(
    "A real inference request the prober sends to each ready pod, so health means the model answers, not just that the process is up.",
  );

const HealthSchema = cel(
  z
    .object({
      intervalSeconds: z.int().min(1).max(3600).default(5).describe("Seconds between probes of each pod."),
      timeoutSeconds: z
        .int()
        .min(1)
        .max(MAX_PROBE_TIMEOUT_SECONDS)
        .default(2)
        .describe(
          "Hard deadline of each HTTP request of a probe (connect, headers and the whole body), in seconds; at most 60 and at most intervalSeconds.",
        ),
      path: httpPath("Readiness path the prober requests instead of the preset's.").optional(),
      checks: z
        .array(HttpCheckSchema)
        .max(8)
        .optional()
        .describe(
          "HTTP checks run in order against each ready pod instead of the preset's checks (not with path). A probe fails at its first failing check; every check counts in the verdict and has its own numbers in status.health.",
        ),
      inference: InferenceCheckSchema.optional(),
      stream: StreamCheckSchema.optional(),
    })
    .superRefine((h, ctx) => {
      if (h.timeoutSeconds > h.intervalSeconds) {
        ctx.addIssue({
          code: "custom",
          path: ["timeoutSeconds"],
          message: "timeoutSeconds must not exceed intervalSeconds",
        });
      }
      if (h.path !== undefined && h.checks !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["checks"],
          message: "path and checks are mutually exclusive (put the path in a check)",
        });
      }
    })
    .describe(
      "Out-of-band health checks the operator's prober runs against each ready pod of live revisions. Default: {} (the preset's checks).",
    ),
  [
    {
      rule: "self.timeoutSeconds <= self.intervalSeconds",
      message: "timeoutSeconds must not exceed intervalSeconds",
      fieldPath: ".timeoutSeconds",
    },
    {
      rule: "!(has(self.path) && has(self.checks))",
      message: "path and checks are mutually exclusive (put the path in a check)",
      fieldPath: ".checks",
    },
  ],
);

/** Linux ids as Kubernetes takes them (int64 in the API; kept to 31 bits, which every runtime maps). */
const linuxId = (description: string) => z.int().min(0).max(2147483647).describe(description);

const RUN_AS_ROOT_NEEDS_NONE =
  "runAsUser 0 is root, which profile Restricted forbids; set profile: None to run as root";

/**
 * Typed, bounded pod security settings, not a passthrough of Kubernetes' SecurityContext: every
 * field here is one an image commonly needs (its uid, a group for a mounted volume, a read-only
 * root), and none of them can give a pod more than the namespace's Pod Security level allows.
 * The one way out of Restricted is a named profile, so a reviewer sees it in one word.
 */
const SecurityContextSchema = cel(
  z
    .object({
      // No schema default: a default would appear in every stored spec, change every revision hash
      // and start a canary of every ModelDeployment at operator upgrade. Resolved in render/.
      profile: z
        .enum(["Restricted", "None"])
        .optional()
        .describe(
          "Restricted (the default when absent): the pod meets the restricted Pod Security Standard: runAsNonRoot, seccompProfile RuntimeDefault, allowPrivilegeEscalation false, capabilities drop ALL. The image must run as a numeric non-zero user (or set runAsUser). None: modelship adds no security settings of its own (the image's user, the container runtime's defaults), only the fields set here; for images that must run as root. A namespace that enforces restricted refuses such pods.",
        ),
      runAsUser: linuxId(
        "uid the model server runs as (pod securityContext.runAsUser). Needed with Restricted when the image's USER is root or a name rather than a number. 0 (root) only with profile None.",
      ).optional(),
      runAsGroup: linuxId("Primary gid of the model server (pod securityContext.runAsGroup).").optional(),
      fsGroup: linuxId(
        "gid that owns mounted volumes, so a non-root server can write them (pod securityContext.fsGroup).",
      ).optional(),
      readOnlyRootFilesystem: z
        .boolean()
        .optional()
        .describe(
          "Mount the container's root filesystem read-only. Default: writable (many model servers write caches under / or /tmp).",
        ),
    })
    .superRefine((sc, ctx) => {
      if (sc.runAsUser === 0 && sc.profile !== "None") {
        ctx.addIssue({ code: "custom", path: ["runAsUser"], message: RUN_AS_ROOT_NEEDS_NONE });
      }
    })
    .describe(
      "Pod security of the model server. Default: profile Restricted (the restricted Pod Security Standard). See docs/security.md#model-pods.",
    ),
  [
    {
      rule: "!has(self.runAsUser) || self.runAsUser != 0 || (has(self.profile) && self.profile == 'None')",
      message: RUN_AS_ROOT_NEEDS_NONE,
      fieldPath: ".runAsUser",
    },
  ],
);

const TemplateSchema = z
  .object({
    metadata: z
      .object({
        labels: stringMap("Labels added to the pods.").optional(),
        annotations: stringMap("Annotations added to the pods.").optional(),
      })
      .optional()
      .describe("Extra pod metadata. modelship's own labels win on conflict."),
    nodeSelector: stringMap("Kubernetes nodeSelector of the pods.").optional(),
    tolerations: z
      .array(opaqueObject("A Kubernetes Toleration."))
      .max(64)
      .optional()
      .describe("Kubernetes tolerations of the pods."),
    affinity: opaqueObject("Kubernetes Affinity of the pods.").optional(),
    imagePullSecrets: z
      .array(z.object({ name: dnsSubdomain("Secret name.") }))
      .max(16)
      .optional()
      .describe("Secrets used to pull the image."),
    priorityClassName: z.string().min(1).max(253).optional().describe("PriorityClass of the pods."),
    serviceAccountName: dnsSubdomain(
      `ServiceAccount the pods run as. It must carry the label ${MODEL_RUNTIME_SA_LABEL}: "true", which only someone who may edit ServiceAccounts can set; otherwise the operator reports InvalidSpec and keeps the running revision. Default: the namespace's default account, with automountServiceAccountToken false. See docs/service-accounts.md.`,
    ).optional(),
    securityContext: SecurityContextSchema.optional(),
    ...podTemplateFields,
  })
  .describe("Extra pod settings for the model server pods.");

const ModelDeploymentSpecObject = z
  .object({
    model: ModelSchema,
    runtime: RuntimeSchema,
    replicas: z
      .int()
      .min(0)
      .max(10000)
      .default(1)
      .describe(
        "Total replicas across revisions (the scale subresource's spec.replicas). With autoscaling, the HorizontalPodAutoscaler writes this field through the scale subresource, so leave it out of your manifests; the default 1 gives the HPA a non-zero start (an HPA ignores a target at 0 replicas) and the operator keeps the total within [minReplicas, maxReplicas].",
      ),
    autoscaling: AutoscalingSchema.optional(),
    disruption: DisruptionSchema.optional(),
    rollout: RolloutSchema.prefault({}),
    health: HealthSchema.prefault({}),
    template: TemplateSchema.optional(),
  })
  .describe("Desired state of a served model.");

/** Rules across spec's blocks (zod + the same CEL on spec). */
export const ModelDeploymentSpecSchema = cel(
  ModelDeploymentSpecObject.superRefine((spec, ctx) => {
    checkPodTemplate(spec, ctx);
    for (const [path, message] of streamSpecIssues(spec)) ctx.addIssue({ code: "custom", path, message });
    const agreement = spec.rollout.analysis.agreement;
    if (agreement !== undefined && agreement.request === undefined && spec.health.inference === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["rollout", "analysis", "agreement"],
        message: AGREEMENT_NEEDS_REQUEST,
      });
  }).describe(ModelDeploymentSpecObject.description ?? ""),
  [
    ...POD_TEMPLATE_RULES,
    ...STREAM_CEL_RULES,
    {
      rule: AGREEMENT_REQUEST_CEL,
      message: AGREEMENT_NEEDS_REQUEST,
      fieldPath: ".rollout.analysis.agreement",
    },
  ],
);

export type ModelDeploymentSpec = z.output<typeof ModelDeploymentSpecSchema>;
export type ModelDeploymentSpecInput = z.input<typeof ModelDeploymentSpecSchema>;
export type RuntimeSpec = ModelDeploymentSpec["runtime"];
export type RolloutSpec = ModelDeploymentSpec["rollout"];
export type RolloutStep = RolloutSpec["steps"][number];
export type AnalysisSpec = RolloutSpec["analysis"];
export type StepAnalysis = NonNullable<RolloutStep["analysis"]>;
export type HealthSpec = ModelDeploymentSpec["health"];
export type DisruptionSpec = NonNullable<ModelDeploymentSpec["disruption"]>;
export type AutoscalingSpec = NonNullable<ModelDeploymentSpec["autoscaling"]>;
export type TemplateSpec = NonNullable<ModelDeploymentSpec["template"]>;
export type ModelSpec = ModelDeploymentSpec["model"];
export type PodSecuritySpec = NonNullable<TemplateSpec["securityContext"]>;
export type GatewayApiTraffic = NonNullable<NonNullable<RolloutSpec["traffic"]>["gatewayAPI"]>;

/** Thresholds in force for a step: the step's overrides on top of spec.rollout.analysis. */
export function effectiveAnalysis(rollout: RolloutSpec, step?: RolloutStep): AnalysisSpec {
  const overrides = Object.fromEntries(
    Object.entries(step?.analysis ?? {}).filter(([, v]) => v !== undefined),
  );
  return { ...rollout.analysis, ...overrides };
}

/**
 * The total replica count the operator aims for. Without autoscaling: spec.replicas or 1.
 * With autoscaling: the HPA's last write to spec.replicas (1 before it acted), kept within
 * [minReplicas, maxReplicas].
 */
export function desiredTotalReplicas(spec: Pick<ModelDeploymentSpec, "replicas" | "autoscaling">): number {
  if (spec.autoscaling === undefined) return spec.replicas;
  const { minReplicas, maxReplicas } = spec.autoscaling;
  return Math.min(maxReplicas, Math.max(minReplicas, spec.replicas));
}
