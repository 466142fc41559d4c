"""Golden files: the three export formats of the bookinfo sample for all four graph types.

The goldens are what `meshreport graph samples/bookinfo.mrsnap --graph-type T --format F` writes
(all appenders, defaults otherwise). The test only reads them; after an intended change,
regenerate them with this module run as a script, and review the diff before committing:

    .venv/bin/python tests/graph/test_export_golden.py
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meshreport import pipeline
from meshreport.graph.build import GraphOptions
from meshreport.graph.ids import json_node_id
from meshreport.snapshot.store import read

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "bookinfo.mrsnap"
GOLDEN = Path(__file__).parent / "golden"
GRAPH_TYPES = ("app", "versionedApp", "workload", "service")
EXT = {"json": "json", "cytoscape": "cytoscape.json", "dot": "dot"}


@pytest.fixture(scope="module")
def snapshot():
    return read(SAMPLE)


def _exports(snapshot) -> dict[tuple[str, str], str]:
    out = {}
    for gt in GRAPH_TYPES:
        graph = pipeline.analyse(snapshot, pipeline.AnalysisOptions(GraphOptions(graph_type=gt), validate=False)).graph
        for fmt in EXT:
            out[(gt, fmt)] = pipeline.graph_text(graph, fmt)
    return out


@pytest.fixture(scope="module")
def outputs(snapshot):
    return _exports(snapshot)


@pytest.mark.parametrize("fmt", list(EXT))
@pytest.mark.parametrize("graph_type", GRAPH_TYPES)
def test_golden(outputs, graph_type, fmt):
    path = GOLDEN / f"bookinfo-{graph_type}.{EXT[fmt]}"
    text = outputs[(graph_type, fmt)]
    assert path.exists(), f"missing golden {path.name}; regenerate (see module docstring)"
    assert text == path.read_text(), f"{path.name} differs; if intended, regenerate (see module docstring)"


def test_goldens_are_consistent_with_each_other(outputs):
    """The same graph in both JSON formats: node count, ids and edge totals agree."""
    for gt in GRAPH_TYPES:
        own = json.loads(outputs[(gt, "json")])
        kiali = json.loads(outputs[(gt, "cytoscape")])
        kiali_nodes = [n["data"] for n in kiali["elements"]["nodes"] if n["data"]["nodeType"] != "box"]
        assert len(kiali_nodes) == len(own["nodes"]) > 0
        assert {json_node_id(n["id"]) for n in own["nodes"]} == {n["id"] for n in kiali_nodes}
        assert {n["kialiId"] for n in own["nodes"]} == {n["id"] for n in kiali_nodes}
        assert len(kiali["elements"]["edges"]) == len(own["edges"])
        kiali_edges = [e["data"]["traffic"] for e in kiali["elements"]["edges"]]
        kiali_http = sum(float(t.get("rates", {}).get("http", 0)) for t in kiali_edges)
        own_http = sum(e["rates"].get("http", 0.0) for e in own["edges"])
        assert kiali_http == pytest.approx(own_http, abs=0.01 * len(own["edges"]))
        assert kiali["graphType"] == own["graphType"] == gt
        dot = outputs[(gt, "dot")]
        assert dot.startswith("digraph") and dot.count("->") == len(own["edges"])


def test_bookinfo_facts(outputs):
    """Spot checks on the sample that do not depend on golden files."""
    wl = json.loads(outputs[("workload", "json")])
    names = {n["workload"] for n in wl["nodes"] if n["type"] == "workload"}
    assert {"productpage-v1", "reviews-v1", "reviews-v2", "reviews-v3", "ratings-v1", "details-v1"} <= names
    # every accessible workload node carries health, and edges with traffic carry a health status
    for n in wl["nodes"]:
        if n["type"] == "workload" and not n["metadata"].get("isInaccessible"):
            assert n["health"]["status"] in ("Healthy", "Degraded", "Failure", "Not Ready", "NA")
    assert all(e["health"] in ("Healthy", "Degraded", "Failure") for e in wl["edges"] if e["rates"].get("http", 0) > 0)
    svc = json.loads(outputs[("service", "json")])
    assert {n["type"] for n in svc["nodes"]} <= {"service", "workload", "unknown"}
    va = json.loads(outputs[("versionedApp", "cytoscape")])
    boxes = [n["data"] for n in va["elements"]["nodes"] if n["data"]["nodeType"] == "box"]
    assert any(b["isBox"] == "app" and b["app"] == "reviews" for b in boxes)


if __name__ == "__main__":  # regenerate the goldens; the tests never write them
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for (gt, fmt), text in _exports(read(SAMPLE)).items():
        (GOLDEN / f"bookinfo-{gt}.{EXT[fmt]}").write_text(text)
        print(f"wrote {GOLDEN / f'bookinfo-{gt}.{EXT[fmt]}'}")
