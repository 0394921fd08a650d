// Fixtures for the CLI's unit tests: ModelDeployments as the API server returns them, built from
// a spec so revision hashes are the real ones (undo compares them).
import { type ModelDeploymentSpec, ModelDeploymentSpecSchema } from "../api/index.ts";
import { computeRevision } from "../render/revision.ts";

export const NOW = Date.parse("2026-11-02T10:00:00.000Z");
export const ago = (ms: number) => new Date(NOW - ms).toISOString();

export const SPEC_INPUT = {
  model: { name: "recommender", version: "2026-11-01" },
  runtime: { image: "registry.example/recsys-server:1.4.2" },
  replicas: 3,
  rollout: {
    steps: [{ setWeight: 10 }, { pause: { duration: "2m" } }, { setWeight: 50 }, { pause: {} }],
  },
};

export function specWith(version: string, image: string): ModelDeploymentSpec {
  return ModelDeploymentSpecSchema.parse({
    ...SPEC_INPUT,
    model: { ...SPEC_INPUT.model, version },
    runtime: { ...SPEC_INPUT.runtime, image },
  });
}

export const CANARY_REV = computeRevision(specWith("2026-11-01", "registry.example/recsys-server:1.4.2"));
export const STABLE_REV = computeRevision(specWith("2026-10-01", "registry.example/recsys-server:1.4.1"));
export const OLDER_REV = computeRevision(specWith("2026-09-01", "registry.example/recsys-server:1.4.0"));

export const HISTORY = [
  {
    revision: STABLE_REV,
    modelVersion: "2026-10-01",
    image: "registry.example/recsys-server:1.4.1",
    outcome: "Promoted",
    reason: "StepsCompleted",
    message: `${STABLE_REV.slice(0, 6)} promoted to stable (3/3 ready)`,
    time: "2026-10-01T09:00:00.000Z",
  },
  {
    revision: OLDER_REV,
    modelVersion: "2026-09-01",
    image: "registry.example/recsys-server:1.4.0",
    outcome: "Superseded",
    reason: "Promoted",
    message: `replaced by ${STABLE_REV.slice(0, 6)}`,
    time: "2026-10-01T09:00:00.000Z",
  },
  {
    revision: OLDER_REV,
    modelVersion: "2026-09-01",
    image: "registry.example/recsys-server:1.4.0",
    outcome: "Promoted",
    reason: "StepsCompleted",
    message: `${OLDER_REV.slice(0, 6)} promoted to stable (3/3 ready)`,
    time: "2026-09-01T09:00:00.000Z",
  },
];

/** A canary at step 2 of 4 (a 2m pause started 47 s ago), 10% of traffic. */
export function canaryMidStep(overrides: { annotations?: Record<string, string> } = {}) {
  return {
    apiVersion: "modelship.dev/v1alpha1",
    kind: "ModelDeployment",
    metadata: {
      name: "recommender",
      namespace: "shop",
      uid: "uid-1",
      generation: 4,
      resourceVersion: "812",
      annotations: overrides.annotations ?? {},
    },
    spec: SPEC_INPUT,
    status: {
      observedGeneration: 4,
      phase: "Progressing",
      message: `canary ${CANARY_REV.slice(0, 6)} at 10%: 412 probes, 99.8% ok, p99 61 ms`,
      stableRevision: STABLE_REV,
      canaryRevision: CANARY_REV,
      currentStepIndex: 1,
      canaryWeight: 10,
      replicas: 4,
      readyReplicas: 4,
      stepStartTime: ago(47_000),
      canaryStartTime: ago(300_000),
      health: {
        stable: {
          revision: STABLE_REV,
          successRate: 1,
          p50Ms: 12,
          p99Ms: 48,
          samples: 540,
          verdict: "Pass",
          lastProbeTime: ago(2_000),
        },
        canary: {
          revision: CANARY_REV,
          successRate: 0.998,
          p50Ms: 14,
          p99Ms: 61,
          samples: 412,
          verdict: "Pass",
          lastError: "pod recommender-x: HTTP 503",
          lastProbeTime: ago(2_000),
        },
      },
      history: HISTORY,
      bookkeeping: { handledRequests: { promote: "2026-11-01T08:00:00.000Z" } },
      revisionSpecs: {
        [STABLE_REV]: {
          model: { name: "recommender", version: "2026-10-01" },
          runtime: { image: "registry.example/recsys-server:1.4.1" },
        },
        [CANARY_REV]: {
          model: { name: "recommender", version: "2026-11-01" },
          runtime: { image: "registry.example/recsys-server:1.4.2" },
        },
      },
      conditions: [
        {
          type: "Progressing",
          status: "True",
          reason: "StepInProgress",
          message: "step 2/4: pause 2m",
          lastTransitionTime: ago(300_000),
          observedGeneration: 4,
        },
        {
          type: "Available",
          status: "True",
          reason: "StableReady",
          message: "3/3 ready",
          lastTransitionTime: ago(86_400_000),
          observedGeneration: 4,
        },
      ],
    },
  };
}

export function deployment(revision: string, desired: number, ready: number, ownerUid = "uid-1") {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: `recommender-${revision}`,
      namespace: "shop",
      labels: { "modelship.dev/deployment": "recommender", "modelship.dev/revision": revision },
      ownerReferences: [{ uid: ownerUid, kind: "ModelDeployment", name: "recommender", controller: true }],
    },
    spec: { replicas: desired },
    status: { replicas: desired, readyReplicas: ready, availableReplicas: ready, updatedReplicas: desired },
  };
}
