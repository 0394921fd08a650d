import { describe, expect, it } from "vitest";
import { observeRevisions } from "./observe.ts";
import { ownedPods } from "./pod-ownership.ts";

const ref = (uid: string, controller = true) => ({ uid, controller });
const deployment = (uid: string, revision: string) => ({
  metadata: { name: `rec-${revision}`, uid, labels: { "modelship.dev/revision": revision } },
  status: { replicas: 1, readyReplicas: 1 },
});
const replicaSet = (uid: string, owner: string, controller = true) => ({
  metadata: { name: `rs-${uid}`, uid, ownerReferences: [ref(owner, controller)] },
});
const pod = (name: string, revision: string, owner?: string, extra: Record<string, unknown> = {}) => ({
  metadata: {
    name,
    labels: { "modelship.dev/deployment": "rec", "modelship.dev/revision": revision },
    ...(owner ? { ownerReferences: [ref(owner)] } : {}),
  },
  status: { podIP: `10.244.0.${name.length}`, conditions: [{ type: "Ready", status: "True" }] },
  ...extra,
});

describe("ownedPods", () => {
  const deployments = [deployment("d-a", "a"), deployment("d-b", "b")];
  const replicaSets = [
    replicaSet("rs-a", "d-a"),
    replicaSet("rs-b", "d-b"),
    replicaSet("rs-other", "d-of-another-md"),
    replicaSet("rs-adopted", "d-a", false),
  ];

  it.each([
    ["a pod of revision a's ReplicaSet", pod("p1", "a", "rs-a"), true],
    ["a pod of revision b's ReplicaSet", pod("p2", "b", "rs-b"), true],
    ["a pod with our labels and no owner", pod("p3", "a"), false],
    [
      "a pod with our labels owned by another ModelDeployment's ReplicaSet",
      pod("p4", "a", "rs-other"),
      false,
    ],
    ["a pod whose ReplicaSet is not controlled by our Deployment", pod("p5", "a", "rs-adopted"), false],
    ["a pod owned by an unknown ReplicaSet", pod("p6", "a", "rs-unknown"), false],
    ["a pod of revision a's ReplicaSet labelled as revision b", pod("p7", "b", "rs-a"), false],
    ["a pod owned directly by our Deployment (no ReplicaSet)", pod("p8", "a", "d-a"), false],
  ])("%s: %s", (_what, p, owned) => {
    expect(ownedPods(deployments, replicaSets, [p])).toEqual(owned ? [p] : []);
  });

  it("keeps none when no ReplicaSet is known yet (fail closed)", () => {
    expect(ownedPods(deployments, [], [pod("p1", "a", "rs-a")])).toEqual([]);
  });
});

describe("probe targets of a revision", () => {
  it("are its owned Ready pods, never a hostNetwork one and never a look-alike", () => {
    const deployments = [deployment("d-a", "a")];
    const replicaSets = [replicaSet("rs-a", "d-a")];
    const pods = [
      pod("good", "a", "rs-a"),
      pod("host-net", "a", "rs-a", { spec: { hostNetwork: true } }),
      pod("look-alike", "a"),
    ];
    const [rev] = observeRevisions(deployments, ownedPods(deployments, replicaSets, pods));
    expect(rev?.readyPods.map((p) => p.name)).toEqual(["good"]);
  });
});
