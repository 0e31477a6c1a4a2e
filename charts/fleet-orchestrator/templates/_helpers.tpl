{{- define "fleet-orchestrator.name" -}}fleet-orchestrator{{- end -}}

{{- define "fleet-orchestrator.fullname" -}}
{{- if eq .Release.Name "fleet-orchestrator" -}}
fleet-orchestrator
{{- else -}}
{{- printf "%s-fleet-orchestrator" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "fleet-orchestrator.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository .Values.image.tag -}}
{{- end -}}
{{- end -}}

{{- define "fleet-orchestrator.selectorLabels" -}}
app.kubernetes.io/name: fleet-orchestrator
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end -}}

{{- define "fleet-orchestrator.labels" -}}
{{ include "fleet-orchestrator.selectorLabels" . }}
io.agentfleet.component: orchestrator
app.kubernetes.io/component: orchestrator
app.kubernetes.io/part-of: agent-fleet
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}
{{- end -}}

{{- define "fleet-orchestrator.serviceAccountUser" -}}
{{- printf "system:serviceaccount:%s:%s" .Release.Namespace (include "fleet-orchestrator.fullname" .) -}}
{{- end -}}
