"""Trends across runs: requests, error share and p95 per namespace and for the mesh, one point per
run, from each run's stored snapshot alone.

Pure: one `RunPoint` per digest (meshreport.digest). Requests are counted once (edges from
non-service nodes, as the report's totals); a namespace's p95 is the request-weighted mean of the
p95 of the edges into its workloads (quantiles of different edges cannot be merged exactly; this
is the usual dashboard approximation, said in docs/compare.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from meshreport.digest import Digest

MESH = ""  # the scope name of the whole mesh


@dataclass(frozen=True)
class Totals:
    requests: float  # req/s
    error_pct: float | None  # None without requests
    p95: float | None  # ms; None without latency data


@dataclass
class RunPoint:
    name: str  # the run's name (archive folder)
    end: float  # window end, unix seconds
    scopes: dict[str, Totals] = field(default_factory=dict)  # MESH and each namespace


@dataclass
class _Acc:
    req: float = 0.0
    err: float = 0.0
    lat_w: float = 0.0
    lat_n: float = 0.0

    def totals(self) -> Totals:
        return Totals(
            self.req,
            self.err / self.req * 100.0 if self.req > 0 else None,
            self.lat_w / self.lat_n if self.lat_n else None,
        )


def run_point(name: str, d: Digest) -> RunPoint:
    accs: dict[str, _Acc] = {MESH: _Acc()}
    for e in d.edges.values():
        if e.protocol == "tcp":
            continue
        src, dst = d.nodes.get(e.source), d.nodes.get(e.dest)
        if src is None or dst is None:
            continue
        scopes = {MESH, src.namespace, dst.namespace} & ({MESH} | set(d.namespaces))
        if src.node_type != "service":  # a service's outgoing edges repeat what reached it
            for s in scopes:
                a = accs.setdefault(s, _Acc())
                a.req += e.rate
                a.err += e.rate * (e.error_pct or 0.0) / 100.0
        if e.p95 is not None and e.rate > 0 and dst.node_type != "service":
            for s in {MESH, dst.namespace} & ({MESH} | set(d.namespaces)):
                a = accs.setdefault(s, _Acc())
                a.lat_w += e.p95 * e.rate
                a.lat_n += e.rate
    for ns in d.namespaces:
        accs.setdefault(ns, _Acc())
    return RunPoint(name, d.window.end, {s: a.totals() for s, a in accs.items()})
