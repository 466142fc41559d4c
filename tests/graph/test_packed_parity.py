"""The graph reads packed snapshots straight from their arrays (QueryResult.table) and in-memory
snapshots through tables built from their series; both must give exactly the same graph for every
graph type and option."""

from __future__ import annotations

import json

import pytest

from meshreport.graph.build import GraphOptions, build_graph
from meshreport.graph.export import to_cytoscape
from meshreport.snapshot import store
from meshreport.snapshot.model import Window
from meshreport.synthetic import meshes

END = 1_704_070_800.0


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory):
    out = []
    for snap in (
        meshes.bookinfo_snapshot(),
        meshes.scalable_snapshot(3, 40, seed=3, window=Window(END - 3600, END)),
    ):
        path = tmp_path_factory.mktemp("parity") / "s.mrsnap"
        store.write(snap, path)
        out.append((snap, path))
    return out


@pytest.mark.parametrize("graph_type", ["versionedApp", "app", "workload", "service"])
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"inject_service_nodes": False, "include_idle_edges": True},
        {"rate_grpc": "total", "rate_tcp": "total", "response_time": "avg", "throughput": "request"},
    ],
    ids=["defaults", "idle-no-inject", "other-rates"],
)
def test_packed_and_in_memory_snapshots_give_the_same_graph(snapshots, graph_type, options):
    for in_memory, path in snapshots:
        opts = GraphOptions(graph_type=graph_type, **options)
        packed = store.read(path)
        a = json.dumps(to_cytoscape(build_graph(in_memory, opts)), sort_keys=True)
        b = json.dumps(to_cytoscape(build_graph(packed, opts)), sort_keys=True)
        assert a == b and len(json.loads(a)["elements"]["edges"]) > 5
        assert all("series" not in vars(q) for q in packed.queries if q.key.startswith("graph/"))  # read as columns
