"""The streamed snapshot reader gives back exactly the snapshot that was written.

`store.read` decodes query by query (small chunks here, so every query straddles a chunk end);
anything unusual falls back to the whole-document path, whose errors must be unchanged. The
expectations are the written snapshot and the values put in the file, not the other reader.
"""

from __future__ import annotations

import gzip
import json
import math

import pytest

from meshreport.errors import InputError
from meshreport.snapshot import store
from meshreport.synthetic import meshes


def instant_with_series(doc) -> list[dict]:
    return [q for q in doc["queries"] if q["kind"] == "instant" and q["series"]]


def write_doc(path, doc, indent=None) -> None:
    path.write_bytes(gzip.compress(json.dumps(doc, indent=indent).encode()))


@pytest.fixture(params=[7, 1 << 22, None], ids=["tiny-chunks", "default-chunks", "not-streamed"])
def chunk(request, monkeypatch):
    """Stream every file (its text counts as too long to read whole), in chunks of this size;
    None reads small files whole, as meshreport does."""
    if request.param is not None:
        monkeypatch.setattr(store._StreamedDocument, "CHUNK", request.param)
        monkeypatch.setattr(store, "WHOLE_TEXT_LIMIT", 0)
    return request.param


@pytest.mark.parametrize("packed", [True, False], ids=["packed", "expanded"])
def test_streamed_read_gives_back_the_written_snapshot(tmp_path, chunk, packed):
    snap = meshes.bookinfo_snapshot()
    path = tmp_path / "b.mrsnap"
    store.write(snap, path, packed=packed)
    assert store._StreamedDocument.load(path.read_bytes(), str(path)) is not None  # really streamed
    assert store.read(path) == snap


@pytest.mark.parametrize(("limit", "streamed"), [(1 << 30, False), (1000, True)])
def test_only_texts_over_the_limit_are_streamed(tmp_path, monkeypatch, limit, streamed):
    snap = meshes.bookinfo_snapshot()
    path = tmp_path / "b.mrsnap"
    store.write(snap, path)
    calls = []
    load = store._StreamedDocument.load
    monkeypatch.setattr(store._StreamedDocument, "load", lambda raw, origin: calls.append(1) or load(raw, origin))
    monkeypatch.setattr(store, "WHOLE_TEXT_LIMIT", limit)
    assert store.read(path) == snap
    assert bool(calls) is streamed


def test_nan_and_infinity_tokens_read_whole_and_streamed(tmp_path, chunk):
    # json writes non-finite values as bare NaN/Infinity tokens, which orjson refuses.
    doc = store.to_dict(meshes.bookinfo_snapshot(), packed=False)
    first, second = instant_with_series(doc)[:2]
    first["series"][0]["value"] = math.nan
    second["series"][0]["value"] = -math.inf
    path = tmp_path / "nan.mrsnap"
    write_doc(path, doc)
    assert b"NaN" in gzip.decompress(path.read_bytes()) and b"-Infinity" in gzip.decompress(path.read_bytes())
    values = [s.value for q in store.read(path).queries for s in q.series]
    assert -math.inf in values and any(math.isnan(v) for v in values)


def test_several_gzip_members_read_as_one_text(tmp_path):
    snap = meshes.bookinfo_snapshot()
    text = json.dumps(store.to_dict(snap)).encode()
    path = tmp_path / "m.mrsnap"
    path.write_bytes(gzip.compress(text[:1000]) + gzip.compress(text[1000:]))
    assert store.read(path) == snap


def test_unusual_values_fall_back_and_match(tmp_path, chunk):
    doc = store.to_dict(meshes.bookinfo_snapshot(), packed=False)
    first, second = instant_with_series(doc)[:2]
    first["series"][0]["value"] = "NaN"  # NaN travels as a string
    second["series"][0]["value"] = 3  # an int becomes a float
    path = tmp_path / "odd.mrsnap"
    write_doc(path, doc, indent=2)
    got = {(q.key, q.namespace): q for q in store.read(path).queries}
    nan_query = got[(first["key"], first["namespace"])]
    int_query = got[(second["key"], second["namespace"])]
    assert math.isnan(nan_query.series[0].value)
    assert int_query.series[0].value == 3.0 and isinstance(int_query.series[0].value, float)
    # every other value is the one the file holds
    for q in instant_with_series(doc):
        for s, written in zip(got[(q["key"], q["namespace"])].series, q["series"], strict=True):
            if s is not nan_query.series[0]:
                assert s.value == float(written["value"]) and s.labels == written["labels"]


@pytest.mark.parametrize("packed", [True, False], ids=["packed", "expanded"])
def test_equal_label_values_are_shared(tmp_path, chunk, packed):
    path = tmp_path / "b.mrsnap"
    store.write(meshes.bookinfo_snapshot(), path, packed=packed)
    snap = store.read(path)
    values = [v for q in snap.queries for s in q.series for v in s.labels.values() if v == "bookinfo"]
    assert len(values) > 1 and len({id(v) for v in values}) == 1


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda d: instant_with_series(d)[0]["series"][0]["labels"].update(x=1), r"series\[0\]\.labels\.x: missing"),
        (lambda d: instant_with_series(d)[1]["series"][0]["labels"].update(x=[1]), r"series\[0\]\.labels\.x: missing"),
        (lambda d: d["queries"][2].update(kind="vector"), r"queries\[2\]\.kind"),
        (lambda d: d.update(format="other"), r"\$\.format"),
    ],
)
def test_errors_are_the_whole_document_ones(tmp_path, chunk, mutate, expected):
    doc = store.to_dict(meshes.bookinfo_snapshot(), packed=False)
    mutate(doc)
    path = tmp_path / "bad.mrsnap"
    write_doc(path, doc)
    with pytest.raises(InputError, match=expected):
        store.read(path)


def test_trailing_garbage_is_a_json_error(tmp_path, chunk):
    path = tmp_path / "t.mrsnap"
    path.write_bytes(gzip.compress(json.dumps(store.to_dict(meshes.bookinfo_snapshot())).encode() + b" x"))
    with pytest.raises(InputError, match="not valid JSON"):
        store.read(path)
