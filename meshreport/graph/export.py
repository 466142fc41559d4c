"""Graph exports: Kiali's graph JSON (`cytoscape`) and meshreport's own JSON (`json`).

`cytoscape` reproduces what Kiali's graph API returns (graph/config/common): node ids are the
SHA-256 of the internal ids, rates are strings formatted as Kiali formats them, percentages are
`%.1f`, empty fields are left out as Go's `omitempty` does, maps are key-sorted as Go marshals
them, and nodes and edges come in Kiali's sort order. So the file loads wherever Kiali's graph
JSON loads, and can be diffed against Kiali field by field.

`json` is documented in docs/graph-schema.md: internal ids, numbers as numbers, every flag.

The DOT source is the report's own (meshreport.report.topology); the command composes it, so
this module (analysis layer) never imports rendering.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from meshreport.graph.ids import box_id, json_edge_id, json_node_id
from meshreport.graph.model import Edge, Node, TrafficGraph

SCHEMA = "meshreport-graph/v1"

# Kiali's protocol table (graph/protocol.go): (name, precision, role) in Kiali's order.
# role: total | err | pct_err | pct_req | in | out | "" (plain rate).
_EDGE_RATES = {
    "grpc": (("grpc", "total"), ("grpcErr", "err"), ("grpcNoResponse", "err"), ("grpcPercentErr", "pct_err"),
             ("grpcPercentReq", "pct_req")),
    "http": (("http", "total"), ("httpNoResponse", "err"), ("http3xx", ""), ("http4xx", "err"), ("http5xx", "err"),
             ("httpPercentErr", "pct_err"), ("httpPercentReq", "pct_req")),
    "tcp": (("tcp", "total"),),
}  # fmt: skip
_NODE_RATES = {
    "grpc": ("grpcIn", "grpcInErr", "grpcInNoResponse", "grpcOut"),
    "http": ("httpIn", "httpInNoResponse", "httpIn3xx", "httpIn4xx", "httpIn5xx", "httpOut"),
    "tcp": ("tcpIn", "tcpOut"),
}
PROTOCOL_ORDER = ("grpc", "http", "tcp")

#: Boolean node flags in Kiali's NodeData, emitted only when true (Go omitempty).
_BOOL_FLAGS = (
    "hasCB",
    "hasFaultInjection",
    "hasIngressWaypoint",
    "hasMirroring",
    "hasRequestRouting",
    "hasRequestTimeout",
    "hasTCPTrafficShifting",
    "hasTrafficShifting",
    "isAmbient",
    "isDead",
    "isIdle",
    "isInaccessible",
    "isInjected",
    "isK8sGatewayAPI",
    "isOutOfMesh",
    "isOutside",
    "isRoot",
    "isWaypoint",
)


# --- Kiali's number formatting ---------------------------------------------------------------


def calc_precision(value: float, max_precision: int = 5) -> int:
    """Decimals needed to show one significant digit of a value below 1 (Kiali calcPrecision)."""
    if value <= 0:
        return 0
    precision = 0
    while precision < max_precision:
        if value >= 1:
            break
        value *= 10
        precision += 1
    return precision


def go_fixed(value: float, precision: int) -> str:
    """Go's `%.*f`: like Python's, except infinities print as +Inf/-Inf and NaN as NaN."""
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    return f"{value:.{precision}f}"


def rate_string(value: float, min_precision: int = 2) -> str:
    """Kiali rateToString: at least 2 decimals, more below 1 so one significant digit shows."""
    return go_fixed(value, max(min_precision, calc_precision(value, 5)))


# --- cytoscape (Kiali graph JSON) ------------------------------------------------------------


def to_cytoscape(graph: TrafficGraph, box_by: Iterable[str] | str | None = None) -> dict[str, Any]:
    """The JSON Kiali's graph API returns for this graph.

    `box_by` is Kiali's boxBy (cluster, namespace, app); app boxing is implicit for app and
    versionedApp graphs. Defaults to the graph's `options["boxBy"]`.
    """
    if box_by is None:
        box_by = graph.options.get("boxBy", ())
    if isinstance(box_by, str):
        box_by = [b for b in box_by.split(",") if b]
    box_by = set(box_by)
    nodes = [_node_data(n) for n in graph.nodes.values()]
    by_internal = {n.id: d for n, d in zip(graph.nodes.values(), nodes, strict=True)}
    edges = [_edge_data(e, graph) for e in graph.edges.values()]
    app_health = {nid: n.metadata.get("healthDataApp") for nid, n in graph.nodes.items()}
    if "app" in box_by or graph.graph_type in ("app", "versionedApp"):
        _box_by_app(nodes, by_internal, app_health)
    if "namespace" in box_by:
        _box_by(nodes, "namespace")
    if "cluster" in box_by:
        _box_by(nodes, "cluster")
    nodes.sort(key=_node_sort_key)
    edges.sort(key=lambda d: (d["source"], d["target"], d["traffic"].get("protocol", "")))
    return {
        "timestamp": int(graph.timestamp),
        "duration": int(graph.duration),
        "graphType": graph.graph_type,
        "elements": {"nodes": [{"data": _finish_node(d)} for d in nodes], "edges": [{"data": d} for d in edges]},
    }


_BOX_RANK = {"cluster": 0, "namespace": 1, "app": 2}


def _node_sort_key(d: dict[str, Any]) -> tuple:
    return (
        _BOX_RANK.get(d.get("isBox", ""), 3),
        d["cluster"],
        d["namespace"],
        d.get("app", ""),
        d.get("version", ""),
        d.get("service", ""),
        d.get("workload", ""),
    )


def _node_data(n: Node) -> dict[str, Any]:
    md = n.metadata
    d: dict[str, Any] = {"id": json_node_id(n.id), "parent": "", "nodeType": n.node_type}
    d["cluster"] = n.cluster
    d["namespace"] = n.namespace
    for k, v in (("workload", n.workload), ("app", n.app), ("version", n.version), ("service", n.service)):
        if v:
            d[k] = v
    if n.node_type == "aggregate":
        d["aggregate"] = f"{md.get('aggregate', '')}={md.get('aggregateValue', '')}"
    if n.dest_services:
        d["destServices"] = [{"cluster": c, "namespace": ns, "name": name} for c, ns, name in sorted(n.dest_services)]
    if md.get("labels"):
        d["labels"] = {k: md["labels"][k] for k in sorted(md["labels"])}
    traffic = _node_traffic(n)
    if traffic:
        d["traffic"] = traffic
    d["healthData"] = _health_data(n)
    _node_flags(d, md)
    return d


def _health_data(n: Node) -> Any:
    return _kiali_health(n.health if n.health is not None else n.metadata.get("healthData"))


def _kiali_health(h: Any) -> Any:
    return _round_floats(h.to_dict() if hasattr(h, "to_dict") else h)


def _round_floats(x: Any) -> Any:
    """Floats rounded as in the json format (see _num), key order kept (Go struct order)."""
    if isinstance(x, dict):
        return {k: _round_floats(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_round_floats(v) for v in x]
    if isinstance(x, float):
        return _num(x)
    return x


def _node_traffic(n: Node) -> list[dict[str, Any]]:
    out = []
    for proto in PROTOCOL_ORDER:
        rates = {name: rate_string(n.rates[name]) for name in _NODE_RATES[proto] if n.rates.get(name, 0.0) > 0}
        if rates:
            out.append({"protocol": proto, "rates": dict(sorted(rates.items()))})
    return out


def _hostnames(value: Any) -> list[str]:
    """Flatten Kiali's {name: [hosts]} metadata (or an already flat list) into hostnames."""
    if isinstance(value, dict):
        if "hostnames" in value:
            return list(value["hostnames"] or [])
        return [h for k in sorted(value) for h in (value[k] or [])]
    if isinstance(value, (list, tuple, set)):
        return list(value)
    return []


def _node_flags(d: dict[str, Any], md: dict[str, Any]) -> None:
    """Kiali's optional node fields, in NodeData order, omitted when empty/false."""
    flags: dict[str, Any] = {}
    for k in _BOOL_FLAGS:
        if md.get(k):
            flags[k] = True
    if md.get("hasHealthConfig"):
        flags["hasHealthConfig"] = dict(md["hasHealthConfig"])
    if "hasVS" in md and md["hasVS"] is not None:
        hosts = _hostnames(md["hasVS"])
        flags["hasVS"] = {"hostnames": hosts} if hosts else {}
    if md.get("hasWorkloadEntry"):
        flags["hasWorkloadEntry"] = [w if isinstance(w, dict) else {"name": str(w)} for w in md["hasWorkloadEntry"]]
    if md.get("isBox"):
        flags["isBox"] = md["isBox"]
    if md.get("isExtension"):
        flags["isExtension"] = md["isExtension"]
    gw = _gateway(md)
    if gw is not None:
        flags["isGateway"] = gw
        if "gatewayAPIInfo" in gw:
            flags["isK8sGatewayAPI"] = True
    if md.get("isServiceEntry"):
        flags["isServiceEntry"] = md["isServiceEntry"]
    for k in sorted(flags, key=_flag_order):
        d[k] = flags[k]


_FLAG_ORDER = {
    k: i
    for i, k in enumerate(
        (
            "hasCB",
            "hasFaultInjection",
            "hasHealthConfig",
            "hasIngressWaypoint",
            "hasMirroring",
            "hasRequestRouting",
            "hasRequestTimeout",
            "hasTCPTrafficShifting",
            "hasTrafficShifting",
            "hasVS",
            "hasWorkloadEntry",
            "isAmbient",
            "isBox",
            "isDead",
            "isExtension",
            "isGateway",
            "isIdle",
            "isInaccessible",
            "isInjected",
            "isK8sGatewayAPI",
            "isOutOfMesh",
            "isOutside",
            "isRoot",
            "isServiceEntry",
            "isWaypoint",
        )
    )
}


def _flag_order(k: str) -> int:
    return _FLAG_ORDER.get(k, len(_FLAG_ORDER))


_GW_INFOS = (("isIngressGateway", "ingressInfo"), ("isEgressGateway", "egressInfo"), ("isGatewayAPI", "gatewayAPIInfo"))


def _gateway(md: dict[str, Any]) -> dict[str, Any] | None:
    """isGateway as Kiali's JSON shows it: all three infos (Go never omits a struct), one filled.

    Accepts JSON-shaped `isGateway` metadata or Kiali's internal per-kind {gateway: [hosts]}.
    """
    found: dict[str, list[str]] = {}
    if isinstance(md.get("isGateway"), dict) and md["isGateway"]:
        found = {k: _hostnames(v) for k, v in md["isGateway"].items()}
    else:
        for key, info in _GW_INFOS:
            if md.get(key) is not None and md.get(key) is not False:
                found = {info: _hostnames(md[key])}
                break
    if not found:
        return None
    return {info: ({"hostnames": found[info]} if found.get(info) else {}) for _, info in _GW_INFOS}


def _edge_data(e: Edge, graph: TrafficGraph) -> dict[str, Any]:
    md = e.metadata
    d: dict[str, Any] = {
        "id": json_edge_id(e.source, e.dest, e.protocol),
        "source": json_node_id(e.source),
        "target": json_node_id(e.dest),
    }
    if md.get("destPrincipal"):
        d["destPrincipal"] = md["destPrincipal"]
    if md.get("healthStatus") and md["healthStatus"] != "NA":
        d["healthStatus"] = md["healthStatus"]
    if md.get("isMTLS") is not None:
        d["isMTLS"] = go_fixed(float(md["isMTLS"]), 0)
    if md.get("responseTime") is not None:
        d["responseTime"] = go_fixed(float(md["responseTime"]), 0)
    if md.get("sourcePrincipal"):
        d["sourcePrincipal"] = md["sourcePrincipal"]
    if md.get("throughput") is not None:
        d["throughput"] = go_fixed(float(md["throughput"]), 0)
    d["traffic"] = _edge_traffic(e, graph)
    return d


def _edge_traffic(e: Edge, graph: TrafficGraph) -> dict[str, Any]:
    traffic: dict[str, Any] = {"protocol": e.protocol}
    table = _EDGE_RATES.get(e.protocol)
    if table is None:
        return traffic
    rates: dict[str, str] = {}
    total = err = 0.0
    pct_err = pct_req = ""
    for name, role in table:
        v = e.rates.get(name, 0.0)
        if role == "total":
            total = v
        elif role == "err":
            err += v
        elif role == "pct_err":
            pct_err = name
        elif role == "pct_req":
            pct_req = name
        if v > 0:
            rates[name] = rate_string(v)
    if not rates:
        return traffic
    if total > 0:
        if pct_err and err / total * 100 > 0:
            rates[pct_err] = go_fixed(err / total * 100, 1)
        if pct_req:
            src = graph.nodes.get(e.source)
            out = src.rates.get(f"{e.protocol}Out", 0.0) if src is not None else 0.0
            share = total / out * 100.0 if out > 0 else math.inf
            if share > 0:
                rates[pct_req] = go_fixed(share, 1)
        responses = {}
        for code in sorted(e.responses):
            detail = e.responses[code]
            rd: dict[str, Any] = {}
            # Kiali never records an empty flag or host (addToMetadataResponses).
            flags = {k: v for k, v in (detail.get("flags") or {}).items() if k}
            hosts = {k: v for k, v in (detail.get("hosts") or {}).items() if k}
            if flags:
                rd["flags"] = {f: go_fixed(flags[f] / total * 100.0, 1) for f in sorted(flags)}
            if hosts:
                rd["hosts"] = {h: go_fixed(hosts[h] / total * 100.0, 1) for h in sorted(hosts)}
            responses[code] = rd
        traffic["rates"] = dict(sorted(rates.items()))
        if responses:
            traffic["responses"] = responses
    # Kiali leaves an edge without total traffic as {"protocol": ...} only.
    return traffic


def _box_by_app(nodes: list[dict[str, Any]], by_internal: dict[str, dict], app_health: dict[str, Any]) -> None:
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    app_health_by_json = {by_internal[k]["id"]: _kiali_health(v) for k, v in app_health.items() if k in by_internal}
    for d in nodes:
        app = d.get("app", "")
        if app and app != "unknown":
            groups.setdefault((d["cluster"], d["namespace"], app), []).append(d)
    for (cluster, ns, app), members in groups.items():
        if len(members) < 2:
            continue
        box = {"id": box_id(cluster, ns, app), "parent": "", "nodeType": "box", "cluster": cluster}
        box["namespace"] = ns
        box["app"] = app
        health = None
        flags = {"isInaccessible": False, "isOutOfMesh": False, "isOutside": False}
        for m in members:
            m["parent"] = box["id"]
            if health is None and m["nodeType"] == "app":
                # A versioned app node's own health is its workload's; the box shows the app's.
                health = app_health_by_json.get(m["id"]) if m.get("workload") else m.get("healthData")
            for f in flags:
                flags[f] = flags[f] or bool(m.get(f))
        box["healthData"] = health
        box["isBox"] = "app"
        for f in ("isInaccessible", "isOutOfMesh", "isOutside"):
            if flags[f]:
                box[f] = True
        nodes.append(box)


def _box_by(nodes: list[dict[str, Any]], level: str) -> None:
    """Namespace or cluster boxes: only when more than one box would exist, each with >1 member."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for d in nodes:
        if d["parent"] or d[level] == "unknown":
            continue
        key = (d["cluster"], d["namespace"]) if level == "namespace" else (d["cluster"],)
        groups.setdefault(key, []).append(d)
    if len(groups) <= 1:
        return
    for key, members in groups.items():
        if len(members) < 2:
            continue
        bid = box_id(*key)
        box = {"id": bid, "parent": "", "nodeType": "box", "cluster": key[0], "namespace": ""}
        if level == "namespace":
            box["namespace"] = key[1]
        box["healthData"] = None
        box["isBox"] = level
        for m in members:
            m["parent"] = bid
        nodes.append(box)


def _finish_node(d: dict[str, Any]) -> dict[str, Any]:
    if not d.get("parent"):
        d.pop("parent", None)
    return d


# --- meshreport's own JSON -------------------------------------------------------------------


def to_json(graph: TrafficGraph) -> dict[str, Any]:
    """meshreport's graph document (docs/graph-schema.md): plain numbers, internal ids."""
    nodes = sorted(graph.nodes.values(), key=lambda n: n.id)
    edges = sorted(graph.edges.values(), key=lambda e: e.key)
    return {
        "schema": SCHEMA,
        "graphType": graph.graph_type,
        "timestamp": graph.timestamp,
        "duration": graph.duration,
        "namespaces": list(graph.namespaces),
        "options": _plain(graph.options),
        "nodes": [_json_node(n) for n in nodes],
        "edges": [_json_edge(e) for e in edges],
    }


def _json_node(n: Node) -> dict[str, Any]:
    d: dict[str, Any] = {
        "id": n.id,
        "kialiId": json_node_id(n.id),
        "type": n.node_type,
        "cluster": n.cluster,
        "namespace": n.namespace,
        "workload": n.workload,
        "app": n.app,
        "version": n.version,
        "service": n.service,
        "destServices": [{"cluster": c, "namespace": ns, "name": s} for c, ns, s in sorted(n.dest_services)],
        "rates": {k: _num(n.rates[k]) for k in sorted(n.rates)},
        "metadata": _plain({k: v for k, v in n.metadata.items() if k not in ("healthData", "healthDataApp")}),
        "health": _json_health(n.health),
    }
    return d


def _json_health(h: Any) -> dict[str, Any] | None:
    if h is None:
        return None
    if not hasattr(h, "status") or not hasattr(h, "requests"):
        return _plain(h)
    return {
        "kind": h.kind,
        "status": h.status,
        "requestStatus": h.request_status,
        "errorRatio": _num(h.error_ratio),
        "requests": _plain(h.requests),
        "workloadStatuses": [{**w.to_dict(), "status": w.status} for w in h.workload_statuses],
        "annotations": dict(h.annotations),
    }


def _json_edge(e: Edge) -> dict[str, Any]:
    md = dict(e.metadata)
    health = md.pop("healthStatus", None)
    md.pop("responseTimes", None)  # the report's quantiles; the export keeps Kiali's one responseTime
    return {
        "source": e.source,
        "target": e.dest,
        "protocol": e.protocol,
        "kialiId": json_edge_id(e.source, e.dest, e.protocol),
        "rates": {k: _num(e.rates[k]) for k in sorted(e.rates)},
        "errorRate": _num(e.errors),
        "errorPercent": _num(e.error_pct),
        "responses": _plain(e.responses),
        "metadata": _plain(md),
        "health": health,
    }


def _plain(x: Any) -> Any:
    """JSON-safe copy: sets become sorted lists, tuples lists, dataclasses their dicts, keys sorted."""
    if isinstance(x, dict):
        return {str(k): _plain(x[k]) for k in sorted(x, key=str)}
    if isinstance(x, (set, frozenset)):
        return sorted((_plain(v) for v in x), key=lambda v: repr(v))
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if hasattr(x, "to_dict"):
        return _plain(x.to_dict())
    if hasattr(x, "__dataclass_fields__"):
        return _plain({k: getattr(x, k) for k in x.__dataclass_fields__})
    if isinstance(x, float):
        return _num(x)
    return x


def _num(x: float) -> float | None:
    """Rounded to 9 decimals: summation order must not show (5.8999999999999995 -> 5.9);
    Prometheus values are rounded to 0.001 already. NaN and infinities become null."""
    if math.isnan(x) or math.isinf(x):
        return None
    return round(x, 9)
