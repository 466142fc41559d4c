"""Workloads from snapshot config objects: replicas, pods, sidecar, app/version, annotations.

Health needs Kiali's workload facts (desired/current/available replicas, synced proxies, the
`health.kiali.io/rate` annotation) and the graph needs to find a node's workload or an app's
workloads. Built once per snapshot and indexed, so a 10,000-workload mesh costs one pass.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from meshreport.health import WorkloadStatus
from meshreport.snapshot.model import ConfigObject

CONTROLLER_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")
PROXY_CONTAINER = "istio-proxy"

# Kiali's app/version label lookup order when no explicit label names are configured.
APP_LABELS = ("service.istio.io/canonical-name", "app.kubernetes.io/name", "app")
VERSION_LABELS = ("service.istio.io/canonical-revision", "app.kubernetes.io/version", "version")


def first_label(labels: dict[str, str], names: tuple[str, ...]) -> str:
    for n in names:
        if labels.get(n):
            return labels[n]
    return ""


@dataclass
class Workload:
    """One workload (controller or bare pod) with what health and the graph ask of it.

    Replica counts are None when the object carries no `status` (config read from YAML files,
    before a deploy): then there is no workload status, rather than a false "0 available".
    """

    name: str
    namespace: str
    kind: str
    cluster: str
    labels: dict[str, str]
    annotations: dict[str, str]
    selector: dict[str, str]
    desired: int | None = None
    current: int | None = None
    available: int | None = None
    pods: list[ConfigObject] = field(default_factory=list)
    template_sidecar: bool = False
    injection_enabled: bool = False

    @property
    def app(self) -> str:
        return first_label(self.labels, APP_LABELS)

    @property
    def version(self) -> str:
        return first_label(self.labels, VERSION_LABELS)

    @property
    def is_gateway(self) -> bool:
        lb = self.labels
        return (
            lb.get("operator.istio.io/component") in ("IngressGateways", "EgressGateways")
            or lb.get("istio") in ("ingressgateway", "egressgateway")
            or "gateway.networking.k8s.io/gateway-name" in lb
        )

    @property
    def has_sidecar(self) -> bool:
        """Kiali: any pod runs an istio-proxy; without pods, the template or namespace injection."""
        if self.pods:
            return any(pod_has_proxy(p.body) for p in self.pods)
        if self.template_sidecar:
            return True
        inject = self.labels.get("sidecar.istio.io/inject")
        if inject == "false":
            return False
        return self.injection_enabled or inject == "true"

    @property
    def synced_proxies(self) -> int:
        """Pods whose istio-proxy is ready (it is ready once it received its config), or -1.

        -1 (not checked) for gateways, workloads without sidecar, and pods without status.
        """
        if self.is_gateway or not self.has_sidecar or not self.pods:
            return -1
        counted = [proxy_ready(p.body) for p in self.pods]
        if all(c is None for c in counted):
            return -1
        return sum(1 for c in counted if c)

    def status(self) -> WorkloadStatus | None:
        if self.desired is None:
            return None
        return WorkloadStatus(
            name=self.name,
            desired_replicas=self.desired,
            current_replicas=self.current or 0,
            available_replicas=self.available or 0,
            synced_proxies=self.synced_proxies,
        )


def _containers(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    return list(pod_spec.get("containers") or []) + list(pod_spec.get("initContainers") or [])


def pod_has_proxy(pod: dict[str, Any]) -> bool:
    spec = pod.get("spec") or {}
    return any(c.get("name") == PROXY_CONTAINER for c in _containers(spec))


def proxy_ready(pod: dict[str, Any]) -> bool | None:
    """True/False from the istio-proxy container status; None when the pod has no status."""
    st = pod.get("status") or {}
    statuses = list(st.get("containerStatuses") or []) + list(st.get("initContainerStatuses") or [])
    for cs in statuses:
        if cs.get("name") == PROXY_CONTAINER:
            return bool(cs.get("ready"))
    return None


def _int(x: Any) -> int:
    return int(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else 0


def _replicas(kind: str, body: dict[str, Any]) -> tuple[int | None, int | None, int | None]:
    """(desired, current, available) as Kiali reads them per controller kind."""
    status = body.get("status")
    if not isinstance(status, dict):
        return None, None, None
    spec = body.get("spec") or {}
    if kind == "DaemonSet":
        return (
            _int(status.get("desiredNumberScheduled")),
            _int(status.get("currentNumberScheduled")),
            _int(status.get("numberAvailable")),
        )
    desired = spec.get("replicas", 1)
    desired = _int(desired) if desired is not None else 1
    current = _int(status.get("replicas"))
    if kind == "StatefulSet":
        return desired, current, _int(status.get("readyReplicas"))
    return desired, current, _int(status.get("availableReplicas"))


def _pod_ready(pod: dict[str, Any]) -> bool:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


class WorkloadIndex:
    """All workloads of a snapshot, found by (cluster, namespace, name) or by app."""

    def __init__(self, objects: Iterable[ConfigObject]) -> None:
        objects = list(objects)
        injected_ns = {
            (o.cluster, o.name)
            for o in objects
            if o.kind == "Namespace"
            and (o.labels.get("istio-injection") == "enabled" or ("istio.io/rev" in o.labels))
            and o.labels.get("istio-injection") != "disabled"
        }
        owned_rs: set[tuple[str, str, str]] = set()
        pods_by_ns: dict[tuple[str, str], list[ConfigObject]] = defaultdict(list)
        controllers: list[ConfigObject] = []
        for o in objects:
            if o.kind == "Pod":
                pods_by_ns[(o.cluster, o.namespace or "")].append(o)
            elif o.kind in CONTROLLER_KINDS:
                controllers.append(o)
                if o.kind == "ReplicaSet" and any(
                    r.get("kind") == "Deployment" for r in o.metadata.get("ownerReferences") or []
                ):
                    owned_rs.add((o.cluster, o.namespace or "", o.name))
        self.by_key: dict[tuple[str, str, str], Workload] = {}
        self._by_name: dict[tuple[str, str], list[Workload]] = defaultdict(list)
        self._by_app: dict[tuple[str, str, str], list[Workload]] = defaultdict(list)
        self._by_app_any: dict[tuple[str, str], list[Workload]] = defaultdict(list)
        pod_index = {k: _LabelIndex(v) for k, v in pods_by_ns.items()}
        claimed: set[int] = set()
        for o in controllers:
            ns = o.namespace or ""
            if o.kind == "ReplicaSet" and (o.cluster, ns, o.name) in owned_rs:
                continue  # its Deployment is the workload
            spec = o.spec
            template = spec.get("template") or {}
            tmeta = template.get("metadata") or {}
            selector = dict((spec.get("selector") or {}).get("matchLabels") or {})
            desired, current, available = _replicas(o.kind, o.body)
            pods = pod_index[(o.cluster, ns)].select(selector) if selector and (o.cluster, ns) in pod_index else []
            claimed.update(id(p) for p in pods)
            w = Workload(
                name=o.name,
                namespace=ns,
                kind=o.kind,
                cluster=o.cluster,
                labels=dict(tmeta.get("labels") or {}),
                annotations={**(tmeta.get("annotations") or {}), **o.annotations},
                selector=selector,
                desired=desired,
                current=current,
                available=available,
                pods=pods,
                template_sidecar=any(c.get("name") == PROXY_CONTAINER for c in _containers(template.get("spec") or {}))
                or "sidecar.istio.io/status" in (tmeta.get("annotations") or {}),
                injection_enabled=(o.cluster, ns) in injected_ns,
            )
            self._add(w)
        # Bare pods (no controller claimed them) are workloads of their own, as in Kiali.
        for (cluster, ns), pods in pods_by_ns.items():
            for p in pods:
                if id(p) in claimed or p.metadata.get("ownerReferences"):
                    continue
                has_status = isinstance(p.body.get("status"), dict)
                self._add(
                    Workload(
                        name=p.name,
                        namespace=ns,
                        kind="Pod",
                        cluster=cluster,
                        labels=dict(p.labels),
                        annotations=dict(p.annotations),
                        selector={},
                        desired=1 if has_status else None,
                        current=1 if has_status else None,
                        available=(1 if _pod_ready(p.body) else 0) if has_status else None,
                        pods=[p],
                        injection_enabled=(cluster, ns) in injected_ns,
                    )
                )

    def _add(self, w: Workload) -> None:
        self.by_key[(w.cluster, w.namespace, w.name)] = w
        self._by_name[(w.namespace, w.name)].append(w)
        if w.app:
            self._by_app[(w.cluster, w.namespace, w.app)].append(w)
            self._by_app_any[(w.namespace, w.app)].append(w)

    def get(self, namespace: str, name: str, cluster: str | None = None) -> Workload | None:
        """A workload by name; `cluster=None` (or unknown) accepts any cluster."""
        if cluster and cluster != "unknown":
            return self.by_key.get((cluster, namespace, name))
        found = self._by_name.get((namespace, name))
        return found[0] if found else None

    def for_app(self, namespace: str, app: str, cluster: str | None = None) -> list[Workload]:
        if cluster and cluster != "unknown":
            return list(self._by_app.get((cluster, namespace, app), []))
        return list(self._by_app_any.get((namespace, app), []))

    def __iter__(self):
        return iter(self.by_key.values())

    def __len__(self) -> int:
        return len(self.by_key)


class _LabelIndex:
    """Pods of one namespace indexed by (label, value), so a selector costs one dict lookup."""

    def __init__(self, pods: list[ConfigObject]) -> None:
        self.pods = pods
        self.index: dict[tuple[str, str], list[ConfigObject]] = defaultdict(list)
        for p in pods:
            for kv in p.labels.items():
                self.index[kv].append(p)

    def select(self, selector: dict[str, str]) -> list[ConfigObject]:
        items = list(selector.items())
        candidates = min((self.index.get(kv, []) for kv in items), key=len)
        return [p for p in candidates if all(p.labels.get(k) == v for k, v in items)]
