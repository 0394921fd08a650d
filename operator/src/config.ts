// Operator configuration: flags override environment variables; both are validated with zod so a
// typo fails at start with the name of the setting, never later in a reconcile.
import { parseArgs } from "node:util";
import { z } from "zod";
import { DEFAULT_MODEL_DOWNLOADER_IMAGE } from "./render/model-artifacts.ts";

const csv = z
  .string()
  .transform((s) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string()));

export const ConfigSchema = z.object({
  kubeconfig: z.string().optional().describe("path to a kubeconfig; unset = in-cluster, then ~/.kube/config"),
  namespaces: csv.default([]).describe("namespaces to watch; empty = all"),
  logLevel: z.enum(["trace", "debug", "info", "warn", "error", "fatal"]).default("info"),
  metricsAddr: z.string().default("0.0.0.0:8080").describe("host:port for /healthz, /readyz and /metrics"),
  workers: z.coerce.number().int().min(1).max(64).default(4),
  qps: z.coerce.number().positive().default(20).describe("client-side API request rate"),
  burst: z.coerce.number().int().positive().default(30),
  resyncSeconds: z.coerce
    .number()
    .int()
    .min(0)
    .default(600)
    .describe("re-check every ModelDeployment this often (0 = never)"),
  leaderElect: z.stringbool().default(false),
  leaderElectionNamespace: z.string().default("default"),
  prober: z.stringbool().default(true).describe("probe model servers and gate rollouts on their verdicts"),
  probeAllowCidrs: csv
    .default(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"])
    .describe("pod IP ranges the prober may dial; nothing else is ever dialled"),
  probeConcurrency: z.coerce
    .number()
    .int()
    .min(1)
    .max(4096)
    .default(128)
    .describe("probe rounds in flight at once, shared equally among the ModelDeployments being probed"),
  modelDownloaderImage: z
    .string()
    .min(1)
    .max(1024)
    .default(DEFAULT_MODEL_DOWNLOADER_IMAGE)
    .describe(
      "image of the init container that downloads s3://, gs://, https:// and hf:// models into /mnt/models (args: <uri> <dest>); new revisions only, a running one keeps the image it was made with",
    ),
});
export type Config = z.infer<typeof ConfigSchema>;

const ENV: Record<keyof Config, string> = {
  kubeconfig: "KUBECONFIG",
  namespaces: "MODELSHIP_NAMESPACES",
  logLevel: "MODELSHIP_LOG_LEVEL",
  metricsAddr: "MODELSHIP_METRICS_ADDR",
  workers: "MODELSHIP_WORKERS",
  qps: "MODELSHIP_QPS",
  burst: "MODELSHIP_BURST",
  resyncSeconds: "MODELSHIP_RESYNC_SECONDS",
  leaderElect: "MODELSHIP_LEADER_ELECT",
  leaderElectionNamespace: "MODELSHIP_LEADER_ELECTION_NAMESPACE",
  prober: "MODELSHIP_PROBER",
  probeAllowCidrs: "MODELSHIP_PROBE_ALLOW_CIDRS",
  probeConcurrency: "MODELSHIP_PROBE_CONCURRENCY",
  modelDownloaderImage: "MODELSHIP_MODEL_DOWNLOADER_IMAGE",
};

const FLAG = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export class ConfigError extends Error {}

/** Reads flags (`--metrics-addr=...`) and env (`MODELSHIP_METRICS_ADDR`); flags win. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): Config {
  const options = Object.fromEntries(Object.keys(ENV).map((k) => [FLAG(k), { type: "string" as const }]));
  const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  const raw: Record<string, string> = {};
  for (const [key, envName] of Object.entries(ENV)) {
    const v = (values as Record<string, string | undefined>)[FLAG(key)] ?? env[envName];
    if (v !== undefined && v !== "") raw[key] = v;
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const key = String(i.path[0]);
      return `  --${FLAG(key)} / ${ENV[key as keyof Config]}: ${i.message}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  return parsed.data;
}

export const FLAGS_HELP = Object.keys(ENV)
  .map(
    (k) =>
      `  --${FLAG(k)} (env ${ENV[k as keyof Config]})  ${ConfigSchema.shape[k as keyof Config].description ?? ""}`,
  )
  .join("\n");
