{{/* Names, labels and the pieces every component shares. */}}

{{- define "rdev.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* <release>-rdev, or the release name when it already says rdev; at most 50 characters so that
     "-operator" and the like still fit in 63. */}}
{{- define "rdev.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The name of a component's objects: (dict "root" $ "component" "operator") */}}
{{- define "rdev.componentName" -}}
{{- printf "%s-%s" (include "rdev.fullname" .root) .component }}
{{- end }}

{{- define "rdev.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rdev.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "rdev.labels" -}}
{{ include "rdev.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: rdev
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- end }}

{{/* A Secret of the release namespace as the CLI options take it: namespace/name. */}}
{{- define "rdev.secretRef" -}}
{{- printf "%s/%s" .root.Release.Namespace .name }}
{{- end }}

{{/* Where the providers' admin Secrets live: providers.secretsNamespace, else the release namespace. */}}
{{- define "rdev.providerSecretsNamespace" -}}
{{- .Values.providers.secretsNamespace | default .Release.Namespace }}
{{- end }}

{{/* A provider admin Secret as the CLI options take it: (dict "root" $ "name" …). */}}
{{- define "rdev.providerSecretRef" -}}
{{- printf "%s/%s" (include "rdev.providerSecretsNamespace" .root) .name }}
{{- end }}

{{/*
The binding of a component's ClusterRole: cluster-wide, or with watchNamespaces one RoleBinding in
each of those namespaces (the ClusterRole then only lists rules, it grants nothing by itself).
(dict "root" $ "component" "operator")
*/}}
{{- define "rdev.roleBindings" -}}
{{- $name := include "rdev.componentName" . }}
{{- $root := .root }}
{{- $c := . }}
{{- if not $root.Values.watchNamespaces }}
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {{ $name }}
  labels:
    {{- include "rdev.labels" $c | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {{ $name }}
subjects:
  - kind: ServiceAccount
    name: {{ $name }}
    namespace: {{ $root.Release.Namespace }}
{{- else }}
{{- range $i, $ns := $root.Values.watchNamespaces }}
{{- if $i }}
---
{{- end }}
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ $name }}
  namespace: {{ $ns }}
  labels:
    {{- include "rdev.labels" $c | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {{ $name }}
subjects:
  - kind: ServiceAccount
    name: {{ $name }}
    namespace: {{ $root.Release.Namespace }}
{{- end }}
{{- end }}
{{- end }}

{{/* An image reference, repository:tag[@digest], from an image's values (repository, tag,
     digest): (dict "root" $ "image" .Values.image). An empty tag is the chart's appVersion. */}}
{{- define "rdev.image" -}}
{{- $ref := printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag) }}
{{- if .image.digest }}
{{- printf "%s@%s" $ref .image.digest }}
{{- else }}
{{- $ref }}
{{- end }}
{{- end }}

{{/* The workers' image values: worker.image, its empty fields those of image. The digest of
     image applies only when the repository and the tag are image's too. */}}
{{- define "rdev.workerImage" -}}
{{- $i := .Values.image }}
{{- $w := .Values.worker.image }}
{{- $inherited := and (not $w.repository) (not $w.tag) }}
repository: {{ default $i.repository $w.repository | quote }}
tag: {{ default $i.tag $w.tag | quote }}
digest: {{ ternary (default $i.digest $w.digest) $w.digest $inherited | quote }}
{{- end }}

{{/* Restricted Pod Security: non-root, RuntimeDefault seccomp (pod); no privilege escalation,
     no capabilities, read-only root filesystem (container). */}}
{{- define "rdev.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "rdev.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* POD_NAME and POD_NAMESPACE from the downward API: the lease holder identity, the worker's
     name and the namespace of Leases and the shim's Secrets. */}}
{{/* The mounted token of the workers' live output (worker.outputTokenSecret), in the worker and the shim. */}}
{{- define "rdev.outputTokenFile" -}}
/etc/rdev/output/OUTPUT_TOKEN
{{- end }}

{{- define "rdev.outputTokenVolume" -}}
# Only the token's key; a Secret without it keeps the Pod from starting (said in its Events).
- name: output-token
  secret:
    secretName: {{ .Values.worker.outputTokenSecret }}
    items: [{key: OUTPUT_TOKEN, path: OUTPUT_TOKEN}]
    # 0440 (decimal here, as YAML 1.1 and 1.2 both read it): root and the Pod's fsGroup.
    defaultMode: 288
{{- end }}

{{- define "rdev.downwardEnv" -}}
- name: POD_NAME
  valueFrom:
    fieldRef: {fieldPath: metadata.name}
- name: POD_NAMESPACE
  valueFrom:
    fieldRef: {fieldPath: metadata.namespace}
{{- end }}

{{/* Scheduling and pull settings of a component: (dict "root" $ "values" .Values.operator) */}}
{{- define "rdev.podPlacement" -}}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* The caps on a Project Pod's CPU and memory, as the operator and the shim both take them. */}}
{{- define "rdev.workspaceCapsArgs" -}}
{{- with .Values.workspaceCaps.cpu }}
- --max-workspace-cpu={{ . }}
{{- end }}
{{- with .Values.workspaceCaps.memory }}
- --max-workspace-memory={{ . }}
{{- end }}
{{- end }}
