// Bad input: what the schema and CEL rules can reject, the API server rejects with a message that
// names the field; what only the operator can see becomes InvalidSpec without touching what runs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, kubectl, uniqueNamespace } from "./support/cluster.ts";
import {
  applyMd,
  condition,
  core,
  createNamespace,
  deploymentsOf,
  getMd,
  installCrd,
  mdSpec,
  patchMdSpec,
  readyPodsOf,
  waitForPhase,
} from "./support/mdep.ts";
import { type RunningOperator, startOperator } from "./support/operator.ts";

const ns = uniqueNamespace("adm");
let operator: RunningOperator;

beforeAll(async () => {
  await installCrd();
  await createNamespace(ns);
  operator = await startOperator({ name: "admission" });
});
afterAll(async () => {
  await operator?.stop();
  await core.deleteNamespace({ name: ns }).catch(() => {});
});

async function rejected(spec: Record<string, unknown>): Promise<string> {
  const body = JSON.stringify({
    apiVersion: "modelship.dev/v1alpha1",
    kind: "ModelDeployment",
    metadata: { name: "bad", namespace: ns },
    spec,
  });
  try {
    await kubectl(["apply", "--server-side", "-f", "-"], body);
  } catch (err) {
    return String((err as { stderr?: string }).stderr ?? err);
  }
  throw new Error(`accepted: ${body}`);
}

describe("rejected at admission, with the field named", () => {
  it.each([
    [
      "a weight above 100",
      { rollout: { steps: [{ setWeight: 150 }] } },
      /spec\.rollout\.steps\[0\]\.setWeight/,
    ],
    [
      "a step with two actions",
      { rollout: { steps: [{ setWeight: 10, pause: {} }] } },
      /exactly one of setWeight, pause, analysis, headerRoute/,
    ],
    [
      "a header route without Gateway API (one Service cannot route by header)",
      {
        rollout: {
          steps: [{ headerRoute: { matches: [{ headers: [{ name: "x-canary", value: "yes" }] }] } }],
        },
      },
      /headerRoute steps need spec\.rollout\.traffic\.gatewayAPI/,
    ],
    [
      "a shadow step without Gateway API or Traefik (one Service cannot mirror)",
      { rollout: { steps: [{ shadow: { percent: 10 } }] } },
      /shadow steps need spec\.rollout\.traffic\.gatewayAPI or spec\.rollout\.traffic\.traefik/,
    ],
    [
      "a shadow of 0%",
      { rollout: { steps: [{ shadow: { percent: 0 } }], traffic: { traefik: {} } } },
      /spec\.rollout\.steps\[0\]\.shadow\.percent/,
    ],
    [
      "two traffic providers at once",
      { rollout: { traffic: { traefik: {}, gatewayAPI: { parentRefs: [{ name: "gw" }] } } } },
      /set at most one of gatewayAPI and traefik/,
    ],
    [
      "a header name with a space",
      {
        rollout: {
          steps: [{ headerRoute: { matches: [{ headers: [{ name: "x canary", value: "yes" }] }] } }],
          traffic: { gatewayAPI: { parentRefs: [{ name: "gw" }] } },
        },
      },
      /spec\.rollout\.steps\[0\]\.headerRoute\.matches\[0\]\.headers\[0\]\.name/,
    ],
    [
      "minReplicas above maxReplicas",
      { autoscaling: { minReplicas: 5, maxReplicas: 2 } },
      /minReplicas must not exceed maxReplicas/,
    ],
    [
      "a model name that is not a DNS label",
      { model: { name: "Recommender_V2", version: "1" } },
      /spec\.model\.name/,
    ],
    [
      "a probe timeout longer than its interval",
      { health: { intervalSeconds: 2, timeoutSeconds: 5 } },
      /timeoutSeconds must not exceed intervalSeconds/,
    ],
    [
      "a probe path a request line cannot carry",
      { health: { checks: [{ path: "/ready HTTP/1.1\r\nHost: x" }] } },
      /spec\.health\.checks\[0\]\.path.*must be an absolute path with an optional \?query/,
    ],
    [
      "a probe path naming another host",
      { health: { path: "//169.254.169.254/latest/meta-data" } },
      /spec\.health\.path.*not starting with '\/\/'/,
    ],
    [
      "a probe timeout above 60 s",
      { health: { intervalSeconds: 300, timeoutSeconds: 120 } },
      /spec\.health\.timeoutSeconds/,
    ],
    [
      "health.path beside health.checks",
      { health: { path: "/ready", checks: [{ path: "/ready" }] } },
      /path and checks are mutually exclusive/,
    ],
    ["no image", { runtime: { preset: "openInference" } }, /spec\.runtime\.image/],
    [
      "a malformed pause duration",
      { rollout: { steps: [{ pause: { duration: "5 minutes" } }] } },
      /spec\.rollout\.steps\[0\]\.pause\.duration/,
    ],
    [
      "root under the Restricted pod security profile",
      { template: { securityContext: { runAsUser: 0 } } },
      /spec\.template\.securityContext\.runAsUser.*set profile: None to run as root/,
    ],
    [
      "a timed pause above 168h",
      { rollout: { steps: [{ pause: { duration: "720h" } }] } },
      /must be at most 168h/,
    ],
    [
      "a TTFT gate without the stream that measures it (at a step)",
      { rollout: { steps: [{ analysis: { maxTTFTp99Ms: 500 } }] } },
      /need spec\.health\.stream \(the streaming check that measures them\)/,
    ],
    [
      "a stream for a preset that does not speak OpenAI's streaming chat API",
      { health: { intervalSeconds: 1, timeoutSeconds: 1, stream: {} } },
      /health\.stream needs runtime\.preset openai, vllm, tgi, nim/,
    ],
  ])("%s", async (_what, override, message) => {
    const out = await rejected(mdSpec(override));
    expect(out).toMatch(message);
  });
});

describe("caught by the operator: InvalidSpec, nothing running disturbed", () => {
  it("refuses a ServiceAccount that does not exist, and one not labelled for model runtimes", async () => {
    await applyMd(ns, "guarded", mdSpec());
    const ok = await waitForPhase(ns, "guarded", "Healthy");
    const [dep] = await deploymentsOf(ns, "guarded");

    await patchMdSpec(ns, "guarded", { template: { serviceAccountName: "missing" } });
    const missing = await eventually("InvalidSpec for a missing SA", async () => {
      const md = await getMd(ns, "guarded");
      const c = condition(md, "InvalidSpec");
      return md.status?.observedGeneration === md.metadata.generation && c?.status === "True"
        ? md
        : undefined;
    });
    expect(condition(missing, "InvalidSpec")?.message).toMatch(
      /spec\.template\.serviceAccountName: ServiceAccount missing does not exist/,
    );

    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: "powerful" } } });
    await patchMdSpec(ns, "guarded", { template: { serviceAccountName: "powerful" } });
    const unlabelled = await eventually("InvalidSpec for an unlabelled SA", async () => {
      const md = await getMd(ns, "guarded");
      const c = condition(md, "InvalidSpec");
      return md.status?.observedGeneration === md.metadata.generation &&
        c?.reason === "ServiceAccountNotAllowed" &&
        /not labelled/.test(c.message)
        ? md
        : undefined;
    });
    expect(unlabelled.status?.phase).toBe("Degraded");
    // The running revision was not touched.
    const [still] = await deploymentsOf(ns, "guarded");
    expect(still?.metadata?.name).toBe(dep?.metadata?.name);
    expect(still?.metadata?.generation).toBe(dep?.metadata?.generation);
    expect(await readyPodsOf(ns, "guarded")).toBe(2);
    expect(unlabelled.status?.stableRevision).toBe(ok.status?.stableRevision);

    // A namespace admin labels the account: the rollout goes ahead.
    await kubectl(["label", "serviceaccount", "powerful", "-n", ns, "modelship.dev/model-runtime=true"]);
    const fixed = await eventually(
      "rolled to the new revision",
      async () => {
        const md = await getMd(ns, "guarded");
        return md.status?.phase === "Healthy" && md.status.stableRevision !== ok.status?.stableRevision
          ? md
          : undefined;
      },
      90_000,
    );
    expect(condition(fixed, "InvalidSpec")?.status).toBe("False");
    const [newDep] = await deploymentsOf(ns, "guarded");
    expect(newDep?.spec?.template.spec?.serviceAccountName).toBe("powerful");
  });
});
