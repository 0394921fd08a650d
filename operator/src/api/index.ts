// Public surface of the API package.
export * from "./annotations.ts";
export * from "./conditions.ts";
export * from "./duration.ts";
export * from "./group.ts";
export * from "./header-route.ts";
export * from "./http-path.ts";
export * from "./model-deployment.ts";
export * from "./model-storage.ts";
export * from "./model-uri.ts";
export * from "./presets.ts";
export * from "./spec.ts";
export * from "./status.ts";
