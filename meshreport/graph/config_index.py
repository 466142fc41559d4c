"""The graph's view of the mesh index: Kiali's workloads and the lookups the appenders need.

Appenders ask "which workload is `reviews-v1` in `bookinfo`", "which pods back it", "which
DestinationRules name this service". Everything is answered from the one `MeshIndex` of the
snapshot (`meshreport/mesh_index.py`, objects by kind and namespace), never by scanning all
objects per node; what is Kiali's alone (a controller with its pods, the sidecar as Kiali's
injection status annotation says) is built here once per graph.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

from meshreport.graph.model import is_ok
from meshreport.hosts import kiali_fqdn, label_value
from meshreport.istio_names import (
    AMBIENT_REDIRECTION,
    APP_LABELS,
    INJECT,
    NAMESPACE_INJECTION,
    REVISION,
    SIDECAR_CONTAINER,
    SIDECAR_STATUS,
    VERSION_LABELS,
)
from meshreport.mesh_index import CONTROLLER_KINDS, MeshIndex, index_of, owner, pod_template
from meshreport.snapshot.model import ConfigObject, Snapshot


def _pod_has_sidecar(pod: ConfigObject) -> bool:
    """Kiali's rule: Istio's injection status annotation names the proxy containers (or an istio-proxy
    native sidecar among its init containers); a container merely named istio-proxy does not count."""
    raw = pod.annotations.get(SIDECAR_STATUS)
    if not isinstance(raw, str):
        return False
    try:
        status = json.loads(raw)
    except ValueError:
        return False
    if not isinstance(status, dict):
        return False
    containers = status.get("containers") or []
    inits = status.get("initContainers") or []
    return (isinstance(containers, list) and len(containers) > 0) or (
        isinstance(inits, list) and SIDECAR_CONTAINER in inits
    )


@dataclass
class WorkloadInfo:
    """A workload as Kiali sees it: a controller (or a bare pod) with its pods and labels."""

    cluster: str
    namespace: str
    name: str
    kind: str
    #: Pod template labels (pod labels for bare pods): app/version and gateway selectors use these.
    labels: dict[str, str]
    annotations: dict[str, str]
    obj: ConfigObject | None = None
    pods: list[ConfigObject] = field(default_factory=list)
    namespace_labels: dict[str, str] = field(default_factory=dict)
    #: (pod count, answer) of `has_sidecar`: mesh check, health and the validator all ask, per pod.
    _sidecar: tuple[int, bool] | None = field(default=None, repr=False, compare=False)

    @property
    def app(self) -> str | None:
        return label_value(self.labels, APP_LABELS)

    @property
    def version(self) -> str | None:
        return label_value(self.labels, VERSION_LABELS)

    @property
    def pod_count(self) -> int:
        """Pods found; without collected pods, the controller's status replica count. An object with
        no status has no pods (Kiali counts pods, and no replicas is not one replica)."""
        if self.pods:
            return len(self.pods)
        if self.obj is None:
            return 0
        status = self.obj.body.get("status") or {}
        for key in ("replicas", "currentNumberScheduled", "active"):
            if isinstance(status.get(key), int):
                return status[key]
        return 0

    @property
    def in_mesh_or_unknown(self) -> bool:
        """Kiali's workload `IstioSidecar`: no pods cannot prove a missing proxy; a Deployment's pods
        are alike, so its first pod answers; other kinds need every pod injected."""
        if not self.pods:
            return True
        if self.kind == "Deployment":
            return _pod_has_sidecar(self.pods[0])
        return self.has_sidecar

    @property
    def has_sidecar(self) -> bool:
        """All pods carry istio-proxy; with no pods collected, whether injection is configured."""
        if self.pods:
            if self._sidecar is None or self._sidecar[0] != len(self.pods):
                self._sidecar = (len(self.pods), all(_pod_has_sidecar(p) for p in self.pods))
            return self._sidecar[1]
        inject = self.annotations.get(INJECT) or self.labels.get(INJECT)
        if inject is not None:
            return inject == "true"
        ns = self.namespace_labels
        return ns.get(NAMESPACE_INJECTION) == "enabled" or REVISION in ns

    @property
    def is_ambient(self) -> bool:
        """Kiali's workload `IsAmbient`: a waypoint, or pods the ztunnel redirects (the CNI's
        redirection annotation; a Deployment's first pod answers, other kinds any pod). No pods
        cannot show enrolment, whatever the namespace's dataplane-mode label asks for."""
        if self.is_waypoint or any(p.labels.get("app") == "ztunnel" for p in self.pods):
            return True
        if not self.pods:
            return False
        pods = self.pods[:1] if self.kind == "Deployment" else self.pods
        return any(p.annotations.get(AMBIENT_REDIRECTION) == "enabled" for p in pods)

    @property
    def is_waypoint(self) -> bool:
        return self.labels.get("gateway.istio.io/managed") == "istio.io-mesh-controller"

    @property
    def is_gateway(self) -> bool:
        lb = self.labels
        return (
            lb.get("operator.istio.io/component") in ("IngressGateways", "EgressGateways")
            or lb.get("istio") in ("ingressgateway", "egressgateway")
            or "gateway.networking.k8s.io/gateway-name" in lb
        )


def _template(obj: ConfigObject) -> dict:
    """The pod template's metadata (labels, annotations)."""
    return pod_template(obj).get("metadata") or {}


class ConfigIndex:
    """Workloads, pods, services and Istio objects keyed the way appenders look them up."""

    def __init__(self, objects: MeshIndex | list[ConfigObject]) -> None:
        self.namespace_labels: dict[str, dict[str, str]] = {}
        self.namespaces_seen: set[str] = set()
        self.workloads: dict[tuple[str, str], list[WorkloadInfo]] = defaultdict(list)
        self.workloads_by_ns: dict[str, list[WorkloadInfo]] = defaultdict(list)
        self.services: dict[tuple[str, str], ConfigObject] = {}
        #: (cluster, namespace, name) -> Service: Kiali reads a node's Service from the node's cluster.
        self.services_in: dict[tuple[str, str, str], ConfigObject] = {}
        self.services_by_ns: dict[str, list[ConfigObject]] = defaultdict(list)
        self.service_entries: list[ConfigObject] = []
        self.workload_entries_by_ns: dict[str, list[ConfigObject]] = defaultdict(list)
        self.virtual_services: list[ConfigObject] = []
        self.destination_rules_by_host: dict[str, list[ConfigObject]] = defaultdict(list)
        self.virtual_services_by_dest: dict[str, list[ConfigObject]] = defaultdict(list)
        self.gateways: list[ConfigObject] = []
        self.k8s_gateways: dict[tuple[str, str], ConfigObject] = {}
        mesh = index_of(objects)
        self._config_maps = mesh.of_kind("ConfigMap")
        self._export_to: dict[str | None, list[str]] = {}
        self._build(mesh)

    def default_export_to(self, cluster: str | None = None) -> list[str]:
        """MeshConfig's defaultServiceExportTo, read once per cluster: appenders ask for it per
        namespace. Each cluster's control plane has its own mesh config (Kiali's
        BuildNamespaceToExportTo); a cluster without one (a remote cluster of a primary) uses the
        snapshot's."""
        if cluster not in self._export_to:
            from meshreport.validation.meshconfig import MeshConfig

            own = [o for o in self._config_maps if o.cluster == cluster] if cluster is not None else []
            mesh = MeshConfig.from_objects(own)
            if mesh.origin == "defaults":
                mesh = MeshConfig.from_objects(self._config_maps)
            self._export_to[cluster] = list(mesh.default_service_export_to)
        return self._export_to[cluster]

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot, index: MeshIndex | None = None) -> ConfigIndex:
        """The view of `index` (the snapshot's shared MeshIndex), or of a new one when not given."""
        return cls(index if index is not None else MeshIndex(snapshot.objects))

    def _build(self, mesh: MeshIndex) -> None:
        by_kind = mesh.of_kind
        self.namespace_labels = mesh.namespace_labels
        self.namespaces_seen = mesh.namespace_names

        # Keys start with the cluster: each cluster has its own controllers, pods and Services, and a
        # pod never joins another cluster's controller of the same name (Kiali reads per cluster).
        wl_by_key: dict[tuple[str, str, str, str], WorkloadInfo] = {}

        def add(o: ConfigObject, labels: dict[str, str], annotations: dict[str, str]) -> WorkloadInfo:
            ns = o.namespace or ""
            w = WorkloadInfo(o.cluster, ns, o.name, o.kind, labels, annotations, obj=o)
            w.namespace_labels = self.namespace_labels.get(ns, {})
            wl_by_key[(o.cluster, ns, o.kind, o.name)] = w
            self.workloads[(ns, o.name)].append(w)
            self.workloads_by_ns[ns].append(w)
            return w

        for kind in CONTROLLER_KINDS:
            for o in by_kind(kind):
                t = _template(o)
                add(o, t.get("labels") or {}, t.get("annotations") or {})
        # ReplicaSets / Jobs owned by a controller are not workloads themselves: map them to it.
        parent: dict[tuple[str, str, str, str], tuple[str, str]] = {}
        for kind, owner_kind in (("ReplicaSet", "Deployment"), ("Job", "CronJob")):
            for o in by_kind(kind):
                own = owner(o)
                if own is not None and own[0] in (owner_kind, "DeploymentConfig"):
                    parent[(o.cluster, o.namespace or "", kind, o.name)] = own
                else:
                    t = _template(o)
                    add(o, t.get("labels") or {}, t.get("annotations") or {})
        for pod in by_kind("Pod"):
            ns, cl = pod.namespace or "", pod.cluster
            own = owner(pod)
            target: tuple[str, str] | None = None
            if own is not None:
                kind, name = own
                if kind in ("ReplicaSet", "Job"):
                    if (cl, ns, kind, name) in parent:
                        target = parent[(cl, ns, kind, name)]
                    elif (cl, ns, kind, name) in wl_by_key:
                        target = (kind, name)
                    elif kind == "ReplicaSet":
                        h = pod.labels.get("pod-template-hash")
                        base = name[: -len(h) - 1] if h and name.endswith("-" + h) else name.rsplit("-", 1)[0]
                        target = ("Deployment", base)
                    else:
                        target = (kind, name)
                else:
                    target = (kind, name)
            w = wl_by_key.get((cl, ns, target[0], target[1])) if target else None
            if w is None:
                if target is not None and target[0] in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"):
                    # Controller not collected: the pods still define the workload.
                    w = WorkloadInfo(pod.cluster, ns, target[1], target[0], pod.labels, pod.annotations)
                    w.namespace_labels = self.namespace_labels.get(ns, {})
                    wl_by_key[(cl, ns, target[0], target[1])] = w
                    self.workloads[(ns, target[1])].append(w)
                    self.workloads_by_ns[ns].append(w)
                elif target is None:
                    w = add(pod, pod.labels, pod.annotations)
                else:
                    continue
            w.pods.append(pod)
        # Kiali gives a controller the pods its template labels select, owner references or not.
        unowned_by_ns: dict[tuple[str, str], list[ConfigObject]] = defaultdict(list)
        for p in by_kind("Pod"):
            if owner(p) is None:
                unowned_by_ns[(p.cluster, p.namespace or "")].append(p)
        for (cl, ns), unowned in unowned_by_ns.items():
            for w in self.workloads_by_ns.get(ns, []):
                if w.cluster != cl or w.obj is None or w.kind not in CONTROLLER_KINDS or not w.labels:
                    continue
                for p in unowned:
                    if p not in w.pods and all(p.labels.get(k) == v for k, v in w.labels.items()):
                        w.pods.append(p)

        self.app_workloads: dict[tuple[str, str], list[WorkloadInfo]] = defaultdict(list)
        for ws in self.workloads_by_ns.values():
            for w in ws:
                app = w.app
                if app:
                    self.app_workloads[(w.namespace, app)].append(w)

        for o in by_kind("Service"):
            self.services[(o.namespace or "", o.name)] = o
            self.services_in[(o.cluster, o.namespace or "", o.name)] = o
            self.services_by_ns[o.namespace or ""].append(o)
        self.service_entries = list(by_kind("ServiceEntry"))
        for o in by_kind("WorkloadEntry"):
            self.workload_entries_by_ns[o.namespace or ""].append(o)
        for o in by_kind("DestinationRule"):
            host = o.spec.get("host")
            if isinstance(host, str) and host:
                self.destination_rules_by_host[kiali_fqdn(host, o.namespace)].append(o)
        for o in by_kind("VirtualService"):
            if o.group and o.group != "networking.istio.io":
                continue
            self.virtual_services.append(o)
            for host in sorted(vs_destination_hosts(o)):
                self.virtual_services_by_dest[host].append(o)
        self.gateways = list(by_kind("Gateway"))
        for o in by_kind("K8sGateway"):
            self.k8s_gateways[(o.namespace or "", o.name)] = o

    # --- lookups -------------------------------------------------------------------------

    def workload(self, cluster: str, namespace: str, name: str, strict: bool = False) -> WorkloadInfo | None:
        """The named workload in `cluster`; unless `strict`, one of another cluster when none is there."""
        found = self.workloads.get((namespace, name))
        if not found:
            return None
        for w in found:
            if w.cluster == cluster:
                return w
        return None if strict else found[0]

    def app_workloads_in(self, cluster: str, namespace: str, app: str, version: str = "") -> list[WorkloadInfo]:
        """Kiali's getAppWorkloads: the app's workloads in `cluster` only; a version that is empty,
        unknown or latest (Istio's canonical revision for no version label) means every version."""
        ws = [w for w in self.app_workloads.get((namespace, app), []) if w.cluster == cluster]
        if is_ok(version) and version != "latest":
            return [w for w in ws if w.version == version]
        return ws

    def app_workloads_for(self, namespace: str, app: str, version: str = "") -> list[WorkloadInfo]:
        """Workloads whose app label is `app` (and version label `version` when given)."""
        ws = self.app_workloads.get((namespace, app), [])
        if version:
            return [w for w in ws if w.version == version]
        return ws

    def service(self, namespace: str, name: str, cluster: str | None = None) -> ConfigObject | None:
        """The named Service: `cluster`'s own when it has one (Kiali reads the node's cluster), else
        one of another cluster, as `workload` does."""
        if cluster is not None:
            found = self.services_in.get((cluster, namespace, name))
            if found is not None:
                return found
        return self.services.get((namespace, name))


def vs_destination_hosts(vs: ConfigObject) -> set[str]:
    """Expanded hosts of every http/tcp/tls route destination of a VirtualService."""
    hosts: set[str] = set()
    for kind in ("http", "tcp", "tls"):
        for route in vs.spec.get(kind) or []:
            if not isinstance(route, dict):
                continue
            for dest in route.get("route") or []:
                host = ((dest or {}).get("destination") or {}).get("host")
                if isinstance(host, str) and host:
                    hosts.add(kiali_fqdn(host, vs.namespace))
    return hosts
