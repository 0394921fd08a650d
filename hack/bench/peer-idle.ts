// Idle cost, modelship beside Argo Rollouts on the peer run's cluster (issue #16): with every object
// of the apply → Available measure settled, both controllers are restarted at the same resync (10 s:
// modelship --resync-seconds, Argo Rollouts --rollout-resync) and left alone for two windows of two resyncs.
// Counted per controller, over the same window: API writes by its own identity in the apiserver's
// audit log (OPERATOR_USER, PEER_USER; nothing else writes as them), and CPU-ms per reconcile
// (process CPU from /proc ÷ its reconcile counter: modelship_reconcile_total, Argo Rollouts'
// rollout_reconcile histogram count).
import { setTimeout as sleep } from "node:timers/promises";
import { type ClusterState, OPERATOR_USER, PEER_USER } from "../cluster/control-plane.ts";
import {
  countByVerb,
  cpuWindow,
  log,
  type OperatorSettings,
  round,
  scrape,
  startOperator,
  writesBy,
} from "./common.ts";
import { startArgoRollouts } from "./peer.ts";

const RESYNC_S = 10;
const MODELSHIP_RECONCILES = "modelship_reconcile_total";
const ARGO_RECONCILES = "rollout_reconcile_count";

/** Waits (bounded) until a counter reaches `n`: the restart's own sweep of every object is over. */
async function sweepDone(url: string, metric: string, n: number, capMs: number): Promise<number> {
  const deadline = Date.now() + capMs;
  let seen = 0;
  while (Date.now() < deadline) {
    seen = (await scrape(url).catch(() => new Map<string, number>())).get(metric) ?? 0;
    if (seen >= n) break;
    await sleep(500);
  }
  return seen;
}

export async function measurePeerIdle(
  c: ClusterState,
  settings: OperatorSettings,
  objects: { modelship: number; argoRollouts: number },
): Promise<Record<string, unknown>> {
  const restartAt = Date.now();
  const op = await startOperator(c, {
    settings,
    args: ["--prober=false", `--resync-seconds=${RESYNC_S}`],
    name: "peer-idle",
  });
  const peer = await startArgoRollouts(c, { settings, name: "idle", args: [`--rollout-resync=${RESYNC_S}`] });
  try {
    const swept = {
      modelship: await sweepDone(op.metricsUrl, MODELSHIP_RECONCILES, objects.modelship, 120_000),
      argoRollouts: await sweepDone(peer.metricsUrl, ARGO_RECONCILES, objects.argoRollouts, 120_000),
    };
    await sleep(2000);
    // Two windows of two resyncs each, on both at once: the first right after the start (V8 is still
    // compiling and collecting what the start made; Go is not), the second a long-running
    // controller's steady state. Writes are counted over both.
    const windowMs = RESYNC_S * 2 * 1000 + 2000;
    const both = async () => {
      const m = await cpuWindow(op, MODELSHIP_RECONCILES, () =>
        cpuWindow(peer, ARGO_RECONCILES, () => sleep(windowMs)),
      );
      return { modelship: m.cpu, argoRollouts: m.result.cpu };
    };
    const windowStart = Date.now();
    const afterStart = await both();
    const steady = await both();
    const windowEnd = Date.now();
    // The audit log is written as requests complete: give the last ones a moment to land.
    await sleep(1000);
    const side = (user: string, which: "modelship" | "argoRollouts") => {
      const inWindow = writesBy(c, user, windowStart, windowEnd);
      const sinceRestart = writesBy(c, user, restartAt);
      return {
        writesInWindow: inWindow.length,
        writesByVerb: countByVerb(inWindow),
        // The restart's own sweep included (outside the window): what a controller writes on start.
        writesSinceRestart: sinceRestart.length,
        writesSinceRestartByVerb: countByVerb(sinceRestart),
        steady: steady[which],
        afterStart: afterStart[which],
      };
    };
    const modelship = side(OPERATOR_USER, "modelship");
    const argoRollouts = side(PEER_USER, "argoRollouts");
    log(
      `peer idle: writes ${modelship.writesInWindow} vs ${argoRollouts.writesInWindow}, CPU-ms/reconcile ${modelship.steady.cpuMsPerReconcile} vs ${argoRollouts.steady.cpuMsPerReconcile} (right after the start ${modelship.afterStart.cpuMsPerReconcile} vs ${argoRollouts.afterStart.cpuMsPerReconcile})`,
    );
    const ratio = (a: number | null, b: number | null) =>
      a !== null && b !== null && b > 0 ? round(a / b) : null;
    return {
      definition: `every object of apply → Available still present and settled; both controllers restarted at a ${RESYNC_S} s resync (modelship --resync-seconds, Argo Rollouts --rollout-resync, which resyncs all its informers), each waited for until its reconcile counter covers every object (the restart's own sweep), then two windows of two resyncs + 2 s each on both at once in which the bench writes nothing; writes: create/update/patch/delete by the controller's own identity in the apiserver's audit log within both windows (modelship-operator, argo-rollouts-peer); CPU-ms per reconcile: process user+system CPU over a window ÷ reconciles in it (modelship_reconcile_total; Argo Rollouts rollout_reconcile_count, its Rollout reconciles only, while its CPU also covers its Service and other controllers), "steady" the second window, "afterStart" the first`,
      settings: { resyncSeconds: RESYNC_S, prober: false },
      objects,
      sweptAtStart: swept,
      windowSeconds: round((windowEnd - windowStart) / 1000, 1),
      modelship,
      argoRollouts,
      ratio: {
        // 0 / 0 writes: equal, and said so rather than divided.
        writes:
          argoRollouts.writesInWindow > 0
            ? round(modelship.writesInWindow / argoRollouts.writesInWindow)
            : modelship.writesInWindow === 0
              ? "0 / 0"
              : null,
        cpuMsPerReconcile: ratio(modelship.steady.cpuMsPerReconcile, argoRollouts.steady.cpuMsPerReconcile),
        cpuMsPerReconcileAfterStart: ratio(
          modelship.afterStart.cpuMsPerReconcile,
          argoRollouts.afterStart.cpuMsPerReconcile,
        ),
      },
    };
  } finally {
    await peer.stop();
    await op.stop();
  }
}
