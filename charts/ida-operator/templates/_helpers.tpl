{{/* The prefix of every object's name: the release name, as config/default's namePrefix. */}}
{{- define "ida-operator.prefix" -}}
{{- .Release.Name -}}
{{- end -}}

{{/* The labels config/default puts on everything. */}}
{{- define "ida-operator.labels" -}}
app.kubernetes.io/name: ida-operator
app.kubernetes.io/part-of: ida-operator
{{- end -}}

{{- define "ida-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (toString .Values.image.tag) -}}
{{- end -}}

{{/* The manager's own image: the pkcs11 build when it must reach a token. */}}
{{- define "ida-operator.managerImage" -}}
{{- include "ida-operator.image" . -}}{{- if .Values.pkcs11.enabled -}}-pkcs11{{- end -}}
{{- end -}}

{{- define "ida-operator.serviceAccount" -}}
{{- printf "%s-controller-manager" (include "ida-operator.prefix" .) -}}
{{- end -}}
