{{/* Chart name, truncated to a DNS label. */}}
{{- define "modelship.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified name of the release's objects. */}}
{{- define "modelship.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "modelship.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. Deterministic: no timestamps or random values (Argo CD diffs them). */}}
{{- define "modelship.labels" -}}
helm.sh/chart: {{ include "modelship.chart" . }}
{{ include "modelship.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: modelship
{{- end }}

{{- define "modelship.selectorLabels" -}}
app.kubernetes.io/name: {{ include "modelship.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "modelship.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "modelship.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create=false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "modelship.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The namespaces the operator watches: empty list = all (cluster scope). */}}
{{- define "modelship.watchNamespaces" -}}
{{- if eq .Values.rbac.scope "namespaced" }}
{{- if not .Values.watchNamespaces }}
{{- fail "rbac.scope=namespaced needs watchNamespaces: [a, b] (the namespaces the operator may act in)" }}
{{- end }}
{{- join "," (uniq .Values.watchNamespaces) }}
{{- else }}
{{- join "," (uniq .Values.watchNamespaces) }}
{{- end }}
{{- end }}

{{/*
The rules the operator needs on ModelDeployments and the children it owns; shared by the
ClusterRole (cluster scope) and each per-namespace Role (namespaced scope). Nothing else: no
Secrets, no ConfigMaps, no wildcards. Derived from operator/src/kube (informers, api-client,
events) and operator/src/controller/reconciler.ts (ServiceAccount check).
*/}}
{{- define "modelship.workloadRules" -}}
# The custom resource: read and watch; the operator never writes spec or metadata.
- apiGroups: ["modelship.dev"]
  resources: ["modeldeployments"]
  verbs: ["get", "list", "watch"]
# Status through the status subresource (server-side apply = patch).
- apiGroups: ["modelship.dev"]
  resources: ["modeldeployments/status"]
  verbs: ["get", "patch", "update"]
# Children carry blockOwnerDeletion: true; where the OwnerReferencesPermissionEnforcement admission
# plugin runs (OpenShift, hardened clusters) that needs update on the owner's finalizers.
- apiGroups: ["modelship.dev"]
  resources: ["modeldeployments/finalizers"]
  verbs: ["update"]
# One Deployment per live revision.
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "list", "watch", "create", "patch", "update", "delete"]
# The Services that carry traffic to the revisions.
- apiGroups: [""]
  resources: ["services"]
  verbs: ["get", "list", "watch", "create", "patch", "update", "delete"]
# The HPA that targets the ModelDeployment's scale subresource (spec.autoscaling).
- apiGroups: ["autoscaling"]
  resources: ["horizontalpodautoscalers"]
  verbs: ["get", "list", "watch", "create", "patch", "update", "delete"]
# The PodDisruptionBudget over a ModelDeployment's pods (spec.disruption).
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["get", "list", "watch", "create", "patch", "update", "delete"]
# Weighted traffic with spec.rollout.traffic.gatewayAPI.
- apiGroups: ["gateway.networking.k8s.io"]
  resources: ["httproutes"]
  verbs: ["get", "list", "watch", "create", "patch", "update", "delete"]
# Weighted and mirrored traffic with spec.rollout.traffic.traefik (Traefik's CRD provider).
- apiGroups: ["traefik.io"]
  resources: ["traefikservices"]
  verbs: ["get", "list", "watch", "create", "patch", "update", "delete"]
# The ReplicaSets of the revisions' Deployments (metadata only is kept): a pod is a probe target only
# when its ReplicaSet is controlled by one of the ModelDeployment's Deployments.
- apiGroups: ["apps"]
  resources: ["replicasets"]
  verbs: ["get", "list", "watch"]
# Pods of the revisions: readiness, crash loops, image pull errors, and the prober's targets.
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch"]
# A named spec.template.serviceAccountName must carry the model-runtime label (read only).
- apiGroups: [""]
  resources: ["serviceaccounts"]
  verbs: ["get"]
# Events a person reads with kubectl describe / kubectl events.
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}
