import { describe, expect, it } from "vitest";
import { servedPod } from "../kube/testing.ts";
import { trimPod } from "../kube/trim.ts";
import { type ObservedPod, observeRevisions } from "./observe.ts";

const dep = (
  rev: string,
  ready: number,
  conditions: { type: string; status: string; reason?: string; message?: string }[] = [],
) => ({
  metadata: { name: `m-${rev}`, labels: { "modelship.dev/revision": rev }, generation: 2 },
  spec: { replicas: 3 },
  status: {
    observedGeneration: 2,
    replicas: 3,
    readyReplicas: ready,
    availableReplicas: ready,
    updatedReplicas: 3,
    conditions,
  },
});
const pod = (
  rev: string,
  name: string,
  opts: { ready?: boolean; waiting?: string; unschedulable?: boolean } = {},
) => ({
  metadata: { name, labels: { "modelship.dev/revision": rev } },
  status: {
    podIP: opts.ready ? `10.240.0.${name.length}` : undefined,
    conditions: [
      { type: "Ready", status: opts.ready ? "True" : "False" },
      ...(opts.unschedulable
        ? [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/3 nodes match" }]
        : []),
    ],
    containerStatuses: opts.waiting
      ? [{ name: "model-server", state: { waiting: { reason: opts.waiting } } }]
      : [],
  },
});

describe("observeRevisions", () => {
  it("counts replicas per revision and lists ready pods for the prober", () => {
    const [o] = observeRevisions(
      [dep("a1", 2)],
      [pod("a1", "p1", { ready: true }), pod("a1", "p22", { ready: true }), pod("a1", "p333")],
    );
    expect(o).toMatchObject({ revision: "a1", specReplicas: 3, readyReplicas: 2, settled: true });
    expect(o?.readyPods.map((p) => p.name)).toEqual(["p1", "p22"]);
    expect(o?.failure).toBeUndefined();
  });

  it("a Running, not-yet-Ready pod is loading since its server started; the first to start is the one reported", () => {
    const running = (name: string, startedAt: string | Date | undefined, ready = false): ObservedPod => ({
      metadata: { name, labels: { "modelship.dev/revision": "c" } },
      status: {
        phase: "Running",
        conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
        containerStatuses: [
          { name: "model-server", state: startedAt === undefined ? {} : { running: { startedAt } } },
        ],
      },
    });
    const [o] = observeRevisions(
      [dep("c", 1)],
      [
        running("late", "2026-12-02T10:05:00Z"),
        // A LIST hands over a Date, a watch a string: both count.
        running("early", new Date("2026-12-02T10:01:00Z")),
        running("up", "2026-12-02T09:00:00Z", true),
        running("not-started", undefined),
        { ...pod("c", "pending"), status: { phase: "Pending" } },
      ],
    );
    expect(o?.loading).toEqual({ pod: "early", since: "2026-12-02T10:01:00.000Z" });
    const [none] = observeRevisions([dep("c", 1)], [running("up", "2026-12-02T09:00:00Z", true)]);
    expect(none?.loading).toBeUndefined();
  });

  it("remembers when the most recent Ready pod became Ready (progress for the deadline)", () => {
    const readyAt = (name: string, at: string | Date, ready = true): ObservedPod => ({
      metadata: { name, labels: { "modelship.dev/revision": "d" } },
      status: { conditions: [{ type: "Ready", status: ready ? "True" : "False", lastTransitionTime: at }] },
    });
    const [o] = observeRevisions(
      [dep("d", 2)],
      [
        readyAt("a", "2026-12-02T10:00:00Z"),
        readyAt("b", new Date("2026-12-02T10:12:00Z")),
        readyAt("c", "2026-12-02T10:20:00Z", false),
      ],
    );
    expect(o?.lastReadyAt).toBe("2026-12-02T10:12:00.000Z");
  });

  it.each([
    ["CrashLoopBackOff", "CrashLoopBackOff"],
    ["ErrImagePull", "ImagePullBackOff"],
    ["ImagePullBackOff", "ImagePullBackOff"],
  ])("reports a pod waiting in %s as %s", (waiting, reason) => {
    const [o] = observeRevisions([dep("b", 0)], [pod("b", "p", { waiting })]);
    expect(o?.failure?.reason).toBe(reason);
  });

  it("reports an init container or sidecar that cannot start, naming it", () => {
    const p = pod("b", "p");
    const failing = {
      ...p,
      status: {
        ...p.status,
        phase: "Pending",
        initContainerStatuses: [
          {
            name: "proxy",
            state: { waiting: { reason: "ImagePullBackOff", message: 'Back-off pulling image "x"' } },
          },
        ],
      },
    };
    const [o] = observeRevisions([dep("b", 0)], [failing]);
    expect(o?.failure).toEqual({
      reason: "ImagePullBackOff",
      message: 'pod p: init container proxy: ImagePullBackOff: Back-off pulling image "x"',
    });
  });

  it.each([
    ["CrashLoopBackOff", "CrashLoopBackOff"],
    ["CreateContainerConfigError", "CreateContainerConfigError"],
    ["ImagePullBackOff", "ImagePullBackOff"],
  ])(
    "reports a model download container waiting in %s (a failed download, a missing Secret, its image), through the cache's trim",
    (waiting, reason) => {
      const p = {
        metadata: { name: "p", labels: { "modelship.dev/revision": "i" } },
        status: {
          phase: "Pending",
          conditions: [{ type: "Ready", status: "False" }],
          initContainerStatuses: [
            {
              name: "model-downloader",
              image: "x",
              ready: false,
              state: { waiting: { reason: waiting, message: "m" } },
            },
          ],
          containerStatuses: [{ name: "model-server", state: { waiting: { reason: "PodInitializing" } } }],
        },
      };
      trimPod(p);
      const [o] = observeRevisions([dep("i", 0)], [p as ObservedPod]);
      expect(o?.failure).toEqual({
        reason,
        message: `pod p: init container model-downloader: ${waiting}: m`,
      });
    },
  );

  it("a pod downloading its model is loading since the download started; then since its server started", () => {
    const downloading = (phase: string, server?: string): ObservedPod => ({
      metadata: { name: "p", labels: { "modelship.dev/revision": "d" } },
      status: {
        phase,
        conditions: [{ type: "Ready", status: "False" }],
        initContainerStatuses: [
          {
            name: "model-downloader",
            state: phase === "Pending" ? { running: { startedAt: "2026-12-02T10:00:00Z" } } : {},
          },
        ],
        containerStatuses: [
          {
            name: "model-server",
            state: server ? { running: { startedAt: server } } : { waiting: { reason: "PodInitializing" } },
          },
        ],
      },
    });
    expect(observeRevisions([dep("d", 0)], [downloading("Pending")])[0]?.loading).toEqual({
      pod: "p",
      since: "2026-12-02T10:00:00.000Z",
    });
    expect(
      observeRevisions([dep("d", 0)], [downloading("Running", "2026-12-02T10:20:00Z")])[0]?.loading,
    ).toEqual({
      pod: "p",
      since: "2026-12-02T10:20:00.000Z",
    });
  });

  it("reports unschedulable pods, quota and progress deadline", () => {
    expect(
      observeRevisions([dep("c", 0)], [pod("c", "p", { unschedulable: true })])[0]?.failure?.reason,
    ).toBe("Unschedulable");
    const quota = dep("d", 0, [
      {
        type: "ReplicaFailure",
        status: "True",
        reason: "FailedCreate",
        message: 'pods "x" is forbidden: exceeded quota: q',
      },
    ]);
    expect(observeRevisions([quota], [])[0]?.failure?.reason).toBe("QuotaExceeded");
    const late = dep("e", 0, [
      { type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded", message: "too slow" },
    ]);
    expect(observeRevisions([late], [])[0]?.failure).toEqual({
      reason: "ProgressDeadlineExceeded",
      message: "too slow",
    });
  });

  it("does not count pods of another revision", () => {
    const [o] = observeRevisions([dep("f", 0)], [pod("g", "p", { waiting: "CrashLoopBackOff" })]);
    expect(o?.failure).toBeUndefined();
  });
});

describe("observeRevisions of a trimmed pod", () => {
  it("observes a pod the informer cache trimmed (kube/trim.ts) exactly as the full pod", () => {
    const full = servedPod();
    const trimmed = servedPod();
    trimPod(trimmed);
    const deployment = {
      metadata: { name: "shop-abc", labels: { "modelship.dev/revision": "abc" } },
      spec: { replicas: 1 },
      status: { replicas: 1, readyReplicas: 0, updatedReplicas: 1, availableReplicas: 0 },
    };
    expect(observeRevisions([deployment], [trimmed as ObservedPod])).toEqual(
      observeRevisions([deployment], [full as ObservedPod]),
    );
  });
});
