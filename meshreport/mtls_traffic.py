"""The configured mTLS mode held against the traffic of the window: how much was mutual TLS, and what
stops a namespace or workload from switching to STRICT.

Traffic comes from the snapshot's securityPolicy results (destination-reported requests and TCP bytes,
grouped by `connection_security_policy` and by source and destination workload); the configured mode
from the resolver in meshreport/mtls.py. Two findings come out of the comparison:

- `ready-for-strict` (MR0101): a PERMISSIVE namespace (or a workload whose own policy says PERMISSIVE)
  whose inbound traffic was all mutual TLS and at least the floor (`Floor`: 100 requests or 1 MB of TCP
  bytes in the window by default, so an idle namespace is not called ready), with the PeerAuthentication
  to apply;
- `blocks-strict` (MR0102): plain-text callers (connection_security_policy `none`) into a PERMISSIVE
  workload, the list to fix before switching; `will-break` (MR0103): plain-text or unknown-source
  traffic into a STRICT one.
A caller is named when it sent at least the caller floor (1 request or 1 KiB by default). The floors are
the config file's `mtls:` section (docs/configuration.md). The findings become validation findings with
these codes (validation/traffic.py), so suppressions and `--fail-on` apply to them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from meshreport.errors import UsageError
from meshreport.mesh_index import TEMPLATE_KINDS, MeshIndex, index_of, pod_template
from meshreport.mtls import DISABLE, PERMISSIVE, STRICT, MtlsResolver, ServerMode, match_labels
from meshreport.snapshot.keys import REQUESTS, TCP_RECEIVED, TCP_SENT, security_policy_key
from meshreport.snapshot.model import QueryResult, Snapshot
from meshreport.validation.meshconfig import MeshConfig

FLOOR_REQUESTS = 100
FLOOR_TCP_BYTES = 1_000_000
CALLER_FLOOR_REQUESTS = 1
CALLER_FLOOR_TCP_BYTES = 1024
MUTUAL = "mutual_tls"
UNKNOWN = "unknown"
#: finding kind -> (code, severity); the rules' docs are registered in validation/traffic.py
CODES = {
    "ready-for-strict": ("MR0101", "info"),
    "blocks-strict": ("MR0102", "warning"),
    "will-break": ("MR0103", "error"),
}


@dataclass(frozen=True)
class Floor:
    """How much traffic the comparison needs before it speaks: a namespace or workload is called ready
    for STRICT only above the `ready_min_*` floor (either one), and a caller is named only from the
    `caller_min_*` floor, so an idle window or a stray probe makes no finding."""

    ready_min_requests: float = FLOOR_REQUESTS
    ready_min_tcp_bytes: float = FLOOR_TCP_BYTES
    caller_min_requests: float = CALLER_FLOOR_REQUESTS
    caller_min_tcp_bytes: float = CALLER_FLOOR_TCP_BYTES

    @classmethod
    def from_config(cls, section: Any) -> Floor:
        """The config file's `mtls:` section (keys as the fields); unknown keys and bad values are errors."""
        section = section or {}
        if not isinstance(section, dict):
            raise UsageError("mtls: must be a mapping of floor names to numbers")
        known = [f for f in cls.__dataclass_fields__]
        values: dict[str, float] = {}
        for k, v in section.items():
            if k not in known:
                raise UsageError(f"mtls.{k}: unknown setting (known: {', '.join(known)})")
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or v != v or v == float("inf"):
                raise UsageError(f"mtls.{k}: expected a number >= 0, got {v!r}")
            values[str(k)] = float(v)
        return cls(**values)

    def as_dict(self) -> dict[str, float]:
        return {
            "requests": self.ready_min_requests,
            "tcp_bytes": self.ready_min_tcp_bytes,
            "caller_requests": self.caller_min_requests,
            "caller_tcp_bytes": self.caller_min_tcp_bytes,
        }


DEFAULT_FLOOR = Floor()


@dataclass
class Share:
    """Requests and TCP bytes seen in the window, and how many of them were mutual TLS."""

    requests: float = 0.0
    mtls_requests: float = 0.0
    tcp_bytes: float = 0.0
    mtls_tcp_bytes: float = 0.0

    def add(self, other: Share) -> None:
        self.requests += other.requests
        self.mtls_requests += other.mtls_requests
        self.tcp_bytes += other.tcp_bytes
        self.mtls_tcp_bytes += other.mtls_tcp_bytes

    @property
    def request_share(self) -> float | None:
        """Percent of requests that were mutual TLS; None without requests."""
        return 100.0 * self.mtls_requests / self.requests if self.requests > 0 else None

    @property
    def tcp_share(self) -> float | None:
        return 100.0 * self.mtls_tcp_bytes / self.tcp_bytes if self.tcp_bytes > 0 else None

    @property
    def all_mtls(self) -> bool:
        return self.mtls_requests >= self.requests - 1e-9 and self.mtls_tcp_bytes >= self.tcp_bytes - 1e-9

    def above(self, floor: Floor = DEFAULT_FLOOR) -> bool:
        """At least the ready floor of requests or of TCP bytes (a zero floor still needs some traffic)."""
        if self.requests <= 0 and self.tcp_bytes <= 0:
            return False
        return self.requests >= floor.ready_min_requests or self.tcp_bytes >= floor.ready_min_tcp_bytes

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": round(self.requests, 3),
            "mtls_requests": round(self.mtls_requests, 3),
            "request_share": _pct(self.request_share),
            "tcp_bytes": round(self.tcp_bytes, 3),
            "mtls_tcp_bytes": round(self.mtls_tcp_bytes, 3),
            "tcp_share": _pct(self.tcp_share),
        }


@dataclass
class Caller:
    """A source of non-mTLS traffic into a workload: `namespace/workload`, or `unknown` (outside the mesh)."""

    name: str
    security: str  # connection_security_policy: none | unknown | mutual_tls
    requests: float = 0.0
    tcp_bytes: float = 0.0

    def counts(self, floor: Floor = DEFAULT_FLOOR) -> bool:
        if self.requests <= 0 and self.tcp_bytes <= 0:
            return False
        return self.requests >= floor.caller_min_requests or self.tcp_bytes >= floor.caller_min_tcp_bytes

    def as_dict(self) -> dict[str, Any]:
        return {
            "caller": self.name,
            "security": self.security,
            "requests": round(self.requests, 3),
            "tcp_bytes": round(self.tcp_bytes, 3),
        }


@dataclass
class WorkloadTraffic:
    namespace: str
    workload: str
    mode: ServerMode
    labels: dict[str, str] = field(default_factory=dict)
    inbound: Share = field(default_factory=Share)
    callers: dict[tuple[str, str], Caller] = field(default_factory=dict)  # non-mTLS callers
    #: port-level modes of the workload's own policy (port -> mode), when it has any
    ports: dict[int, ServerMode] = field(default_factory=dict)
    #: the controller's kind (Deployment, StatefulSet, ...) when the config has it, else `Workload`
    kind: str = "Workload"

    def plaintext_callers(self, floor: Floor = DEFAULT_FLOOR) -> list[Caller]:
        return sorted(
            (c for c in self.callers.values() if c.counts(floor)), key=lambda c: (-c.requests, -c.tcp_bytes, c.name)
        )

    def plaintext_ports(self) -> list[int]:
        """Ports whose own mode accepts plain text (the metrics do not say which port a call used)."""
        return sorted(p for p, m in self.ports.items() if m.accepts_plaintext)


@dataclass
class NamespaceMtls:
    namespace: str
    mode: ServerMode
    inbound: Share
    workloads: list[WorkloadTraffic]


@dataclass(frozen=True)
class MtlsFinding:
    kind: str  # ready-for-strict | blocks-strict | will-break
    namespace: str
    workload: str | None
    mode: ServerMode
    message: str
    callers: tuple[Caller, ...] = ()
    apply: str = ""  # the PeerAuthentication YAML to apply (ready-for-strict)
    #: the object the finding is about: `Namespace` (namespace-wide) or the workload's controller kind
    object_kind: str = "Namespace"
    #: will-break only: ports with their own mode that accepts plain text (the calls may have used them)
    plaintext_ports: tuple[int, ...] = ()

    @property
    def title(self) -> str:
        return {"ready-for-strict": "Ready for STRICT", "blocks-strict": "Blocks STRICT", "will-break": "Will break"}[
            self.kind
        ]

    @property
    def code(self) -> str:
        return CODES[self.kind][0]

    @property
    def severity(self) -> str:
        """will-break is an error, unless a port of the workload accepts plain text (then maybe fine)."""
        if self.kind == "will-break" and self.plaintext_ports:
            return "warning"
        return CODES[self.kind][1]

    @property
    def object_name(self) -> str:
        return self.workload or self.namespace

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "kind": self.kind,
            "object": {"kind": self.object_kind, "namespace": self.namespace, "name": self.object_name},
            "namespace": self.namespace,
            "workload": self.workload,
            "configured": self.mode.as_dict(),
            "message": self.message,
            "callers": [c.as_dict() for c in self.callers],
            "apply": self.apply or None,
        }


@dataclass
class MtlsAnalysis:
    """The mesh's configured mTLS next to its traffic, per namespace, and the findings of the comparison."""

    mesh: ServerMode
    auto_mtls: bool
    traffic_collected: bool
    inbound: Share
    namespaces: list[NamespaceMtls]
    findings: list[MtlsFinding]
    floor: Floor = DEFAULT_FLOOR
    #: False when the snapshot holds no config objects: modes are Istio's defaults, and no findings are made
    config_collected: bool = True

    def namespace(self, name: str) -> NamespaceMtls | None:
        return next((n for n in self.namespaces if n.namespace == name), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "mesh": {**self.mesh.as_dict(), "auto_mtls": self.auto_mtls, "traffic": self.inbound.as_dict()},
            "traffic_collected": self.traffic_collected,
            "config_collected": self.config_collected,
            "floor": self.floor.as_dict(),
            "namespaces": [
                {
                    "namespace": n.namespace,
                    "configured": n.mode.as_dict(),
                    "traffic": n.inbound.as_dict(),
                    "workloads": [
                        {
                            "workload": w.workload,
                            "kind": w.kind,
                            "configured": {
                                **w.mode.as_dict(),
                                "ports": {str(p): m.as_dict() for p, m in sorted(w.ports.items())},
                            },
                            "traffic": w.inbound.as_dict(),
                        }
                        for w in n.workloads
                    ],
                }
                for n in self.namespaces
            ],
            "findings": [f.as_dict() for f in self.findings],
        }


def _pct(v: float | None) -> float | None:
    return None if v is None else round(v, 2)


#: The controllers whose pod template gives a metrics workload (destination_workload) its labels:
#: the mesh index's TEMPLATE_KINDS but ReplicationController, which this comparison has never read
#: (reading it would change the mode shown for such workloads: a decision for its owner, see #17).
WORKLOAD_KINDS = tuple(k for k in TEMPLATE_KINDS if k != "ReplicationController")


def _workloads(index: MeshIndex) -> dict[tuple[str | None, str], tuple[str, dict[str, str]]]:
    """(namespace, controller name) -> (kind, pod labels); of controllers with one name, the kind
    first in WORKLOAD_KINDS wins (a Deployment over a ReplicaSet named like it)."""
    out: dict[tuple[str | None, str], tuple[str, dict[str, str]]] = {}
    for kind in WORKLOAD_KINDS:
        for o in index.of_kind(kind):
            meta = pod_template(o).get("metadata")
            labels = meta.get("labels") if isinstance(meta, dict) else None
            if not isinstance(labels, dict):
                labels = {}
            out.setdefault((o.namespace, o.name), (o.kind, {str(k): str(v) for k, v in labels.items()}))
    return out


def analyse_mtls(
    snapshot: Snapshot, mesh: MeshConfig | None = None, floor: Floor | None = None, index: MeshIndex | None = None
) -> MtlsAnalysis:
    """The comparison for every namespace of the snapshot; findings only when traffic and config were collected.
    `index`: the snapshot's shared MeshIndex."""
    floor = floor or DEFAULT_FLOOR
    mesh = mesh if mesh is not None else MeshConfig.from_objects(snapshot.objects)
    index = index_of(index if index is not None else snapshot.objects)
    r = MtlsResolver(index, mesh)
    known = _workloads(index)
    wls: dict[tuple[str, str], WorkloadTraffic] = {}
    collected = False
    for ns in snapshot.namespaces:
        for metric in (REQUESTS, TCP_SENT, TCP_RECEIVED):
            for role in ("incoming", "outgoing"):
                q = snapshot.query(security_policy_key(metric, role), ns)
                if q is None:
                    continue
                collected = True
                for labels, value in _rows(q):
                    _count(labels, value * snapshot.window.duration, metric, ns, wls, r, known)
    namespaces = []
    for ns in snapshot.namespaces:
        mine = sorted((w for (n, _), w in wls.items() if n == ns), key=lambda w: w.workload)
        share = Share()
        for w in mine:
            share.add(w.inbound)
        namespaces.append(NamespaceMtls(ns, r.namespace_mode(ns), share, mine))
    total = Share()
    for n in namespaces:
        total.add(n.inbound)
    config = bool(snapshot.objects)
    findings = _findings(namespaces, r, floor) if collected and config else []
    return MtlsAnalysis(r.mesh_mode(), r.auto_mtls, collected, total, namespaces, findings, floor, config)


#: The labels `_count` reads of a securityPolicy series.
_LABELS = (
    "destination_workload_namespace",
    "destination_service_namespace",
    "destination_workload",
    "connection_security_policy",
    "source_workload_namespace",
    "source_workload",
)


def _rows(q: QueryResult) -> Iterator[tuple[dict[str, str], float]]:
    """Each series' labels that `_count` reads and its value (0 when it has none), in order, read from
    the packed columns: a big mesh has hundreds of thousands of these series, and building them
    as `Series` held ~100 MB and a second per snapshot."""
    from meshreport.snapshot.table import MISSING  # here: numpy only for a snapshot with traffic

    t = q.table(_LABELS)
    strings = t.strings
    for ids, value in zip(t.ids.tolist(), t.values.tolist()):  # noqa: B905 (one row per series)
        yield {n: strings[i] for n, i in zip(_LABELS, ids) if i != MISSING}, (0.0 if value != value else value)  # noqa: B905


def _count(
    lb: dict[str, str],
    amount: float,
    metric: str,
    ns: str,
    wls: dict[tuple[str, str], WorkloadTraffic],
    r: MtlsResolver,
    known: dict[tuple[str | None, str], tuple[str, dict[str, str]]],
) -> None:
    """One series into its destination workload's inbound share (each series once: the query of the
    destination's namespace, by the role that holds it)."""
    dns = lb.get("destination_workload_namespace") or lb.get("destination_service_namespace") or ""
    dwl = lb.get("destination_workload") or UNKNOWN
    if dns != ns or dwl == UNKNOWN or amount <= 0:
        return
    w = wls.get((dns, dwl))
    if w is None:
        kind, lbl = known.get((dns, dwl), ("Workload", {}))
        wm = r.workload_mode(dns, lbl)
        w = wls[(dns, dwl)] = WorkloadTraffic(dns, dwl, wm.workload, lbl, ports=dict(wm.ports), kind=kind)
    csp = lb.get("connection_security_policy") or UNKNOWN
    mtls = csp == MUTUAL
    tcp = metric != REQUESTS
    part = Share(
        requests=0.0 if tcp else amount,
        mtls_requests=amount if mtls and not tcp else 0.0,
        tcp_bytes=amount if tcp else 0.0,
        mtls_tcp_bytes=amount if mtls and tcp else 0.0,
    )
    w.inbound.add(part)
    src_ns = lb.get("source_workload_namespace") or UNKNOWN
    src = lb.get("source_workload") or UNKNOWN
    name = UNKNOWN if src == UNKNOWN else f"{src_ns}/{src}"
    if not mtls or src == UNKNOWN:
        c = w.callers.setdefault((name, csp), Caller(name, csp))
        c.requests += part.requests
        c.tcp_bytes += part.tcp_bytes


def _pa_yaml(ns: str, selector: dict[str, str] | None = None, name: str = "default") -> str:
    lines = ["apiVersion: security.istio.io/v1", "kind: PeerAuthentication", "metadata:"]
    lines += [f"  name: {name}", f"  namespace: {ns}", "spec:"]
    if selector:
        lines += ["  selector:", "    matchLabels:"] + [f"      {k}: {v}" for k, v in sorted(selector.items())]
    lines += ["  mtls:", "    mode: STRICT"]
    return "\n".join(lines) + "\n"


def _findings(namespaces: list[NamespaceMtls], r: MtlsResolver, floor: Floor) -> list[MtlsFinding]:
    out: list[MtlsFinding] = []
    for n in namespaces:
        blocked = False
        for w in n.workloads:
            callers = tuple(w.plaintext_callers(floor))
            if not callers:
                continue
            names = _names(callers)
            if w.mode.mode == PERMISSIVE:
                blocked = True
                out.append(
                    MtlsFinding(
                        "blocks-strict",
                        n.namespace,
                        w.workload,
                        w.mode,
                        f"{n.namespace}/{w.workload} received plain text from {names}; switching it to STRICT "
                        "would reject these callers: make them send mTLS first (a sidecar, and no DestinationRule "
                        "with tls mode DISABLE towards it)",
                        callers,
                        object_kind=w.kind,
                    )
                )
            elif w.mode.mode == STRICT:
                open_ports = tuple(w.plaintext_ports())
                unless = (
                    f", unless they used port {', '.join(map(str, open_ports))}, which accepts plain text"
                    if open_ports
                    else ""
                )
                out.append(
                    MtlsFinding(
                        "will-break",
                        n.namespace,
                        w.workload,
                        w.mode,
                        f"{n.namespace}/{w.workload} is STRICT ({w.mode.decided_by or w.mode.level}) but received "
                        f"plain-text or unknown-source traffic from {names}; those calls fail under STRICT{unless}",
                        callers,
                        object_kind=w.kind,
                        plaintext_ports=open_ports,
                    )
                )
        modes = {w.mode.mode for w in n.workloads}
        if (
            n.mode.mode == PERMISSIVE
            and not blocked
            and n.inbound.above(floor)
            and n.inbound.all_mtls
            and DISABLE not in modes
        ):
            out.append(
                MtlsFinding(
                    "ready-for-strict",
                    n.namespace,
                    None,
                    n.mode,
                    f"namespace {n.namespace} is PERMISSIVE ({n.mode.decided_by or 'Istio default'}) and all its "
                    f"inbound traffic in the window was mutual TLS ({_amount(n.inbound)}): apply a namespace-wide "
                    "STRICT PeerAuthentication",
                    apply=_pa_yaml(n.namespace),
                )
            )
        elif n.mode.mode != PERMISSIVE or blocked:
            for w in n.workloads:
                if w.mode.level != "workload" or w.mode.mode != PERMISSIVE:
                    continue
                pa = r.workload_pa(w.namespace, w.labels)
                if pa is not None and w.inbound.above(floor) and w.inbound.all_mtls:
                    out.append(
                        MtlsFinding(
                            "ready-for-strict",
                            n.namespace,
                            w.workload,
                            w.mode,
                            f"{n.namespace}/{w.workload} is PERMISSIVE ({w.mode.decided_by}) and all its inbound "
                            f"traffic in the window was mutual TLS ({_amount(w.inbound)}): set its policy to STRICT",
                            apply=_pa_yaml(n.namespace, match_labels(pa), pa.name),
                            object_kind=w.kind,
                        )
                    )
    order = {"will-break": 0, "blocks-strict": 1, "ready-for-strict": 2}
    out.sort(key=lambda f: (order[f.kind], f.namespace, f.workload or ""))
    return out


#: Callers a finding's message names; the finding keeps them all (mtls.json lists every one).
MESSAGE_CALLERS = 10


def _names(callers: tuple[Caller, ...]) -> str:
    """The busiest callers by name, the rest counted (a message stays one readable line)."""
    names = ", ".join(c.name for c in callers[:MESSAGE_CALLERS])
    more = len(callers) - MESSAGE_CALLERS
    return names + (f" and {more} more" if more > 0 else "")


def _amount(s: Share) -> str:
    parts = []
    if s.requests > 0:
        parts.append(f"{s.requests:,.0f} requests")
    if s.tcp_bytes > 0:
        parts.append(f"{s.tcp_bytes:,.0f} TCP bytes")
    return ", ".join(parts) or "no traffic"
