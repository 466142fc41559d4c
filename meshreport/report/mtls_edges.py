"""mTLS as the report's edge rows show it (the graph's securityPolicy appender): how many edges with
traffic were fully mutual TLS, which carried plain text, and each namespace's share of requests over mTLS.
The "Mutual TLS" section (report/mtls.py) and the namespace table read it."""

from __future__ import annotations

from dataclasses import dataclass, field

from meshreport.report import format as fmt
from meshreport.report.edges import EdgeRow


@dataclass
class MtlsCoverage:
    """What the report's edge rows say about mTLS: edges fully mTLS, and those that carried plain text."""

    edges_total: int
    edges_mtls: int
    plaintext: list[EdgeRow] = field(default_factory=list)
    #: namespace -> share of requests into it over mTLS (text), from the edges (when Analysis.mtls has no traffic)
    namespaces: dict[str, str] = field(default_factory=dict)
    #: namespace -> edges with traffic (mTLS known) into it
    edges_into: dict[str, int] = field(default_factory=dict)

    def into(self, namespace: str) -> MtlsCoverage:
        """The same counts for the edges into one namespace (its page's Mutual TLS section)."""
        plain = [r for r in self.plaintext if r.dest.namespace == namespace]
        total = self.edges_into.get(namespace, 0)
        return MtlsCoverage(edges_total=total, edges_mtls=total - len(plain), plaintext=plain)


def mtls_coverage(rows: list[EdgeRow], namespaces: list[str]) -> MtlsCoverage:
    """`rows`: the report's edge rows (service hops already folded), with `mtls` set."""
    by_ns: dict[str, list[float]] = {ns: [0.0, 0.0] for ns in namespaces}
    live = [r for r in rows if r.rate > 0 and r.mtls is not None]
    into: dict[str, int] = {}
    for r in live:
        into[r.dest.namespace] = into.get(r.dest.namespace, 0) + 1
        acc = by_ns.get(r.dest.namespace)
        if r.protocol != "tcp" and acc is not None:
            acc[0] += r.rate
            acc[1] += r.rate * (r.mtls or 0.0) / 100.0
    plain = sorted((r for r in live if (r.mtls or 0.0) < 100.0), key=lambda r: (-r.rate, r.source.name))
    return MtlsCoverage(
        edges_total=len(live),
        edges_mtls=len(live) - len(plain),
        plaintext=plain,
        namespaces={ns: share_text(v[1] / v[0] * 100.0 if v[0] > 0 else None) for ns, v in by_ns.items()},
        edges_into=into,
    )


def share_text(pct: float | None) -> str:
    """A share of mTLS traffic: never `100.0 %` while some of it was plain text."""
    if pct is not None and 99.95 <= pct < 100.0:
        return ">99.9 %"
    return fmt.pct(pct)
