"""`meshreport snapshot --prometheus URL --from-files PATH...`: metrics and YAML config in one snapshot,
through a real Prometheus, so a graph with badges needs no Kubernetes API."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from meshreport.cli import main
from meshreport.snapshot import store

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared helpers package
from helpers import kiali_scenarios as ks  # noqa: E402
from helpers.prometheus import available, running_prometheus  # noqa: E402

CONFIG = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: payments-api, namespace: shop}
spec: {hosts: [pay.example.com], location: MESH_EXTERNAL}
"""
TRAFFIC = [{"src": "shop/cart-v1 cart v1", "dst": "shop/pay.example.com", "cluster": "east", "rate": 2}]


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    if not available():
        pytest.fail("prometheus/promtool not installed (scripts/setup installs them)")
    work = tmp_path_factory.mktemp("snapshot-files")
    sc = ks.Scenario("shop", {"graph": {"namespaces": ["shop"]}}, slot=0)
    for t in TRAFFIC:
        sc.series.extend(ks.series_of(t))
    ks.write_openmetrics([sc], work / "shop.om")
    with running_prometheus(work / "shop.om", work) as url:
        yield url, sc


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_metrics_and_files_make_one_snapshot(prometheus, tmp_path, capsys):
    url, sc = prometheus
    (tmp_path / "config.yaml").write_text(CONFIG)
    out = tmp_path / "shop.mrsnap"
    code, _, err = run(
        capsys, "snapshot", "--prometheus", url, "--window", "1h", "--end", str(sc.end), "--scrape-interval", "60s",
        "--from-files", str(tmp_path / "config.yaml"), "-o", str(out), "-q",
    )  # fmt: skip
    assert code == 0, err
    snap = store.read(out)
    assert snap.namespaces == ["shop"]  # from the files: no -n needed
    assert {o.kind for o in snap.objects} == {"Namespace", "ServiceEntry"}
    assert {o.cluster for o in snap.objects} == {"east"}  # the one cluster the metrics name
    assert any(q.series for q in snap.queries if q.key.startswith("graph/"))
    assert not [g for g in snap.gaps if g.phase in ("metrics", "config")]
    code, doc, err = run(capsys, "graph", str(out), "--appenders", "serviceEntry", "--format", "json")
    assert code == 0, err
    nodes = {n["id"]: n for n in json.loads(doc)["nodes"]}
    assert nodes["svc_east_shop_payments-api"]["metadata"]["isServiceEntry"]["hosts"] == ["pay.example.com"]


def test_cluster_flag_names_the_objects_cluster(prometheus, tmp_path, capsys):
    url, sc = prometheus
    (tmp_path / "config.yaml").write_text(CONFIG)
    out = tmp_path / "shop.mrsnap"
    code, _, err = run(
        capsys, "snapshot", "--prometheus", url, "--window", "1h", "--end", str(sc.end), "--scrape-interval", "60s",
        "-n", "shop", "--cluster", "west", "--from-files", str(tmp_path / "config.yaml"), "-o", str(out), "-q",
    )  # fmt: skip
    assert code == 0, err
    assert {o.cluster for o in store.read(out).objects} == {"west"}


def test_files_alone_stay_config_only(tmp_path, capsys):
    (tmp_path / "config.yaml").write_text(CONFIG)
    out = tmp_path / "config.mrsnap"
    code, _, err = run(capsys, "snapshot", "--from-files", str(tmp_path / "config.yaml"), "-o", str(out), "-q")
    assert code == 0, err
    snap = store.read(out)
    assert snap.queries == [] and [g.what for g in snap.gaps if g.phase == "metrics"]
    code, _, err = run(
        capsys, "snapshot", "--cluster", "west", "--from-files", str(tmp_path / "config.yaml"), "-o", str(out)
    )
    assert code == 2 and "--cluster needs both" in err and "Traceback" not in err


def test_cluster_equals_path_gives_each_input_its_cluster(prometheus, tmp_path, capsys):
    """`CLUSTER=PATH` (a multi-cluster mesh's config, one folder per cluster): those objects keep
    CLUSTER; a plain path still takes the metrics' one cluster."""
    url, sc = prometheus
    for name in ("north", "south", "plain"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.yaml").write_text(CONFIG.replace("payments-api", f"api-{name}"))
    out = tmp_path / "shop.mrsnap"
    code, _, err = run(
        capsys, "snapshot", "--prometheus", url, "--window", "1h", "--end", str(sc.end), "--scrape-interval", "60s",
        "--from-files", f"north={tmp_path / 'north'}", f"south={tmp_path / 'south' / 'config.yaml'}",
        str(tmp_path / "plain"), "-o", str(out), "-q",
    )  # fmt: skip
    assert code == 0, err
    snap = store.read(out)
    owners = {o.name: o.cluster for o in snap.objects if o.kind == "ServiceEntry"}
    assert owners == {"api-north": "north", "api-south": "south", "api-plain": "east"}
    assert set(snap.source.clusters) >= {"north", "south", "east"}


def test_a_file_named_with_equals_is_still_a_path(tmp_path, capsys, monkeypatch):
    """An argument that names an existing file as written is that file, never CLUSTER=PATH."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "west=config.yaml").write_text(CONFIG)
    out = tmp_path / "config.mrsnap"
    code, _, err = run(capsys, "snapshot", "--from-files", "west=config.yaml", "-o", str(out), "-q")
    assert code == 0, err
    assert {o.cluster for o in store.read(out).objects} == {"Kubernetes"}


def test_config_only_files_take_their_cluster(tmp_path, capsys):
    (tmp_path / "config.yaml").write_text(CONFIG)
    out = tmp_path / "config.mrsnap"
    code, _, err = run(capsys, "snapshot", "--from-files", f"west={tmp_path / 'config.yaml'}", "-o", str(out), "-q")
    assert code == 0, err
    snap = store.read(out)
    assert {o.cluster for o in snap.objects} == {"west"} and snap.source.clusters == ["west"]


def test_cluster_equals_missing_path_is_one_line(tmp_path, capsys):
    out = tmp_path / "config.mrsnap"
    code, _, err = run(capsys, "snapshot", "--from-files", f"west={tmp_path / 'nope'}", "-o", str(out), "-q")
    assert code == 5, err
    assert err.count("\n") == 1 and "no such file or directory" in err and "Traceback" not in err
    assert not out.exists()


def test_config_of_no_graph_cluster_marks_nothing_inaccessible(prometheus, tmp_path, capsys):
    """Objects of a cluster the metrics never name (a kubeconfig context name, not Istio's cluster id)
    leave the requested namespace's nodes accessible: marking them would only hide their health."""
    url, sc = prometheus
    (tmp_path / "config.yaml").write_text(CONFIG)
    out = tmp_path / "shop.mrsnap"
    code, _, err = run(
        capsys, "snapshot", "--prometheus", url, "--window", "1h", "--end", str(sc.end), "--scrape-interval", "60s",
        "--from-files", f"kind-kind={tmp_path / 'config.yaml'}", "-o", str(out), "-q",
    )  # fmt: skip
    assert code == 0, err
    code, doc, err = run(capsys, "graph", str(out), "--format", "json")
    assert code == 0, err
    shop = [n for n in json.loads(doc)["nodes"] if n["namespace"] == "shop" and n["cluster"] == "east"]
    assert shop and not [n["id"] for n in shop if n["metadata"].get("isInaccessible")]
