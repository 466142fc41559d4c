"""Enum values and top-level spec fields of Istio's CRDs (istio/api, Apache-2.0; Istio 1.2x).

Hand-written from the API reference: an enum value outside these lists does not decode, and a
top-level field outside `SPEC_FIELDS` is dropped by the API server (pruned), which users rarely intend.
"""

from __future__ import annotations

LB_SIMPLE = ("UNSPECIFIED", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN", "LEAST_REQUEST", "LEAST_CONN")
CLIENT_TLS_MODE = ("DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL")
SERVER_TLS_MODE = ("PASSTHROUGH", "SIMPLE", "MUTUAL", "AUTO_PASSTHROUGH", "ISTIO_MUTUAL", "OPTIONAL_MUTUAL")
TLS_VERSION = ("TLS_AUTO", "TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3")
H2_UPGRADE = ("DEFAULT", "DO_NOT_UPGRADE", "UPGRADE")
SE_LOCATION = ("MESH_EXTERNAL", "MESH_INTERNAL")
SE_RESOLUTION = ("NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN")
CAPTURE_MODE = ("DEFAULT", "IPTABLES", "NONE")
OUTBOUND_MODE = ("REGISTRY_ONLY", "ALLOW_ANY")
AP_ACTION = ("ALLOW", "DENY", "AUDIT", "CUSTOM")
MTLS_MODE = ("UNSET", "DISABLE", "PERMISSIVE", "STRICT")
EF_APPLY_TO = (
    "INVALID",
    "LISTENER",
    "FILTER_CHAIN",
    "NETWORK_FILTER",
    "HTTP_FILTER",
    "ROUTE_CONFIGURATION",
    "VIRTUAL_HOST",
    "HTTP_ROUTE",
    "CLUSTER",
    "EXTENSION_CONFIG",
    "BOOTSTRAP",
    "LISTENER_FILTER",
)
EF_OPERATION = (
    "INVALID",
    "MERGE",
    "ADD",
    "REMOVE",
    "INSERT_BEFORE",
    "INSERT_AFTER",
    "INSERT_FIRST",
    "REPLACE",
)
EF_CONTEXT = ("ANY", "SIDECAR_INBOUND", "SIDECAR_OUTBOUND", "GATEWAY")
EF_FILTER_CLASS = ("UNSPECIFIED", "AUTHN", "AUTHZ", "STATS")
WASM_PHASE = ("UNSPECIFIED_PHASE", "AUTHN", "AUTHZ", "STATS")
WASM_PULL = ("UNSPECIFIED_POLICY", "IfNotPresent", "Always")
WASM_FAIL = ("FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD")
WASM_TYPE = ("UNSPECIFIED_PLUGIN_TYPE", "HTTP", "NETWORK")
WASM_MODE = ("UNDEFINED", "CLIENT", "SERVER", "CLIENT_AND_SERVER")
ENV_VALUE_FROM = ("INLINE", "HOST")
TELEMETRY_MODE = ("CLIENT_AND_SERVER", "CLIENT", "SERVER")
TAG_OPERATION = ("UPSERT", "REMOVE")
METRIC = (
    "ALL_METRICS",
    "REQUEST_COUNT",
    "REQUEST_DURATION",
    "REQUEST_SIZE",
    "RESPONSE_SIZE",
    "TCP_OPENED_CONNECTIONS",
    "TCP_CLOSED_CONNECTIONS",
    "TCP_SENT_BYTES",
    "TCP_RECEIVED_BYTES",
    "GRPC_REQUEST_MESSAGES",
    "GRPC_RESPONSE_MESSAGES",
)

SPEC_FIELDS: dict[str, frozenset[str]] = {
    "VirtualService": frozenset({"hosts", "gateways", "http", "tls", "tcp", "exportTo"}),
    "DestinationRule": frozenset({"host", "trafficPolicy", "subsets", "exportTo", "workloadSelector"}),
    "Gateway": frozenset({"servers", "selector"}),
    "ServiceEntry": frozenset(
        {
            "hosts",
            "addresses",
            "ports",
            "location",
            "resolution",
            "endpoints",
            "workloadSelector",
            "exportTo",
            "subjectAltNames",
        }
    ),
    "Sidecar": frozenset({"workloadSelector", "ingress", "egress", "inboundConnectionPool", "outboundTrafficPolicy"}),
    "EnvoyFilter": frozenset({"workloadSelector", "configPatches", "priority", "targetRefs"}),
    "WorkloadEntry": frozenset({"address", "ports", "labels", "network", "locality", "weight", "serviceAccount"}),
    "WorkloadGroup": frozenset({"metadata", "template", "probe"}),
    "PeerAuthentication": frozenset({"selector", "mtls", "portLevelMtls"}),
    "AuthorizationPolicy": frozenset({"selector", "targetRef", "targetRefs", "rules", "action", "provider"}),
    "RequestAuthentication": frozenset({"selector", "targetRef", "targetRefs", "jwtRules"}),
    "Telemetry": frozenset({"selector", "targetRef", "targetRefs", "tracing", "metrics", "accessLogging"}),
    "WasmPlugin": frozenset(
        {
            "selector",
            "targetRef",
            "targetRefs",
            "url",
            "sha256",
            "imagePullPolicy",
            "imagePullSecret",
            "pluginConfig",
            "pluginName",
            "phase",
            "priority",
            "failStrategy",
            "vmConfig",
            "match",
            "type",
        }
    ),
    "ProxyConfig": frozenset({"selector", "concurrency", "environmentVariables", "image"}),
}
