// client-node's informer stops silently on many errors; ours must see every change, also across
// an apiserver restart (a crash: SIGKILL, then the same flags again).
import { CoreV1Api, type KubernetesListObject, type V1ConfigMap } from "@kubernetes/client-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { restartApiserver } from "../hack/cluster/control-plane.ts";
import { listWatchFactory, SupervisedInformer } from "../operator/src/kube/informer.ts";
import { createSystemClock } from "../operator/src/lib/clock.ts";
import { eventually, kubeConfig, localCluster, uniqueNamespace } from "./support/cluster.ts";

const kc = kubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const ns = uniqueNamespace("inf");
const seen: string[] = [];
let informer: SupervisedInformer<V1ConfigMap>;

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: ns } } });
  informer = new SupervisedInformer<V1ConfigMap>({
    name: "configmaps",
    log: pino({ level: "warn" }),
    clock: createSystemClock(),
    // Short backoff so the test does not wait a minute after the restart.
    backoff: { baseMs: 200, capMs: 2000 },
    staleAfterMs: 60_000,
    informerFactory: listWatchFactory<V1ConfigMap>({
      kubeConfig: kc,
      path: `/api/v1/namespaces/${ns}/configmaps`,
      listFn: () =>
        core.listNamespacedConfigMap({ namespace: ns }) as Promise<KubernetesListObject<V1ConfigMap>>,
      labelSelector: "e2e=informer",
    }),
  });
  informer.onChange((obj, kind) => {
    seen.push(`${kind}:${obj.metadata?.name}:${obj.data?.v ?? ""}`);
  });
  await informer.start();
});

afterAll(async () => {
  await informer?.stop();
  await core.deleteNamespace({ name: ns }).catch(() => {});
});

const cm = (name: string, v: string) => ({ metadata: { name, labels: { e2e: "informer" } }, data: { v } });

describe("SupervisedInformer against a real apiserver", () => {
  it("sees create, update and delete", async () => {
    await core.createNamespacedConfigMap({ namespace: ns, body: cm("a", "1") });
    await eventually("add", async () => seen.includes("add:a:1"));
    await core.replaceNamespacedConfigMap({ namespace: ns, name: "a", body: cm("a", "2") });
    await eventually("update", async () => seen.includes("update:a:2"));
    await core.deleteNamespacedConfigMap({ namespace: ns, name: "a" });
    await eventually("delete", async () => seen.some((s) => s.startsWith("delete:a:")));
    expect(informer.get("a", ns)).toBeUndefined();
  });

  // Skipped off the local harness: only it can kill and restart its own apiserver.
  it.skipIf(!localCluster())("keeps watching after the apiserver is killed and restarted", async () => {
    const cluster = localCluster();
    if (!cluster) return; // skipIf above: only the local harness can restart its apiserver
    await restartApiserver(cluster, 1000);
    // A change made after the restart must arrive without anyone calling start() again.
    await eventually(
      "create after restart",
      async () => {
        await core.createNamespacedConfigMap({ namespace: ns, body: cm("b", "1") }).catch(() => {});
        return seen.includes("add:b:1");
      },
      90_000,
    );
    await core.replaceNamespacedConfigMap({ namespace: ns, name: "b", body: cm("b", "2") });
    await eventually("update after restart", async () => seen.includes("update:b:2"), 30_000);
    expect(informer.get("b", ns)?.data?.v).toBe("2");
  });
});
