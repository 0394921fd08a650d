// spec.runtime.probes and spec.runtime.lifecycle: tuning of the model server's kubelet probes and
// its preStop hook. The startup probe has no failureThreshold or initialDelaySeconds: its budget is
// runtime.startupTimeoutSeconds, the same budget the rollout waits for (rollout/canary-checks.ts).
import { z } from "zod";
import { RUNTIME_PORT_NAME } from "./container.ts";
import { cel, httpPath, INT_OR_STRING } from "./schema-helpers.ts";

const periodSeconds = (max: number) => z.int().min(1).max(max).optional().describe("Seconds between probes.");
const timeoutSeconds = z
  .int()
  .min(1)
  .max(600)
  .optional()
  .describe("Seconds before a probe counts as failed.");
const failureThreshold = z
  .int()
  .min(1)
  .max(1000)
  .optional()
  .describe("Consecutive failures before the kubelet acts (not Ready; restart for liveness).");
const initialDelaySeconds = z
  .int()
  .min(0)
  .max(3600)
  .optional()
  .describe("Seconds after the container starts before the first probe (the startup probe gates it anyway).");

/** The kubelet's defaults for the model server's probes (what render/deployment.ts used before overrides). */
export const PROBE_DEFAULTS = {
  startup: { periodSeconds: 10, timeoutSeconds: 5 },
  readiness: { periodSeconds: 5, failureThreshold: 3, timeoutSeconds: 5 },
  liveness: { periodSeconds: 10, failureThreshold: 6, timeoutSeconds: 5 },
} as const;

export const ProbesSchema = z
  .object({
    startup: z
      .object({
        path: httpPath("Path of the startup probe. Default: the readiness path.").optional(),
        periodSeconds: periodSeconds(600).describe(
          `Seconds between startup probes. Default: ${PROBE_DEFAULTS.startup.periodSeconds}. The failure threshold is derived: ceil(runtime.startupTimeoutSeconds / periodSeconds), so the budget stays runtime.startupTimeoutSeconds.`,
        ),
        timeoutSeconds: timeoutSeconds.describe(
          `Seconds per probe. Default: ${PROBE_DEFAULTS.startup.timeoutSeconds}.`,
        ),
      })
      .optional()
      .describe(
        "Startup probe tuning. Its budget is runtime.startupTimeoutSeconds (no failureThreshold or initialDelaySeconds here): the kubelet restarts a server that is not Ready within ceil(startupTimeoutSeconds / periodSeconds) × periodSeconds, and the rollout treats a pod as loading for startupTimeoutSeconds.",
      ),
    readiness: z
      .object({
        path: httpPath(
          "Path of the readiness probe. Default: the preset's (or runtime.healthPath).",
        ).optional(),
        periodSeconds: periodSeconds(3600).describe(`Default: ${PROBE_DEFAULTS.readiness.periodSeconds}.`),
        timeoutSeconds: timeoutSeconds.describe(`Default: ${PROBE_DEFAULTS.readiness.timeoutSeconds}.`),
        failureThreshold: failureThreshold.describe(`Default: ${PROBE_DEFAULTS.readiness.failureThreshold}.`),
        initialDelaySeconds,
      })
      .optional()
      .describe("Readiness probe tuning (the kubelet's; the prober's checks are spec.health)."),
    liveness: z
      .object({
        path: httpPath(
          "Path of the liveness probe. Default: the preset's (or runtime.healthPath). Never an inference call: a busy model is not dead.",
        ).optional(),
        periodSeconds: periodSeconds(3600).describe(`Default: ${PROBE_DEFAULTS.liveness.periodSeconds}.`),
        timeoutSeconds: timeoutSeconds.describe(`Default: ${PROBE_DEFAULTS.liveness.timeoutSeconds}.`),
        failureThreshold: failureThreshold.describe(`Default: ${PROBE_DEFAULTS.liveness.failureThreshold}.`),
        initialDelaySeconds,
      })
      .optional()
      .describe("Liveness probe tuning."),
  })
  .describe(
    "Overrides of the kubelet probes of the model server (HTTP GET on its port). Absent fields keep the defaults.",
  );

const ONE_PRESTOP_ACTION = "preStop needs exactly one of exec, sleep, httpGet";

export const LifecycleSchema = z
  .object({
    preStop: cel(
      z
        .object({
          exec: z
            .object({
              command: z
                .array(z.string().max(4096))
                .min(1)
                .max(64)
                .describe("Command run in the container (no shell unless you call one)."),
            })
            .optional()
            .describe("Run a command in the model server container."),
          sleep: z
            .object({
              seconds: z
                .int()
                .min(1)
                .max(3600)
                .describe(
                  "Seconds to wait (at most spec.template.terminationGracePeriodSeconds, default 30).",
                ),
            })
            .optional()
            .describe("Wait before SIGTERM, e.g. while load balancers stop sending new requests."),
          httpGet: z
            .object({
              path: httpPath("Path requested on the pod itself."),
              port: z
                .union([z.int().min(1).max(65535), z.string().min(1).max(15)])
                .meta({ [INT_OR_STRING]: true })
                .optional()
                .describe(
                  `Port number, or the name of the model server's port ('${RUNTIME_PORT_NAME}') or of runtime.ports. Default: '${RUNTIME_PORT_NAME}'.`,
                ),
            })
            .optional()
            .describe("Send an HTTP GET to the pod itself (no other host), e.g. a drain endpoint."),
        })
        .superRefine((p, ctx) => {
          if ([p.exec, p.sleep, p.httpGet].filter((a) => a !== undefined).length !== 1)
            ctx.addIssue({ code: "custom", message: ONE_PRESTOP_ACTION });
        })
        .describe("Runs before the model server gets SIGTERM; within terminationGracePeriodSeconds."),
      [
        {
          rule: "(has(self.exec) ? 1 : 0) + (has(self.sleep) ? 1 : 0) + (has(self.httpGet) ? 1 : 0) == 1",
          message: ONE_PRESTOP_ACTION,
        },
      ],
    ).optional(),
  })
  .describe("Lifecycle hooks of the model server container.");

export type ProbesSpec = z.output<typeof ProbesSchema>;
export type LifecycleSpec = z.output<typeof LifecycleSchema>;
