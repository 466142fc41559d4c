"""Observed mTLS coverage: how much traffic went over mutual TLS, mesh-wide and per namespace,
which edges carried plaintext, and which PeerAuthentications still allow it (PERMISSIVE).

Numbers come from the graph's securityPolicy appender (edge `isMTLS`, percent of the edge's
traffic with connection_security_policy=mutual_tls). Requests and TCP bytes are not added
together: coverage is the share of requests, and TCP edges count in the edge tallies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from meshreport.graph.model import TrafficGraph
from meshreport.report import format as fmt
from meshreport.report.edges import EdgeRow
from meshreport.snapshot.model import Snapshot

#: The most plaintext edges listed (worst by traffic first); the rest are counted.
PLAINTEXT_LIMIT = 200
ROOT_NAMESPACE = "istio-system"


@dataclass(frozen=True)
class PermissivePolicy:
    namespace: str
    name: str
    scope: str


@dataclass
class MtlsSummary:
    coverage_text: str
    edges_total: int
    edges_mtls: int
    #: namespace -> share of requests to it over mTLS (text)
    namespaces: dict[str, str] = field(default_factory=dict)
    plaintext: list[EdgeRow] = field(default_factory=list)
    plaintext_omitted: int = 0
    permissive: list[PermissivePolicy] = field(default_factory=list)


def _share(mtls: float, total: float) -> str:
    return fmt.pct(mtls / total * 100.0) if total > 0 else "–"


def mtls_summary(snapshot: Snapshot, graph: TrafficGraph, rows: list[EdgeRow], namespaces: list[str]) -> MtlsSummary:
    """`rows`: the report's edge rows (service hops already folded), with `mtls` set."""
    total = secured = 0.0
    by_ns: dict[str, list[float]] = {ns: [0.0, 0.0] for ns in namespaces}
    live = [r for r in rows if r.rate > 0 and r.mtls is not None]
    for r in live:
        if r.protocol == "tcp":
            continue
        part = r.rate * (r.mtls or 0.0) / 100.0
        total += r.rate
        secured += part
        acc = by_ns.get(r.dest.namespace)
        if acc is not None:
            acc[0] += r.rate
            acc[1] += part
    plain = sorted((r for r in live if (r.mtls or 0.0) < 100.0), key=lambda r: (-r.rate, r.source.name))
    return MtlsSummary(
        coverage_text=_share(secured, total),
        edges_total=len(live),
        edges_mtls=sum(1 for r in live if (r.mtls or 0.0) >= 100.0),
        namespaces={ns: _share(v[1], v[0]) for ns, v in by_ns.items()},
        plaintext=plain[:PLAINTEXT_LIMIT],
        plaintext_omitted=max(0, len(plain) - PLAINTEXT_LIMIT),
        permissive=permissive_policies(snapshot, namespaces),
    )


def permissive_policies(snapshot: Snapshot, namespaces: list[str]) -> list[PermissivePolicy]:
    """PeerAuthentications whose mode (or a port's mode) is PERMISSIVE, in the report's scope."""
    wanted = set(namespaces) | {ROOT_NAMESPACE}
    out = []
    for o in snapshot.objects:
        if o.kind != "PeerAuthentication" or o.namespace not in wanted:
            continue
        spec = o.spec
        modes = [(spec.get("mtls") or {}).get("mode")] if isinstance(spec.get("mtls"), dict) else []
        ports = spec.get("portLevelMtls") if isinstance(spec.get("portLevelMtls"), dict) else {}
        modes += [p.get("mode") for p in ports.values() if isinstance(p, dict)]
        if "PERMISSIVE" not in modes:
            continue
        labels = (spec.get("selector") or {}).get("matchLabels") if isinstance(spec.get("selector"), dict) else None
        if isinstance(labels, dict) and labels:
            scope = "workloads with " + ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
        elif o.namespace == ROOT_NAMESPACE:
            scope = "the whole mesh"
        else:
            scope = "the whole namespace"
        if ports and (spec.get("mtls") or {}).get("mode") != "PERMISSIVE":
            scope += " (some ports)"
        out.append(PermissivePolicy(o.namespace or "", o.name, scope))
    return sorted(out, key=lambda p: (p.namespace, p.name))
