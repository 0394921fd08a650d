// Composition root: configuration, logger, kube client; everything else is built from here.
import { readFileSync } from "node:fs";
import { pino } from "pino";
import { ConfigError, FLAGS_HELP, loadConfig } from "./config.ts";
import { loadKubeConfig, serverVersion } from "./kube/client.ts";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

async function main(argv: string[]): Promise<number> {
  if (argv.includes("--version")) {
    process.stdout.write(`modelship ${pkg.version}\n`);
    return 0;
  }
  if (argv.includes("--help")) {
    process.stdout.write(`modelship operator ${pkg.version}\n\nflags:\n${FLAGS_HELP}\n`);
    return 0;
  }
  const config = loadConfig(argv, process.env);
  const log = pino({ level: config.logLevel, base: { component: "modelship" } });
  const kc = loadKubeConfig(config.kubeconfig);
  const version = await serverVersion(kc);
  log.info({ server: kc.getCurrentCluster()?.server, version }, "connected to the Kubernetes API");

  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  log.info({ namespaces: config.namespaces.length ? config.namespaces : "all" }, "operator running");
  const signal = await stopped;
  log.info({ signal }, "shutting down");
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const msg =
      err instanceof ConfigError
        ? err.message
        : err instanceof Error
          ? (err.stack ?? err.message)
          : String(err);
    process.stderr.write(`modelship: ${msg}\n`);
    process.exit(1);
  },
);
