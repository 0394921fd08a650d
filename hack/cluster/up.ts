// `hack/cluster/up [name] [--nodes N]`: starts a local control plane and prints its kubeconfig path.
import { parseArgs } from "node:util";
import { ensureBinaries } from "./binaries.ts";
import { startCluster } from "./control-plane.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { nodes: { type: "string", default: "2" } },
});
const name = positionals[0] ?? "dev";
const binDir = await ensureBinaries();
const started = Date.now();
const s = await startCluster({ name, binDir, nodes: Number(values.nodes) });
process.stderr.write(
  `cluster ${name} up in ${((Date.now() - started) / 1000).toFixed(1)} s: apiserver https://127.0.0.1:${s.ports.apiserver}, pods ${s.podCidr}\n` +
    `  export KUBECONFIG=${s.kubeconfig}\n  export PATH=${binDir}:$PATH   # kubectl matching the server\n`,
);
process.stdout.write(`${s.kubeconfig}\n`);
