"""Synthetic meshes: the committed bookinfo sample, determinism, the scalable mesh's shape, the
synth command, and the bookinfo traffic graph against the rates the mesh defines."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import pytest

from meshreport.cli import main
from meshreport.graph.build import GraphOptions, build_graph
from meshreport.snapshot import store
from meshreport.snapshot.model import Window
from meshreport.synthetic import meshes
from meshreport.synthetic.model import ExternalHost

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "bookinfo.mrsnap"
WINDOW = Window(start=1704067200.0, end=1704070800.0)


def run(args: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(args)
    out, err = capsys.readouterr()
    return e.value.code, out, err


def test_committed_sample_is_a_fresh_synth_bookinfo(tmp_path, capsys):
    code, out, _ = run(["synth", "bookinfo", "-o", str(tmp_path / "b.mrsnap")], capsys)
    assert code == 0 and "wrote" in out
    fresh = (tmp_path / "b.mrsnap").read_bytes()
    assert SAMPLE.read_bytes() == fresh, (
        "samples/bookinfo.mrsnap is stale (queries, synth or manifests changed); regenerate it with: "
        "meshreport synth bookinfo -o samples/bookinfo.mrsnap"
    )


def test_same_arguments_same_bytes_other_seed_other_mesh(tmp_path):
    a, b, c = (tmp_path / f"{n}.mrsnap" for n in "abc")
    store.write(meshes.scalable_snapshot(3, 40, 7, WINDOW), a)
    store.write(meshes.scalable_snapshot(3, 40, 7, WINDOW), b)
    store.write(meshes.scalable_snapshot(3, 40, 8, WINDOW), c)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_bookinfo_snapshot_contents():
    snap = store.read(SAMPLE)
    assert snap.window == meshes.BOOKINFO_WINDOW and snap.window.duration_s == 3600
    assert snap.namespaces == ["bookinfo", "istio-system"]
    assert snap.source.kind == "synthetic" and snap.gaps == []
    kinds = Counter(o.kind for o in snap.objects)
    assert kinds["Deployment"] == 10 and kinds["Pod"] == 10 and kinds["Namespace"] == 2
    for kind in ("Service", "ServiceAccount", "Gateway", "VirtualService", "DestinationRule", "ServiceEntry"):
        assert kinds[kind] >= 1, kind
    assert kinds["PeerAuthentication"] == 2
    reviews_dr = next(o for o in snap.objects_of("DestinationRule") if o.name == "reviews")
    assert [s["name"] for s in reviews_dr.spec["subsets"]] == ["v1", "v2", "v3"]
    pods = {o.body["metadata"]["labels"]["app"]: o for o in snap.objects_of("Pod")}
    containers = {app: [c["name"] for c in p.spec["containers"]] for app, p in pods.items()}
    assert containers["productpage"] == ["productpage", "istio-proxy"]
    assert containers["istiod"] == ["discovery"]  # a pod without a sidecar
    assert all(o.body["status"]["readyReplicas"] == 1 for o in snap.objects_of("Deployment"))
    assert all(o.namespace in ("bookinfo", "istio-system") for o in snap.objects if o.kind != "Namespace")
    # Every query carries the PromQL that produced it and its evaluation time.
    assert {q.key.split("/")[0] for q in snap.queries} == {"graph", "appender", "trend"}
    assert all(q.promql and q.time == snap.window.end for q in snap.queries)


def test_bookinfo_series_have_istio_shape():
    mesh = meshes.bookinfo_mesh()
    series = mesh.series()
    reporters = {}
    for s in series:
        if s.metric == "istio_requests_total":
            key = (s.get("source_workload"), s.get("destination_service_name"), s.get("destination_workload"))
            reporters.setdefault(key, set()).add(s.get("reporter"))
    # Both proxies report mesh-internal traffic; only the destination sees outside clients;
    # only the source reports calls to external hosts.
    assert reporters[("productpage-v1", "reviews", "reviews-v2")] == {"source", "destination"}
    assert reporters[("unknown", "productpage", "productpage-v1")] == {"destination"}
    assert reporters[("details-v1", "www.googleapis.com", "unknown")] == {"source"}
    assert reporters[("istio-ingressgateway", "productpage", "productpage-v1")] == {"source", "destination"}
    # A gateway is a proxy without a sidecar pod: it reports what it sends, nobody reports it as destination.
    assert not any(k[2] == "istio-ingressgateway" for k in reporters)
    dst = next(
        s
        for s in series
        if s.metric == "istio_requests_total"
        and s.get("reporter") == "destination"
        and s.get("source_workload") == "reviews-v2"
    )
    assert dst.get("connection_security_policy") == "mutual_tls"
    assert dst.get("source_principal") == "spiffe://cluster.local/ns/bookinfo/sa/bookinfo-reviews"
    unknown = next(s for s in series if s.get("source_workload") == "unknown")
    assert unknown.get("connection_security_policy") == "none" and unknown.get("source_canonical_revision") == "latest"
    tcp = {s.metric: s for s in series if s.get("request_protocol") == "tcp" and s.get("reporter") == "source"}
    assert tcp["istio_tcp_sent_bytes_total"].value == 12000.0  # sent = the response direction
    assert tcp["istio_tcp_received_bytes_total"].value == 1500.0
    assert "response_code" not in tcp["istio_tcp_sent_bytes_total"].labels()


def test_bookinfo_versioned_app_graph_has_the_mesh_rates():
    g = build_graph(store.read(SAMPLE), GraphOptions(graph_type="versionedApp"))
    edges = {(g.nodes[e.source].label, g.nodes[e.dest].label, e.protocol): e for e in g.edges.values()}
    assert edges[("productpage v1", "reviews v1", "http")].total == 3.5
    assert edges[("productpage v1", "reviews v2", "http")].total == 3.5
    assert edges[("productpage v1", "reviews v3", "http")].total == 3.4
    assert edges[("productpage v1", "details v1", "http")].total == 10.4
    assert edges[("reviews v3", "ratings v1", "http")].total == 2.4
    bad = edges[("reviews v2", "ratings v1", "http")]
    assert bad.total == pytest.approx(3.5) and bad.rates["http5xx"] == 0.175
    assert bad.error_pct == pytest.approx(5.0)
    assert edges[("ratings v2", "mongodb v1", "tcp")].total == 1500.0  # Kiali's default TCP rate: sent
    assert edges[("unknown", "productpage v1", "http")].total == 0.5
    assert not any(k[0] == "reviews v1" for k in edges)  # reviews v1 does not call ratings


def test_scalable_mesh_shape():
    mesh = meshes.scalable_mesh(namespaces=5, workloads=500, seed=3)
    assert len([w for w in mesh.workloads if w.namespace != "istio-system"]) == 500
    flows = mesh.flows
    out_per_workload = sum(1 for f in flows if f.source is not None and not f.source.gateway) / 500
    assert 3.5 <= out_per_workload <= 7
    assert Counter(f.protocol for f in flows).keys() == {"http", "grpc", "tcp"}
    assert any(f.source and f.source.namespace != f.dest.namespace for f in flows if f.dest)
    assert any(f.source is None for f in flows) and any(isinstance(f.service, ExternalHost) for f in flows)
    assert 0 < sum(not w.sidecar for w in mesh.workloads) < 50
    erroring = [f for f in flows if any(r.code[0] in "45" or r.grpc_status not in ("", "0") for r in f.responses)]
    assert 0.05 < len(erroring) / len(flows) < 0.25
    keys = [(f.source, f.service, f.dest, f.protocol) for f in flows]
    assert len(keys) == len(set(keys))  # no duplicate series


def test_ten_thousand_workloads_generate():
    """The size benchmarks use; how fast it is generated is benchmarks/bench_synth.py's to say."""
    mesh = meshes.scalable_mesh(namespaces=50, workloads=10_000, seed=1)
    assert len([w for w in mesh.workloads if w.namespace != "istio-system"]) == 10_000
    assert len(mesh.namespaces) == 51


def test_synth_mesh_command_writes_snapshot_and_openmetrics(tmp_path, capsys):
    snap, om = tmp_path / "m.mrsnap", tmp_path / "m.om"
    args = ["synth", "mesh", "--namespaces", "2", "--workloads", "8", "--seed", "4", "--window", "30m"]
    code, out, _ = run(
        [*args, "--end", "2024-01-01T01:00:00Z", "-o", str(snap), "--openmetrics", str(om), "--step", "60"], capsys
    )
    assert code == 0 and str(snap) in out and str(om) in out
    s = store.read(snap)
    assert s.window == Window(start=1704069000.0, end=1704070800.0)
    assert s.namespaces == ["team-000", "team-001", "istio-system"]
    assert om.read_text().endswith("# EOF\n")
    doc = json.loads(gzip.decompress(snap.read_bytes()))
    assert doc["collector"]["seed"] == 4 and doc["collector"]["workloads"] == 8


@pytest.mark.parametrize(
    "args, message",
    [
        (["synth", "mesh", "-o", "x.mrsnap", "--window", "5q"], "invalid duration '5q'"),
        (["synth", "mesh", "-o", "x.mrsnap", "--end", "yesterday"], "invalid time 'yesterday'"),
        (["synth", "mesh", "--namespaces", "3", "--workloads", "2", "-o", "x"], "--workloads must be at least"),
        (["synth", "bookinfo"], "nothing to write"),
    ],
)
def test_synth_usage_errors_are_one_line_exit_2(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(args, capsys)
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "x.mrsnap").exists()


def test_synth_help_names_every_option(capsys):
    code, out, _ = run(["synth", "mesh", "--help"], capsys)
    assert code == 0
    for opt in ("--namespaces", "--workloads", "--seed", "--window", "--end", "--output", "--openmetrics", "--step"):
        assert opt in out
