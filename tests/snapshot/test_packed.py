"""Packed series (schema 2 plain, schema 3 deflated arrays): exact round trips, deferred
building, and one-line errors."""

from __future__ import annotations

import base64
import gzip
import json
import math
import zlib
from array import array
from pathlib import Path

import pytest

from meshreport.errors import EXIT_INPUT, InputError
from meshreport.snapshot import store
from meshreport.snapshot.model import QueryResult, Series, Snapshot, Source, Window
from meshreport.snapshot.packed import PackedSeries, StringTable, pack
from meshreport.synthetic import meshes

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
    snap = meshes.bookinfo_snapshot()
    doc = store.to_dict(snap)
    assert doc["schema_version"] == 3
    q = next(q for q in doc["queries"] if q["packed"]["count"] > 3)
    assert q["packed"]["codec"] == "zlib"
    sets = [tuple(names) for names in q["packed"]["labels"]]
    assert "series" not in q and len(sets) == len(set(sets)) < q["packed"]["count"]
    assert len(doc["strings"]) == len(set(doc["strings"]))
    expanded = store.to_dict(snap, packed=False)["queries"]
    packed_size = len(json.dumps([doc["strings"]] + [q["packed"] for q in doc["queries"] if q["kind"] == "instant"]))
    expanded_size = len(json.dumps([q["series"] for q in expanded if q["kind"] == "instant"]))
    assert packed_size < expanded_size / 2


def test_series_are_built_only_when_read(tmp_path):
    path = tmp_path / "b.mrsnap"
    store.write(meshes.bookinfo_snapshot(), path)
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


def _packed_file(tmp_path, mutate, series=None, codec=None) -> str:
    """A file whose one query was packed (plain arrays unless `codec`), then broken by `mutate`."""
    series = series or [Series({"a": "x", "b": "y"}, 1.0), Series({"a": "z"}, 2.0)]  # two label sets
    doc = store.to_dict(snapshot_with(instant(series)), codec=codec)
    mutate(doc)
    path = tmp_path / "bad.mrsnap"
    path.write_bytes(gzip.compress(json.dumps(doc).encode()))
    return str(path)


def _b64(typecode: str, values: list) -> str:
    return base64.b64encode(array(typecode, values).tobytes()).decode()


def _z64(typecode: str, values: list) -> str:
    return base64.b64encode(zlib.compress(array(typecode, values).tobytes())).decode()


def _packed(d) -> dict:
    return d["queries"][0]["packed"]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["queries"][0].update(packed=[]), r"\$\.queries\[0\]\.packed: missing or not an object"),
        (lambda d: _packed(d).update(labels=["a", 1]), r"packed\.labels: missing or not a list of label name lists"),
        (lambda d: _packed(d).update(labels=[["a", "a"], ["a"]]), r"packed\.labels: a label name repeats"),
        (lambda d: _packed(d).update(count=-1), r"packed\.count"),
        (lambda d: _packed(d).update(sets=_b64("I", [0, 5])), r"packed\.sets: names a label set that is not"),
        (lambda d: _packed(d).pop("sets"), r"packed\.sets: missing"),
        (lambda d: _packed(d).update(ids=_b64("I", [0, 1])), r"packed\.ids: holds 12 base64 characters, expected 16"),
        (lambda d: _packed(d).pop("values"), r"packed\.values: missing"),
        (lambda d: _packed(d).update(values=_b64("d", [1.0])), r"packed\.values: holds 12 base64 .* expected 24"),
        (lambda d: d.update(strings=["a", 2]), r"\$\.strings: not a list of strings"),
    ],
)
def test_malformed_packed_query_is_one_line_at_read(tmp_path, mutate, expected):
    path = _packed_file(tmp_path, mutate)
    with pytest.raises(InputError, match=expected) as e:
        store.read(path)
    assert path in e.value.message and "\n" not in e.value.message
    assert e.value.exit_code == EXIT_INPUT


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: _packed(d).update(codec="lz4"), r"packed\.codec: unknown codec \(this meshreport reads zlib\)"),
        (lambda d: _packed(d).update(sets=_z64("I", [0, 5])), r"packed\.sets: names a label set that is not"),
        (lambda d: _packed(d).update(sets=_z64("I", [0])), r"packed\.sets: inflates to 4 bytes, expected 8"),
        (lambda d: _packed(d).update(sets=_b64("I", [0, 1])), r"packed\.sets: not a valid zlib stream"),
        (lambda d: _packed(d).update(ids=7), r"packed\.ids: missing or not a base64 string"),
    ],
    ids=["unknown-codec", "bad-set-number", "short-sets", "sets-not-deflated", "ids-not-text"],
)
def test_malformed_deflated_query_is_one_line_at_read(tmp_path, mutate, expected):
    path = _packed_file(tmp_path, mutate, codec="zlib")
    with pytest.raises(InputError, match=expected) as e:
        store.read(path)
    assert path in e.value.message and "\n" not in e.value.message
    assert e.value.exit_code == EXIT_INPUT


ONE_SET = [Series({"a": "x", "b": "y"}, 1.0), Series({"a": "z", "b": "y"}, 2.0)]


@pytest.mark.parametrize(
    ("series", "mutate", "expected"),
    [
        (None, lambda d: _packed(d).update(ids=_b64("I", [0, 1, 99])), r"ids: .*not in the string table"),
        (ONE_SET, lambda d: _packed(d).update(ids=_b64("I", [0, 1, 2, 99])), r"ids: .*not in the string table"),
        (None, lambda d: _packed(d).update(ids="!" * 16), r"ids: not valid base64"),
        (None, lambda d: _packed(d).update(values="*" * 24), r"values: not valid base64"),
    ],
    ids=["two-label-sets", "one-label-set", "ids-not-base64", "values-not-base64"],
)
def test_bad_content_is_one_line_when_the_series_are_read(tmp_path, series, mutate, expected):
    _fails_when_read(_packed_file(tmp_path, mutate, series), expected)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: _packed(d).update(ids=_z64("I", [0, 1, 99])), r"ids: .*not in the string table"),
        (lambda d: _packed(d).update(ids=_z64("I", [0, 1])), r"ids: inflates to 8 bytes, expected 12"),
        (lambda d: _packed(d).update(ids=_z64("I", [0] * 100_000)), r"ids: inflates to more than 12 bytes"),
        (lambda d: _packed(d).update(ids=_z64("I", [0, 1, 2])[:-4]), r"ids: (not a valid zlib stream|inflates to)"),
        (lambda d: _packed(d).update(values=_b64("d", [1.0, 2.0])), r"values: not a valid zlib stream"),
        (lambda d: _packed(d).update(values="*" * 24), r"values: not valid base64"),
    ],
    ids=["unknown-id", "short-ids", "ids-too-long", "truncated-stream", "values-not-deflated", "values-not-base64"],
)
def test_bad_deflated_content_is_one_line_when_the_series_are_read(tmp_path, mutate, expected):
    _fails_when_read(_packed_file(tmp_path, mutate, codec="zlib"), expected)


def _fails_when_read(path: str, expected: str) -> None:
    """The file reads; building its query's series fails with one line, every time."""
    snap = store.read(path)  # ids and numbers are only decoded when the series are built
    with pytest.raises(InputError, match=r"\$\.queries\[0\]\.packed\." + expected) as e:
        snap.queries[0].series  # noqa: B018 (the access builds them)
    assert path in e.value.message
    with pytest.raises(InputError):  # and again: a failed build is not remembered as a success
        snap.queries[0].series  # noqa: B018


def test_each_series_keeps_its_own_label_order(tmp_path):
    series = [Series({"b": "1", "a": "2"}, 1.0), Series({"a": "3", "b": "4"}, 2.0), Series({"c": "5"}, 3.0)]
    got = write_read(tmp_path, snapshot_with(instant(series)))
    assert [list(s.labels) for s in got.queries[0].series] == [["b", "a"], ["a", "b"], ["c"]]


def test_the_documented_reading_recipe_works():
    # docs/snapshot-format.md shows how to read a packed query without meshreport: keep it true.
    text = (Path(__file__).parents[2] / "docs" / "snapshot-format.md").read_text()
    recipe = text.split("```python\n", 1)[1].split("```", 1)[0]
    series = [Series({"a": "x", "b": "y"}, 1.0), Series({"c": "z"}, 2.0), Series({"b": "y", "a": "w"}, 3.0)]
    doc = store.to_dict(snapshot_with(instant(series)))
    scope = {"array": array, "base64": base64, "zlib": zlib, "doc": doc, "q": doc["queries"][0]}
    exec(recipe, scope)
    assert scope["labels"] == [s.labels for s in series]


@pytest.mark.parametrize(
    "series",
    [
        [Series({"a": "x", "b": "y"}, 1.0), Series({"b": "y", "a": "z"}, 2.0)],  # two orders: two sets
        [Series({"a": "x", "b": "y"}, 1.0), Series({"a": "z"}, 2.0), Series({"c": "w"}, -1.0), Series({}, 0.0)],
        [Series({"a": "x"}, 1.0)] * 3,
        [],
    ],
    ids=["two-orders", "mixed-sets", "one-set", "empty"],
)
def test_table_equals_what_the_series_say(tmp_path, series):
    got = write_read(tmp_path, snapshot_with(instant(series)))
    names = ("b", "missing", "a", "c")
    expected = [(s.value, tuple(s.labels.get(n) for n in names)) for s in series]
    packed = got.queries[0].table(names)  # from the packed arrays
    assert "series" not in vars(got.queries[0])
    assert _rows(packed) == expected
    got.queries[0].series  # noqa: B018 (now built: the same answer from the series)
    assert _rows(got.queries[0].table(names)) == expected
    assert _rows(got.queries[0].table(())) == [(s.value, ()) for s in series]


def _rows(table, nan=math.nan) -> list:
    """(value, label values) per row; NaN values become `nan` (None compares equal, NaN never)."""
    return [
        (nan if math.isnan(v) else v, table.text(ids))
        for v, ids in zip(table.values.tolist(), table.ids.tolist(), strict=True)
    ]


def test_table_of_a_range_query_has_no_value(tmp_path):
    rng = QueryResult("trend/x", "x", "ns", "range", WINDOW.end, [Series({"w": "a"}, None, [(1.0, 2.0)])], 0.0, 60.0)
    got = write_read(tmp_path, snapshot_with(rng))
    table = got.queries[0].table(("w",))
    assert math.isnan(table.values[0]) and table.text(table.ids[0].tolist()) == ("a",)


@pytest.mark.parametrize(
    ("codec", "ids", "expected"),
    [
        (None, _b64("I", [0, 1, 99]), r"ids: .*not in the string table"),
        ("zlib", _z64("I", [0, 1, 99]), r"ids: .*not in the string table"),
        ("zlib", _z64("I", [0]), r"ids: inflates to 4 bytes, expected 12"),
    ],
)
def test_table_with_bad_ids_is_one_line(tmp_path, codec, ids, expected):
    path = _packed_file(tmp_path, lambda d: _packed(d).update(ids=ids), codec=codec)
    snap = store.read(path)
    with pytest.raises(InputError, match=r"\$\.queries\[0\]\.packed\." + expected):
        snap.queries[0].table(("a", "b"))


@pytest.mark.parametrize("codec", [None, "zlib"], ids=["plain", "deflated"])
def test_both_array_encodings_read_the_same(tmp_path, codec):
    snap = meshes.bookinfo_snapshot()
    doc = store.to_dict(snap, codec=codec)
    if codec is None:
        doc["schema_version"] = 2  # as meshreport wrote it before deflating arrays
    path = tmp_path / "s.mrsnap"
    path.write_bytes(gzip.compress(json.dumps(doc).encode()))
    got = store.read(path)
    assert [q.series for q in got.queries] == [q.series for q in snap.queries]
    names = ("source_workload", "destination_workload", "response_code")
    for mine, theirs in zip(got.queries, snap.queries, strict=True):
        assert _rows(mine.table(names), nan=None) == _rows(theirs.table(names), nan=None)


def test_deflated_arrays_leave_far_less_text_to_read():
    # What a reader must gunzip and scan, whether or not it reads a query's series.
    snap = meshes.scalable_snapshot(5, 200, seed=1, window=WINDOW)
    plain = len(json.dumps(store.to_dict(snap, codec=None)["queries"]))
    deflated = len(json.dumps(store.to_dict(snap)["queries"]))
    assert deflated < plain / 3
