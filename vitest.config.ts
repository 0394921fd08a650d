import { defineConfig } from "vitest/config";

// Two tiers: unit tests sit beside the code and need no cluster; e2e tests run against a real
// control plane (started by e2e/global-setup.ts, or the cluster named by $KUBECONFIG).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["operator/**/*.test.ts", "hack/**/*.test.ts"],
          environment: "node",
        },
      },
      {
        test: {
          name: "e2e",
          include: ["e2e/**/*.e2e.test.ts"],
          globalSetup: ["e2e/global-setup.ts"],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          // Each file may start its own operator; files share one cluster, so keep them serial
          // unless a file asks for its own cluster.
          fileParallelism: false,
        },
      },
    ],
  },
});
