"""The cytoscape export of a hand-built graph, checked field by field against Kiali's JSON.

Expected values follow Kiali's graph/config/common (field names, omitempty, SHA-256 ids, rate
strings, percentages, boxes, sort order) as Kiali makes them (graph/types.go, graph/protocol.go).
"""

from __future__ import annotations

import hashlib
import json

import pytest

from meshreport.graph import export
from meshreport.graph.ids import new_node
from meshreport.graph.model import TrafficGraph
from meshreport.graph.traffic import add_value


def sha(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


def vapp(ns, app, version, cluster="east"):
    nid = f"vapp_{cluster}_{ns}_{app}-{version}"
    return new_node(nid, "app", cluster, ns, f"{app}-{version}", app, version, "", "versionedApp")


def build() -> TrafficGraph:
    """productpage -> details (http 80: 20 each of 200/3xx/4xx/5xx), -> reviews v1/v2, unknown -> productpage."""
    g = TrafficGraph(graph_type="versionedApp", timestamp=1523364075.0, duration=600, namespaces=["bookinfo"])
    pp, det = vapp("bookinfo", "productpage", "v1"), vapp("bookinfo", "details", "v1")
    r1, r2 = vapp("bookinfo", "reviews", "v1"), vapp("bookinfo", "reviews", "v2")
    unk = new_node("east_unknown_source", "unknown", "east", "unknown", "unknown", "unknown", "unknown", "", "x")
    for n in (pp, det, r1, r2, unk):
        g.add_node(n)
    det.dest_services.add(("east", "bookinfo", "details"))
    for code in ("200", "301", "404", "503"):
        add_value(pp, det, g.edge(pp.id, det.id, "http"), "http", 20.0, code, "-", "details.bookinfo.svc.cluster.local")
    add_value(pp, r1, g.edge(pp.id, r1.id, "http"), "http", 0.05, "200", "-", "reviews.bookinfo.svc.cluster.local")
    add_value(pp, r2, g.edge(pp.id, r2.id, "http"), "http", 0.001, "200", "DC", "reviews.bookinfo.svc.cluster.local")
    add_value(unk, pp, g.edge(unk.id, pp.id, "http"), "http", 100.0, "200", "-", "productpage:9080")
    add_value(unk, pp, g.edge(unk.id, pp.id, "tcp"), "tcp", 1234.5, "-", "-", "productpage:9080")
    unk.metadata.update({"isInaccessible": True, "isRoot": True})
    det.metadata["hasVS"] = {"details": ["details.bookinfo.svc.cluster.local"]}
    g.edges[(pp.id, det.id, "http")].metadata.update({"responseTime": 12.6, "isMTLS": 100.0, "healthStatus": "Failure"})
    return g


@pytest.fixture
def doc():
    return export.to_cytoscape(build())


def nodes_by_workload(doc):
    return {n["data"].get("workload", n["data"].get("isBox")): n["data"] for n in doc["elements"]["nodes"]}


def test_top_level(doc):
    assert list(doc) == ["timestamp", "duration", "graphType", "elements"]
    assert doc["timestamp"] == 1523364075 and isinstance(doc["timestamp"], int)
    assert doc["duration"] == 600 and doc["graphType"] == "versionedApp"
    assert list(doc["elements"]) == ["nodes", "edges"]


def test_node_ids_are_sha256_of_internal_ids(doc):
    ids = {n["data"]["id"] for n in doc["elements"]["nodes"]}
    assert sha("vapp_east_bookinfo_details-v1") in ids
    assert sha("east_unknown_source") in ids
    # the reference's worked example
    assert export.json_node_id("wl_east_bankapp_deposit-v1").startswith("4bd27abd")


def test_edge_id_is_sha256_of_hashes_and_protocol(doc):
    src, dst = sha("vapp_east_bookinfo_productpage-v1"), sha("vapp_east_bookinfo_details-v1")
    e = next(e["data"] for e in doc["elements"]["edges"] if e["data"]["target"] == dst)
    assert e["source"] == src
    assert e["id"] == sha(f"{src}.{dst}.http")


def test_node_fields_and_omitempty(doc):
    d = nodes_by_workload(doc)["details-v1"]
    assert list(d) == [
        "id", "nodeType", "cluster", "namespace", "workload", "app", "version", "destServices", "traffic",
        "healthData", "hasVS",
    ]  # fmt: skip
    assert d["nodeType"] == "app" and d["cluster"] == "east" and d["namespace"] == "bookinfo"
    assert d["app"] == "details" and d["version"] == "v1"
    assert "service" not in d and "parent" not in d  # empty strings are omitted, no box for a lone app
    assert d["destServices"] == [{"cluster": "east", "namespace": "bookinfo", "name": "details"}]
    assert d["traffic"] == [
        {
            "protocol": "http",
            "rates": {"httpIn": "80.00", "httpIn3xx": "20.00", "httpIn4xx": "20.00", "httpIn5xx": "20.00"},
        }
    ]
    assert d["healthData"] is None  # always present, null without the health appender
    assert d["hasVS"] == {"hostnames": ["details.bookinfo.svc.cluster.local"]}
    assert "isRoot" not in d and "isOutside" not in d  # false flags are omitted
    u = next(n["data"] for n in doc["elements"]["nodes"] if n["data"]["nodeType"] == "unknown")
    assert u["isInaccessible"] is True and u["isRoot"] is True
    assert u["workload"] == "unknown" and u["app"] == "unknown"
    assert [t["protocol"] for t in u["traffic"]] == ["http", "tcp"]
    assert u["traffic"][1]["rates"] == {"tcpOut": "1234.50"}


def test_edge_rates_percentages_and_responses(doc):
    det = sha("vapp_east_bookinfo_details-v1")
    e = next(e["data"] for e in doc["elements"]["edges"] if e["data"]["target"] == det)
    t = e["traffic"]
    assert t["protocol"] == "http"
    assert t["rates"] == {
        "http": "80.00",
        "http3xx": "20.00",
        "http4xx": "20.00",
        "http5xx": "20.00",
        "httpPercentErr": "50.0",  # 4xx + 5xx over total; 3xx is not an error
        "httpPercentReq": "99.9",  # 80 of productpage's 80.051 outgoing
    }
    assert list(t["responses"]) == ["200", "301", "404", "503"]
    assert t["responses"]["503"] == {"flags": {"-": "25.0"}, "hosts": {"details.bookinfo.svc.cluster.local": "25.0"}}
    assert e["responseTime"] == "13" and e["isMTLS"] == "100" and e["healthStatus"] == "Failure"


def test_small_rates_show_one_significant_digit(doc):
    by_target = {e["data"]["target"]: e["data"]["traffic"] for e in doc["elements"]["edges"]}
    assert by_target[sha("vapp_east_bookinfo_reviews-v1")]["rates"]["http"] == "0.05"
    t2 = by_target[sha("vapp_east_bookinfo_reviews-v2")]
    assert t2["rates"] == {"http": "0.001", "httpPercentReq": "0.0"}
    assert t2["responses"] == {
        "200": {"flags": {"DC": "100.0"}, "hosts": {"reviews.bookinfo.svc.cluster.local": "100.0"}}
    }


@pytest.mark.parametrize(
    "value, text",
    [(20, "20.00"), (0.05, "0.05"), (0.001, "0.001"), (0.5, "0.50"), (0.00002, "0.00002"), (1e-7, "0.00000"),
     (1234.567, "1234.57"), (0.0123, "0.01")],
)  # fmt: skip
def test_rate_string(value, text):
    assert export.rate_string(value) == text


def test_app_box_for_versions_of_one_app(doc):
    nodes = doc["elements"]["nodes"]
    box = nodes[0]["data"]
    assert box["nodeType"] == "box" and box["isBox"] == "app" and box["app"] == "reviews"
    assert box["id"] == sha("box_east_bookinfo_reviews")
    assert "version" not in box and "healthData" in box
    members = [n["data"] for n in nodes if n["data"].get("parent") == box["id"]]
    assert sorted(m["workload"] for m in members) == ["reviews-v1", "reviews-v2"]
    assert all(n["data"]["nodeType"] != "box" for n in nodes[1:])  # boxes first


def test_namespace_and_cluster_boxes_need_more_than_one_box():
    g = build()
    doc = export.to_cytoscape(g, box_by="cluster,namespace")
    kinds = [n["data"].get("isBox") for n in doc["elements"]["nodes"] if n["data"]["nodeType"] == "box"]
    assert kinds == ["app"]  # one namespace (unknown is never boxed), one cluster: no boxes
    extra = vapp("shop", "cart", "v1")
    other = vapp("shop", "pay", "v1")
    g.add_node(extra)
    g.add_node(other)
    doc = export.to_cytoscape(g, box_by=["namespace"])
    boxes = [n["data"] for n in doc["elements"]["nodes"] if n["data"]["nodeType"] == "box"]
    assert [b["isBox"] for b in boxes] == ["namespace", "namespace", "app"]
    assert {b["namespace"] for b in boxes if b["isBox"] == "namespace"} == {"bookinfo", "shop"}
    app_box = next(b for b in boxes if b["isBox"] == "app")
    ns_box = next(b for b in boxes if b.get("namespace") == "bookinfo" and b["isBox"] == "namespace")
    assert app_box["parent"] == ns_box["id"] == sha("box_east_bookinfo")


def test_sort_order(doc):
    nodes = [n["data"] for n in doc["elements"]["nodes"]]
    keys = [(n["cluster"], n["namespace"], n.get("app", ""), n.get("version", "")) for n in nodes[1:]]
    assert keys == sorted(keys)
    edges = [
        (e["data"]["source"], e["data"]["target"], e["data"]["traffic"]["protocol"]) for e in doc["elements"]["edges"]
    ]
    assert edges == sorted(edges)


def test_idle_edge_has_protocol_only():
    g = build()
    pp = g.nodes["vapp_east_bookinfo_productpage-v1"]
    extra = vapp("bookinfo", "ratings", "v1")
    g.add_node(extra)
    g.edge(pp.id, extra.id, "http")
    doc = export.to_cytoscape(g)
    e = next(e["data"] for e in doc["elements"]["edges"] if e["data"]["target"] == sha(extra.id))
    assert e["traffic"] == {"protocol": "http"}


def test_gateway_and_service_entry_shapes():
    g = build()
    gw = new_node("wl_east_istio-system_ingress", "workload", "east", "istio-system", "ingress", "", "", "", "workload")
    gw.metadata["isIngressGateway"] = {"bookinfo-gateway": ["*"]}
    se = new_node("svc_east_bookinfo_ext", "service", "east", "bookinfo", "", "", "", "ext", "workload")
    se.metadata["isServiceEntry"] = {"hosts": ["api.example.com"], "location": "MESH_EXTERNAL", "namespace": "bookinfo"}
    g.add_node(gw)
    g.add_node(se)
    doc = export.to_cytoscape(g)
    by_id = {n["data"]["id"]: n["data"] for n in doc["elements"]["nodes"]}
    assert by_id[sha(gw.id)]["isGateway"] == {
        "ingressInfo": {"hostnames": ["*"]},
        "egressInfo": {},
        "gatewayAPIInfo": {},
    }
    assert by_id[sha(se.id)]["isServiceEntry"]["location"] == "MESH_EXTERNAL"
    assert by_id[sha(se.id)]["service"] == "ext"


def test_serializes_as_json(doc):
    text = json.dumps(doc)
    assert json.loads(text) == doc


def test_injected_service_node_flag():
    g = build()
    svc = new_node("svc_east_bookinfo_reviews", "service", "east", "bookinfo", "", "", "", "reviews", "workload")
    svc.metadata["isInjected"] = True
    svc.metadata["isEgressCluster"] = False
    g.add_node(svc)
    d = next(n["data"] for n in export.to_cytoscape(g)["elements"]["nodes"] if n["data"]["id"] == sha(svc.id))
    assert d["isInjected"] is True and "isEgressCluster" not in d
    assert list(d)[-1] == "isInjected"
