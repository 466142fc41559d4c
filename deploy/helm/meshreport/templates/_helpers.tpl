{{- define "meshreport.labels" -}}
app.kubernetes.io/name: meshreport
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "meshreport.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "meshreport.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: [ALL]
{{- end -}}

{{- define "meshreport.env" -}}
- name: MESHREPORT_CONFIG
  value: /etc/meshreport/meshreport.yaml
- name: HOME
  value: /tmp
- name: XDG_CACHE_HOME
  value: /tmp/cache
{{- end -}}
