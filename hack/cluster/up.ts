// `hack/cluster/up [name] [--nodes N] [--argocd] [--gateway]`: starts a local control plane and
// prints its kubeconfig path. `--argocd` also starts Argo CD beside it (hack/cluster/argocd.ts);
// `--gateway` starts Traefik with a Gateway on a loopback port (hack/cluster/gateway.ts).
import { parseArgs } from "node:util";
import { startArgoCd } from "./argocd.ts";
import { ensureArgoCdBinaries, ensureBinaries, ensureTraefikBinary } from "./binaries.ts";
import { startCluster } from "./control-plane.ts";
import { startGateway } from "./gateway.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    nodes: { type: "string", default: "2" },
    argocd: { type: "boolean", default: false },
    gateway: { type: "boolean", default: false },
  },
});
const name = positionals[0] ?? "dev";
const binDir = await ensureBinaries();
const argoBin = values.argocd ? await ensureArgoCdBinaries() : "";
const traefikBin = values.gateway ? await ensureTraefikBinary() : "";
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
if (values.gateway) {
  const g = await startGateway({ cluster: s, binDir: traefikBin });
  process.stderr.write(
    `Traefik up in ${((Date.now() - started) / 1000).toFixed(1)} s: Gateway ${g.gateway.namespace}/${g.gateway.name} listening on ${g.url}\n` +
      `  a ModelDeployment routes through it with rollout.traffic.gatewayAPI.parentRefs: [{name: ${g.gateway.name}, namespace: ${g.gateway.namespace}}]\n` +
      "  or with rollout.traffic.traefik and an HTTPRoute on that Gateway to TraefikService <name> (group traefik.io)\n" +
      `  Traefik's log: ${g.logFile}\n`,
  );
}
process.stdout.write(`${s.kubeconfig}\n`);
