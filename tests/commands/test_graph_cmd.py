"""`meshreport graph`: formats, Kiali traffic options, node graphs, config rules, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from meshreport.cli import main
from meshreport.graph.ids import json_node_id

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "bookinfo.mrsnap"


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(["graph", *args])
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def graph_json(capsys, *args: str) -> dict:
    code, out, err = run(capsys, str(SAMPLE), *args)
    assert code == 0, err
    return json.loads(out)


def test_output_file_equals_stdout(tmp_path, capsys):
    out = tmp_path / "g" / "workload.json"
    code, stdout, err = run(capsys, str(SAMPLE), "--graph-type", "workload", "--format", "cytoscape", "-o", str(out))
    assert code == 0 and stdout == ""
    assert "written to" in err and str(out) in err
    code, stdout, _ = run(capsys, str(SAMPLE), "--graph-type", "workload", "--format", "cytoscape")
    assert code == 0 and out.read_text() == stdout
    assert json.loads(stdout)["elements"]["nodes"]


def test_dot_is_valid_graphviz(capsys):
    code, out, _ = run(capsys, str(SAMPLE), "--format", "dot")
    assert code == 0
    svg = subprocess.run(["dot", "-Tsvg"], input=out, capture_output=True, text=True, check=True).stdout
    assert "productpage-v1" in svg.replace("&#45;", "-")


def test_default_graph_type_is_kialis_workload(capsys):
    doc = graph_json(capsys)
    assert doc["graphType"] == "workload"
    assert doc["options"]["rateTcp"] == "sent" and doc["options"]["responseTime"] == "95"


def test_inject_service_nodes(capsys):
    plain = graph_json(capsys)
    injected = graph_json(capsys, "--inject-service-nodes")
    assert not any(n["metadata"].get("isInjected") for n in plain["nodes"])
    svc = [n for n in injected["nodes"] if n["metadata"].get("isInjected")]
    assert {n["service"] for n in svc} >= {"reviews", "ratings", "details"}


def test_rate_options_select_protocols(capsys):
    doc = graph_json(capsys, "--rate-http", "none", "--rate-grpc", "none")
    assert {e["protocol"] for e in doc["edges"]} == {"tcp"}
    doc = graph_json(capsys, "--rate-tcp", "none")
    assert "tcp" not in {e["protocol"] for e in doc["edges"]}


def test_appenders_none_and_list(capsys):
    none = graph_json(capsys, "--appenders", "none")
    assert all(n["health"] is None for n in none["nodes"])
    assert all("responseTime" not in e["metadata"] for e in none["edges"])
    some = graph_json(capsys, "--appenders", "health,responseTime", "--response-time", "avg")
    assert any(n["health"] for n in some["nodes"])
    assert any("responseTime" in e["metadata"] for e in some["edges"])
    assert all("isMTLS" not in e["metadata"] for e in some["edges"])  # securityPolicy not asked for


def test_box_by_namespace(capsys):
    code, out, _ = run(capsys, str(SAMPLE), "--format", "cytoscape", "--box-by", "namespace")
    assert code == 0
    boxes = [n["data"] for n in json.loads(out)["elements"]["nodes"] if n["data"]["nodeType"] == "box"]
    assert {b["namespace"] for b in boxes if b["isBox"] == "namespace"} == {"bookinfo", "istio-system"}


def test_namespaces_filter(capsys):
    doc = graph_json(capsys, "-n", "istio-system")
    assert doc["namespaces"] == ["istio-system"]
    code, _, err = run(capsys, str(SAMPLE), "-n", "nope")
    assert code == 2 and "nope" in err


def test_node_graph_of_a_workload(capsys):
    doc = graph_json(capsys, "--node", "workload:bookinfo/reviews-v2")
    ids = {n["id"] for n in doc["nodes"]}
    assert ids == {
        "wl_Kubernetes_bookinfo_productpage-v1",
        "wl_Kubernetes_bookinfo_reviews-v2",
        "wl_Kubernetes_bookinfo_ratings-v1",
    }
    assert all("reviews-v2" in (e["source"] + e["target"]) for e in doc["edges"])
    assert doc["options"]["node"] == {"kind": "workload", "namespace": "bookinfo", "name": "reviews-v2", "version": ""}


def test_node_graph_of_a_service_and_an_app(capsys):
    doc = graph_json(capsys, "--node", "service:bookinfo/reviews", "--graph-type", "service")
    assert doc["graphType"] == "service"
    svc = "svc_Kubernetes_bookinfo_reviews"
    assert {e["target"] for e in doc["edges"] if e["source"] == svc} == {
        "wl_Kubernetes_bookinfo_reviews-v1",
        "wl_Kubernetes_bookinfo_reviews-v2",
        "wl_Kubernetes_bookinfo_reviews-v3",
    }  # not reduced: the service's workloads stay
    app = graph_json(capsys, "--node", "app:bookinfo/reviews:v3", "--graph-type", "versionedApp", "--format", "json")
    assert "vapp_Kubernetes_bookinfo_reviews-v3" in {n["id"] for n in app["nodes"]}
    assert "vapp_Kubernetes_bookinfo_reviews-v1" not in {n["id"] for n in app["nodes"]}


def test_node_graph_cytoscape_ids(capsys):
    code, out, _ = run(capsys, str(SAMPLE), "--node", "workload:bookinfo/details-v1", "--format", "cytoscape")
    assert code == 0
    ids = {n["data"]["id"] for n in json.loads(out)["elements"]["nodes"]}
    assert json_node_id("wl_Kubernetes_bookinfo_details-v1") in ids


def test_health_rules_from_config(tmp_path, capsys):
    base = graph_json(capsys, "--appenders", "health")
    ratings = next(n for n in base["nodes"] if n["id"] == "wl_Kubernetes_bookinfo_ratings-v1")
    assert ratings["health"]["status"] == "Degraded"  # 5% 5xx: any 5xx degrades by default
    cfg = tmp_path / "meshreport.yaml"
    cfg.write_text(
        "health:\n  rate:\n    - namespace: bookinfo\n      tolerance:\n"
        "        - {code: 5XX, protocol: http, direction: '.*', degraded: 10, failure: 20}\n"
    )
    doc = graph_json(capsys, "--appenders", "health", "--config", str(cfg))
    ratings = next(n for n in doc["nodes"] if n["id"] == "wl_Kubernetes_bookinfo_ratings-v1")
    assert ratings["health"]["status"] == "Healthy"
    bad = tmp_path / "bad.yaml"
    bad.write_text("health:\n  rate:\n    - tolerance:\n        - {code: '(', degraded: 1, failure: 2}\n")
    code, _, err = run(capsys, str(SAMPLE), "--config", str(bad))
    assert code == 2 and "bad regular expression" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--graph-type", "versioned"], "invalid --graph-type 'versioned'"),
        (["--format", "yaml"], "invalid --format 'yaml'"),
        (["--rate-http", "sent"], "invalid --rate-http 'sent'"),
        (["--rate-grpc", "bytes"], "invalid --rate-grpc 'bytes'"),
        (["--rate-tcp", "requests"], "invalid --rate-tcp 'requests'"),
        (["--response-time", "90"], "invalid --response-time '90'"),
        (["--throughput", "both"], "invalid --throughput 'both'"),
        (["--box-by", "zone"], "invalid --box-by 'zone'"),
        (["--appenders", "istio,bogus"], "Invalid appender [bogus]"),
        (["--node", "reviews-v1"], "expected KIND:NAMESPACE/NAME[:VERSION]"),
        (["--node", "pod:bookinfo/x"], "invalid --node kind 'pod'"),
        (["--node", "workload:bookinfo/reviews-v1:v1"], "only app nodes take a :VERSION"),
        (["--node", "app:bookinfo/reviews", "--graph-type", "workload"], "needs --graph-type app or versionedApp"),
        (["--node", "workload:elsewhere/x"], "not in the snapshot"),
        (["--aggregate", 'op"} or vector(1)'], "invalid --aggregate"),
        (["--aggregate", "request_operation,other"], "a graph aggregates by one label"),
    ],
)
def test_bad_values_one_line_exit_2(capsys, args, fragment):
    code, out, err = run(capsys, str(SAMPLE), *args)
    assert code == 2
    assert fragment in err and err.count("\n") == 1 and "Traceback" not in err
    assert out == ""


def test_snapshot_errors_exit_5(tmp_path, capsys):
    code, _, err = run(capsys, str(tmp_path / "missing.mrsnap"))
    assert code == 5 and "no such snapshot file" in err
    broken = tmp_path / "broken.mrsnap"
    broken.write_bytes(SAMPLE.read_bytes()[:200])
    code, _, err = run(capsys, str(broken))
    assert code == 5 and err.count("\n") == 1


def test_needs_exactly_one_source(capsys):
    code, _, err = run(capsys)
    assert code == 2 and "missing SNAPSHOT" in err
    code, _, err = run(capsys, str(SAMPLE), "--prometheus", "http://127.0.0.1:1")
    assert code == 2 and "not both" in err


# --- live mode: the same command against a real Prometheus -----------------------------------

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared helpers package
from helpers.prometheus import available, running_prometheus  # noqa: E402


@pytest.fixture(scope="module")
def bookinfo_prometheus(tmp_path_factory):
    """Bookinfo's 1h sample window, 60 s samples, backfilled into a real Prometheus."""
    from meshreport.synthetic import meshes

    if not available():
        pytest.fail("prometheus/promtool not installed (scripts/setup installs them)")
    mesh, window = meshes.bookinfo_mesh(), meshes.BOOKINFO_WINDOW
    work = tmp_path_factory.mktemp("graph-live")
    om = work / "mesh.om"
    meshes.write_openmetrics(mesh, om, window.start, window.end, step=60, preroll=120)
    subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", "-q", str(om), str(work / "data")],
        check=True,
        capture_output=True,
        timeout=300,
    )
    with running_prometheus(None, work) as url:
        yield mesh, window, url


def test_live_mode_matches_the_snapshot_graph(bookinfo_prometheus, capsys):
    """`graph --prometheus` builds the same graph as `graph SNAPSHOT` for the same window."""
    from meshreport.synthetic import meshes

    mesh, window, url = bookinfo_prometheus
    args = ["--appenders", "none", "--inject-service-nodes", "--graph-type", "versionedApp"]
    code, out, err = run(
        capsys,
        "--prometheus", url, "--window", "1h", "--end", str(int(window.end)), "--scrape-interval", "60s",
        "-n", ",".join(sorted(mesh.namespaces)), *args,
    )  # fmt: skip
    assert code == 0, err
    live = json.loads(out)
    from meshreport import pipeline
    from meshreport.graph.build import GraphOptions

    truth_snap = meshes.snapshot(mesh, window)
    opts = GraphOptions(graph_type="versionedApp", inject_service_nodes=True, appenders=[])
    truth = json.loads(pipeline.graph_text(pipeline.analyse(truth_snap, pipeline.AnalysisOptions(opts)).graph, "json"))
    assert {n["id"] for n in live["nodes"]} == {n["id"] for n in truth["nodes"]}
    want = {(e["source"], e["target"], e["protocol"]): e["rates"] for e in truth["edges"]}
    got = {(e["source"], e["target"], e["protocol"]): e["rates"] for e in live["edges"]}
    assert got.keys() == want.keys()
    for k, rates in want.items():
        total = rates.get(k[2], 0.0)
        assert got[k].get(k[2], 0.0) == pytest.approx(total, rel=0.01), k
