"""Packed series (schema 2): exact round trips, deferred building, and one-line errors."""

from __future__ import annotations

import base64
import gzip
import json
import math
from array import array

import pytest

from meshreport.errors import EXIT_INPUT, InputError
from meshreport.snapshot import store, synth
from meshreport.snapshot.model import QueryResult, Series, Snapshot, Source, Window
from meshreport.snapshot.packed import ABSENT, PackedSeries, StringTable, pack

WINDOW = Window(1_700_000_000.0, 1_700_003_600.0)


def snapshot_with(*queries: QueryResult) -> Snapshot:
    return Snapshot(window=WINDOW, source=Source(kind="synthetic"), namespaces=["ns"], queries=list(queries))


def instant(series: list[Series], key: str = "graph/istio_requests_total/incoming") -> QueryResult:
    return QueryResult(key, "up", "ns", "instant", WINDOW.end, series)


def write_read(tmp_path, snap: Snapshot) -> Snapshot:
    path = tmp_path / "p.mrsnap"
    store.write(snap, path)
    return store.read(path)


def test_mixed_label_sets_round_trip(tmp_path):
    # Prometheus drops empty labels, so series of one query carry different label sets.
    series = [
        Series({"a": "x", "b": "y"}, 1.5),
        Series({"b": "y", "c": ""}, 2.0),  # another order, an empty value, a label the first lacks
        Series({}, 0.0),
        Series({"c": "<script>"}, -3.25),
    ]
    got = write_read(tmp_path, snapshot_with(instant(series)))
    assert got.queries[0].series == series


def test_non_finite_values_and_range_points_round_trip(tmp_path):
    rng = QueryResult(
        "trend/requests",
        "sum(rate(x[5m]))",
        "ns",
        "range",
        WINDOW.end,
        [Series({"w": "a"}, None, [(1.0, 2.0), (61.0, math.inf)]), Series({"w": "b"}, None, [])],
        start=WINDOW.start,
        step=60.0,
    )
    inst = instant([Series({"q": "0.95"}, math.nan), Series({"q": "0.5"}, -math.inf)])
    got = write_read(tmp_path, snapshot_with(rng, inst))
    assert got.queries[0].series == rng.series
    values = [s.value for s in got.queries[1].series]
    assert math.isnan(values[0]) and values[1] == -math.inf


def test_empty_query_and_labelless_series(tmp_path):
    got = write_read(tmp_path, snapshot_with(instant([]), instant([Series({}, 4.0)] * 3, key="k2")))
    assert got.queries[0].series == []
    assert got.queries[1].series == [Series({}, 4.0)] * 3


def test_file_stores_label_names_once_and_values_in_one_table(tmp_path):
    snap = synth.bookinfo_snapshot()
    doc = store.to_dict(snap)
    assert doc["schema_version"] == 2
    q = next(q for q in doc["queries"] if q["packed"]["count"] > 3)
    assert "series" not in q and len(q["packed"]["labels"]) == len(set(q["packed"]["labels"]))
    assert len(doc["strings"]) == len(set(doc["strings"]))
    expanded = store.to_dict(snap, packed=False)["queries"]
    packed_size = len(json.dumps([doc["strings"]] + [q["packed"] for q in doc["queries"] if q["kind"] == "instant"]))
    expanded_size = len(json.dumps([q["series"] for q in expanded if q["kind"] == "instant"]))
    assert packed_size < expanded_size / 2


def test_series_are_built_only_when_read(tmp_path):
    path = tmp_path / "b.mrsnap"
    store.write(synth.bookinfo_snapshot(), path)
    snap = store.read(path)
    q = snap.queries[0]
    assert "series" not in vars(q)  # not built yet
    first = q.series
    assert "series" in vars(q) and q.series is first  # built once, then a plain attribute


def test_label_values_are_shared_with_the_table():
    table = StringTable()
    doc = pack([Series({"a": "same"}, 1.0), Series({"b": "same"}, 2.0)], "instant", table)
    a, b = PackedSeries(doc, "instant", table.values).unpack()
    assert a.labels["a"] is b.labels["b"]


def _packed_file(tmp_path, mutate) -> str:
    doc = store.to_dict(snapshot_with(instant([Series({"a": "x", "b": "y"}, 1.0), Series({"a": "z"}, 2.0)])))
    mutate(doc)
    path = tmp_path / "bad.mrsnap"
    path.write_bytes(gzip.compress(json.dumps(doc).encode()))
    return str(path)


def _ids(values: list[int]) -> str:
    return base64.b64encode(array("I", values).tobytes()).decode()


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["queries"][0].update(packed=[]), r"\$\.queries\[0\]\.packed: missing or not an object"),
        (lambda d: d["queries"][0]["packed"].update(labels=["a", 1]), r"packed\.labels: missing or not a list"),
        (lambda d: d["queries"][0]["packed"].update(labels=["a", "a"]), r"packed\.labels: label names repeat"),
        (lambda d: d["queries"][0]["packed"].update(count=-1), r"packed\.count"),
        (lambda d: d["queries"][0]["packed"].update(ids="!!!"), r"packed\.ids: not valid base64"),
        (lambda d: d["queries"][0]["packed"].update(ids=_ids([0, 1])), r"packed\.ids: holds 8 bytes, expected 16"),
        (lambda d: d["queries"][0]["packed"].pop("values"), r"packed\.values: missing"),
        (lambda d: d.update(strings=["a", 2]), r"\$\.strings: not a list of strings"),
    ],
)
def test_malformed_packed_query_is_one_line_at_read(tmp_path, mutate, expected):
    path = _packed_file(tmp_path, mutate)
    with pytest.raises(InputError, match=expected) as e:
        store.read(path)
    assert path in e.value.message and "\n" not in e.value.message
    assert e.value.exit_code == EXIT_INPUT


@pytest.mark.parametrize("ids", [[0, 1, 2, 99], [0, 1, 99, ABSENT]], ids=["all-present", "with-absent"])
def test_unknown_label_value_id_is_one_line_when_read(tmp_path, ids):
    path = _packed_file(tmp_path, lambda d: d["queries"][0]["packed"].update(ids=_ids(ids)))
    snap = store.read(path)  # the table is only consulted when the series are built
    with pytest.raises(InputError, match=r"\$\.queries\[0\]\.packed\.ids: .*not in the string table") as e:
        snap.queries[0].series  # noqa: B018 (the access builds them)
    assert path in e.value.message
    with pytest.raises(InputError):  # and again: a failed build is not remembered as a success
        snap.queries[0].series  # noqa: B018
