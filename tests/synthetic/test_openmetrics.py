"""OpenMetrics export: the file format promtool needs, and a real Prometheus loaded from it answers
every planned query exactly as the offline evaluator does (the evaluator is the ground truth of
every synthetic snapshot, so this is what makes synthetic snapshots trustworthy).
"""

from __future__ import annotations

import io
import math
import re
import sys
from pathlib import Path

import pytest

from meshreport.collect.queries import collection_plan
from meshreport.snapshot.model import Window
from meshreport.synthetic import meshes
from meshreport.synthetic.model import Flow, Latency, Mesh, Response, Service, Workload

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared helpers package
from helpers.prometheus import query, query_range, running_prometheus  # noqa: E402

WINDOW = Window(start=1704067200.0, end=1704070800.0)  # 1 h, starting on a 2 h block boundary
SAMPLE = re.compile(r"^([a-z_]+)\{(.*)\} (\S+) (\d+)$")


def edge_mesh() -> Mesh:
    """Bookinfo plus the cases bookinfo lacks: gRPC with an error status, a sidecar-less client
    (unknown source) and a sidecar-less server (source-only telemetry, unserviced in its
    namespace), a no-response code 0 and a cross-namespace call into bookinfo."""
    book = meshes.bookinfo_mesh()
    ratings = next(w for w in book.workloads if w.name == "ratings-v1")
    web = Workload("shop", "web-v1", "web", "v1", "web")
    legacy = Workload("shop", "legacy-v1", "legacy", "v1", "legacy", sidecar=False)
    cart = Workload("shop", "cart-v1", "cart", "v1", "cart", port=9090)
    stock = Workload("warehouse", "stock-v1", "stock", "v1", "stock", sidecar=False)
    cart_svc = Service("shop", "cart", 9090, "grpc", "cart")
    stock_svc = Service("warehouse", "stock", 8080, "http", "stock")
    ratings_svc = next(s for s in book.services if s.name == "ratings")
    grpc_lat = Latency(((4.0, 0.5), (12.0, 0.45), (900.0, 0.05)))
    flows = [
        Flow(web, cart_svc, cart, "grpc", (Response("200", 4.0, grpc_status="0"), Response("200", 0.25, "UF", "14")),
             grpc_lat, messages=(3.0, 2.0)),
        Flow(legacy, cart_svc, cart, "grpc", (Response("200", 1.0, grpc_status="0"),), grpc_lat),
        Flow(web, stock_svc, stock, "http", (Response("200", 2.0), Response("0", 0.5, "DC"))),
        Flow(web, ratings_svc, ratings, "http", (Response("200", 0.75),)),
    ]  # fmt: skip
    return Mesh(
        name="edge",
        workloads=[*book.workloads, web, legacy, cart, stock],
        services=[*book.services, cart_svc, stock_svc],
        externals=book.externals,
        flows=[*book.flows, *flows],
        namespaces=["bookinfo", "istio-system", "shop", "warehouse"],
    )


def test_file_is_what_promtool_needs():
    buf = io.StringIO()
    n = meshes.write_openmetrics(meshes.bookinfo_mesh(), buf, WINDOW.start, WINDOW.end, step=60, preroll=120)
    text = buf.getvalue()
    assert text.endswith("# EOF\n") and text.count("# EOF") == 1
    assert "# TYPE istio_requests counter" in text
    assert "# TYPE istio_request_duration_milliseconds histogram" in text
    last: dict[str, tuple[int, float]] = {}
    finished: set[str] = set()
    current = None
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, line
        key = m.group(1) + "{" + m.group(2) + "}"
        t, v = int(m.group(4)), float(m.group(3))
        assert WINDOW.start - 120 <= t <= WINDOW.end  # seconds, not milliseconds
        # A histogram/summary writes its buckets, _count and _sum together per timestamp; the
        # unit that must be contiguous is the family + label set without `le`.
        point = re.sub(r"_(bucket|sum|count)$", "", m.group(1)) + re.sub(r',?le="[^"]*"', "", m.group(2))
        if point != current:
            if current is not None:
                finished.add(current)
            current = point
        assert point not in finished, f"series written in two places: {key}"
        if key in last:
            pt, pv = last[key]
            assert t > pt and v >= pv  # time-ordered, counters never go down
        last[key] = (t, v)
    assert len({k for k in last if not k.startswith("istio_request_duration_milliseconds_bucket")}) > 0
    assert n == len(last)
    # Every standard istio_requests_total label is present on the series.
    labels = set(re.findall(r'(\w+)="', next(k for k in last if k.startswith("istio_requests_total"))))
    assert {
        "reporter", "source_workload", "source_workload_namespace", "source_app", "source_version",
        "source_canonical_service", "source_canonical_revision", "source_principal", "source_cluster",
        "destination_workload", "destination_workload_namespace", "destination_app", "destination_version",
        "destination_service", "destination_service_name", "destination_service_namespace",
        "destination_canonical_service", "destination_canonical_revision", "destination_principal",
        "destination_cluster", "request_protocol", "response_code", "response_flags", "connection_security_policy",
    } <= labels  # fmt: skip


def _close(a: float, b: float, rounded: bool) -> bool:
    """Equal up to float noise; for round(...,0.001) results noise can flip a value sitting
    exactly on a rounding boundary (shaped rates such as 0.175 * 1.1), so one unit is allowed."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    if rounded:
        return abs(a - b) <= 0.001 + 1e-9
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def _key(labels: dict[str, str]) -> tuple:
    return tuple(sorted(labels.items()))


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """The edge mesh in a real Prometheus (30 s samples: trend queries rate over 60 s)."""
    tmp = tmp_path_factory.mktemp("prom")
    mesh = edge_mesh()
    om = tmp / "istio.om"
    meshes.write_openmetrics(mesh, om, WINDOW.start, WINDOW.end, step=30, preroll=300)
    with running_prometheus(om, tmp) as url:
        yield mesh, url


def test_prometheus_answers_every_planned_query_like_the_evaluator(loaded):
    mesh, url = loaded
    snap = meshes.snapshot(mesh, WINDOW)
    rounded = {(p.key, p.namespace): p.query.rounded for p in collection_plan(mesh.namespaces, WINDOW.duration_s)}
    checked = nonempty = exact = total = 0
    for qr in snap.queries:
        r = rounded[(qr.key, qr.namespace)]
        if qr.kind == "range":
            got = {_key(labels): pts for labels, pts in query_range(url, qr.promql, qr.start, qr.time, qr.step)}
            want = {_key(s.labels): s.points for s in qr.series}
            assert got.keys() == want.keys(), qr.key
            for k, pts in want.items():
                assert [t for t, _ in got[k]] == [t for t, _ in pts], (qr.key, k)
                assert all(_close(a, b, r) for (_, a), (_, b) in zip(got[k], pts, strict=True)), (qr.key, k)
                exact += sum(a == b for (_, a), (_, b) in zip(got[k], pts, strict=True))
                total += len(pts)
        else:
            got = {_key(labels): v for labels, v in query(url, qr.promql, qr.time)}
            want = {_key(s.labels): s.value for s in qr.series}
            assert got.keys() == want.keys(), (qr.key, qr.namespace, set(got) ^ set(want))
            for k, v in want.items():
                assert _close(got[k], v, r), (qr.key, qr.namespace, dict(k), got[k], v)
                exact += got[k] == v
                total += 1
        checked += 1
        nonempty += bool(qr.series)
    assert checked == len(snap.queries) > 100
    assert nonempty >= 50
    assert total > 2000 and exact >= 0.98 * total  # all but a few boundary cases are bit-identical
    # The cases the edge mesh exists for are really in the answers.
    unserviced = snap.query("graph/istio_requests_total/unserviced", "warehouse")
    assert [s.labels["destination_service"] for s in unserviced.series] == ["stock.warehouse.svc.cluster.local"] * 2
    grpc = snap.query("graph/istio_requests_total/incoming", "shop")
    assert {(s.labels["source_workload"], s.labels.get("grpc_response_status")) for s in grpc.series} == {
        ("web-v1", "0"),
        ("web-v1", "14"),
        ("unknown", "0"),
    }


def test_prometheus_quantile_at_bucket_edges(loaded):
    """p99 of ratings' latency profile falls on a bucket bound; Prometheus and evaluator agree."""
    mesh, url = loaded
    snap = meshes.snapshot(mesh, WINDOW)
    qr = snap.query("appender/responseTime/0.99/incoming", "bookinfo")
    want = {s.labels["destination_workload"]: s.value for s in qr.series if s.labels["source_workload"] == "reviews-v3"}
    got = {
        labels["destination_workload"]: v
        for labels, v in query(url, qr.promql, qr.time)
        if labels["source_workload"] == "reviews-v3"
    }
    assert got == want
    # ratings-v1 latency: 60 % at 1 ms, 40 % at 3 ms -> p99 in (1, 5]: 1 + 4 * (0.99 - 0.6) / 0.4.
    assert want["ratings-v1"] == round(1 + 4 * (0.99 - 0.6) / 0.4, 3)


def test_flows_that_look_alike_to_the_proxy_share_one_counter():
    """Several sidecar-less clients are all `unknown` to the destination: Istio increments one
    counter for them, so the file must hold one series (promtool rejects duplicate samples)."""
    import io

    from meshreport.synthetic import meshes as _synth
    from meshreport.synthetic.openmetrics import write as _write

    mesh = _synth.scalable_mesh(namespaces=10, workloads=400, seed=1)
    raw = [s for s in mesh.series() if s.metric == "istio_requests_total"]
    keys = [tuple(sorted(s.labels().items())) for s in raw]
    assert len(keys) > len(set(keys)), "fixture no longer has flows that look alike; pick another seed"
    buf = io.StringIO()
    _write(mesh, buf, 0, 60, step=60, preroll=0, metrics=("istio_requests_total",))
    samples = [line.rsplit(" ", 2) for line in buf.getvalue().splitlines() if not line.startswith("#")]
    assert len({(name, t) for name, _, t in samples}) == len(samples)
    # The merged counter grows at the summed rate of the flows it stands for.
    dup = next(k for k in keys if keys.count(k) > 1)
    want = sum(float(s.value) for s, k in zip(raw, keys, strict=True) if k == dup)
    label_text = ",".join(f'{k}="{v}"' for k, v in dup)
    values = [float(v) for name, v, _ in samples if name == f"istio_requests_total{{{label_text}}}"]
    assert len(values) == 2
    assert abs((values[1] - values[0]) / 60 - want) < 1e-9
