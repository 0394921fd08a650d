// spec → Services. The main Service (named like the ModelDeployment) is what clients call.
// Replica-ratio traffic: it selects every live revision (or one, while a no-steps rollout waits
// for the new side to be Ready). Gateway API traffic: "-stable" and "-canary" Services each pin one
// revision, and the HTTPRoute weights split between them.
import type { ModelDeploymentSpec } from "../api/index.ts";
import { resolveRuntimeEndpoints } from "../api/index.ts";
import { PORT_NAME, revisionSelector } from "./deployment.ts";
import { commonLabels, deploymentSelector } from "./labels.ts";
import { serviceName } from "./names.ts";
import { ownerReference } from "./owner.ts";
import type { ApplyObject, Owner } from "./types.ts";

export interface ServiceInput {
  owner: Owner;
  spec: ModelDeploymentSpec;
  /** Pin the Service to one revision; undefined selects all revisions. */
  revision?: string | undefined;
  role?: "stable" | "canary";
}

export function renderService({ owner, spec, revision, role }: ServiceInput): ApplyObject {
  const port = resolveRuntimeEndpoints(spec.runtime).port;
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: serviceName(owner.name, role),
      namespace: owner.namespace,
      labels: {
        ...commonLabels(owner.name, spec.model.name),
        ...(role ? { "modelship.dev/role": role } : {}),
      },
      ownerReferences: [ownerReference(owner)],
    },
    spec: {
      type: "ClusterIP",
      selector: revision ? revisionSelector(owner.name, revision) : deploymentSelector(owner.name),
      ports: [{ name: PORT_NAME, port, targetPort: PORT_NAME, protocol: "TCP" }],
    },
  };
}
