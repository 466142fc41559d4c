"""What changed between two analysed snapshots (digests): the analysis behind `meshreport diff`,
the report's "Since the previous report" section and baseline gating in CI.

Pure: two `Digest`s and `Thresholds` in, a `Comparison` out. Moves of numbers count only beyond
both a relative and an absolute change, and only for traffic above a floor, so the ordinary
wobble between two nights reports nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import Any

from meshreport.digest import Digest, EdgeFacts, NodeFacts
from meshreport.errors import UsageError
from meshreport.fielddiff import FieldChange, field_changes
from meshreport.health import DEGRADED, FAILURE, HEALTHY, NOT_READY
from meshreport.validation.model import Finding

REGRESSION = "regression"
IMPROVEMENT = "improvement"
CHANGED = "changed"  # neither better nor worse (traffic moved, a workload went quiet)

#: Health statuses from better to worse; NA (no traffic) is outside the scale.
_HEALTH_RANK = {HEALTHY: 0, NOT_READY: 1, DEGRADED: 2, FAILURE: 3}
_COMPARED_NODES = ("app", "workload", "service")


class IncomparableError(UsageError):
    """Two snapshots that cannot be compared meaningfully (exit 2, like a usage error)."""


@dataclass(frozen=True)
class Thresholds:
    """When a number has moved. A move needs both the relative and the absolute change; error
    share and p95 are compared only where both sides carry at least `min_rate` requests/s, the
    request rate where either side does."""

    min_rate: float = 0.1  # req/s
    rate_relative: float = 0.5  # 50 %
    rate_absolute: float = 1.0  # req/s
    error_relative: float = 0.5
    error_absolute: float = 1.0  # percentage points
    p95_relative: float = 0.5
    p95_absolute: float = 20.0  # ms
    mtls_absolute: float = 10.0  # percentage points of traffic with mutual TLS

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> Thresholds:
        """The config file's `compare:` section (names as the fields); unknown keys are an error."""
        section = section or {}
        if not isinstance(section, Mapping):
            raise UsageError("compare: must be a mapping of threshold names to numbers")
        known = {f.name for f in fields(cls)}
        values: dict[str, float] = {}
        for k, v in section.items():
            if k not in known:
                raise UsageError(f"compare.{k}: unknown threshold (known: {', '.join(sorted(known))})")
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                raise UsageError(f"compare.{k}: expected a number >= 0, got {v!r}")
            values[k] = float(v)
        return cls(**values)


@dataclass(frozen=True)
class Presence:
    """A service, workload or edge that appeared or disappeared."""

    what: str  # service | workload | app | edge
    key: str  # node id, or `source id -> dest id (protocol)`
    name: str
    namespace: str
    change: str  # appeared | disappeared


@dataclass(frozen=True)
class HealthChange:
    what: str  # service | workload | app
    key: str
    name: str
    namespace: str
    old: str
    new: str
    direction: str


@dataclass(frozen=True)
class Move:
    """A number of an edge or service that moved beyond the thresholds."""

    what: str  # edge | service | workload | app
    key: str
    name: str
    namespace: str
    metric: str  # error_share | p95 | request_rate
    old: float
    new: float
    direction: str


@dataclass(frozen=True)
class MtlsChange:
    key: str
    name: str
    namespace: str
    old: float
    new: float
    direction: str


@dataclass(frozen=True)
class ConfigChange:
    cluster: str
    kind: str
    namespace: str
    name: str
    change: str  # added | removed | changed
    fields: tuple[FieldChange, ...] = ()
    more_fields: int = 0  # changed fields beyond those listed

    @property
    def ref(self) -> str:
        return f"{self.kind} {self.namespace + '/' if self.namespace else ''}{self.name}"


@dataclass(frozen=True)
class GapChange:
    phase: str
    what: str
    namespace: str
    reason: str
    change: str  # new | resolved


@dataclass
class FindingsDiff:
    new: list[Finding] = field(default_factory=list)
    resolved: list[Finding] = field(default_factory=list)
    still_open: list[Finding] = field(default_factory=list)


@dataclass
class Side:
    """What the comparison says about one snapshot."""

    start: float
    end: float
    schema_version: int
    namespaces: tuple[str, ...]


@dataclass
class Comparison:
    old: Side
    new: Side
    graph_type: str
    thresholds: Thresholds
    notes: list[str] = field(default_factory=list)
    presence: list[Presence] = field(default_factory=list)
    health: list[HealthChange] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    mtls: list[MtlsChange] = field(default_factory=list)
    #: None when config was not collected on one side (said in `notes`).
    findings: FindingsDiff | None = None
    config: list[ConfigChange] | None = None
    gaps: list[GapChange] = field(default_factory=list)
    #: Both sides' nodes, for tables that show previous and current numbers side by side.
    old_nodes: dict[str, NodeFacts] = field(default_factory=dict)
    new_nodes: dict[str, NodeFacts] = field(default_factory=dict)

    def regressions(self) -> list[HealthChange | Move | MtlsChange]:
        return [c for c in (*self.health, *self.moves, *self.mtls) if c.direction == REGRESSION]

    def improvements(self) -> list[HealthChange | Move | MtlsChange]:
        return [c for c in (*self.health, *self.moves, *self.mtls) if c.direction == IMPROVEMENT]

    @property
    def empty(self) -> bool:
        """Nothing changed (findings still open are not a change)."""
        f = self.findings
        return not (
            self.presence
            or self.health
            or self.moves
            or self.mtls
            or self.gaps
            or self.config
            or (f is not None and (f.new or f.resolved))
        )

    def new_edges(self) -> set[tuple[str, str, str]]:
        return {_edge_key(p.key) for p in self.presence if p.what == "edge" and p.change == "appeared"}

    def health_by_node(self) -> dict[str, HealthChange]:
        return {h.key: h for h in self.health}


METRIC_TEXT = {"error_share": "error share", "p95": "p95 latency", "request_rate": "request rate"}


def edge_key_text(key: tuple[str, str, str]) -> str:
    return f"{key[0]} -> {key[1]} ({key[2]})"


def _edge_key(text: str) -> tuple[str, str, str]:
    src, rest = text.split(" -> ", 1)
    dst, proto = rest.rsplit(" (", 1)
    return src, dst, proto.rstrip(")")


def compare(old: Digest, new: Digest, thresholds: Thresholds | None = None) -> Comparison:
    """Everything that changed from `old` to `new`; refuses pairs that cannot be compared."""
    t = thresholds or Thresholds()
    notes = _comparability(old, new)
    c = Comparison(
        old=Side(old.window.start, old.window.end, old.schema_version, old.namespaces),
        new=Side(new.window.start, new.window.end, new.schema_version, new.namespaces),
        graph_type=new.graph_type,
        thresholds=t,
        notes=notes,
        old_nodes=old.nodes,
        new_nodes=new.nodes,
    )
    common = set(old.namespaces) & set(new.namespaces)
    _nodes(c, old, new, common, t)
    _edges(c, old, new, common, t)
    if old.findings is None or new.findings is None:
        c.notes.append(f"findings and config not compared: config was not collected in {_which(old, new)}")
    else:
        c.findings = compare_findings(old.findings, new.findings)
        c.config = _config(old.objects or {}, new.objects or {})
    c.gaps = _gaps(old.gaps, new.gaps)
    return c


def _which(old: Digest, new: Digest) -> str:
    both = old.findings is None and new.findings is None
    return "either snapshot" if both else ("the old snapshot" if old.findings is None else "the new snapshot")


def _comparability(old: Digest, new: Digest) -> list[str]:
    if old.graph_type != new.graph_type:
        raise IncomparableError(
            f"cannot compare a {old.graph_type} graph with a {new.graph_type} graph: analyse both with one graph type"
        )
    if new.window.end < old.window.end:
        raise IncomparableError(
            f"the new snapshot's window ends before the old one's ({_iso(new.window.end)} < "
            f"{_iso(old.window.end)}): give the older snapshot first"
        )
    notes = []
    if round(old.window.duration) != round(new.window.duration):
        notes.append(
            f"windows differ ({_hours(old.window.duration)} then {_hours(new.window.duration)}): rates are "
            "per-second averages over each window, p95 and error shares are over different spans"
        )
    if old.schema_version != new.schema_version:
        notes.append(
            f"snapshot schema versions differ ({old.schema_version} then {new.schema_version}); "
            "both are read into one model"
        )
    only_old = sorted(set(old.namespaces) - set(new.namespaces))
    only_new = sorted(set(new.namespaces) - set(old.namespaces))
    if only_old or only_new:
        parts = []
        if only_old:
            parts.append("only in the old snapshot: " + ", ".join(only_old))
        if only_new:
            parts.append("only in the new snapshot: " + ", ".join(only_new))
        notes.append(f"namespaces collected differ ({'; '.join(parts)}); traffic is compared in the common ones only")
    if old.clusters and new.clusters and set(old.clusters) != set(new.clusters):
        notes.append(f"clusters differ ({', '.join(old.clusters)} then {', '.join(new.clusters)})")
    return notes


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:g}h"


def _move(a: float, b: float, relative: float, absolute: float) -> bool:
    delta = abs(b - a)
    if delta < absolute:
        return False
    return a == 0 or delta / abs(a) >= relative


def _metric_moves(
    what: str, key: str, name: str, ns: str, old: NodeFacts | EdgeFacts, new: NodeFacts | EdgeFacts, t: Thresholds
) -> list[Move]:
    out = []
    busy = max(old.rate, new.rate) >= t.min_rate
    both = min(old.rate, new.rate) >= t.min_rate
    if both and old.error_pct is not None and new.error_pct is not None:
        if _move(old.error_pct, new.error_pct, t.error_relative, t.error_absolute):
            d = REGRESSION if new.error_pct > old.error_pct else IMPROVEMENT
            out.append(Move(what, key, name, ns, "error_share", old.error_pct, new.error_pct, d))
    p_old, p_new = getattr(old, "p95", None), getattr(new, "p95", None)
    if both and p_old is not None and p_new is not None and _move(p_old, p_new, t.p95_relative, t.p95_absolute):
        out.append(Move(what, key, name, ns, "p95", p_old, p_new, REGRESSION if p_new > p_old else IMPROVEMENT))
    tcp = getattr(old, "protocol", "") == "tcp"
    if busy and not tcp and _move(old.rate, new.rate, t.rate_relative, t.rate_absolute):
        out.append(Move(what, key, name, ns, "request_rate", old.rate, new.rate, CHANGED))
    return out


def _health_direction(old: str, new: str) -> str:
    a, b = _HEALTH_RANK.get(old), _HEALTH_RANK.get(new)
    if a is None or b is None:
        return CHANGED  # to or from "no traffic" (NA)
    return REGRESSION if b > a else IMPROVEMENT


def _nodes(c: Comparison, old: Digest, new: Digest, common: set[str], t: Thresholds) -> None:
    for nid in sorted(set(old.nodes) | set(new.nodes)):
        a, b = old.nodes.get(nid), new.nodes.get(nid)
        n = b or a
        assert n is not None
        if n.node_type not in _COMPARED_NODES or n.namespace not in common:
            continue
        if a is None or b is None:
            c.presence.append(
                Presence(n.node_type, nid, n.name, n.namespace, "appeared" if a is None else "disappeared")
            )
            continue
        if a.status is not None and b.status is not None and a.status != b.status:
            direction = _health_direction(a.status, b.status)
            c.health.append(HealthChange(n.node_type, nid, n.name, n.namespace, a.status, b.status, direction))
        c.moves += _metric_moves(n.node_type, nid, n.name, n.namespace, a, b, t)


def _edge_name(d: Digest, other: Digest, e: EdgeFacts) -> tuple[str, str]:
    """(`source → dest`, namespace of the destination) for an edge of `d`."""

    def name(nid: str) -> tuple[str, str]:
        n = d.nodes.get(nid) or other.nodes.get(nid)
        return (
            (f"{n.namespace}/{n.name}" if n.namespace and n.namespace != "unknown" else n.name, n.namespace)
            if n
            else (nid, "")
        )

    src, _ = name(e.source)
    dst, ns = name(e.dest)
    return f"{src} → {dst}" + (f" ({e.protocol})" if e.protocol != "http" else ""), ns


def _edge_in(d: Digest, e: EdgeFacts, common: set[str]) -> bool:
    """Edges are compared when an end lies in a namespace both snapshots collected."""
    for nid in (e.source, e.dest):
        n = d.nodes.get(nid)
        if n is not None and n.namespace in common:
            return True
    return False


def _edges(c: Comparison, old: Digest, new: Digest, common: set[str], t: Thresholds) -> None:
    for k in sorted(set(old.edges) | set(new.edges)):
        a, b = old.edges.get(k), new.edges.get(k)
        side, e = (new, b) if b is not None else (old, a)
        assert e is not None
        if not _edge_in(side, e, common):
            continue
        name, ns = _edge_name(side, old if side is new else new, e)
        key = edge_key_text(k)
        if a is None or b is None:
            c.presence.append(Presence("edge", key, name, ns, "appeared" if a is None else "disappeared"))
            continue
        c.moves += _metric_moves("edge", key, name, ns, a, b, t)
        if (a.mtls > 0 or b.mtls > 0) and min(a.rate, b.rate) > 0:
            if abs(a.mtls - b.mtls) >= t.mtls_absolute or (b.mtls <= 0 < a.mtls) or (a.mtls <= 0 < b.mtls):
                d = REGRESSION if b.mtls < a.mtls else IMPROVEMENT
                c.mtls.append(MtlsChange(key, name, ns, a.mtls, b.mtls, d))


def finding_key(f: Finding) -> tuple[str, str]:
    """Findings match by code and object, never by message text (messages get reworded)."""
    return f.code, f.resource_key


def compare_findings(old: list[Finding], new: list[Finding]) -> FindingsDiff:
    """New, resolved and still open findings. Several findings of one code on one object match
    as a multiset; the ones whose path and message the other side also has are matched first."""
    out = FindingsDiff()
    by_old: dict[tuple[str, str], list[Finding]] = {}
    for f in old:
        by_old.setdefault(finding_key(f), []).append(f)
    by_new: dict[tuple[str, str], list[Finding]] = {}
    for f in new:
        by_new.setdefault(finding_key(f), []).append(f)
    for key in sorted(set(by_old) | set(by_new)):
        a, b = by_old.get(key, []), by_new.get(key, [])
        a_exact = {(f.path, f.message) for f in a}
        b_exact = {(f.path, f.message) for f in b}
        b_sorted = sorted(b, key=lambda f: (f.path, f.message) not in a_exact)
        a_sorted = sorted(a, key=lambda f: (f.path, f.message) not in b_exact)
        n = min(len(a), len(b))
        out.still_open += b_sorted[:n]
        out.new += b_sorted[n:]
        out.resolved += a_sorted[n:]
    for lst in (out.new, out.resolved, out.still_open):
        lst.sort(key=Finding.sort_key)
    return out


def _config(
    old: dict[tuple[str, str, str, str], dict[str, Any]], new: dict[tuple[str, str, str, str], dict[str, Any]]
) -> list[ConfigChange]:
    out = []
    for key in sorted(set(old) | set(new)):
        cluster, kind, ns, name = key
        a, b = old.get(key), new.get(key)
        if a is None:
            out.append(ConfigChange(cluster, kind, ns, name, "added"))
        elif b is None:
            out.append(ConfigChange(cluster, kind, ns, name, "removed"))
        elif a != b:
            changes, total = field_changes(a, b)
            out.append(ConfigChange(cluster, kind, ns, name, "changed", tuple(changes), total - len(changes)))
    return out


def _gaps(old: dict[tuple[str, str, str, str], str], new: dict[tuple[str, str, str, str], str]) -> list[GapChange]:
    out = []
    for key in sorted(set(old) | set(new)):
        if key in old and key in new:
            continue
        phase, what, ns, _cluster = key
        out.append(GapChange(phase, what, ns, new.get(key) or old[key], "new" if key in new else "resolved"))
    return out
