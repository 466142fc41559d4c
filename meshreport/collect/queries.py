"""Every PromQL expression meshreport runs, in one place.

Queries are built from small structured pieces (`Matcher`, `RateQuery`) rather than format
strings so that the same definition can (a) render the exact PromQL Kiali runs and (b) be
evaluated offline by the synthetic mesh generator, which is how tests get ground truth.

Graph queries follow Kiali (graph/telemetry/istio/istio.go, since Kiali v1.32) to the character, including the
space before the rate range, query-scope injection into every `{`, and `round(...,0.001)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from meshreport.snapshot.keys import (  # noqa: F401  (re-exported: the plan's keys and metric names)
    APPENDER_ROLES,
    GRAPH_ROLES,
    REQUEST_MESSAGES,
    REQUESTS,
    RESPONSE_MESSAGES,
    TCP_RECEIVED,
    TCP_SENT,
    TREND_KEYS,
    aggregate_key,
    graph_key,
    response_time_key,
    security_policy_key,
    throughput_key,
)

# Group-by label sets (Kiali graph/telemetry/istio/istio.go).
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

#: Every metric the namespace graph can be built from, with the group-by it uses.
GRAPH_METRICS: dict[str, tuple[str, ...]] = {
    REQUESTS: GB_REQ,
    REQUEST_MESSAGES: GB_MSG,
    RESPONSE_MESSAGES: GB_MSG,
    TCP_SENT: GB_TCP,
    TCP_RECEIVED: GB_TCP,
}

#: A Prometheus label name: what `--aggregate` may name (it is placed into PromQL).
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

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


# --- Appender queries (Kiali graph/telemetry/istio/appender/) ----------------------------------
#
# Appender queries have no space before `[<D>s]` and keep Kiali's `> 0` (a quantile or ratio of
# an idle series is NaN, and Kiali never attaches one). Each is run per namespace for two roles:
# `incoming` and `outgoing`, and the graph appenders attach the results to edges by the
# source/destination labels of each series.

REQUEST_DURATION = "istio_request_duration_milliseconds"
REQUEST_BYTES = "istio_request_bytes_sum"
RESPONSE_BYTES = "istio_response_bytes_sum"

#: responseTime group-by: GB_REQ without response_code, grpc_response_status, response_flags.
GB_RT: tuple[str, ...] = GB_REQ[:-3]
#: securityPolicy group-by: GB_MSG plus the identities and the policy (Kiali security_policy.go).
GB_SEC: tuple[str, ...] = GB_MSG + ("source_principal", "destination_principal", "connection_security_policy")

#: responseTime statistics: "avg" (from _sum/_count) and the quantiles Kiali offers.
RESPONSE_TIME_STATS: tuple[str, ...] = ("avg", "0.5", "0.95", "0.99")
#: securityPolicy runs one query per metric (Kiali ORs them into one; separate queries keep
#: each result attributable and are evaluated the same way offline).
SECURITY_METRICS: tuple[str, ...] = (REQUESTS, REQUEST_MESSAGES, RESPONSE_MESSAGES, TCP_SENT, TCP_RECEIVED)
THROUGHPUT_KINDS: dict[str, tuple[str, Matcher]] = {
    "request": (REQUEST_BYTES, Matcher("reporter", "=", "source")),
    "response": (RESPONSE_BYTES, Matcher("reporter", "=", "destination")),
}


def _sc(scope: dict[str, str] | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((scope or {}).items()))


def response_time_queries(
    namespace: str, range_s: int, *, scope: dict[str, str] | None = None
) -> list[tuple[str, str, Query]]:
    """Kiali's responseTime queries: [(stat, role, query)], destination telemetry first.

    incoming: `reporter="destination",destination_service_namespace="<ns>"`;
    outgoing: `reporter="source",source_workload_namespace="<ns>"`. Quantiles use
    `histogram_quantile(q, sum(rate(..._bucket{F}[<D>s])) by (le,GB_RT)) > 0`; avg is
    `sum(rate(..._sum{F}[<D>s])) by (GB_RT) / sum(rate(..._count{F}[<D>s])) by (GB_RT) > 0`.
    """
    sc = _sc(scope)
    filters = {
        "incoming": (Matcher("reporter", "=", "destination"), Matcher("destination_service_namespace", "=", namespace)),
        "outgoing": (Matcher("reporter", "=", "source"), Matcher("source_workload_namespace", "=", namespace)),
    }
    out: list[tuple[str, str, Query]] = []
    for stat in RESPONSE_TIME_STATS:
        for role in APPENDER_ROLES:
            f = filters[role]
            q: Query
            if stat == "avg":
                num = RateQuery(f"{REQUEST_DURATION}_sum", f, GB_RT, range_s, space=False, rounded=False)
                den = RateQuery(f"{REQUEST_DURATION}_count", f, GB_RT, range_s, space=False, rounded=False)
                q = RatioQuery(num, den, scope=sc)
            else:
                rate = RateQuery(f"{REQUEST_DURATION}_bucket", f, ("le",) + GB_RT, range_s, space=False, rounded=False)
                q = QuantileQuery(float(stat), rate, scope=sc)
            out.append((stat, role, q))
    return out


def security_policy_queries(
    namespace: str, range_s: int, *, scope: dict[str, str] | None = None
) -> list[tuple[str, str, RateQuery]]:
    """Kiali's securityPolicy queries, one per metric: [(metric, role, query)].

    Destination telemetry; incoming = sources outside the namespace calling its services,
    outgoing = sources inside it. Grouped by GB_SEC so the mTLS share per edge is
    rate(connection_security_policy="mutual_tls") / sum of all policies.
    """
    sc = _sc(scope)
    filters = {
        "incoming": (
            Matcher("reporter", "=", "destination"),
            Matcher("source_workload_namespace", "!=", namespace),
            Matcher("destination_service_namespace", "=", namespace),
        ),
        "outgoing": (Matcher("reporter", "=", "destination"), Matcher("source_workload_namespace", "=", namespace)),
    }
    return [
        (metric, role, RateQuery(metric, filters[role], GB_SEC, range_s, space=False, scope=sc))
        for metric in SECURITY_METRICS
        for role in APPENDER_ROLES
    ]


def aggregate_queries(
    namespace: str, range_s: int, label: str, *, scope: dict[str, str] | None = None
) -> list[tuple[str, RateQuery]]:
    """Kiali's aggregateNode queries for one label: [(role, query)], destination telemetry, GB_REQ + label.

    incoming: `source_workload_namespace!="<ns>",destination_service_namespace="<ns>"`; outgoing:
    `source_workload_namespace="<ns>"`; both `<label>!="unknown"` as Kiali, plus `<label>!=""`: a
    series without the label matches `!="unknown"` in Prometheus and Kiali drops it after the query,
    so asking Prometheus not to return it changes no graph and keeps a mesh without request
    classification from answering every request series twice. The aggregate node graph
    (`--aggregate-value`) reads these results too (its series are those with destination namespace <ns>).
    """
    sc = _sc(scope)
    by = GB_REQ + (label,)
    wanted = (Matcher(label, "!=", "unknown"), Matcher(label, "!=", ""))
    filters = {
        "incoming": (
            Matcher("reporter", "=", "destination"),
            Matcher("source_workload_namespace", "!=", namespace),
            Matcher("destination_service_namespace", "=", namespace),
            *wanted,
        ),
        "outgoing": (
            Matcher("reporter", "=", "destination"),
            Matcher("source_workload_namespace", "=", namespace),
            *wanted,
        ),
    }
    return [(role, RateQuery(REQUESTS, filters[role], by, range_s, space=False, scope=sc)) for role in APPENDER_ROLES]


def throughput_queries(
    namespace: str, range_s: int, *, scope: dict[str, str] | None = None
) -> list[tuple[str, str, RateQuery]]:
    """Kiali's throughput queries: [(request|response, role, query)], bytes/s grouped by GB_MSG.

    request bytes are source-reported, response bytes destination-reported (Kiali throughput.go).
    """
    sc = _sc(scope)
    out: list[tuple[str, str, RateQuery]] = []
    for kind, (metric, reporter) in THROUGHPUT_KINDS.items():
        filters = {
            "incoming": (
                reporter,
                Matcher("source_workload_namespace", "!=", namespace),
                Matcher("destination_service_namespace", "=", namespace),
            ),
            "outgoing": (reporter, Matcher("source_workload_namespace", "=", namespace)),
        }
        for role in APPENDER_ROLES:
            out.append((kind, role, RateQuery(metric, filters[role], GB_MSG, range_s, space=False, scope=sc)))
    return out


# --- Trends (range queries for sparklines) ----------------------------------------------------

#: Trend series are per destination workload and service: sum over workloads for a service
#: total, or over services for a workload total.
TREND_BY: tuple[str, ...] = (
    "destination_workload_namespace",
    "destination_workload",
    "destination_service_namespace",
    "destination_service_name",
)
#: Kiali's HTTP error classes: no response (code 0), 4xx and 5xx (3xx is not an error).
ERROR_CODES = "0|4..|5.."
#: Candidate steps; the one giving closest to 100 points (within 50-200) is used.
NICE_STEPS: tuple[int, ...] = (
    15, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800,
)  # fmt: skip


def trend_step(range_s: float, scrape_interval: float = 15.0) -> int:
    """A step giving about 50-200 points over the window (closest to 100), never below the scrape interval."""
    fits = [s for s in NICE_STEPS if s >= scrape_interval and 50 <= range_s / s <= 200]
    if fits:
        return min(fits, key=lambda s: (abs(range_s / s - 100), s))
    return max(int(scrape_interval), int(round(range_s / 100)) or 1)


def trend_rate_range(step: int, scrape_interval: float = 15.0) -> int:
    """Rate range of each trend point: max(step + scrape, 4 x scrape), Grafana's $__rate_interval.

    At least four scrapes so every point has the two samples rate() needs, and a little more than
    the step so consecutive points overlap instead of missing samples between them.
    """
    return int(max(step + scrape_interval, 4 * scrape_interval))


def range_bounds(window_start: float, window_end: float, step: int) -> tuple[float, float]:
    """(start, end) of a trend range query: points at window_end - k*step, none before window_start + step.

    The end is the window end (as for instant queries); the first point is the earliest one whose
    step lies wholly inside the window.
    """
    n = int((window_end - window_start) // step)
    return window_end - (n - 1) * step, window_end


def trend_queries(namespace: str, rate_s: int, *, scope: dict[str, str] | None = None) -> list[tuple[str, Query]]:
    """Trend queries for one namespace (destination telemetry of its workloads): [(key, query)].

    trend/requests: requests/s; trend/errors: error requests/s (HTTP 0, 4xx, 5xx), the error
    ratio is errors / requests at the same timestamp; trend/p95: p95 latency in ms. Requests and
    errors keep zero points (idle form) so a quiet hour reads as 0, not as missing.
    """
    sc = _sc(scope)
    f = (Matcher("reporter", "=", "destination"), Matcher("destination_workload_namespace", "=", namespace))
    errors = f + (Matcher("response_code", "=~", ERROR_CODES),)
    bucket = RateQuery(f"{REQUEST_DURATION}_bucket", f, ("le",) + TREND_BY, rate_s, space=False, rounded=False)
    return [
        ("trend/requests", RateQuery(REQUESTS, f, TREND_BY, rate_s, idle=True, space=False, scope=sc)),
        ("trend/errors", RateQuery(REQUESTS, errors, TREND_BY, rate_s, idle=True, space=False, scope=sc)),
        ("trend/p95", QuantileQuery(0.95, bucket, scope=sc)),
    ]


def collection_plan(
    namespaces: list[str],
    range_s: int,
    *,
    scope: dict[str, str] | None = None,
    scrape_interval: float = 15.0,
    appenders: bool = True,
    trends: bool = True,
    aggregates: tuple[str, ...] | list[str] = (),
) -> list[PlannedQuery]:
    """Every query one collection runs: per namespace and metric, never per service.

    Graph queries are collected in their idle-inclusive form (no `> 0`), so one snapshot can
    answer both `--include-idle-edges` and the default; the `> 0` filter is applied offline.
    Appender queries are instant queries at the window end like the graph; trend queries are
    range queries at `trend_step()` over `range_bounds()`.
    """
    plan: list[PlannedQuery] = []
    step = trend_step(range_s, scrape_interval)
    rate_s = trend_rate_range(step, scrape_interval)
    for ns in namespaces:
        for metric in GRAPH_METRICS:
            for role, q in graph_queries(ns, range_s, metric=metric, idle=True, scope=scope):
                plan.append(PlannedQuery(graph_key(metric, role), ns, q))
        if appenders:
            for stat, role, q in response_time_queries(ns, range_s, scope=scope):
                plan.append(PlannedQuery(response_time_key(stat, role), ns, q))
            for metric, role, q in security_policy_queries(ns, range_s, scope=scope):
                plan.append(PlannedQuery(security_policy_key(metric, role), ns, q))
            for kind, role, q in throughput_queries(ns, range_s, scope=scope):
                plan.append(PlannedQuery(throughput_key(kind, role), ns, q))
            for label in aggregates:  # only the labels asked for (`--aggregate`)
                for role, q in aggregate_queries(ns, range_s, label, scope=scope):
                    plan.append(PlannedQuery(aggregate_key(label, role), ns, q))
        if trends:
            for key, q in trend_queries(ns, rate_s, scope=scope):
                plan.append(PlannedQuery(key, ns, q, kind="range", step=step))
    return plan
