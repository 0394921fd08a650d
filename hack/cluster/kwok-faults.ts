// kwok stages that let tests give fake pods the failures real pods have. A pod annotated
// modelship.dev/kwok-fault=<Reason> skips kwok's pod-ready stage and gets the status a kubelet would
// report for that reason instead. The operator never sees the annotation's meaning: it reads the
// pod status like in any cluster. (Unschedulable needs no stage: the real scheduler reports it.)
export const FAULT_ANNOTATION = "modelship.dev/kwok-fault";

const EXCLUDE_FAULTY = `    - key: '.metadata.annotations["${FAULT_ANNOTATION}"]'
      operator: 'DoesNotExist'
`;

function faultStage(reason: "ImagePullBackOff" | "CrashLoopBackOff"): string {
  const running = reason === "CrashLoopBackOff";
  return `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: modelship-fault-${reason.toLowerCase()}
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
      values: ['${reason}']
    - key: '.status.containerStatuses.[0].state.waiting.reason'
      operator: 'NotIn'
      values: ['${reason}']
  next:
    statusTemplate: |
      {{ $now := Now }}
      phase: ${running ? "Running" : "Pending"}
      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: Initialized
      - lastTransitionTime: {{ $now | Quote }}
        status: "False"
        type: Ready
        reason: ContainersNotReady
      - lastTransitionTime: {{ $now | Quote }}
        status: "False"
        type: ContainersReady
        reason: ContainersNotReady
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
`;
}

/** kwok's default stages with the fault hook added. */
export function stagesWithFaults(defaultStages: string): string {
  const marker = "  name: pod-ready\n";
  const at = defaultStages.indexOf(marker);
  if (at < 0) throw new Error("kwok stages: pod-ready stage not found");
  const exprAt = defaultStages.indexOf("    matchExpressions:\n", at);
  if (exprAt < 0) throw new Error("kwok stages: pod-ready has no matchExpressions");
  const insertAt = exprAt + "    matchExpressions:\n".length;
  const patched = defaultStages.slice(0, insertAt) + EXCLUDE_FAULTY + defaultStages.slice(insertAt);
  return [patched.trimEnd(), faultStage("ImagePullBackOff"), faultStage("CrashLoopBackOff")].join("\n---\n");
}
