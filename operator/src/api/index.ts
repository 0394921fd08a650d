// Public surface of the API package.
export * from "./annotations.ts";
export * from "./conditions.ts";
export * from "./container.ts";
export * from "./duration.ts";
export * from "./group.ts";
export * from "./header-route.ts";
export * from "./http-path.ts";
export * from "./init-containers.ts";
export * from "./model-deployment.ts";
export * from "./pod-template.ts";
export * from "./presets.ts";
export * from "./probes.ts";
export * from "./shadow.ts";
export * from "./spec.ts";
export * from "./status.ts";
export * from "./topology-spread.ts";
export * from "./volumes.ts";
