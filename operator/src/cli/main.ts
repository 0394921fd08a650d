// Entry point of `kubectl modelship`: parse the command line, connect, dispatch, and turn the
// outcome into an exit code (0 ok, 1 the cluster or object refused, 2 wrong command line).
import { readFileSync } from "node:fs";
import { API_VERSION } from "../api/index.ts";
import type { Cluster } from "../kube/plugin-client.ts";
import { type Action, runAction } from "./actions.ts";
import { type Invocation, parseInvocation } from "./args.ts";
import { connect } from "./cluster.ts";
import { CliError, EXIT, UsageError } from "./errors.ts";
import { helpFor } from "./help.ts";
import { renderHistory } from "./history.ts";
import { type Output, processOutput } from "./output.ts";
import { runStatus, type WatchControl, watchStatus } from "./status-command.ts";
import { chooseStyle } from "./style.ts";
import { runUndo } from "./undo.ts";
import { toModelDeploymentView } from "./view.ts";

export interface CliDeps {
  out: Output;
  env: Readonly<Record<string, string | undefined>>;
  connect: (inv: Invocation) => Cluster;
  now: () => number;
  /** For --watch: when to stop and how to wait. */
  watch: () => WatchControl;
}

export function pluginVersion(): string {
  const url = new URL("../../../package.json", import.meta.url);
  const pkg: unknown = JSON.parse(readFileSync(url, "utf8"));
  return typeof pkg === "object" && pkg !== null && "version" in pkg ? String(pkg.version) : "unknown";
}

/** Ctrl-C ends the watch cleanly (exit 0); a second Ctrl-C falls through to Node's default. */
function signalWatch(): WatchControl {
  const stopped = new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
  return {
    stopped,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()),
  };
}

export function processDeps(): CliDeps {
  return {
    out: processOutput(),
    env: process.env,
    connect: (inv) => connect(inv.connection),
    now: Date.now,
    watch: signalWatch,
  };
}

const ACTIONS: Partial<Record<Invocation["command"], Action>> = {
  abort: "abort",
  retry: "retry",
  pause: "pause",
  resume: "resume",
};

async function dispatch(inv: Invocation, deps: CliDeps): Promise<void> {
  const { out } = deps;
  const style = chooseStyle(out.isTTY, deps.env);
  if (inv.command === "help" || inv.help) {
    out.line(helpFor(inv.command === "help" ? inv.topic : inv.command));
    return;
  }
  if (inv.command === "version") {
    out.line(`kubectl-modelship ${pluginVersion()} (${API_VERSION}, node ${process.versions.node})`);
    return;
  }
  const cluster = deps.connect(inv);
  switch (inv.command) {
    case "status":
      if (inv.watch) await watchStatus(inv.name, cluster, out, style, deps.now, deps.watch());
      else await runStatus(inv.name, cluster, out, style, deps.now);
      return;
    case "promote":
      await runAction(inv.full ? "promoteFull" : "promote", inv.name, cluster, out, deps.now());
      return;
    case "history": {
      const md = toModelDeploymentView(await cluster.getModelDeployment(inv.name), cluster.namespace);
      for (const l of renderHistory(md, style)) out.line(l);
      return;
    }
    case "undo":
      await runUndo(
        inv.name,
        {
          ...(inv.toRevision !== undefined ? { toRevision: inv.toRevision } : {}),
          dryRun: inv.dryRun,
          force: inv.force,
        },
        cluster,
        out,
        style,
      );
      return;
    default: {
      const action = ACTIONS[inv.command];
      if (action === undefined) throw new UsageError(`unknown command "${inv.command}"`);
      await runAction(action, inv.name, cluster, out, deps.now());
    }
  }
}

export async function runCli(argv: readonly string[], deps: CliDeps = processDeps()): Promise<number> {
  let inv: Invocation;
  try {
    inv = parseInvocation(argv);
  } catch (err) {
    deps.out.err(`error: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.usage;
  }
  try {
    await dispatch(inv, deps);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof UsageError) {
      deps.out.err(`error: ${err.message}`);
      return EXIT.usage;
    }
    // Anything else is a bug or an unexpected failure: still one line, naming the command.
    const message = err instanceof CliError ? err.message : `${inv.command} ${inv.name}: ${String(err)}`;
    deps.out.err(`error: ${message}`);
    return EXIT.error;
  }
}
