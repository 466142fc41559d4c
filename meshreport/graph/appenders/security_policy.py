"""securityPolicy: edge `isMTLS` (% of traffic with connection_security_policy=mutual_tls) and
the source/destination principals, from destination-reported telemetry."""

from __future__ import annotations

from meshreport.graph.appenders.base import AppenderContext
from meshreport.graph.appenders.series import SeriesMapper
from meshreport.graph.model import TrafficGraph
from meshreport.snapshot.queries import REQUEST_MESSAGES, REQUESTS, RESPONSE_MESSAGES, TCP_RECEIVED, TCP_SENT

ROLES = ("incoming", "outgoing")
LABELS = ("connection_security_policy", "source_principal", "destination_principal")


def security_policy_key(metric: str, role: str) -> str:
    return f"appender/securityPolicy/{metric}/{role}"


def security_metrics(ctx: AppenderContext) -> list[str]:
    """The metrics Kiali ORs together for the enabled rates (TCP here is NOT swapped)."""
    o = ctx.options
    out = []
    if o.rate_http == "requests" or o.rate_grpc == "requests":
        out.append(REQUESTS)
    if o.rate_grpc in ("sent", "total"):
        out.append(REQUEST_MESSAGES)
    if o.rate_grpc in ("received", "total"):
        out.append(RESPONSE_MESSAGES)
    if o.rate_tcp in ("sent", "total"):
        out.append(TCP_SENT)
    if o.rate_tcp in ("received", "total"):
        out.append(TCP_RECEIVED)
    return out


class SecurityPolicyAppender:
    name = "securityPolicy"
    finalizer = False

    def apply(self, graph: TrafficGraph, ctx: AppenderContext) -> None:
        mapper = SeriesMapper(ctx)
        policies: dict[tuple[str, str], dict[str, float]] = {}
        principals: dict[tuple[str, str], tuple[str, str]] = {}
        for metric in security_metrics(ctx):
            for role in ROLES:
                key = security_policy_key(metric, role)
                for value, pairs, (csp, src_p, dst_p) in mapper.rows(key, LABELS, last_hop_only=False):
                    csp = csp or ""
                    for pair in pairs:
                        d = policies.setdefault(pair, {})
                        d[csp] = d.get(csp, 0.0) + value
                        if pair not in principals:
                            principals[pair] = (src_p or "", dst_p or "")
        if not policies:
            return
        for (src, dst, _protocol), e in graph.edges.items():
            pair = (src, dst)
            d = policies.get(pair)
            if d is not None:
                total = sum(d.values())
                mtls = d.get("mutual_tls", 0.0) / total * 100.0 if total > 0 else 0.0
                if mtls > 0:
                    e.metadata["isMTLS"] = mtls
            p = principals.get(pair)
            if p is not None:
                if p[0]:
                    e.metadata["sourcePrincipal"] = p[0]
                if p[1]:
                    e.metadata["destPrincipal"] = p[1]
