// kwok stages that let tests give fake pods the failures real pods have. A pod annotated
// modelship.dev/kwok-fault=<Reason> skips kwok's pod-ready stage and gets the status a kubelet would
// report for that reason instead. The operator never sees the annotation's meaning: it reads the
// pod status like in any cluster. (Unschedulable needs no stage: the real scheduler reports it.)
// Two more values model a server loading its weights: SlowStart (Running, not Ready, then Ready after
// the duration in modelship.dev/kwok-ready-after, e.g. "20s") and NeverReady (loads forever).
export const FAULT_ANNOTATION = "modelship.dev/kwok-fault";
export const READY_AFTER_ANNOTATION = "modelship.dev/kwok-ready-after";

const EXCLUDE_FAULTY = `    - key: '.metadata.annotations["${FAULT_ANNOTATION}"]'
      operator: 'DoesNotExist'
`;

/**
 * A Stage for live pods carrying the fault annotation with one of `faults`, plus `more` selector
 * expressions (YAML list items), an optional delay, and the status kwok writes next.
 */
function podStage(o: {
  name: string;
  faults: string[];
  more: string;
  delay?: string;
  status: string;
}): string {
  return `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: ${o.name}
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.metadata.annotations["${FAULT_ANNOTATION}"]'
      operator: 'In'
      values: [${o.faults.map((f) => `'${f}'`).join(", ")}]
${o.more}${o.delay ?? ""}  next:
    statusTemplate: |
${o.status}`;
}

// Every condition, each time: a stage's status replaces the list.
function conditions(ready: boolean): string {
  const c = (type: string, status: boolean) => `      - lastTransitionTime: {{ $now | Quote }}
        status: "${status ? "True" : "False"}"
        type: ${type}${status ? "" : "\n        reason: ContainersNotReady"}`;
  return [c("Initialized", true), c("Ready", ready), c("ContainersReady", ready)].join("\n");
}

function faultStage(reason: "ImagePullBackOff" | "CrashLoopBackOff"): string {
  const running = reason === "CrashLoopBackOff";
  return podStage({
    name: `modelship-fault-${reason.toLowerCase()}`,
    faults: [reason],
    more: `    - key: '.status.containerStatuses.[0].state.waiting.reason'
      operator: 'NotIn'
      values: ['${reason}']
`,
    status: `      {{ $now := Now }}
      phase: ${running ? "Running" : "Pending"}
      conditions:
${conditions(false)}
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        restartCount: ${running ? 5 : 0}
        state:
          waiting:
            reason: ${reason}
            message: "kwok fault injected by the test harness"
      {{ end }}
      {{ with .status.podIP }}
      podIP: {{ . }}
      {{ end }}
`,
  });
}

// As kwok's own pod-ready stage does. Only the first stage assigns it: a second PodIPsWith would
// allocate another IP, which the API server refuses.
const ASSIGN_POD_IP = `      {{ $podIPs := PodIPsWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
      {{ with $podIPs }}
      podIP: {{ index . 0 | Quote }}
      podIPs:
      {{ range . }}
      - ip: {{ . | Quote }}
      {{ end }}
      {{ end }}
      startTime: {{ $now | Quote }}
`;

function runningStatus(ready: boolean): string {
  return `      {{ $now := Now }}
      phase: Running
      conditions:
${conditions(ready)}
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: ${ready}
        restartCount: 0
        started: true
        state:
          running:
            startedAt: {{ $now | Quote }}
      {{ end }}
${ready ? "" : ASSIGN_POD_IP}`;
}

/** SlowStart and NeverReady pods: the server started and loads (Running, not Ready). */
const LOADING_STAGE = podStage({
  name: "modelship-loading",
  faults: ["SlowStart", "NeverReady"],
  more: `    - key: '.status.phase'
      operator: 'In'
      values: ['Pending']
`,
  status: runningStatus(false),
});

/** SlowStart pods become Ready once loaded: kwok delays the stage by the annotation's duration. */
const LOADED_STAGE = podStage({
  name: "modelship-slow-start-ready",
  faults: ["SlowStart"],
  more: `    - key: '.status.phase'
      operator: 'In'
      values: ['Running']
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: 'NotIn'
      values: ['True']
`,
  delay: `  delay:
    durationMilliseconds: 0
    durationFrom:
      expressionFrom: '.metadata.annotations["${READY_AFTER_ANNOTATION}"]'
`,
  status: runningStatus(true),
});

/** kwok's default stages with the fault hook added. */
export function stagesWithFaults(defaultStages: string): string {
  const marker = "  name: pod-ready\n";
  const at = defaultStages.indexOf(marker);
  if (at < 0) throw new Error("kwok stages: pod-ready stage not found");
  const exprAt = defaultStages.indexOf("    matchExpressions:\n", at);
  if (exprAt < 0) throw new Error("kwok stages: pod-ready has no matchExpressions");
  const insertAt = exprAt + "    matchExpressions:\n".length;
  const patched = defaultStages.slice(0, insertAt) + EXCLUDE_FAULTY + defaultStages.slice(insertAt);
  return [
    patched.trimEnd(),
    faultStage("ImagePullBackOff"),
    faultStage("CrashLoopBackOff"),
    LOADING_STAGE,
    LOADED_STAGE,
  ].join("\n---\n");
}
