// `status` and `status --watch`: read the object and its Deployments, render, and with --watch
// poll every second until Ctrl-C (or until the object is gone).

import type { Cluster } from "../kube/plugin-client.ts";
import { CliError } from "./errors.ts";
import type { Output } from "./output.ts";
import { renderStatus } from "./render-status.ts";
import type { Style } from "./style.ts";
import { toModelDeploymentView, toRevisionPods } from "./view.ts";

export const WATCH_INTERVAL_MS = 1000;

async function snapshot(name: string, cluster: Cluster, style: Style, now: () => number) {
  const md = toModelDeploymentView(await cluster.getModelDeployment(name), cluster.namespace);
  const deployments = toRevisionPods(await cluster.listRevisionDeployments(name), md.uid);
  const lines = renderStatus({ md, deployments, now: now(), style });
  // What changed in the cluster, as opposed to a clock tick (countdowns, ages).
  const version = [
    md.resourceVersion ?? "",
    ...deployments.map((d) => `${d.revision}:${d.ready}/${d.desired}`),
  ].join();
  return { lines, version };
}

export async function runStatus(
  name: string,
  cluster: Cluster,
  out: Output,
  style: Style,
  now: () => number,
) {
  const { lines } = await snapshot(name, cluster, style, now);
  for (const l of lines) out.line(l);
}

export interface WatchControl {
  /** Resolves when the watch should stop (Ctrl-C). */
  stopped: Promise<void>;
  sleep(ms: number): Promise<void>;
}

/**
 * On a terminal the screen is redrawn in place every second, so countdowns move. Into a pipe or
 * file a new frame is printed only when the cluster changed, so the output stays readable.
 * Errors while reading are shown and retried; only "not found" ends the watch (exit 1).
 */
export async function watchStatus(
  name: string,
  cluster: Cluster,
  out: Output,
  style: Style,
  now: () => number,
  control: WatchControl,
): Promise<void> {
  let stop = false;
  void control.stopped.then(() => {
    stop = true;
  });
  let lastVersion: string | undefined;
  let lastError: string | undefined;
  while (!stop) {
    try {
      const { lines, version } = await snapshot(name, cluster, style, now);
      lastError = undefined;
      if (out.isTTY) {
        out.write(`\x1b[H\x1b[2J${lines.join("\n")}\n\n${style.dim("watching, every 1s; Ctrl-C to stop")}\n`);
      } else if (version !== lastVersion) {
        if (lastVersion !== undefined) out.line(`--- ${new Date(now()).toISOString()}`);
        for (const l of lines) out.line(l);
      }
      lastVersion = version;
    } catch (err) {
      if (err instanceof CliError && err.notFound) throw err;
      const message = err instanceof Error ? err.message : String(err);
      if (message !== lastError) out.err(`error (retrying every second): ${message}`);
      lastError = message;
    }
    await Promise.race([control.sleep(WATCH_INTERVAL_MS), control.stopped]);
  }
}
