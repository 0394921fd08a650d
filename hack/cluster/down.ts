// `hack/cluster/down [name]`: stops the processes that `up` started (by their PIDs) and removes
// the cluster's files. `--all` stops every local cluster; `--network` also removes the namespace.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { clustersRoot, readState, stopCluster } from "./control-plane.ts";
import { stopUnusedFixtures } from "./fixtures.ts";
import { removePodNetwork } from "./network.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { all: { type: "boolean" }, network: { type: "boolean" }, keep: { type: "boolean" } },
});
let names = values.all
  ? readdirSync(clustersRoot()).filter((n) => !n.startsWith("."))
  : [positionals[0] ?? "dev"];
if (values.all && names.length === 0) names = [];
for (const name of names) {
  const s = readState(join(clustersRoot(), name));
  if (!s) {
    process.stderr.write(`no local cluster named ${name}\n`);
    continue;
  }
  await stopCluster(s, { keepFiles: values.keep ?? false });
  process.stderr.write(`cluster ${name} stopped\n`);
}
stopUnusedFixtures();
if (values.network) removePodNetwork();
