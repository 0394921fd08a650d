// `hack/cluster/up [name] [--nodes N] [--argocd]`: starts a local control plane and prints its
// kubeconfig path. `--argocd` also starts Argo CD beside it (hack/cluster/argocd.ts).
import { parseArgs } from "node:util";
import { startArgoCd } from "./argocd.ts";
import { ensureArgoCdBinaries, ensureBinaries } from "./binaries.ts";
import { startCluster } from "./control-plane.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { nodes: { type: "string", default: "2" }, argocd: { type: "boolean", default: false } },
});
const name = positionals[0] ?? "dev";
const binDir = await ensureBinaries();
const argoBin = values.argocd ? await ensureArgoCdBinaries() : "";
const started = Date.now();
const s = await startCluster({ name, binDir, nodes: Number(values.nodes) });
process.stderr.write(
  `cluster ${name} up in ${((Date.now() - started) / 1000).toFixed(1)} s: apiserver https://127.0.0.1:${s.ports.apiserver}, pods ${s.podCidr}\n` +
    `  export KUBECONFIG=${s.kubeconfig}\n  export PATH=${binDir}:$PATH   # kubectl matching the server\n`,
);
if (values.argocd) {
  const a = await startArgoCd({ cluster: s, binDir: argoBin });
  process.stderr.write(
    `Argo CD up in ${((Date.now() - started) / 1000).toFixed(1)} s: argocd-server http://${a.server} (admin / ${a.password})\n` +
      `  Git repository ${a.repoUrl}; Application destination server ${a.destination}\n` +
      `  export PATH=${argoBin}:$PATH\n  argocd --config ${a.cliConfig} app list\n`,
  );
}
process.stdout.write(`${s.kubeconfig}\n`);
