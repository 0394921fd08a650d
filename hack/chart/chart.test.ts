// The Helm chart, through the real helm binary: lint, render in both RBAC modes, and check what
// matters for a cluster admin: restricted Pod Security, least-privilege RBAC, schema validation.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_MODEL_DOWNLOADER_IMAGE } from "../../operator/src/render/model-artifacts.ts";
import { CHART, findHelm, run } from "./tools.ts";

const helm = findHelm();
const KUBE_VERSION = "1.36.0"; // helm template without a cluster: pin the capabilities

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: unknown;
}
interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

function template(args: string[]): { objs: Obj[]; stdout: string } {
  const r = run(helm.path as string, [
    "template",
    "ms",
    CHART,
    "--namespace",
    "modelship-system",
    "--kube-version",
    KUBE_VERSION,
    ...args,
  ]);
  if (r.status !== 0) throw new Error(`helm template ${args.join(" ")} failed:\n${r.stderr}`);
  const objs = yaml.loadAll(r.stdout).filter((o): o is Obj => o !== null && typeof o === "object");
  return { objs, stdout: r.stdout };
}

function templateError(args: string[]): string {
  const r = run(helm.path as string, ["template", "ms", CHART, "--kube-version", KUBE_VERSION, ...args]);
  expect(r.status, `helm template ${args.join(" ")} should fail`).not.toBe(0);
  return r.stderr;
}

const one = (objs: Obj[], kind: string, name?: string): Obj => {
  const found = objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  expect(found, `${kind} ${name ?? ""}`).toHaveLength(1);
  return found[0] as Obj;
};

// What the operator uses (operator/src/kube, controller/reconciler.ts), and nothing more.
const ALLOWED: Record<string, string[]> = {
  "modelship.dev/modeldeployments": ["get", "list", "watch"],
  "modelship.dev/modeldeployments/status": ["get", "patch", "update"],
  // blockOwnerDeletion on children, under OwnerReferencesPermissionEnforcement.
  "modelship.dev/modeldeployments/finalizers": ["update"],
  "apps/deployments": ["get", "list", "watch", "create", "patch", "update", "delete"],
  "/services": ["get", "list", "watch", "create", "patch", "update", "delete"],
  "autoscaling/horizontalpodautoscalers": ["get", "list", "watch", "create", "patch", "update", "delete"],
  "policy/poddisruptionbudgets": ["get", "list", "watch", "create", "patch", "update", "delete"],
  "gateway.networking.k8s.io/httproutes": ["get", "list", "watch", "create", "patch", "update", "delete"],
  "traefik.io/traefikservices": ["get", "list", "watch", "create", "patch", "update", "delete"],
  "apps/replicasets": ["get", "list", "watch"],
  "/pods": ["get", "list", "watch"],
  "/serviceaccounts": ["get"],
  "events.k8s.io/events": ["create", "patch"],
  "coordination.k8s.io/leases": ["get", "create", "update"],
};

function rulesOf(objs: Obj[]): { owner: Obj; rule: Rule }[] {
  return objs
    .filter((o) => o.kind === "Role" || o.kind === "ClusterRole")
    .flatMap((owner) => ((owner.rules as Rule[] | undefined) ?? []).map((rule) => ({ owner, rule })));
}

function checkLeastPrivilege(objs: Obj[]): void {
  const rules = rulesOf(objs);
  expect(rules.length).toBeGreaterThan(0);
  for (const { owner, rule } of rules) {
    const where = `${owner.kind} ${owner.metadata.namespace ?? ""}/${owner.metadata.name}`;
    const text = JSON.stringify(rule).toLowerCase();
    expect(text, `${where} mentions secrets`).not.toContain("secret");
    expect(text, `${where} has a wildcard`).not.toContain("*");
    expect(rule.nonResourceURLs, where).toBeUndefined();
    for (const g of rule.apiGroups ?? []) {
      for (const r of rule.resources ?? []) {
        const allowed = ALLOWED[`${g}/${r}`];
        expect(allowed, `${where}: ${g}/${r} is not something the operator uses`).toBeDefined();
        for (const v of rule.verbs) expect(allowed, `${where}: ${v} on ${g}/${r}`).toContain(v);
        if (r === "leases") {
          expect(owner.kind, "leases only through a Role").toBe("Role");
          expect(owner.metadata.namespace, "leases only in the release namespace").toBe("modelship-system");
        }
      }
    }
  }
}

function operatorDeployment(objs: Obj[]) {
  const d = one(objs, "Deployment") as Obj & {
    spec: {
      replicas: number;
      template: {
        spec: {
          serviceAccountName: string;
          securityContext: Record<string, unknown>;
          containers: {
            args: string[];
            env: { name: string; value?: string; valueFrom?: unknown }[];
            securityContext: Record<string, unknown>;
            livenessProbe: { httpGet: { path: string; port: string | number } };
            readinessProbe: { httpGet: { path: string; port: string | number } };
            ports: { name: string; containerPort: number }[];
            resources: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
          }[];
        };
      };
    };
  };
  const c = d.spec.template.spec.containers[0];
  if (!c) throw new Error("no container");
  return { d, pod: d.spec.template.spec, c };
}

// Skipped without helm (the title says why): the chart is rendered by the real helm binary from the
// control-plane build cache.
describe.skipIf(!helm.path)(`Helm chart (${helm.path ?? helm.reason})`, () => {
  it("passes helm lint (strict) in both RBAC modes", () => {
    for (const extra of [[], ["--set", "rbac.scope=namespaced", "--set", "watchNamespaces={a,b}"]]) {
      const r = run(helm.path as string, [
        "lint",
        "--strict",
        CHART,
        "--kube-version",
        KUBE_VERSION,
        ...extra,
      ]);
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    }
  });

  describe("cluster scope (default)", () => {
    let objs: Obj[];
    beforeAll(() => {
      objs = template([]).objs;
    });

    it("runs the operator under the restricted Pod Security Standard", () => {
      const { d, pod, c } = operatorDeployment(objs);
      expect(d.spec.replicas).toBe(2);
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 65532,
        seccompProfile: { type: "RuntimeDefault" },
      });
      expect(c.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 65532,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
      });
      expect(c.securityContext.privileged).not.toBe(true);
      expect(c.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "metrics" });
      expect(c.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "metrics" });
      expect(c.ports).toContainEqual(expect.objectContaining({ name: "metrics", containerPort: 8080 }));
      expect(c.resources.requests).toBeDefined();
      expect(c.resources.limits).toBeDefined();
    });

    it("turns leader election on, in the release namespace, with the pod's name", () => {
      const { c, pod } = operatorDeployment(objs);
      const env = Object.fromEntries(c.env.map((e) => [e.name, e]));
      expect(env.MODELSHIP_LEADER_ELECT?.value).toBe("true");
      expect(env.MODELSHIP_LEADER_ELECTION_NAMESPACE?.value).toBe("modelship-system");
      expect(env.POD_NAME?.valueFrom).toEqual({ fieldRef: { fieldPath: "metadata.name" } });
      expect(c.args.some((a) => a.startsWith("--namespaces"))).toBe(false);
      const sa = one(objs, "ServiceAccount");
      expect(pod.serviceAccountName).toBe(sa.metadata.name);
    });

    it("passes the model downloader image, by default the operator's own default", () => {
      const { c } = operatorDeployment(objs);
      expect(c.args).toContain(`--model-downloader-image=${DEFAULT_MODEL_DOWNLOADER_IMAGE}`);
      const mirrored = operatorDeployment(
        template(["--set", "operator.modelDownloaderImage=mirror.example/si@sha256:" + "a".repeat(64)]).objs,
      );
      expect(mirrored.c.args).toContain(
        `--model-downloader-image=mirror.example/si@sha256:${"a".repeat(64)}`,
      );
    });

    it("grants least privilege through one ClusterRole, and leases through a Role", () => {
      checkLeastPrivilege(objs);
      const cr = one(objs, "ClusterRole");
      const crb = one(objs, "ClusterRoleBinding") as Obj & {
        roleRef: { name: string };
        subjects: { name: string; namespace: string }[];
      };
      expect(crb.roleRef.name).toBe(cr.metadata.name);
      expect(crb.subjects).toEqual([
        {
          kind: "ServiceAccount",
          name: one(objs, "ServiceAccount").metadata.name,
          namespace: "modelship-system",
        },
      ]);
      const roles = objs.filter((o) => o.kind === "Role");
      expect(roles.map((r) => r.metadata.namespace)).toEqual(["modelship-system"]);
      // Every verb the operator needs is granted somewhere (a missing one fails at run time).
      const granted = new Set(
        rulesOf(objs).flatMap(({ rule }) =>
          (rule.apiGroups ?? []).flatMap((g) =>
            (rule.resources ?? []).flatMap((r) => rule.verbs.map((v) => `${g}/${r}:${v}`)),
          ),
        ),
      );
      for (const [res, verbs] of Object.entries(ALLOWED)) {
        for (const v of verbs) expect(granted, `${res}:${v}`).toContain(`${res}:${v}`);
      }
    });

    it("has a PDB (minAvailable 1) and a metrics Service that select the operator pods", () => {
      const { d } = operatorDeployment(objs);
      const podLabels = (d.spec as unknown as { template: { metadata: { labels: Record<string, string> } } })
        .template.metadata.labels;
      const pdb = one(objs, "PodDisruptionBudget") as Obj & {
        spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } };
      };
      expect(pdb.spec.minAvailable).toBe(1);
      expect(podLabels).toMatchObject(pdb.spec.selector.matchLabels);
      const svc = one(objs, "Service") as Obj & {
        spec: { selector: Record<string, string>; ports: unknown[] };
      };
      expect(podLabels).toMatchObject(svc.spec.selector);
      expect(svc.spec.ports).toEqual([
        { name: "metrics", port: 8080, targetPort: "metrics", protocol: "TCP" },
      ]);
      expect(objs.some((o) => o.kind === "ServiceMonitor" || o.kind === "PrometheusRule")).toBe(false);
    });

    it("renders the same bytes twice (Argo CD would otherwise see drift on every refresh)", () => {
      expect(template([]).stdout).toBe(template([]).stdout);
    });
  });

  describe("namespaced scope", () => {
    let objs: Obj[];
    beforeAll(() => {
      objs = template(["--set", "rbac.scope=namespaced", "--set", "watchNamespaces={team-a,team-b}"]).objs;
    });

    it("renders a Role and RoleBinding per watched namespace, and no cluster-wide RBAC", () => {
      expect(objs.filter((o) => o.kind === "ClusterRole" || o.kind === "ClusterRoleBinding")).toEqual([]);
      checkLeastPrivilege(objs);
      for (const ns of ["team-a", "team-b"]) {
        const role = objs.find((o) => o.kind === "Role" && o.metadata.namespace === ns);
        const binding = objs.find((o) => o.kind === "RoleBinding" && o.metadata.namespace === ns) as
          | (Obj & { roleRef: { kind: string; name: string }; subjects: { namespace: string }[] })
          | undefined;
        expect(role, `Role in ${ns}`).toBeDefined();
        expect(binding?.roleRef).toMatchObject({ kind: "Role", name: role?.metadata.name });
        expect(binding?.subjects[0]?.namespace).toBe("modelship-system");
      }
    });

    it("tells the operator which namespaces to watch", () => {
      const { c } = operatorDeployment(objs);
      expect(c.args).toContain("--namespaces=team-a,team-b");
    });

    it("refuses namespaced scope without namespaces", () => {
      expect(templateError(["--set", "rbac.scope=namespaced"])).toMatch(/watchNamespaces/);
    });
  });

  describe("guards", () => {
    it("refuses two replicas without leader election", () => {
      expect(templateError(["--set", "operator.leaderElection.enabled=false"])).toMatch(/leaderElection/);
    });

    it("renders no PDB for a single replica (it would block every node drain)", () => {
      const { objs } = template([
        "--set",
        "replicaCount=1",
        "--set",
        "operator.leaderElection.enabled=false",
      ]);
      expect(objs.some((o) => o.kind === "PodDisruptionBudget")).toBe(false);
      expect(objs.some((o) => o.kind === "Role" && o.metadata.name.endsWith("leader-election"))).toBe(false);
    });
  });

  describe("values.schema.json", () => {
    it("rejects a wrong type with the name of the value", () => {
      const err = templateError(["--set-string", "replicaCount=two"]);
      expect(err).toMatch(/schema/i);
      expect(err).toMatch(/replicaCount/);
      expect(err).toMatch(/integer/);
    });

    it("rejects an unknown RBAC scope, an unknown key, and a typo'd nested key", () => {
      expect(templateError(["--set", "rbac.scope=everything"])).toMatch(/scope/);
      expect(templateError(["--set", "replicas=3"])).toMatch(/replicas/);
      expect(templateError(["--set", "operator.leaderElection.enable=false"])).toMatch(/enable/);
    });

    it("describes every key of values.yaml", () => {
      const values = yaml.load(readFileSync(join(CHART, "values.yaml"), "utf8")) as Record<string, unknown>;
      const schema = JSON.parse(readFileSync(join(CHART, "values.schema.json"), "utf8"));
      const missing: string[] = [];
      const visit = (v: unknown, s: Record<string, unknown> | undefined, path: string) => {
        if (s?.$ref) s = schema.definitions[(s.$ref as string).split("/").pop() as string];
        if (!s) return void missing.push(path);
        if (v && typeof v === "object" && !Array.isArray(v) && s.properties) {
          for (const [k, child] of Object.entries(v)) {
            visit(child, (s.properties as Record<string, Record<string, unknown>>)[k], `${path}.${k}`);
          }
        }
      };
      visit(values, schema, "");
      expect(missing).toEqual([]);
    });
  });

  describe("optional parts", () => {
    let objs: Obj[];
    beforeAll(() => {
      objs = template([
        "--set",
        "metrics.serviceMonitor.enabled=true",
        "--set",
        "metrics.prometheusRule.enabled=true",
        "--set",
        "argocd.health.enabled=true",
      ]).objs;
    });

    it("scrapes the metrics port and alerts on rollbacks, reconcile errors and Degraded", () => {
      const sm = one(objs, "ServiceMonitor") as Obj & {
        spec: { endpoints: { port: string; path: string }[] };
      };
      expect(sm.spec.endpoints[0]).toMatchObject({ port: "metrics", path: "/metrics" });
      const rule = one(objs, "PrometheusRule") as Obj & {
        spec: { groups: { rules: { alert: string; expr: string }[] }[] };
      };
      const exprs = Object.fromEntries(
        rule.spec.groups.flatMap((g) => g.rules).map((r) => [r.alert, r.expr]),
      );
      expect(exprs.ModelshipRolloutAborted).toContain("increase(modelship_rollouts_aborted_total[15m])");
      expect(exprs.ModelshipReconcileErrors).toContain("rate(modelship_reconcile_errors_total[5m])");
      expect(exprs.ModelDeploymentDegraded).toContain(
        'kube_customresource_modeldeployment_status_phase{phase="Degraded"}',
      );
    });

    it("renders the argocd-cm keys with the very scripts Argo CD runs in hack/chart/lua.test.ts", () => {
      const cm = one(objs, "ConfigMap") as Obj & { data: Record<string, string> };
      const file = (p: string) => readFileSync(join(CHART, "argocd", p), "utf8");
      expect(cm.data["resource.customizations.health.modelship.dev_ModelDeployment"]).toBe(
        file("health.lua"),
      );
      const actions = yaml.load(
        cm.data["resource.customizations.actions.modelship.dev_ModelDeployment"] ?? "",
      ) as {
        "discovery.lua": string;
        definitions: { name: string; "action.lua": string }[];
      };
      expect(actions["discovery.lua"]).toBe(file("discovery.lua"));
      expect(actions.definitions.map((d) => d.name)).toEqual([
        "promote",
        "promote-full",
        "abort",
        "retry",
        "pause",
        "resume",
      ]);
      for (const d of actions.definitions) expect(d["action.lua"]).toBe(file(`actions/${d.name}/action.lua`));
    });
  });

  describe("admission policy (admissionPolicy.*)", () => {
    type Policy = Obj & {
      spec: {
        failurePolicy: string;
        matchConstraints: {
          resourceRules: { apiGroups: string[]; resources: string[]; operations: string[] }[];
        };
        variables: { name: string; expression: string }[];
        validations: { expression: string; messageExpression: string }[];
      };
    };
    type Binding = Obj & {
      spec: {
        policyName: string;
        validationActions: string[];
        matchResources: { namespaceSelector: unknown };
      };
    };
    const policyArgs = [
      "--set",
      "admissionPolicy.enabled=true",
      "--set",
      "admissionPolicy.allowedImagePrefixes={registry.example/models/,nvcr.io/nim/}",
      "--set",
      "admissionPolicy.allowedSecretNames={hf-token}",
      "--set",
      "admissionPolicy.namespaceSelector.matchLabels.tenant=yes",
    ];

    it("is off by default", () => {
      const { objs } = template([]);
      expect(objs.filter((o) => o.kind.startsWith("ValidatingAdmissionPolicy"))).toEqual([]);
    });

    it("renders a policy on ModelDeployment writes and a binding that denies, in the selected namespaces", () => {
      const { objs } = template(policyArgs);
      const policy = one(objs, "ValidatingAdmissionPolicy") as Policy;
      const binding = one(objs, "ValidatingAdmissionPolicyBinding") as Binding;
      expect(policy.apiVersion).toBe("admissionregistration.k8s.io/v1");
      expect(binding.spec.policyName).toBe(policy.metadata.name);
      expect(binding.spec.validationActions).toEqual(["Deny"]);
      expect(binding.spec.matchResources.namespaceSelector).toEqual({ matchLabels: { tenant: "yes" } });
      expect(policy.spec.failurePolicy).toBe("Fail");
      expect(policy.spec.matchConstraints.resourceRules).toEqual([
        expect.objectContaining({
          apiGroups: ["modelship.dev"],
          resources: ["modeldeployments"],
          operations: ["CREATE", "UPDATE"],
        }),
      ]);
      const variables = Object.fromEntries(policy.spec.variables.map((v) => [v.name, v.expression]));
      // The lists reach CEL as list literals (JSON is valid CEL here: the schema forbids quotes).
      expect(JSON.parse(variables.allowedImagePrefixes ?? "")).toEqual([
        "registry.example/models/",
        "nvcr.io/nim/",
      ]);
      expect(JSON.parse(variables.allowedSecretNames ?? "")).toEqual(["hf-token"]);
      const messages = policy.spec.validations.map((v) => v.messageExpression).join("\n");
      expect(messages).toMatch(/spec\.runtime\.image/);
      expect(messages).toMatch(/secretKeyRef/);
      expect(messages).toMatch(/'spec\.model: '/);
      expect(messages).toMatch(/credentialsSecretName/);
    });

    it("checks only Secrets when no registry is listed, and can warn instead of deny", () => {
      const { objs } = template([
        "--set",
        "admissionPolicy.enabled=true",
        "--set",
        "admissionPolicy.validationActions={Warn,Audit}",
      ]);
      const policy = one(objs, "ValidatingAdmissionPolicy") as Policy;
      expect(policy.spec.validations.map((v) => v.expression)).toEqual([
        "size(variables.refusedModelSecrets) == 0",
        "size(variables.refusedSecretNames) == 0",
      ]);
      expect(
        JSON.parse(policy.spec.variables.find((v) => v.name === "allowedSecretNames")?.expression ?? ""),
      ).toEqual([]);
      expect((one(objs, "ValidatingAdmissionPolicyBinding") as Binding).spec.validationActions).toEqual([
        "Warn",
        "Audit",
      ]);
    });

    it("refuses a registry prefix without a trailing slash (it would allow registry.example.evil/)", () => {
      const err = templateError([
        "--set",
        "admissionPolicy.enabled=true",
        "--set",
        "admissionPolicy.allowedImagePrefixes={registry.example}",
      ]);
      expect(err).toMatch(/allowedImagePrefixes/);
      expect(templateError(["--set", "admissionPolicy.validationActions={Block}"])).toMatch(
        /validationActions/,
      );
    });
  });
});
