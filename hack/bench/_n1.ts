import { CustomObjectsApi } from "@kubernetes/client-node";
import {
  DEFAULT_SETTINGS,
  kubeConfigOf,
  mdAvailable,
  mdBody,
  mdSpec,
  startOperator,
  watchUntilReady,
  withCluster,
} from "./common.ts";

await withCluster("n1", async (c) => {
  const op = await startOperator(c, {
    settings: DEFAULT_SETTINGS,
    args: ["--prober=false", "--log-level=debug"],
    name: "n1",
  });
  const kc = kubeConfigOf(c);
  const custom = kc.makeApiClient(CustomObjectsApi);
  await custom
    .createNamespacedCustomObject({
      group: "modelship.dev",
      version: "v1alpha1",
      namespace: "default",
      plural: "modeldeployments",
      body: mdBody("default", "one", mdSpec()),
    })
    .catch(() => {});
  for (let i = 0; i < 3; i++) {
    const name = `m${i}`;
    const t0 = Date.now();
    console.log("create", name, t0);
    await watchUntilReady(
      kc,
      "/apis/modelship.dev/v1alpha1/namespaces/default/modeldeployments",
      1,
      (o) => (o.metadata as { name: string }).name === name && mdAvailable(o),
      Date.now() + 30000,
      () => {
        void custom.createNamespacedCustomObject({
          group: "modelship.dev",
          version: "v1alpha1",
          namespace: "default",
          plural: "modeldeployments",
          body: mdBody("default", name, mdSpec()),
        });
      },
    );
    console.log("ready", name, Date.now() - t0);
  }
  await op.stop();
  console.log(op.logFile);
});
