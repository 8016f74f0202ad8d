{{- define "facestream.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "facestream.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "facestream.labels" -}}
{{ include "facestream.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "facestream.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "facestream.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The worker configuration: values.config, with the GPU switch applied. */}}
{{- define "facestream.config" -}}
{{- $config := deepCopy .Values.config -}}
{{- if .Values.gpu.enabled -}}
{{- $inference := default dict (get $config "Inference") -}}
{{- $_ := set $inference "ExecutionProvider" "cuda" -}}
{{- $_ := set $config "Inference" $inference -}}
{{- end -}}
{{- toPrettyJson $config -}}
{{- end -}}

{{/*
The known-person thresholds (thresholds.json beside facestream.json, where the worker reads them): the values'
`thresholds` document when given, else the calibrated file the chart ships (files/thresholds.json, config/thresholds.json).
*/}}
{{- define "facestream.thresholds" -}}
{{- if .Values.thresholds -}}
{{- toPrettyJson .Values.thresholds -}}
{{- else -}}
{{- .Files.Get "files/thresholds.json" | trim | required "files/thresholds.json is missing from the chart (a link to config/thresholds.json)" -}}
{{- end -}}
{{- end -}}

{{- define "facestream.metricsPort" -}}
{{- dig "Metrics" "Port" 9464 .Values.config | int -}}
{{- end -}}

{{- define "facestream.secretName" -}}
{{- if .Values.secret.existingSecret -}}
{{- .Values.secret.existingSecret -}}
{{- else if .Values.secret.create -}}
{{- include "facestream.fullname" . -}}
{{- end -}}
{{- end -}}

{{- define "facestream.secretKeys" -}}
{{- if .Values.secret.existingSecret -}}
{{- toJson .Values.secret.keys -}}
{{- else if .Values.secret.create -}}
{{- toJson (keys .Values.secret.values | sortAlpha) -}}
{{- else -}}
[]
{{- end -}}
{{- end -}}
