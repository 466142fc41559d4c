"""The table of config kinds meshreport collects.

One table serves the live collector (which paths to list, which API versions to try, in which
order), the YAML loader (which kinds are cluster-scoped, so they get no default namespace) and
the RBAC test (the ClusterRole must grant exactly get/list on these resources).
"""

from __future__ import annotations

from dataclasses import dataclass

ISTIO_NETWORKING_VERSIONS = ("v1", "v1beta1", "v1alpha3")
ISTIO_SECURITY_VERSIONS = ("v1", "v1beta1")


@dataclass(frozen=True)
class Kind:
    """A collected resource. `versions` is the order of preference: the first served one wins.

    `fallback_for` names a kind this one replaces only when that kind's group is not served
    (Endpoints are read only on clusters without EndpointSlices). `opt_in` kinds are collected only
    when the user asks (Secret names for gateway certificate checks).
    """

    kind: str
    group: str  # "" is the core group (/api/v1)
    versions: tuple[str, ...]
    plural: str
    namespaced: bool = True
    fallback_for: str | None = None
    opt_in: str | None = None
    only_group: str | None = None  # CRDs: keep only those defining this API group

    def keeps(self, body: dict) -> bool:
        """False for objects not worth storing (CRDs of other groups: Istio's own are huge and unused)."""
        if not self.only_group:
            return True
        spec = body.get("spec") if isinstance(body, dict) else None
        return isinstance(spec, dict) and spec.get("group") == self.only_group

    def path(self, version: str, namespace: str | None = None) -> str:
        """The list path, cluster-wide or for one namespace."""
        base = "/api/" + version if not self.group else f"/apis/{self.group}/{version}"
        if namespace is not None and self.namespaced:
            return f"{base}/namespaces/{namespace}/{self.plural}"
        return f"{base}/{self.plural}"

    def api_version(self, version: str) -> str:
        return f"{self.group}/{version}" if self.group else version


_NET = "networking.istio.io"
_SEC = "security.istio.io"
_GW = "gateway.networking.k8s.io"

# Order matters only for readability of logs and the snapshot; collection handles each independently.
COLLECTED: tuple[Kind, ...] = (
    Kind("Namespace", "", ("v1",), "namespaces", namespaced=False),
    Kind("Service", "", ("v1",), "services"),
    Kind("EndpointSlice", "discovery.k8s.io", ("v1", "v1beta1"), "endpointslices"),
    Kind("Endpoints", "", ("v1",), "endpoints", fallback_for="EndpointSlice"),
    Kind("Pod", "", ("v1",), "pods"),
    Kind("Deployment", "apps", ("v1",), "deployments"),
    Kind("StatefulSet", "apps", ("v1",), "statefulsets"),
    Kind("DaemonSet", "apps", ("v1",), "daemonsets"),
    Kind("ReplicaSet", "apps", ("v1",), "replicasets"),
    Kind(
        "MutatingWebhookConfiguration",
        "admissionregistration.k8s.io",
        ("v1", "v1beta1"),
        "mutatingwebhookconfigurations",
        namespaced=False,
    ),
    # Istio networking
    Kind("VirtualService", _NET, ISTIO_NETWORKING_VERSIONS, "virtualservices"),
    Kind("DestinationRule", _NET, ISTIO_NETWORKING_VERSIONS, "destinationrules"),
    Kind("Gateway", _NET, ISTIO_NETWORKING_VERSIONS, "gateways"),
    Kind("ServiceEntry", _NET, ISTIO_NETWORKING_VERSIONS, "serviceentries"),
    Kind("Sidecar", _NET, ISTIO_NETWORKING_VERSIONS, "sidecars"),
    Kind("WorkloadEntry", _NET, ISTIO_NETWORKING_VERSIONS, "workloadentries"),
    Kind("WorkloadGroup", _NET, ISTIO_NETWORKING_VERSIONS, "workloadgroups"),
    Kind("EnvoyFilter", _NET, ("v1alpha3",), "envoyfilters"),
    Kind("ProxyConfig", _NET, ("v1beta1",), "proxyconfigs"),
    # Istio security, telemetry, extensions
    Kind("PeerAuthentication", _SEC, ISTIO_SECURITY_VERSIONS, "peerauthentications"),
    Kind("AuthorizationPolicy", _SEC, ISTIO_SECURITY_VERSIONS, "authorizationpolicies"),
    Kind("RequestAuthentication", _SEC, ISTIO_SECURITY_VERSIONS, "requestauthentications"),
    Kind("Telemetry", "telemetry.istio.io", ("v1", "v1alpha1"), "telemetries"),
    Kind("WasmPlugin", "extensions.istio.io", ("v1alpha1",), "wasmplugins"),
    # Gateway API
    Kind("GatewayClass", _GW, ("v1", "v1beta1"), "gatewayclasses", namespaced=False),
    Kind("Gateway", _GW, ("v1", "v1beta1"), "gateways"),
    Kind("HTTPRoute", _GW, ("v1", "v1beta1"), "httproutes"),
    Kind("GRPCRoute", _GW, ("v1", "v1alpha2"), "grpcroutes"),
    Kind("TCPRoute", _GW, ("v1alpha2",), "tcproutes"),
    Kind("TLSRoute", _GW, ("v1alpha3", "v1alpha2"), "tlsroutes"),
    Kind("ReferenceGrant", _GW, ("v1", "v1beta1", "v1alpha2"), "referencegrants"),
    # Gateway API CRDs (bundle-version annotation, served versions) for IST0176; other groups' CRDs are dropped.
    Kind(
        "CustomResourceDefinition",
        "apiextensions.k8s.io",
        ("v1",),
        "customresourcedefinitions",
        namespaced=False,
        only_group=_GW,
    ),
    # Opt-in: Secret names (metadata only) for gateway certificate checks.
    Kind("Secret", "", ("v1",), "secrets", opt_in="secret_names"),
)

# The Istio ConfigMaps are read by name (get), never listed: other ConfigMaps are none of our business.
ISTIO_CONFIGMAPS = ("istio", "istio-sidecar-injector")

# Cluster-scoped kinds that are not collected but appear in manifests; they get no default namespace.
_OTHER_CLUSTER_SCOPED = frozenset(
    {
        "APIService",
        "CSIDriver",
        "CertificateSigningRequest",
        "ClusterIssuer",
        "ClusterRole",
        "ClusterRoleBinding",
        "ComponentStatus",
        "FlowSchema",
        "IngressClass",
        "Node",
        "PersistentVolume",
        "PriorityClass",
        "PriorityLevelConfiguration",
        "RuntimeClass",
        "StorageClass",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ValidatingWebhookConfiguration",
        "VolumeAttachment",
    }
)

CLUSTER_SCOPED_KINDS = frozenset(k.kind for k in COLLECTED if not k.namespaced) | _OTHER_CLUSTER_SCOPED


def is_cluster_scoped(kind: str) -> bool:
    """True for kinds that never have a namespace (kubectl would reject one)."""
    return kind in CLUSTER_SCOPED_KINDS


_FILTERED = {k.kind: k for k in COLLECTED if k.only_group}


def keep_object(kind: str, body: dict) -> bool:
    """Whether an object is worth storing (CustomResourceDefinitions only for the Gateway API group).

    The YAML loader asks this too, so a snapshot holds the same CRDs whether they came from files or a cluster.
    """
    k = _FILTERED.get(kind)
    return k is None or k.keeps(body)


def collected(*, secret_names: bool = False) -> list[Kind]:
    """The kinds a collection run lists, with the opt-in ones the user enabled."""
    enabled = {"secret_names": secret_names}
    return [k for k in COLLECTED if k.opt_in is None or enabled.get(k.opt_in, False)]
