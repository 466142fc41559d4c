"""The keys a snapshot stores query results under: the contract between collection and analysis.

The collector runs the PromQL (meshreport/collect/queries.py) and stores each result under one
of these keys; the graph, health and report read results by key and never see a query. Metric
names are here because the keys carry them.
"""

from __future__ import annotations

REQUESTS = "istio_requests_total"
REQUEST_MESSAGES = "istio_request_messages_total"
RESPONSE_MESSAGES = "istio_response_messages_total"
TCP_SENT = "istio_tcp_sent_bytes_total"
TCP_RECEIVED = "istio_tcp_received_bytes_total"

#: The order graph queries are applied in; it matters for duplicate suppression (Kiali 1.5.9).
GRAPH_ROLES: tuple[str, ...] = ("unserviced", "incoming", "outgoing")
#: Appender queries run per namespace for these two roles.
APPENDER_ROLES: tuple[str, ...] = ("incoming", "outgoing")
#: Range queries for the trend sparklines.
TREND_KEYS: tuple[str, ...] = ("trend/requests", "trend/errors", "trend/p95")


def graph_key(metric: str, role: str) -> str:
    """The snapshot key of a graph query, e.g. `graph/istio_requests_total/incoming`."""
    return f"graph/{metric}/{role}"


def response_time_key(stat: str, role: str) -> str:
    """`stat` is `avg` or a quantile as collected (`0.5`, `0.95`, `0.99`)."""
    return f"appender/responseTime/{stat}/{role}"


def security_policy_key(metric: str, role: str) -> str:
    return f"appender/securityPolicy/{metric}/{role}"


def throughput_key(kind: str, role: str) -> str:
    return f"appender/throughput/{kind}/{role}"


#: Kiali's default aggregate label (request classification: Istio's `request_operation`).
DEFAULT_AGGREGATE = "request_operation"


def aggregate_key(label: str, role: str) -> str:
    """The aggregateNode appender's requests grouped by an extra label, e.g. `request_operation`."""
    return f"appender/aggregate/{label}/{role}"


def aggregate_prefix(label: str) -> str:
    return f"appender/aggregate/{label}/"
