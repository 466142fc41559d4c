"""Istio's names that meshreport reads from config and telemetry, in one place.

Container names, labels and annotations as Istio (and Kiali, for the app/version label order)
define them; the collector, the graph, health and validation all use these.
"""

from __future__ import annotations

#: The sidecar proxy container and the init container that sets up its traffic redirection.
SIDECAR_CONTAINER = "istio-proxy"
ISTIO_INIT_CONTAINER = "istio-init"
#: Pod annotation the injector writes on injected pods.
SIDECAR_STATUS = "sidecar.istio.io/status"
#: Injection switch, a label (current) or annotation (deprecated) on pods and templates.
INJECT = "sidecar.istio.io/inject"
NAMESPACE_INJECTION = "istio-injection"
REVISION = "istio.io/rev"
#: Ambient mode: the data-plane mode label and the annotation the CNI sets on captured pods.
DATAPLANE_MODE = "istio.io/dataplane-mode"
AMBIENT_REDIRECTION = "ambient.istio.io/redirection"
#: Label of a remote secret, whose data keys are the cluster IDs of the other clusters.
MULTICLUSTER_SECRET = "istio/multiCluster"

#: The cluster DNS domain services live under, unless MeshConfig says otherwise.
DEFAULT_DOMAIN = "cluster.local"
#: Kiali's canonical app and version labels, first present wins.
APP_LABELS = ("service.istio.io/canonical-name", "app.kubernetes.io/name", "app")
VERSION_LABELS = ("service.istio.io/canonical-revision", "app.kubernetes.io/version", "version")
#: Istio's own namespace: the control plane, the gateways and the default root namespace.
ISTIO_NAMESPACE = "istio-system"
#: The trust domain SPIFFE identities live under, unless MeshConfig says otherwise.
DEFAULT_TRUST_DOMAIN = "cluster.local"
#: Namespaces Kiali treats as the control plane's (no sidecar checks there).
CONTROL_PLANE_NAMESPACES = frozenset({ISTIO_NAMESPACE})
