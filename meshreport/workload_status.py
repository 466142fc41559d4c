"""Workload status inputs from config objects: replica counts per controller kind, synced proxies.

The workloads themselves (controllers, their pods, sidecar presence) come from the graph's
ConfigIndex; this module only reads what Kiali's WorkloadStatusHealth needs from them.
"""

from __future__ import annotations

from typing import Any, Protocol

from meshreport.health import WorkloadStatus
from meshreport.istio_names import SIDECAR_CONTAINER
from meshreport.snapshot.model import ConfigObject


class WorkloadLike(Protocol):
    """What a workload must offer (meshreport.graph.config_index.WorkloadInfo does)."""

    name: str
    kind: str
    obj: ConfigObject | None
    pods: list[ConfigObject]

    @property
    def has_sidecar(self) -> bool: ...

    @property
    def is_gateway(self) -> bool: ...


def proxy_ready(pod: dict[str, Any]) -> bool | None:
    """True/False from the istio-proxy container status; None when the pod reports none."""
    st = pod.get("status") or {}
    for key in ("containerStatuses", "initContainerStatuses"):
        for cs in st.get(key) or ():
            if isinstance(cs, dict) and cs.get("name") == SIDECAR_CONTAINER:
                return bool(cs.get("ready"))
    return None


def pod_ready(pod: dict[str, Any]) -> bool:
    for c in (pod.get("status") or {}).get("conditions") or ():
        if isinstance(c, dict) and c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def _int(x: Any) -> int:
    if type(x) is int:  # the usual case, first: this runs three times per workload
        return x
    return int(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else 0


def replicas(kind: str, body: dict[str, Any]) -> tuple[int, int, int] | None:
    """(desired, current, available) as Kiali reads them per kind; None without a `status`.

    Config read from YAML files before a deploy has no status: then there is no workload
    status at all, rather than a false "0 available" Failure.
    """
    status = body.get("status")
    if not isinstance(status, dict):
        return None
    spec = body.get("spec") or {}
    if kind == "DaemonSet":
        return (
            _int(status.get("desiredNumberScheduled")),
            _int(status.get("currentNumberScheduled")),
            _int(status.get("numberAvailable")),
        )
    if kind == "Pod":
        return 1, 1, 1 if pod_ready(body) else 0
    if kind in ("Job", "CronJob"):
        return None  # Kiali gives jobs no replica-based status
    desired = spec.get("replicas", 1)
    desired = _int(desired) if desired is not None else 1
    current = _int(status.get("replicas"))
    if kind == "StatefulSet":
        return desired, current, _int(status.get("readyReplicas"))
    return desired, current, _int(status.get("availableReplicas"))


def synced_proxies(w: WorkloadLike) -> int:
    """Pods whose istio-proxy is ready (it turns ready once it got its config from istiod).

    -1 (not checked) for gateways, workloads without sidecar, and pods that report no status:
    the snapshot has no istiod sync status, and proxy readiness is the closest collected fact.
    """
    if not w.pods or w.is_gateway or not w.has_sidecar:
        return -1
    reported = ready = 0
    for p in w.pods:
        r = proxy_ready(p.body)
        if r is not None:
            reported += 1
            ready += r
    return ready if reported else -1


def workload_status(w: WorkloadLike) -> WorkloadStatus | None:
    """Kiali's workload status inputs for one workload, or None when the snapshot has none."""
    if w.obj is not None:
        counts = replicas(w.kind, w.obj.body)
    elif w.pods:  # controller not collected: count its pods
        with_status = [p for p in w.pods if isinstance(p.body.get("status"), dict)]
        if not with_status:
            return None
        n = len(w.pods)
        counts = (n, n, sum(1 for p in with_status if pod_ready(p.body)))
    else:
        counts = None
    if counts is None:
        return None
    desired, current, available = counts
    return WorkloadStatus(w.name, desired, current, available, synced_proxies(w))
