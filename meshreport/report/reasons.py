"""Why the health rule fired: the tolerance, direction, protocol and code class behind a status.

`meshreport.health` decides; this module re-reads the same inputs (the node's `Health.requests`
and the tolerances the same rules give it) to name the decisive check, so "reviews-v2 Degraded"
reads "outbound http 5xx 4.8 % (degraded at > 0 %)" instead of a bare "0 %" inbound.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from meshreport import health as h
from meshreport.graph.model import Node
from meshreport.report import format as fmt

_CLASS_NAMES = {"5XX": "5xx", "4XX": "4xx", "^-$": "no response", "^[1-9]$|^1[0-6]$": "gRPC errors"}


def _class_name(tol: h.Tolerance) -> str:
    return _CLASS_NAMES.get(tol.code, f"codes {tol.code}")


def _name_and_kind(node: Node) -> tuple[str, str]:
    if node.node_type == "service":
        return node.service, "service"
    if node.node_type == "app":
        return node.app, "app"
    return node.workload, "workload"


def health_reason(node: Node, rules: Iterable[h.RateRule] | None = None) -> str:
    """One line naming what made a node Failure/Degraded/Not Ready; "" for other statuses."""
    health: Any = node.health
    status = getattr(health, "status", None)
    if status not in (h.FAILURE, h.DEGRADED, h.NOT_READY):
        return ""
    parts: list[str] = []
    if getattr(health, "request_status", h.NA) == status or status != h.NOT_READY:
        parts += _request_reason(node, health, list(rules or []))
    for w in getattr(health, "workload_statuses", []) or []:
        if w.status == status and status != h.HEALTHY:
            parts.append(
                f"{w.name}: {w.available_replicas}/{w.desired_replicas} pods available"
                + (f", {w.synced_proxies} proxies synced" if w.synced_proxies >= 0 else "")
            )
    return "; ".join(dict.fromkeys(parts))


def _request_reason(node: Node, health: Any, rules: list[h.RateRule]) -> list[str]:
    requests = getattr(health, "requests", None) or {}
    target = getattr(health, "request_status", h.NA)
    if target not in (h.FAILURE, h.DEGRADED):
        return []
    name, kind = _name_and_kind(node)
    tolerances = h.resolve_tolerances(rules, node.namespace, kind, name, getattr(health, "annotations", None))
    found: list[tuple[float, str]] = []
    for direction in h.DIRECTIONS:
        for protocol, codes in (requests.get(direction) or {}).items():
            total = sum(codes.values())
            if total <= 0:
                continue
            for tol, matched in h.matching(tolerances, direction, protocol, codes):
                ratio = sum(codes[c] for c in matched) / total * 100.0
                if tol.status(ratio) != target:
                    continue
                limit = tol.failure if target == h.FAILURE else tol.degraded
                cmp = ">" if limit <= 0 else "≥"
                found.append(
                    (
                        ratio,
                        f"{direction} {protocol} {_class_name(tol)} {fmt.pct(ratio)} "
                        f"({target.lower()} at {cmp} {limit:g} %)",
                    )
                )
    if not found and tolerances == ():
        return [f"4xx+5xx {fmt.pct(getattr(health, 'error_ratio', 0.0))} (no tolerances: Kiali's fallback)"]
    found.sort(key=lambda x: -x[0])
    return [text for _, text in found[:2]]
