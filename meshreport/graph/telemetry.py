"""How one Istio series names its two ends (Kiali populateTrafficMap, graph/telemetry/istio/istio.go).

The graph builder and the appenders that read their own queries (responseTime, securityPolicy,
throughput) must resolve a series to the same node ids, or their values land on no edge. So
label checks, bad-telemetry rules, destination fix-ups and the injection decision live here once.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from meshreport.graph.ids import PASSTHROUGH_CLUSTER, node_id
from meshreport.graph.model import is_ok
from meshreport.istio_names import ISTIO_NAMESPACE

#: Labels every graph series must carry (empty values allowed), Kiali's "expected TS labels".
REQUIRED = (
    "source_workload_namespace",
    "source_workload",
    "source_canonical_service",
    "source_canonical_revision",
    "destination_service_namespace",
    "destination_service",
    "destination_service_name",
    "destination_workload_namespace",
    "destination_workload",
    "destination_canonical_service",
    "destination_canonical_revision",
)

EGRESS_GATEWAY_HOST = "istio-egressgateway.istio-system.svc.cluster.local"
_IP = re.compile(r"^\d+\.\d+\.\d+\.\d+(:\d+)?$")

#: The raw `(cluster, svcNs, svc, wlNs, wl, app, version)` a node is created from.
Raw = tuple[str, str, str, str, str, str, str]


class Ends(NamedTuple):
    """The resolved ends of one series.

    `source`/`dest` are raw node tuples; `service` is the raw tuple of the injected service node
    (None when no injection happens); `dest_service` is (cluster, namespace, name) for the
    destServices set, or None when the destination service name is not OK; `host` is the
    `destination_service` label.
    """

    source: Raw
    dest: Raw
    service: Raw | None
    dest_service: tuple[str, str, str] | None
    host: str


def resolve_key(
    key: tuple[str | None, ...], graph_type: str, inject: bool, node_ids: dict | None = None
) -> Ends | None:
    """Kiali's per-series checks and fix-ups, from the values of RESOLVE_LABELS in order (None:
    the series lacks the label); None means the series is skipped. `node_ids` caches `node_id`
    by raw tuple (the build's NodeFactory cache: the same values)."""
    (
        src_cluster,
        dst_cluster,
        src_ns,
        src_wl,
        src_app,
        src_ver,
        dst_svc_ns,
        dst_svc,
        dst_svc_name,
        dst_wl_ns,
        dst_wl,
        dst_app,
        dst_ver,
    ) = key
    if None in key[2:]:
        return None  # a required label is missing
    src_cluster_present = src_cluster is not None
    dst_cluster_present = dst_cluster is not None
    src_cluster = src_cluster or "unknown"
    dst_cluster = dst_cluster or "unknown"

    # Bad source telemetry (is_ok inlined: this runs once per flow).
    if src_ns and src_ns != "unknown":
        if not (src_wl and src_wl != "unknown") and not (src_app and src_app != "unknown"):
            return None
        if src_cluster_present and src_cluster == "unknown":
            return None

    # Destination fix-ups: the egress gateway as a workload, and istio#29373 (missing dest cluster).
    if dst_svc == EGRESS_GATEWAY_HOST and dst_svc_name == EGRESS_GATEWAY_HOST:
        dst_cluster = src_cluster
        dst_svc_ns = dst_wl_ns = ISTIO_NAMESPACE
        dst_svc_name = dst_wl = dst_app = "istio-egressgateway"
        dst_ver = "latest"
    elif dst_cluster == "unknown" and src_cluster != "unknown" and is_ok(dst_svc_ns):
        dst_cluster = src_cluster

    # Bad destination telemetry.
    if not is_ok(dst_wl) and dst_svc == dst_svc_name and _IP.match(dst_svc):
        return None
    if dst_cluster_present and dst_cluster == "unknown" and is_ok(dst_svc_ns):
        return None

    source: Raw = (src_cluster, src_ns, "", src_ns, src_wl, src_app, src_ver)
    dest: Raw = (dst_cluster, dst_svc_ns, dst_svc_name, dst_wl_ns, dst_wl, dst_app, dst_ver)
    service: Raw | None = None
    if inject and is_ok(dst_svc_name) and dst_svc_name != PASSTHROUGH_CLUSTER:
        if node_ids is None:
            resolved = node_id(*dest, graph_type)
        else:
            try:
                resolved = node_ids[dest]
            except KeyError:
                resolved = node_ids[dest] = node_id(*dest, graph_type)
        if resolved is not None and resolved[1] != "service":
            service = (dst_cluster, dst_svc_ns, dst_svc_name, "", "", "", "")
    dest_service = (dst_cluster, dst_svc_ns, dst_svc_name) if is_ok(dst_svc_name) else None
    return Ends(source, dest, service, dest_service, dst_svc)


#: Every label `resolve_key` reads; a series' ends depend on these values only (None = label missing).
RESOLVE_LABELS = ("source_cluster", "destination_cluster", *REQUIRED)
N_RESOLVE = len(RESOLVE_LABELS)


class Resolver:
    """`resolve_key` with a cache keyed by the labels it reads, for one graph type and injection.

    A flow's series differ only in code, flags or the appender's own labels (quantile, security
    policy), so a big mesh resolves the same ends many times over: once per flow is enough.
    """

    def __init__(self, graph_type: str, inject: bool, node_ids: dict | None = None) -> None:
        self.graph_type = graph_type
        self.inject = inject
        #: raw tuple -> node_id(...), shared with the build's NodeFactory when given.
        self.node_ids = {} if node_ids is None else node_ids
        self._cache: dict[tuple[str | None, ...], Ends | None] = {}
        #: One object per distinct Ends value: callers may use an Ends' identity as its value.
        self._interned: dict[Ends, Ends] = {}
        #: The flows of the tables over each string table (graph.vectorised.flows); usually one.
        self.flow_indexes: list = []

    def by_key(self, key: tuple[str | None, ...]) -> Ends | None:
        """The ends of a series given the values of RESOLVE_LABELS (None: label missing), so no
        label dict is needed."""
        try:
            return self._cache[key]
        except KeyError:
            ends = resolve_key(key, self.graph_type, self.inject, self.node_ids)
            if ends is not None:
                ends = self._interned.setdefault(ends, ends)
            self._cache[key] = ends
            return ends
