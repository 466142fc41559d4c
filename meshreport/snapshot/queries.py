"""Every PromQL expression meshreport runs, in one place.

Queries are built from small structured pieces (`Matcher`, `RateQuery`) rather than format
strings so that the same definition can (a) render the exact PromQL Kiali runs and (b) be
evaluated offline by the synthetic mesh generator, which is how tests get ground truth.

Graph queries follow Kiali (reference: kiali-semantics.md 1.4) to the character, including the
space before the rate range, query-scope injection into every `{`, and `round(...,0.001)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Group-by label sets (kiali-semantics.md 1.4).
GB_REQ: tuple[str, ...] = (
    "source_cluster",
    "source_workload_namespace",
    "source_workload",
    "source_canonical_service",
    "source_canonical_revision",
    "destination_cluster",
    "destination_service_namespace",
    "destination_service",
    "destination_service_name",
    "destination_workload_namespace",
    "destination_workload",
    "destination_canonical_service",
    "destination_canonical_revision",
    "request_protocol",
    "response_code",
    "grpc_response_status",
    "response_flags",
)
GB_MSG: tuple[str, ...] = GB_REQ[:-4]
GB_TCP: tuple[str, ...] = ("app",) + GB_MSG + ("response_flags",)

REQUESTS = "istio_requests_total"
REQUEST_MESSAGES = "istio_request_messages_total"
RESPONSE_MESSAGES = "istio_response_messages_total"
TCP_SENT = "istio_tcp_sent_bytes_total"
TCP_RECEIVED = "istio_tcp_received_bytes_total"

#: Every metric the namespace graph can be built from, with the group-by it uses.
GRAPH_METRICS: dict[str, tuple[str, ...]] = {
    REQUESTS: GB_REQ,
    REQUEST_MESSAGES: GB_MSG,
    RESPONSE_MESSAGES: GB_MSG,
    TCP_SENT: GB_TCP,
    TCP_RECEIVED: GB_TCP,
}

#: The order graph queries are applied in; it matters for duplicate suppression (Kiali 1.5.9).
GRAPH_ROLES: tuple[str, ...] = ("unserviced", "incoming", "outgoing")

SRC = 'reporter="source"'
DST = 'reporter="destination"'


@dataclass(frozen=True)
class Matcher:
    """One label matcher; `op` is one of = != =~ !~ and `value` is the PromQL string body."""

    label: str
    op: str
    value: str

    def promql(self) -> str:
        return f'{self.label}{self.op}"{self.value}"'


@dataclass(frozen=True)
class RateQuery:
    """`sum(rate(metric{matchers}[Ds])) by (labels) [> 0]`, optionally round()-wrapped."""

    metric: str
    matchers: tuple[Matcher, ...]
    by: tuple[str, ...]
    range_s: int
    idle: bool = False  # True: keep 0-rate series (Kiali includeIdleEdges), no "> 0"
    space: bool = True  # graph-generation queries have a space before "[Ds]"
    rounded: bool = True
    prefix: str = ""  # raw fragment placed before the matchers (Kiali's TCP <APP>)
    scope: tuple[tuple[str, str], ...] = field(default=())

    def expr(self) -> str:
        """The bare `sum(rate(...)) by (...)`, without filter, scope or rounding."""
        sel = self.prefix + ",".join(m.promql() for m in self.matchers)
        space = " " if self.space else ""
        return f"sum(rate({self.metric}{{{sel}}}{space}[{self.range_s}s])) by ({','.join(self.by)})"

    def promql(self) -> str:
        return finish(self.expr(), idle=self.idle, scope=self.scope, rounded=self.rounded)


@dataclass(frozen=True)
class QuantileQuery:
    """`histogram_quantile(q, <rate over *_bucket by (le, ...)>) > 0` (Kiali responseTime)."""

    quantile: float
    rate: RateQuery  # metric ends in _bucket, `by` starts with "le"
    idle: bool = False
    rounded: bool = True
    scope: tuple[tuple[str, str], ...] = field(default=())

    def promql(self) -> str:
        expr = f"histogram_quantile({self.quantile:.2f}, {self.rate.expr()})"
        return finish(expr, idle=self.idle, scope=self.scope, rounded=self.rounded)


@dataclass(frozen=True)
class RatioQuery:
    """`<num> / <den> > 0`, e.g. mean latency from _sum/_count or an error ratio."""

    num: RateQuery
    den: RateQuery
    idle: bool = False
    rounded: bool = True
    scope: tuple[tuple[str, str], ...] = field(default=())

    def promql(self) -> str:
        expr = f"{self.num.expr()} / {self.den.expr()}"
        return finish(expr, idle=self.idle, scope=self.scope, rounded=self.rounded)


Query = RateQuery | QuantileQuery | RatioQuery


@dataclass(frozen=True)
class PlannedQuery:
    """One query of a collection plan: the snapshot key it is stored under, the namespace it
    is for, the expression, and whether it runs as an instant query at the window end or as a
    range query over the window at `step` seconds."""

    key: str
    namespace: str | None
    query: Query
    kind: str = "instant"
    step: int | None = None


def finish(expr: str, *, idle: bool, scope: tuple[tuple[str, str], ...] | dict, rounded: bool) -> str:
    """Apply Kiali's post-processing in its order: `> 0` filter, query scope, round()."""
    q = expr if idle else f"{expr} > 0"
    q = add_query_scope(q, dict(scope))
    return f"round({q},0.001)" if rounded else q


def add_query_scope(query: str, scope: dict[str, str]) -> str:
    """Kiali's AddQueryScope: replace EVERY `{` with `{k1="v1",k2="v2",` (sorted keys)."""
    if not scope:
        return query
    inject = "".join(f'{k}="{v}",' for k, v in sorted(scope.items()))
    return query.replace("{", "{" + inject)


def _escape_dots(ns: str) -> str:
    return ns.replace(".", "\\\\.")


def graph_queries(
    namespace: str,
    range_s: int,
    *,
    metric: str = REQUESTS,
    idle: bool = False,
    scope: dict[str, str] | None = None,
) -> list[tuple[str, RateQuery]]:
    """Kiali's namespace graph queries for one metric: [(role, query)] in application order.

    Non-ambient form (reporter="source" / reporter="destination"); TCP metrics have an empty
    <APP> fragment in that mode, so their selectors are the same as for requests.
    """
    by = GRAPH_METRICS[metric]
    sc = tuple(sorted((scope or {}).items()))
    ns = namespace
    roles = {
        "unserviced": (
            Matcher("reporter", "=", "source"),
            Matcher("source_workload_namespace", "!=", ns),
            Matcher("destination_workload_namespace", "=", "unknown"),
            Matcher("destination_workload", "=", "unknown"),
            Matcher("destination_service", "=~", f"^.+\\\\.{_escape_dots(ns)}\\\\..+$"),
        ),
        "incoming": (
            Matcher("reporter", "=", "destination"),
            Matcher("destination_workload_namespace", "=", ns),
        ),
        "outgoing": (
            Matcher("reporter", "=", "source"),
            Matcher("source_workload_namespace", "=", ns),
        ),
    }
    return [
        (role, RateQuery(metric=metric, matchers=roles[role], by=by, range_s=range_s, idle=idle, scope=sc))
        for role in GRAPH_ROLES
    ]


def graph_key(metric: str, role: str) -> str:
    """The snapshot key of a graph query, e.g. `graph/istio_requests_total/incoming`."""
    return f"graph/{metric}/{role}"


def collection_plan(namespaces: list[str], range_s: int, *, scope: dict[str, str] | None = None) -> list[PlannedQuery]:
    """Every query one collection runs: per namespace and metric, never per service.

    Graph queries are collected in their idle-inclusive form (no `> 0`), so one snapshot can
    answer both `--include-idle-edges` and the default; the `> 0` filter is applied offline.
    """
    plan: list[PlannedQuery] = []
    for ns in namespaces:
        for metric in GRAPH_METRICS:
            for role, q in graph_queries(ns, range_s, metric=metric, idle=True, scope=scope):
                plan.append(PlannedQuery(graph_key(metric, role), ns, q))
    return plan
