"""The Istio annotations meshreport knows: name, the kinds they apply to, maturity, deprecation, value check.

This is data, not a rule module. `ANNOTATIONS` is istio/api `annotation/annotations.yaml` entry for entry
(name, `resources`, `featureStatus`, `deprecated`, `hidden`), taken from the newest generated copy the
reference library holds: istio/api `annotation/annotations.gen.go` with `AllResourceAnnotations()` listing 62
annotations and resource types Any, AuthorizationPolicy, Gateway, GatewayClass, Ingress, Namespace, Pod,
Service, ServiceEntry, WorkloadEntry (the istio/api tree of the Istio 1.23 era: it has
`networking.istio.io/traffic-distribution` and `sidecar.istio.io/nativeSidecar`, no longer
`alpha.istio.io/identity` or `sidecar.istio.io/controlPlaneAuthPolicy`). The library holds no newer copy.

`LATER` holds annotations newer Istio releases added after that copy (named in Istio's release notes:
`ambient.istio.io/dns-capture` 1.25, `sidecar.istio.io/statsFlushInterval` and `statsEvictionInterval`
1.28, ...). Their resources and status are not verified against annotations.yaml; they are listed so
valid new annotations are not reported as unknown (IST0108). Edit the table, not the rules, when Istio
adds or deprecates an annotation.

`kinds` uses the Kubernetes kind the annotation belongs on; `Pod` also covers pod templates of
workload kinds (the analyzer reads a Deployment's template annotations as the pod's). `Any` means
every kind. `check` names a value validator in `annotations.py` (None: any value is accepted).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Annotation:
    name: str
    kinds: tuple[str, ...]
    status: str = "Alpha"  # Alpha | Beta | Stable (annotations.yaml `featureStatus`)
    deprecated: bool = False
    check: str | None = None
    hidden: bool = False  # annotations.yaml `hidden`: left out of Istio's published reference


_POD = ("Pod",)
_ANY = ("Any",)
_WE = ("WorkloadEntry",)

ANNOTATIONS: tuple[Annotation, ...] = (
    Annotation("alpha.istio.io/canonical-serviceaccounts", ("Service",), deprecated=True, hidden=True),
    Annotation("alpha.istio.io/kubernetes-serviceaccounts", ("Service",), deprecated=True, hidden=True),
    Annotation("ambient.istio.io/bypass-inbound-capture", _POD, check="bool", hidden=True),
    Annotation("ambient.istio.io/redirection", _POD, status="Beta"),
    Annotation("ambient.istio.io/waypoint-inbound-binding", ("GatewayClass", "Gateway"), hidden=True),
    Annotation("galley.istio.io/analyze-suppress", _ANY),
    Annotation("gateway.istio.io/controller-version", _ANY, hidden=True),
    Annotation("gateway.istio.io/name-override", ("Gateway",), hidden=True),
    Annotation("gateway.istio.io/service-account", ("Gateway",), hidden=True),
    Annotation("inject.istio.io/templates", _POD),
    Annotation("istio.io/autoRegistrationGroup", _WE, hidden=True),
    Annotation("istio.io/connectedAt", _WE, hidden=True),
    Annotation("istio.io/disconnectedAt", _WE, hidden=True),
    Annotation("istio.io/dry-run", ("AuthorizationPolicy",), check="bool"),
    Annotation("istio.io/rev", _POD),
    Annotation("istio.io/workloadController", _WE, hidden=True),
    Annotation("kubernetes.io/ingress.class", ("Ingress",), status="Stable"),
    Annotation("networking.istio.io/exportTo", ("Service",), check="export_to"),
    Annotation("networking.istio.io/service-type", ("Gateway",), hidden=True),
    Annotation("networking.istio.io/traffic-distribution", ("Service", "ServiceEntry")),
    Annotation("prometheus.istio.io/merge-metrics", _POD, check="bool"),
    Annotation("proxy.istio.io/config", _POD, status="Beta", check="yaml"),
    Annotation("proxy.istio.io/overrides", _POD, hidden=True),
    Annotation("readiness.status.sidecar.istio.io/applicationPorts", _POD, check="ports"),
    Annotation("readiness.status.sidecar.istio.io/failureThreshold", _POD, check="uint32"),
    Annotation("readiness.status.sidecar.istio.io/initialDelaySeconds", _POD, check="uint32"),
    Annotation("readiness.status.sidecar.istio.io/periodSeconds", _POD, check="uint32"),
    Annotation("sidecar.istio.io/agentLogLevel", _POD),
    Annotation("sidecar.istio.io/bootstrapOverride", _POD),
    Annotation("sidecar.istio.io/componentLogLevel", _POD),
    Annotation("sidecar.istio.io/discoveryAddress", _POD, deprecated=True),
    Annotation("sidecar.istio.io/enableCoreDump", _POD, check="bool"),
    Annotation("sidecar.istio.io/extraStatTags", _POD, deprecated=True),
    Annotation("sidecar.istio.io/inject", _POD, status="Beta", deprecated=True, check="bool"),
    Annotation("sidecar.istio.io/interceptionMode", _POD, check="interception"),
    Annotation("sidecar.istio.io/logLevel", _POD, check="log_level"),
    Annotation("sidecar.istio.io/nativeSidecar", _POD, check="bool"),
    Annotation("sidecar.istio.io/proxyCPU", _POD, check="quantity"),
    Annotation("sidecar.istio.io/proxyCPULimit", _POD, check="quantity"),
    Annotation("sidecar.istio.io/proxyImage", _POD),
    Annotation("sidecar.istio.io/proxyImageType", _POD),
    Annotation("sidecar.istio.io/proxyMemory", _POD, check="quantity"),
    Annotation("sidecar.istio.io/proxyMemoryLimit", _POD, check="quantity"),
    Annotation("sidecar.istio.io/rewriteAppHTTPProbers", _POD, check="bool"),
    Annotation("sidecar.istio.io/statsHistogramBuckets", _POD, check="json"),
    Annotation("sidecar.istio.io/statsInclusionPrefixes", _POD, deprecated=True),
    Annotation("sidecar.istio.io/statsInclusionRegexps", _POD, deprecated=True),
    Annotation("sidecar.istio.io/statsInclusionSuffixes", _POD, deprecated=True),
    Annotation("sidecar.istio.io/status", _POD),
    Annotation("sidecar.istio.io/userVolume", _POD, check="json"),
    Annotation("sidecar.istio.io/userVolumeMount", _POD, check="json"),
    Annotation("status.sidecar.istio.io/port", _POD, check="port_or_zero"),
    Annotation("topology.istio.io/controlPlaneClusters", ("Namespace",)),
    Annotation("traffic.istio.io/nodeSelector", ("Service",), status="Stable", check="json"),
    Annotation("traffic.sidecar.istio.io/excludeInboundPorts", _POD, check="ports"),
    Annotation("traffic.sidecar.istio.io/excludeInterfaces", _POD),
    Annotation("traffic.sidecar.istio.io/excludeOutboundIPRanges", _POD, check="cidrs"),
    Annotation("traffic.sidecar.istio.io/excludeOutboundPorts", _POD, check="ports"),
    Annotation("traffic.sidecar.istio.io/includeInboundPorts", _POD, check="ports_or_star"),
    Annotation("traffic.sidecar.istio.io/includeOutboundIPRanges", _POD, check="cidrs_or_star"),
    Annotation("traffic.sidecar.istio.io/includeOutboundPorts", _POD, check="ports"),
    Annotation("traffic.sidecar.istio.io/kubevirtInterfaces", _POD),
)

# Newer than the annotations.yaml copy above (see the module doc); kinds and status as first compiled.
LATER: tuple[Annotation, ...] = (
    Annotation("ambient.istio.io/dns-capture", _POD, check="bool"),
    Annotation("networking.istio.io/address-type", ("Gateway",)),
    Annotation("sidecar.istio.io/statsCompression", _POD),
    Annotation("sidecar.istio.io/statsEvictionInterval", _POD),
    Annotation("sidecar.istio.io/statsFlushInterval", _POD),
)

BY_NAME: dict[str, Annotation] = {a.name: a for a in (*ANNOTATIONS, *LATER)}


def is_istio_annotation(name: str) -> bool:
    """istioctl inspects annotations whose prefix ends in `istio.io`, plus `kubernetes.io/ingress.class`."""
    if name == "kubernetes.io/ingress.class":
        return True
    prefix, sep, _ = name.partition("/")
    return bool(sep) and prefix.endswith("istio.io")
