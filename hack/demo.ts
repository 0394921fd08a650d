// The demo: a local control plane, the CRDs, the operator, and what a user looks at first.
import { execFileSync, spawn } from "node:child_process";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ensureBinaries } from "./cluster/binaries.ts";
import { clustersRoot, readState, startCluster, stopCluster } from "./cluster/control-plane.ts";

const { values } = parseArgs({
  options: { keep: { type: "boolean", default: false }, "exit-after": { type: "string" } },
});
const root = join(import.meta.dirname, "..");
const say = (s: string) => process.stdout.write(`${s}\n`);

const binDir = await ensureBinaries();
const existing = readState(join(clustersRoot(), "demo"));
if (existing) await stopCluster(existing);
const t0 = Date.now();
const cluster = await startCluster({ name: "demo", binDir, nodes: 3 });
say(`local control plane up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
const kubectl = (args: string[]) =>
  execFileSync(join(binDir, "kubectl"), ["--kubeconfig", cluster.kubeconfig, ...args], { encoding: "utf8" });
say(kubectl(["get", "nodes", "-o", "wide"]));

const operator = spawn(
  process.execPath,
  [join(root, "operator/src/main.ts"), `--kubeconfig=${cluster.kubeconfig}`, "--metrics-addr=127.0.0.1:0"],
  {
    stdio: ["ignore", "inherit", "inherit"],
  },
);

let stopping = false;
async function finish(code: number): Promise<never> {
  if (stopping) process.exit(code);
  stopping = true;
  operator.kill("SIGTERM");
  await new Promise((r) => operator.once("exit", r));
  if (values.keep) {
    say(`cluster kept: export KUBECONFIG=${cluster.kubeconfig}; hack/cluster/down demo stops it`);
  } else {
    await stopCluster(cluster);
    say("cluster torn down");
  }
  process.exit(code);
}
process.on("SIGINT", () => void finish(0));
process.on("SIGTERM", () => void finish(0));
operator.on("exit", (code) => {
  if (!stopping) {
    say(`operator exited with ${code}`);
    void finish(code ?? 1);
  }
});
say(`operator running against ${cluster.kubeconfig}; Ctrl-C to stop`);
if (values["exit-after"]) setTimeout(() => void finish(0), Number(values["exit-after"]) * 1000);
