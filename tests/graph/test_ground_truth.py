"""The graph of a packed .mrsnap file carries the traffic the synthetic mesh defines.

The mesh model is the ground truth, independent of how the series are stored and read: every
HTTP and TCP flow between two workloads with sidecars is an edge of the workload and app graphs
with the flow's rates (summed per node pair), and no other edge joins two such workloads.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from meshreport.graph.build import GraphOptions, build_graph
from meshreport.snapshot import store
from meshreport.snapshot.model import Window
from meshreport.synthetic import meshes
from meshreport.synthetic.model import Workload

END = 1_704_070_800.0
WINDOW = Window(END - 3600, END)


@pytest.fixture(scope="module")
def mesh_and_snapshot(tmp_path_factory):
    mesh = meshes.scalable_mesh(3, 40, seed=3)
    path = tmp_path_factory.mktemp("truth") / "s.mrsnap"
    store.write(meshes.snapshot(mesh, WINDOW, objects=meshes.scalable_objects(mesh, WINDOW)), path)
    snap = store.read(path)
    assert all("series" not in vars(q) for q in snap.queries if q.key.startswith("graph/"))  # read as columns
    return mesh, snap


def _end(w: Workload, graph_type: str) -> tuple[str, str]:
    return (w.namespace, w.name if graph_type == "workload" else w.canonical_service)


def _expected(mesh, graph_type: str) -> dict[tuple, dict[str, float]]:
    """(source end, dest end, protocol) -> rates, from the flows alone."""
    out: dict[tuple, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for f in mesh.flows:
        src, dst = f.source, f.dest
        if src is None or dst is None or not dst.sidecar or not (src.sidecar or src.gateway):
            continue
        key = (_end(src, graph_type), _end(dst, graph_type), f.protocol)
        if f.protocol == "http":
            out[key]["http"] += f.rate
            out[key]["http5xx"] += sum(r.rate for r in f.responses if r.code.startswith("5"))
        elif f.protocol == "tcp":
            out[key]["tcp"] += f.tcp_request  # rate `sent`: bytes the client sent
    return out


@pytest.mark.parametrize("graph_type", ["workload", "app"])
def test_edges_between_workloads_carry_the_flows_rates(mesh_and_snapshot, graph_type):
    mesh, snap = mesh_and_snapshot
    g = build_graph(snap, GraphOptions(graph_type=graph_type, rate_tcp="sent"))
    known = {_end(w, graph_type) for w in mesh.workloads if w.sidecar or w.gateway}

    def end(node_id: str) -> tuple[str, str]:
        n = g.nodes[node_id]
        return (n.namespace, n.workload if graph_type == "workload" else n.app)

    got = {
        (end(e.source), end(e.dest), e.protocol): e.rates
        for e in g.edges.values()
        if e.protocol in ("http", "tcp") and end(e.source) in known and end(e.dest) in known
    }
    expected = _expected(mesh, graph_type)
    assert len(expected) > 20 and any(r.get("http5xx") for r in expected.values())
    assert set(got) == set(expected)
    for key, rates in expected.items():
        for name, value in rates.items():
            assert got[key].get(name, 0.0) == pytest.approx(value, rel=1e-9, abs=1e-12), (key, name)
