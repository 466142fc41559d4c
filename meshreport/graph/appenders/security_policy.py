"""securityPolicy: edge `isMTLS` (% of traffic with connection_security_policy=mutual_tls) and
the source/destination principals, from destination-reported telemetry."""

from __future__ import annotations

import numpy as np

from meshreport.graph.appenders.base import AppenderContext
from meshreport.graph.appenders.series import Codes, SeriesMapper
from meshreport.graph.model import TrafficGraph
from meshreport.graph.telemetry import N_RESOLVE
from meshreport.snapshot.keys import (
    REQUEST_MESSAGES,
    REQUESTS,
    RESPONSE_MESSAGES,
    TCP_RECEIVED,
    TCP_SENT,
    security_policy_key,
)

ROLES = ("incoming", "outgoing")
LABELS = ("connection_security_policy", "source_principal", "destination_principal")


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
        codes = Codes()
        parts: list[tuple[np.ndarray, ...]] = []
        for metric in security_metrics(ctx):
            for role in ROLES:
                got = mapper.pair_rows(security_policy_key(metric, role), LABELS, last_hop_only=False)
                if got is None:
                    continue
                table, rows, hops = got
                # Both hops of a series, one after the other, as a loop over its pairs would add them.
                label = [np.repeat(codes.of(table, N_RESOLVE + j, rows), 2) for j in range(len(LABELS))]
                parts.append((hops.ravel(), np.repeat(table.values[rows], 2), *label))
        if not parts:
            return
        pair, value, csp, src_p, dst_p = (np.concatenate(cols) for cols in zip(*parts))  # noqa: B905
        keep = np.flatnonzero(pair >= 0)
        if not len(keep):
            return
        pair, value, csp, src_p, dst_p = pair[keep], value[keep], csp[keep], src_p[keep], dst_p[keep]
        names, pairs = codes.values, mapper.pair_list
        # Rate per (pair, policy), summed in series order; policies enter in order of first appearance.
        distinct, first, inverse = np.unique(pair * len(names) + csp, return_index=True, return_inverse=True)
        totals = np.bincount(inverse.ravel(), weights=value)
        order = np.argsort(first, kind="stable")
        by_pair, by_policy = np.divmod(distinct[order], len(names))
        policies: dict[tuple[str, str], dict[str, float]] = {}
        for p, c, t in zip(by_pair.tolist(), by_policy.tolist(), totals[order].tolist()):  # noqa: B905
            policies.setdefault(pairs[p], {})[names[c]] = t
        # Principals of the first series of each pair.
        distinct, first = np.unique(pair, return_index=True)
        principals = {
            pairs[p]: (names[s], names[d])
            for p, s, d in zip(distinct.tolist(), src_p[first].tolist(), dst_p[first].tolist())  # noqa: B905
        }
        for (src, dst, _protocol), e in graph.edges.items():
            key = (src, dst)
            d = policies.get(key)
            if d is not None:
                total = sum(d.values())
                mtls = d.get("mutual_tls", 0.0) / total * 100.0 if total > 0 else 0.0
                if mtls > 0:
                    e.metadata["isMTLS"] = mtls
            p = principals.get(key)
            if p is not None:
                if p[0]:
                    e.metadata["sourcePrincipal"] = p[0]
                if p[1]:
                    e.metadata["destPrincipal"] = p[1]
