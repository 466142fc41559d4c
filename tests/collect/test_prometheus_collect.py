"""Ground truth: collect synthetic meshes from a real Prometheus (and VictoriaMetrics) and compare
the graph built from the collected snapshot with the graph built from the synthetic snapshot.

Rates must agree within 1 %, p95 response times within one histogram bucket, for a 1h window
(bookinfo, 60 s samples) and a 7d window (a small scalable mesh, hourly samples so the file stays
small; the collector is told the matching scrape interval).
"""

from __future__ import annotations

import bisect
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from meshreport.collect.prometheus import Collector, PrometheusConfig
from meshreport.graph.build import GraphOptions, build_graph
from meshreport.progress import Progress
from meshreport.settings import Settings
from meshreport.snapshot.model import Window
from meshreport.synthetic import meshes
from meshreport.synthetic.model import DURATION_BUCKETS

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared helpers package
from helpers.prometheus import backfill, free_port, running_prometheus  # noqa: E402

END = meshes.BOOKINFO_WINDOW.end
WINDOW_7D = Window(END - 7 * 86400, END)


def _load(mesh, window: Window, step: int, work: Path, *, max_block: str | None = None) -> Path:
    """Write the mesh as OpenMetrics and backfill it into `work/data`, as running_prometheus expects."""
    om = work / "mesh.om"
    meshes.write_openmetrics(mesh, om, window.start, window.end, step=step, preroll=2 * step)
    backfill(om, work / "data", max_block_duration=max_block)
    return om


@pytest.fixture(scope="module")
def bookinfo_1h(tmp_path_factory):
    """Bookinfo over its 1h sample window, 60 s samples, in a real Prometheus."""
    mesh, window, step = meshes.bookinfo_mesh(), meshes.BOOKINFO_WINDOW, 60
    work = tmp_path_factory.mktemp("bookinfo-1h")
    om = _load(mesh, window, step, work)
    with running_prometheus(None, work) as url:
        yield "bookinfo-1h", mesh, window, step, url, om


@pytest.fixture(scope="module")
def scalable_7d(tmp_path_factory):
    """A small scalable mesh (2 namespaces, 8 workloads) over 7 days, hourly samples."""
    mesh, window, step = meshes.scalable_mesh(2, 8, seed=3), WINDOW_7D, 3600
    work = tmp_path_factory.mktemp("scalable-7d")
    om = _load(mesh, window, step, work, max_block="200h")
    with running_prometheus(None, work) as url:
        yield "scalable-7d", mesh, window, step, url, om


def collect(url: str, mesh, window: Window, step: int, **flags):
    settings = Settings.load(
        env={},
        flags={
            "prometheus.url": url,
            "prometheus.scrape_interval": step,
            "prometheus.concurrency": 4,
            **flags,
        },
    )
    return Collector(PrometheusConfig.from_settings(settings), Progress(quiet=True)).collect(
        window, list(mesh.namespaces)
    )


def bucket(v: float) -> int:
    return bisect.bisect_left(DURATION_BUCKETS, v)


def close(a: float, b: float) -> bool:
    # within 1 %, plus the 0.001 both sides are rounded to
    return abs(a - b) <= 0.01 * max(abs(a), abs(b)) + 0.0011


def assert_graphs_match(got, want, label: str) -> int:
    assert set(got.nodes) == set(want.nodes), label
    assert set(got.edges) == set(want.edges), label
    for nid, n in want.nodes.items():
        g = got.nodes[nid]
        for k in set(n.rates) | set(g.rates):
            assert close(g.rate(k), n.rate(k)), (label, nid, k, g.rate(k), n.rate(k))
    compared_rt = 0
    for key, e in want.edges.items():
        g = got.edges[key]
        for k in set(e.rates) | set(g.rates):
            assert close(g.rates.get(k, 0.0), e.rates.get(k, 0.0)), (label, key, k, g.rates, e.rates)
        for k in ("throughput", "isMTLS"):
            if k in e.metadata or k in g.metadata:
                assert close(float(g.metadata.get(k, 0)), float(e.metadata.get(k, 0))), (label, key, k)
        if "responseTime" in e.metadata or "responseTime" in g.metadata:
            a, b = float(g.metadata["responseTime"]), float(e.metadata["responseTime"])
            assert abs(bucket(a) - bucket(b)) <= 1, (label, key, a, b)
            compared_rt += 1
    return compared_rt


@pytest.mark.parametrize("case", ["bookinfo_1h", "scalable_7d"])
def test_collected_graph_matches_synthetic_ground_truth(case, request):
    name, mesh, window, step, url, _ = request.getfixturevalue(case)
    snap = collect(url, mesh, window, step)  # its speed: benchmarks/collect_scale.py
    assert [g for g in snap.gaps] == [], snap.gaps
    assert snap.diagnostics == []
    assert snap.window == window and snap.source.prometheus_url == url
    assert snap.source.versions["prometheus"].startswith("2.")
    truth = meshes.snapshot(mesh, window, namespaces=list(mesh.namespaces))
    assert {(q.key, q.namespace) for q in snap.queries} == {(q.key, q.namespace) for q in truth.queries}
    for graph_type in ("workload", "versionedApp"):
        opts = dict(graph_type=graph_type, rate_tcp="total", rate_grpc="total", response_time="95")
        got = build_graph(snap, GraphOptions(**opts))
        want = build_graph(truth, GraphOptions(**opts))
        assert len(want.edges) >= 5
        rt = assert_graphs_match(got, want, f"{name} {graph_type}")
        assert rt >= 3  # p95 was really compared on several edges
    # trends: 50-200 points, and the steady synthetic rate shows at every point
    trends = [q for q in snap.queries if q.key == "trend/requests" and q.series]
    assert trends
    for q in trends:
        for s in q.series:
            assert 50 <= len(s.points) <= 200


def test_cli_snapshot_against_real_prometheus(bookinfo_1h, tmp_path):
    name, mesh, window, step, url, _ = bookinfo_1h
    out = tmp_path / "b.mrsnap"
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "meshreport"), "snapshot", "--prometheus", url, "--window", "1h",
            "--end", "2024-01-01T01:00:00Z",
            "--all-namespaces", "--scrape-interval", f"{step}s", "-o", str(out),
        ],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    from meshreport.snapshot import store

    snap = store.read(out)
    assert snap.namespaces == sorted(mesh.namespaces)
    assert snap.window.end == window.end
    assert [g.phase for g in snap.gaps] == ["config"]
    lines = proc.stderr.strip().splitlines()
    assert any(line.startswith("meshreport: queries: ") and " 0 gaps" in line for line in lines)
    assert any(line.startswith("meshreport: namespaces: ") for line in lines)


def test_same_collection_against_victoriametrics(bookinfo_1h, tmp_path):
    """Debian's victoria-metrics (installed by scripts/setup) answers the same client code alike."""
    name, mesh, window, step, prom_url, om = bookinfo_1h
    port = free_port()
    proc = subprocess.Popen(
        [
            "victoria-metrics",
            f"-storageDataPath={tmp_path / 'vm'}",
            f"-httpListenAddr=127.0.0.1:{port}",
            "-retentionPeriod=100y",
            "-search.latencyOffset=0s",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(url + "/health", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        with open(om, "rb") as f:
            req = urllib.request.Request(url + "/api/v1/import/prometheus", data=f.read(), method="POST")
            urllib.request.urlopen(req, timeout=60).read()
        urllib.request.urlopen(url + "/internal/force_flush", timeout=30).read()
        snap = collect(url, mesh, window, step)
        assert snap.gaps == [], snap.gaps
        truth = meshes.snapshot(mesh, window, namespaces=list(mesh.namespaces))
        for graph_type in ("workload", "versionedApp"):
            opts = dict(graph_type=graph_type, rate_tcp="total", response_time="95")
            got = build_graph(snap, GraphOptions(**opts))
            want = build_graph(truth, GraphOptions(**opts))
            assert assert_graphs_match(got, want, f"vm {graph_type}") >= 3
        # and it agrees with Prometheus on every graph query, series for series
        prom = collect(prom_url, mesh, window, step)
        for q in prom.queries:
            if not q.key.startswith("graph/"):
                continue
            other = snap.query(q.key, q.namespace)
            assert other is not None
            a = {tuple(sorted(s.labels.items())): s.value for s in q.series}
            b = {tuple(sorted(s.labels.items())): s.value for s in other.series}
            assert set(a) == set(b), q.key
            assert all(close(a[k], b[k]) for k in a), q.key
    finally:
        proc.terminate()
        proc.wait(timeout=10)
