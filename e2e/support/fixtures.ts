// Fault injection on the fixture model servers that answer for the fake pods (local harness only).
import { inject } from "vitest";
import { core } from "./mdep.ts";

export function fixtureControl(port = 8080): string | undefined {
  return inject("fixtures")[String(port)];
}

// The fixture servers outlive a test file and tell pods apart by IP, and kwok reuses the IPs of deleted
// pods: a fault left behind would hit an unrelated pod of a later test. So every fault set here is
// remembered, and resetPodBehaviours() (afterEach in files that inject faults) takes them back.
const faulted = new Set<string>();

export async function setPodBehaviour(
  ip: string,
  patch: Record<string, unknown>,
  port = 8080,
): Promise<void> {
  const url = fixtureControl(port);
  if (!url) throw new Error("no fixture model server (needs the local harness)");
  faulted.add(`${port} ${ip}`);
  const res = await fetch(`${url}/pods/${ip}`, {
    method: "PUT",
    body: JSON.stringify(patch),
    headers: { "content-type": "application/json" },
  });
  if (!res.ok) throw new Error(`fixture PUT /pods/${ip}: ${res.status} ${await res.text()}`);
}

/** Takes back every fault set through setPodBehaviour. */
export async function resetPodBehaviours(): Promise<void> {
  for (const key of [...faulted]) {
    const [port, ip] = key.split(" ");
    const url = fixtureControl(Number(port));
    const res = await fetch(`${url}/pods/${ip}`, { method: "DELETE" });
    if (!res.ok) throw new Error(`fixture DELETE /pods/${ip}: ${res.status} ${await res.text()}`);
    faulted.delete(key);
  }
}

export async function podStats(ip: string, port = 8080): Promise<{ requests: number; errors: number }> {
  const url = fixtureControl(port);
  const res = await fetch(`${url}/pods/${ip}/stats`);
  return (await res.json()) as { requests: number; errors: number };
}

/** Ready pods of one revision of a ModelDeployment, with their IPs. */
export async function revisionPods(namespace: string, name: string, revision: string) {
  const list = await core.listNamespacedPod({
    namespace,
    labelSelector: `modelship.dev/deployment=${name},modelship.dev/revision=${revision}`,
  });
  return list.items
    .filter((p) => !p.metadata?.deletionTimestamp && p.status?.podIP)
    .map((p) => ({ name: p.metadata?.name ?? "", uid: p.metadata?.uid ?? "", ip: p.status?.podIP ?? "" }));
}
