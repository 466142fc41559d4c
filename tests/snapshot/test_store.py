"""The .mrsnap contract: round trips exactly, and every kind of bad file is one clear InputError."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace

import pytest

from meshreport import output
from meshreport.errors import EXIT_INPUT, InputError, OutputError
from meshreport.snapshot import store
from meshreport.snapshot.model import (
    SCHEMA_VERSION,
    ConfigObject,
    Diagnostic,
    Gap,
    QueryResult,
    Series,
    Snapshot,
    Source,
    SourceRef,
    Window,
)


def make_snapshot() -> Snapshot:
    return Snapshot(
        window=Window(start=1_700_000_000.0, end=1_700_003_600.0),
        source=Source(
            kind="prometheus", prometheus_url="http://prom:9090", clusters=["east"], versions={"istio": "1.24"}
        ),
        namespaces=["bookinfo"],
        queries=[
            QueryResult(
                key="graph/istio_requests_total/incoming",
                promql='round(sum(rate(istio_requests_total{reporter="destination"} [3600s])) by (x),0.001)',
                namespace="bookinfo",
                kind="instant",
                time=1_700_003_600.0,
                series=[Series(labels={"source_workload": "productpage-v1", "response_code": "200"}, value=12.5)],
            ),
            QueryResult(
                key="trend/requests",
                promql="sum(rate(istio_requests_total[5m])) by (destination_workload)",
                namespace="bookinfo",
                kind="range",
                time=1_700_003_600.0,
                start=1_700_000_000.0,
                step=60.0,
                series=[
                    Series(
                        labels={"destination_workload": "reviews-v1"},
                        points=[(1_700_000_000.0, 1.0), (1_700_000_060.0, 2.5)],
                    )
                ],
            ),
        ],
        objects=[
            ConfigObject(
                api_version="networking.istio.io/v1",
                kind="VirtualService",
                name="reviews",
                namespace="bookinfo",
                body={"metadata": {"name": "reviews", "labels": {"app": "reviews"}}, "spec": {"hosts": ["reviews"]}},
                source=SourceRef(file="vs.yaml", line=3),
            )
        ],
        gaps=[
            Gap(
                phase="metrics",
                what="graph/istio_tcp_sent_bytes_total/incoming",
                reason="timeout after 30s",
                namespace="bookinfo",
            )
        ],
        diagnostics=[Diagnostic(code="no-istio-metrics", message="none", causes=["no sidecars"])],
        collector={"meshreport": "0.1.0", "seconds": 1.5},
    )


@pytest.mark.parametrize("packed", [True, False], ids=["packed", "expanded"])
def test_round_trip_is_exact(tmp_path, packed):
    snap = make_snapshot()
    path = tmp_path / "a.mrsnap"
    store.write(snap, path, packed=packed)
    assert store.read(path) == snap


def test_schema_version_1_files_still_read(tmp_path):
    doc = _doc()
    doc["schema_version"] = 1
    path = tmp_path / "old.mrsnap"
    _write_doc(path, doc)
    old = store.read(path)
    assert old.schema_version == 1
    assert replace(old, schema_version=SCHEMA_VERSION) == make_snapshot()


def test_same_snapshot_gives_identical_bytes(tmp_path):
    store.write(make_snapshot(), tmp_path / "a.mrsnap")
    store.write(make_snapshot(), tmp_path / "b.mrsnap")
    assert (tmp_path / "a.mrsnap").read_bytes() == (tmp_path / "b.mrsnap").read_bytes()


def test_file_is_gzip_json_with_schema_version(tmp_path):
    path = tmp_path / "a.mrsnap"
    store.write(make_snapshot(), path)
    doc = json.loads(gzip.decompress(path.read_bytes()))
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["format"] == "meshreport-snapshot"
    assert doc["window"]["duration"] == 3600.0
    assert doc["queries"][0]["promql"].startswith("round(")


def _write_doc(path, doc):
    path.write_bytes(gzip.compress(json.dumps(doc).encode()))


def _live(obj: dict) -> dict:
    """The object as read from a cluster: no source line (the quick path reads those)."""
    obj.pop("source")
    return obj


def _doc():
    return store.to_dict(make_snapshot(), packed=False)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.pop("window"), "$.window"),
        (lambda d: d["window"].update(start="yesterday"), "$.window.start"),
        (lambda d: d["window"].update(end=0), "end must be after start"),
        (lambda d: d.update(namespaces="bookinfo"), "$.namespaces"),
        (lambda d: d["queries"][0].update(kind="vector"), "$.queries[0].kind"),
        (lambda d: d["queries"][0]["series"][0].update(value=None), "$.queries[0].series[0].value"),
        (lambda d: d["queries"][1]["series"][0].update(points=[[1, 2, 3]]), "$.queries[1].series[0].points[]"),
        (lambda d: d["queries"][0]["series"][0]["labels"].update(code=200), "$.queries[0].series[0].labels.code"),
        (lambda d: d["objects"][0].pop("kind"), "$.objects[0].kind"),
        (lambda d: _live(d["objects"][0]).update(namespace=3), "$.objects[0].namespace"),
        (lambda d: _live(d["objects"][0]).update(body=[]), "$.objects[0].body"),
        (lambda d: _live(d["objects"][0]).update(cluster=None), "$.objects[0].cluster"),
        (lambda d: d["objects"][0]["source"].update(line="3"), "$.objects[0].source.line"),
        (lambda d: d["gaps"][0].pop("reason"), "$.gaps[0].reason"),
        (lambda d: d.update(format="something-else"), "$.format"),
    ],
)
def test_schema_invalid_names_the_path(tmp_path, mutate, expected):
    doc = _doc()
    mutate(doc)
    path = tmp_path / "bad.mrsnap"
    _write_doc(path, doc)
    with pytest.raises(InputError) as e:
        store.read(path)
    assert expected in e.value.message
    assert str(path) in e.value.message
    assert "\n" not in e.value.message
    assert e.value.exit_code == EXIT_INPUT


def test_wrong_version(tmp_path):
    doc = _doc()
    doc["schema_version"] = 99
    path = tmp_path / "future.mrsnap"
    _write_doc(path, doc)
    with pytest.raises(InputError, match="schema_version 99 is not supported"):
        store.read(path)


def test_truncated(tmp_path):
    good = tmp_path / "good.mrsnap"
    store.write(make_snapshot(), good)
    bad = tmp_path / "truncated.mrsnap"
    bad.write_bytes(good.read_bytes()[:-40])
    with pytest.raises(InputError, match="truncated or corrupt"):
        store.read(bad)


def test_not_gzip(tmp_path):
    path = tmp_path / "plain.mrsnap"
    path.write_text(json.dumps(_doc()))
    with pytest.raises(InputError, match="not gzip-compressed"):
        store.read(path)


def test_gzip_but_not_json(tmp_path):
    path = tmp_path / "text.mrsnap"
    path.write_bytes(gzip.compress(b"hello, not json"))
    with pytest.raises(InputError, match="not valid JSON"):
        store.read(path)


def test_json_but_not_an_object(tmp_path):
    path = tmp_path / "list.mrsnap"
    path.write_bytes(gzip.compress(b"[1, 2]"))
    with pytest.raises(InputError, match=r"invalid snapshot at \$"):
        store.read(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="no such snapshot file"):
        store.read(tmp_path / "nope.mrsnap")
    with pytest.raises(InputError, match="is a directory"):
        store.read(tmp_path)


def test_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "a.mrsnap"
    store.write(make_snapshot(), path)
    before = path.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    # Fail after the temporary file was written, at the moment it would replace the old one.
    monkeypatch.setattr(output.os, "replace", boom)
    with pytest.raises(OutputError, match="disk full"):
        store.write(make_snapshot(), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.mrsnap"]


def test_equal_strings_of_the_objects_are_one_string_once_read(tmp_path):
    """Reading shares equal string values across the objects' bodies (a big mesh repeats names in
    labels, selectors and hosts): the objects read are equal to those written, nested or not."""
    deep: dict = {"leaf": "reviews"}
    for _ in range(200):
        deep = {"d": [deep]}
    objects = [
        ConfigObject(
            "v1",
            "Service",
            f"reviews-{i}",
            "bookinfo",
            {"metadata": {"labels": {"app": "reviews"}}, "spec": {"selector": {"app": "reviews"}, "x": [["reviews"]]}},
        )
        for i in range(2)
    ]
    objects.append(ConfigObject("v1", "ConfigMap", "deep", "bookinfo", {"data": deep}))
    snap = replace(make_snapshot(), objects=objects)
    path = tmp_path / "a.mrsnap"
    store.write(snap, path)
    got = store.read(path)
    assert got == snap
    a, b = got.objects[0].body, got.objects[1].body
    assert a["metadata"]["labels"]["app"] is b["spec"]["selector"]["app"] is b["spec"]["x"][0][0]
