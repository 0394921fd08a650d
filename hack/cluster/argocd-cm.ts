// The argocd-cm keys modelship ships, rendered from the chart exactly as docs/argocd.md tells users
// (`helm template ... --set argocd.health.enabled=true --show-only templates/argocd-cm.yaml`, then
// copy `data`). The local Argo CD and the Lua unit tests both read them from here, so what is
// tested is what users paste.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";

const CHART = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "charts", "modelship");

/** The chart's `data` keys for argocd-cm: the health script and the resource actions. */
export function chartArgoCdKeys(helm: string): Record<string, string> {
  const args = ["template", "modelship", CHART, "--set", "argocd.health.enabled=true"];
  const r = spawnSync(helm, [...args, "--show-only", "templates/argocd-cm.yaml"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`helm ${args.join(" ")}: ${r.stderr}`);
  const cm = yaml.load(r.stdout) as { data?: Record<string, string> };
  if (!cm.data || Object.keys(cm.data).length === 0) throw new Error("the chart rendered no argocd-cm keys");
  return cm.data;
}

/** An argocd-cm ConfigMap holding `keys` plus `extra` settings, as Argo CD reads it. */
export function argoCdConfigMap(keys: Record<string, string>, extra: Record<string, string> = {}) {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      // Argo CD reads exactly this name (also off-line: `argocd admin settings --argocd-cm-path`).
      name: "argocd-cm",
      namespace: "argocd",
      labels: { "app.kubernetes.io/name": "argocd-cm", "app.kubernetes.io/part-of": "argocd" },
    },
    data: { ...keys, ...extra },
  };
}
