// Annotations a person (or `kubectl modelship`, or an Argo CD action) sets on a ModelDeployment to
// act on its rollout. Each value is a request id (e.g. a timestamp): a request is acted on once,
// when its id differs from the last one handled (status.bookkeeping.handledRequests). `paused` is
// level-triggered: "true" holds the rollout where it is.
export const ANNOTATION = {
  promote: "modelship.dev/promote",
  promoteFull: "modelship.dev/promote-full",
  abort: "modelship.dev/abort",
  retry: "modelship.dev/retry",
  paused: "modelship.dev/paused",
} as const;
