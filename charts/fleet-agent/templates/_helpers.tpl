{{/* Checked in every template: the namespace is derived from the client id (the release should be named
the same, fleet-<clientId>; object names derive from clientId either way). */}}
{{- define "fleet-agent.validate" -}}
{{- $id := required "clientId is required: a DNS-1123 label such as acme" .Values.clientId -}}
{{- $expected := printf "fleet-%s" $id -}}
{{- if ne .Release.Namespace $expected -}}
{{- fail (printf "namespace must be %s for clientId %s (got %s): install with -n %s" $expected $id .Release.Namespace $expected) -}}
{{- end -}}
{{- if and (eq .Values.networkPolicy.egress.mode "proxy") (not .Values.networkPolicy.vault.enabled) -}}
{{- fail "networkPolicy.egress.mode proxy needs an in-cluster Vault (networkPolicy.vault.enabled): the agent's Vault client cannot tunnel through the proxy" -}}
{{- end -}}
{{- end -}}

{{- define "fleet-agent.name" -}}
{{- printf "fleet-%s" .Values.clientId -}}
{{- end -}}

{{- define "fleet-agent.claimName" -}}
{{- default (printf "fleet-%s-data" .Values.clientId) .Values.persistence.claimName -}}
{{- end -}}

{{/* The agent's TLS bundle in Vault KV v2 (written by the orchestrator; see kernel agent-identity). */}}
{{- define "fleet-agent.tlsSecretPath" -}}
{{- printf "%s/data/%s/tls/agent" .Values.vault.kvMount .Values.clientId -}}
{{- end -}}

{{- define "fleet-agent.serviceAccountName" -}}
{{- printf "fleet-%s-agent" .Values.clientId -}}
{{- end -}}

{{- define "fleet-agent.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository .Values.image.tag -}}
{{- end -}}
{{- end -}}

{{/* Selector labels: stable for the life of the release. */}}
{{- define "fleet-agent.selectorLabels" -}}
io.agentfleet.client: {{ .Values.clientId | quote }}
io.agentfleet.managed: "true"
app.kubernetes.io/name: fleet-agent
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end -}}

{{- define "fleet-agent.labels" -}}
{{ include "fleet-agent.selectorLabels" . }}
io.agentfleet.component: agent
app.kubernetes.io/component: agent
app.kubernetes.io/part-of: agent-fleet
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}
{{- end -}}
