"""A mesh model for synthetic data: workloads, services and the traffic flowing between them.

`Mesh.series()` turns the model into raw counter series shaped exactly like Istio's standard
metrics as Prometheus scrapes them (every standard label, one series per reporting proxy), each
with a constant per-second rate. Constant rates are what make the synthetic data a ground truth:
`rate()` over any range returns the rate the mesh defines, offline (evaluate.py) and in a real
Prometheus loaded from the OpenMetrics export (openmetrics.py) alike.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

from meshreport.istio_names import DEFAULT_TRUST_DOMAIN

#: Istio's default buckets for istio_request_duration_milliseconds (ms), +Inf last.
DURATION_BUCKETS: tuple[float, ...] = (
    0.5,
    1,
    5,
    10,
    25,
    50,
    100,
    250,
    500,
    1000,
    2500,
    5000,
    10000,
    30000,
    60000,
    300000,
    600000,
    1800000,
    3600000,
    float("inf"),
)

TRUST_DOMAIN = DEFAULT_TRUST_DOMAIN
UNKNOWN = "unknown"


def le_label(bound: float) -> str:
    """The `le` label value as Prometheus client libraries print it (`0.5`, `10`, `+Inf`)."""
    if bound == float("inf"):
        return "+Inf"
    return str(int(bound)) if float(bound).is_integer() else repr(float(bound))


@dataclass(frozen=True)
class Workload:
    """A Deployment (or other controller) and its pods; `sidecar` = istio-proxy injected."""

    namespace: str
    name: str
    app: str = ""
    version: str = ""
    service_account: str = "default"
    sidecar: bool = True
    replicas: int = 1
    image: str = ""
    port: int = 9080
    #: A gateway is itself a proxy: it reports outbound traffic, never inbound (no sidecar pod).
    gateway: bool = False

    @property
    def principal(self) -> str:
        return f"spiffe://{TRUST_DOMAIN}/ns/{self.namespace}/sa/{self.service_account}"

    @property
    def canonical_service(self) -> str:
        return self.app or self.name

    @property
    def canonical_revision(self) -> str:
        return self.version or "latest"


@dataclass(frozen=True)
class Service:
    """A Kubernetes Service selecting workloads by `app`."""

    namespace: str
    name: str
    port: int = 9080
    port_name: str = "http"
    app: str = ""

    @property
    def host(self) -> str:
        return f"{self.name}.{self.namespace}.svc.{TRUST_DOMAIN}"


@dataclass(frozen=True)
class ExternalHost:
    """A host outside the mesh reached through a MESH_EXTERNAL ServiceEntry in `namespace`."""

    host: str
    namespace: str
    entry: str  # ServiceEntry name
    port: int = 443
    protocol: str = "HTTP"


@dataclass(frozen=True)
class Shape:
    """A piecewise-constant multiplier of a rate over time, repeating: `factors[k % n]` applies on
    [t0 + k*period, t0 + (k+1)*period) for every integer k. Factors averaging 1 keep the mean
    rate over whole repetitions (the instant queries of a window of n periods) equal to the rate
    the flow defines, while range queries show the variation (sparklines, an incident)."""

    t0: float
    period: float
    factors: tuple[float, ...]

    def integral(self, a: float, b: float) -> float:
        """Integral of the multiplier over [a, b]: the counter increase per unit of rate."""
        n = len(self.factors)
        k = math.floor((a - self.t0) / self.period)
        total = 0.0
        while True:
            lo = self.t0 + k * self.period
            if lo >= b:
                return total
            overlap = min(b, lo + self.period) - max(a, lo)
            if overlap > 0:
                total += self.factors[k % n] * overlap
            k += 1

    def mean(self, t: float, range_s: float) -> float:
        """What rate(counter[range]) at `t` returns per unit of rate (samples at both ends)."""
        return self.integral(t - range_s, t) / range_s


@dataclass(frozen=True)
class Response:
    """One slice of a flow's requests: per-second rate with one response code and flags.
    `shape` (if set) overrides the flow's shape for this slice, e.g. an error burst."""

    code: str
    rate: float
    flags: str = "-"
    grpc_status: str = ""  # only for grpc: "0" ok, "14" unavailable ...
    shape: Shape | None = None


@dataclass(frozen=True)
class Latency:
    """Request durations as (milliseconds, share of requests); shares add up to 1.

    Discrete durations keep bucket counts, sums and quantiles exactly computable.
    """

    points: tuple[tuple[float, float], ...] = ((8.0, 0.6), (20.0, 0.3), (120.0, 0.1))

    def cumulative(self) -> tuple[float, ...]:
        """Share of requests at or below each bucket bound of DURATION_BUCKETS."""
        return tuple(sum(s for ms, s in self.points if ms <= le) for le in DURATION_BUCKETS)

    def mean(self) -> float:
        return sum(ms * s for ms, s in self.points)


@dataclass(frozen=True)
class Flow:
    """Traffic from one source (None = outside the mesh) to one destination workload behind
    `service` (or to an external host, then `dest` is None).

    http/grpc: `responses` carry the request rates; tcp: `tcp_request`/`tcp_response` are bytes/s
    client -> server and server -> client, `connections` is opened connections/s.
    """

    source: Workload | None
    service: Service | ExternalHost
    dest: Workload | None
    protocol: str = "http"
    responses: tuple[Response, ...] = ()
    latency: Latency = field(default_factory=Latency)
    request_bytes: float = 400.0  # per request
    response_bytes: float = 2000.0  # per request
    messages: tuple[float, float] = (1.0, 1.0)  # grpc request/response messages per request
    tcp_request: float = 0.0
    tcp_response: float = 0.0
    connections: float = 0.0
    mtls: bool | None = None  # None: auto mTLS (both sides have sidecars)
    shape: Shape | None = None  # None: constant rates

    @property
    def rate(self) -> float:
        return sum(r.rate for r in self.responses)

    @property
    def is_mtls(self) -> bool:
        if self.mtls is not None:
            return self.mtls
        return bool(self.source and self.source.sidecar and self.dest and self.dest.sidecar)

    def reporters(self) -> tuple[str, ...]:
        """Which proxies report this flow: the source's (if it has one) and the destination's
        (if it has a sidecar); external hosts and sidecar-less destinations are source-only."""
        out = []
        if self.source is not None and (self.source.sidecar or self.source.gateway):
            out.append("source")
        if self.dest is not None and self.dest.sidecar and not self.dest.gateway:
            out.append("destination")
        return tuple(out)


@dataclass
class Raw:
    """One raw series: `base` labels shared by all series of a (flow, reporter), `extra` the
    per-series labels (response code, flags ...). `value` is a per-second rate; for a histogram
    family it is the tuple of cumulative bucket rates, with `sum_rate`/`count_rate` alongside.
    `shape` varies all of them over time (None: constant)."""

    metric: str
    base: dict[str, str]
    extra: dict[str, str]
    value: float | tuple[float, ...]
    sum_rate: float = 0.0
    count_rate: float = 0.0
    shape: Shape | None = None

    def get(self, label: str) -> str:
        v = self.extra.get(label)
        if v is None:
            v = self.base.get(label, "")
        return v

    def labels(self) -> dict[str, str]:
        """All non-empty labels (Prometheus drops empty-valued labels at ingestion)."""
        d = {**self.base, **self.extra}
        return {k: v for k, v in d.items() if v != ""}


#: Counter metrics and histogram families the mesh produces.
COUNTERS = (
    "istio_requests_total",
    "istio_request_messages_total",
    "istio_response_messages_total",
    "istio_tcp_sent_bytes_total",
    "istio_tcp_received_bytes_total",
    "istio_tcp_connections_opened_total",
)
HISTOGRAMS = ("istio_request_duration_milliseconds",)
#: Size distributions exported with _sum and _count only (no buckets), to keep files small.
SUMMARIES = ("istio_request_bytes", "istio_response_bytes")


@dataclass
class Mesh:
    """Workloads, services, external hosts and flows of one synthetic cluster."""

    name: str
    workloads: list[Workload] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    externals: list[ExternalHost] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    cluster: str = "Kubernetes"
    namespaces: list[str] = field(default_factory=list)
    #: Extra facts for the snapshot's collector section (seed, generator arguments).
    facts: dict[str, object] = field(default_factory=dict)

    def series(self) -> list[Raw]:
        return list(self.iter_series())

    def iter_series(self) -> Iterator[Raw]:
        for flow in self.flows:
            for reporter in flow.reporters():
                yield from self._flow_series(flow, reporter)

    # -- labels --------------------------------------------------------------------------

    def base_labels(self, flow: Flow, reporter: str) -> dict[str, str]:
        """Istio's standard labels for one flow as reported by one proxy, plus the labels
        Prometheus' kubernetes-pods scrape adds from the reporting pod (namespace, app, version)."""
        src, dst, svc = flow.source, flow.dest, flow.service
        mtls = flow.is_mtls
        # The destination proxy learns the source only through mTLS/metadata exchange; a
        # sidecar-less source is `unknown` to it.
        src_known = src is not None and (src.sidecar or src.gateway)
        if src_known:
            s = {
                "source_workload": src.name,
                "source_workload_namespace": src.namespace,
                "source_app": src.app or UNKNOWN,
                "source_version": src.version or UNKNOWN,
                "source_canonical_service": src.canonical_service,
                "source_canonical_revision": src.canonical_revision,
                "source_principal": src.principal if mtls else UNKNOWN,
                "source_cluster": self.cluster,
            }
        else:
            s = {
                "source_workload": UNKNOWN,
                "source_workload_namespace": UNKNOWN,
                "source_app": UNKNOWN,
                "source_version": UNKNOWN,
                "source_canonical_service": UNKNOWN,
                "source_canonical_revision": "latest",
                "source_principal": UNKNOWN,
                "source_cluster": UNKNOWN,
            }
        if isinstance(svc, ExternalHost):
            d = {
                "destination_service": svc.host,
                "destination_service_name": svc.host,
                "destination_service_namespace": svc.namespace,
            }
        else:
            d = {
                "destination_service": svc.host,
                "destination_service_name": svc.name,
                "destination_service_namespace": svc.namespace,
            }
        if dst is not None and dst.sidecar:
            d.update(
                destination_workload=dst.name,
                destination_workload_namespace=dst.namespace,
                destination_app=dst.app or UNKNOWN,
                destination_version=dst.version or UNKNOWN,
                destination_canonical_service=dst.canonical_service,
                destination_canonical_revision=dst.canonical_revision,
                destination_principal=dst.principal if mtls else UNKNOWN,
                destination_cluster=self.cluster,
            )
        else:
            # External host or a destination without a proxy: no peer metadata.
            d.update(
                destination_workload=UNKNOWN,
                destination_workload_namespace=UNKNOWN,
                destination_app=UNKNOWN,
                destination_version=UNKNOWN,
                destination_canonical_service=UNKNOWN,
                destination_canonical_revision="latest",
                destination_principal=UNKNOWN,
                destination_cluster=UNKNOWN,
            )
        if reporter == "source":
            csp = UNKNOWN  # only the server side knows the connection's security policy
            pod = src
        else:
            csp = "mutual_tls" if mtls else "none"
            pod = dst
        labels = {"reporter": reporter, **s, **d}
        labels["request_protocol"] = flow.protocol
        labels["connection_security_policy"] = csp
        assert pod is not None
        labels["namespace"] = pod.namespace
        labels["app"] = pod.app
        labels["version"] = pod.version
        return labels

    def _flow_series(self, flow: Flow, reporter: str) -> Iterator[Raw]:
        base = self.base_labels(flow, reporter)
        if flow.protocol == "tcp":
            # Istio: sent = bytes sent during the response, received = bytes received during the
            # request (the reason Kiali swaps them, istio/istio#32399).
            extra = {"response_flags": "-"}
            sh = flow.shape
            yield Raw("istio_tcp_sent_bytes_total", base, extra, flow.tcp_response, shape=sh)
            yield Raw("istio_tcp_received_bytes_total", base, extra, flow.tcp_request, shape=sh)
            yield Raw("istio_tcp_connections_opened_total", base, extra, flow.connections, shape=sh)
            return
        cum = flow.latency.cumulative()
        mean = flow.latency.mean()
        for r in flow.responses:
            extra = {"response_code": r.code, "response_flags": r.flags, "grpc_response_status": r.grpc_status}
            sh = r.shape or flow.shape
            yield Raw("istio_requests_total", base, extra, r.rate, shape=sh)
            yield Raw(
                "istio_request_duration_milliseconds",
                base,
                extra,
                tuple(c * r.rate for c in cum),
                sum_rate=mean * r.rate,
                count_rate=r.rate,
                shape=sh,
            )
            yield Raw("istio_request_bytes", base, extra, 0.0, flow.request_bytes * r.rate, r.rate, sh)
            yield Raw("istio_response_bytes", base, extra, 0.0, flow.response_bytes * r.rate, r.rate, sh)
            if flow.protocol == "grpc":
                yield Raw("istio_request_messages_total", base, extra, flow.messages[0] * r.rate, shape=sh)
                yield Raw("istio_response_messages_total", base, extra, flow.messages[1] * r.rate, shape=sh)
