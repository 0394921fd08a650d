import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createMetrics } from "../metrics/registry.ts";
import { type HealthServer, leaderElectionReadiness, startHealthServer } from "./health-server.ts";

const log = pino({ level: "silent" });
let server: HealthServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

function url(path: string): string {
  if (!server) throw new Error("server not started");
  return `http://127.0.0.1:${server.port}${path}`;
}

/** The value of one series in Prometheus text format, whatever order its labels come in. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = [...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]).sort();
    if (JSON.stringify(got) === want) return Number(m[3]);
  }
  return undefined;
}

describe("health server", () => {
  it("reports liveness always and readiness per check, naming the failing one", async () => {
    let synced = false;
    let leader = { healthy: true };
    server = await startHealthServer({
      host: "127.0.0.1",
      port: 0,
      registry: createMetrics({ processMetrics: false }).registry,
      readiness: [{ name: "informers-synced", ready: () => synced }, leaderElectionReadiness(() => leader)],
      log,
    });

    expect((await fetch(url("/healthz"))).status).toBe(200);

    const notSynced = await fetch(url("/readyz"));
    expect(notSynced.status).toBe(503);
    expect(await notSynced.text()).toBe(
      "[-]informers-synced failed\n[+]leader-election ok\nreadyz check failed\n",
    );

    synced = true;
    const ready = await fetch(url("/readyz"));
    expect(ready.status).toBe(200);
    expect(await ready.text()).toContain("readyz check passed");

    leader = { healthy: false };
    expect((await fetch(url("/readyz"))).status).toBe(503);

    expect((await fetch(url("/nope"))).status).toBe(404);
    expect((await fetch(url("/healthz"), { method: "POST" })).status).toBe(405);
  });

  it("serves the process's own registry in Prometheus text format", async () => {
    const metrics = createMetrics({ defaultLabels: { pod: "modelship-0" } });
    metrics.setQueueDepthSource(() => 7);
    metrics.reconcileTotal.inc({ result: "success" });
    metrics.reconcileDuration.observe({ result: "success" }, 0.02);
    metrics.reconcileErrors.inc({ reason: "Conflict" });
    metrics.apiRequests.inc({ verb: "apply", resource: "deployments", code: "200" });
    metrics.leaderStatus.set(1);
    metrics.probes.inc({ namespace: "shop", name: "recommender", revision: "5d2a0b", result: "ok" });
    metrics.probeDuration.observe({ result: "ok" }, 0.061);
    metrics.verdicts.inc({ verdict: "healthy" });
    metrics.rolloutsStarted.inc();
    metrics.rolloutsPromoted.inc({ how: "automatic" });
    metrics.rolloutsAborted.inc({ reason: "ProbeErrorRate" });
    server = await startHealthServer({
      host: "127.0.0.1",
      port: 0,
      registry: metrics.registry,
      readiness: [],
      log,
    });

    const res = await fetch(url("/metrics"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    const pod = { pod: "modelship-0" };
    expect(sample(text, "modelship_reconcile_total", { result: "success", ...pod })).toBe(1);
    expect(
      sample(text, "modelship_reconcile_duration_seconds_bucket", { le: "0.025", result: "success", ...pod }),
    ).toBe(1);
    expect(sample(text, "modelship_reconcile_errors_total", { reason: "Conflict", ...pod })).toBe(1);
    expect(sample(text, "modelship_workqueue_depth", pod)).toBe(7);
    expect(
      sample(text, "modelship_kube_api_requests_total", {
        verb: "apply",
        resource: "deployments",
        code: "200",
        ...pod,
      }),
    ).toBe(1);
    expect(sample(text, "modelship_leader_status", pod)).toBe(1);
    expect(
      sample(text, "modelship_probes_total", {
        namespace: "shop",
        name: "recommender",
        revision: "5d2a0b",
        result: "ok",
        ...pod,
      }),
    ).toBe(1);
    expect(sample(text, "modelship_probe_duration_seconds_count", { result: "ok", ...pod })).toBe(1);
    expect(sample(text, "modelship_verdicts_total", { verdict: "healthy", ...pod })).toBe(1);
    expect(sample(text, "modelship_rollouts_started_total", pod)).toBe(1);
    expect(sample(text, "modelship_rollouts_promoted_total", { how: "automatic", ...pod })).toBe(1);
    expect(sample(text, "modelship_rollouts_aborted_total", { reason: "ProbeErrorRate", ...pod })).toBe(1);
    expect(text).toMatch(/^modelship_process_resident_memory_bytes\{pod="modelship-0"\} \d+/m);

    await metrics.forgetRevision("shop", "recommender", "5d2a0b");
    expect(await (await fetch(url("/metrics"))).text()).not.toContain('revision="5d2a0b"');
  });

  it("closes while a keep-alive client is still connected", async () => {
    server = await startHealthServer({
      host: "127.0.0.1",
      port: 0,
      registry: createMetrics({ processMetrics: false }).registry,
      readiness: [],
      log,
    });
    await (await fetch(url("/healthz"))).text(); // leaves an idle keep-alive socket
    const closing = server.close();
    server = undefined;
    await expect(closing).resolves.toBeUndefined();
  });
});
