"""SeriesBuilder: series packed as they arrive write the same file as `Series` objects packed at write."""

from __future__ import annotations

import math

import numpy as np

from meshreport.snapshot.builder import SeriesBuilder
from meshreport.snapshot.model import QueryResult, Series, Snapshot, Source, Window
from meshreport.snapshot.packed import StringTable, pack
from meshreport.snapshot.store import to_dict

W = Window(1000.0, 4600.0)


def _series(kind: str) -> list[Series]:
    out = []
    for i in range(40):
        labels = {"source_workload": f"w{i % 7}", "destination_workload": f"w{(i * 3) % 5}"}
        if i % 4 == 0:
            labels["grpc_response_status"] = "0"  # a second label set, as gRPC series have
        if kind == "range":
            out.append(
                Series(labels, None, [(1000.0 + 60 * k, float(i * k) if k != 2 else math.nan) for k in range(i % 4)])
            )
        else:
            out.append(Series(labels, math.inf if i == 3 else i / 7))
    return out


def _built(series: list[Series], kind: str) -> SeriesBuilder:
    b = SeriesBuilder(kind)
    for s in series:
        b.add(s.labels, s.value or 0.0, s.points)
    return b


def test_written_bytes_equal_packing_series_objects():
    inst, rng = _series("instant"), _series("range")
    plain = [
        QueryResult("a", "q1", "ns", "instant", W.end, inst),
        QueryResult("b", "q2", "ns", "range", W.end, rng, start=W.start, step=60.0),
        QueryResult("c", "q3", "ns", "instant", W.end, []),
    ]
    built = [
        QueryResult.deferred(_built(inst, "instant"), key="a", promql="q1", namespace="ns", kind="instant", time=W.end),
        QueryResult.deferred(
            _built(rng, "range"),
            key="b",
            promql="q2",
            namespace="ns",
            kind="range",
            time=W.end,
            start=W.start,
            step=60.0,
        ),
        QueryResult.deferred(
            SeriesBuilder("instant"), key="c", promql="q3", namespace="ns", kind="instant", time=W.end
        ),
    ]
    snap = lambda qs: Snapshot(W, Source("prometheus"), ["ns"], queries=qs)  # noqa: E731
    assert repr(to_dict(snap(built))) == repr(to_dict(snap(plain)))
    # and the deferred results read back as the series they were built from
    assert repr(built[0].series) == repr(inst) and repr(built[1].series) == repr(rng)


def test_table_equals_the_table_of_series_objects():
    inst = _series("instant")
    b = _built(inst, "instant")
    names = ("source_workload", "grpc_response_status", "missing")
    got = QueryResult.deferred(b, key="a", promql="q", namespace=None, kind="instant", time=1.0).table(names)
    want = QueryResult("a", "q", None, "instant", 1.0, inst).table(names)
    assert got.column_text(0) == want.column_text(0) and got.column_text(1) == want.column_text(1)
    assert got.column_text(2) == [None] * len(inst)
    np.testing.assert_array_equal(got.values, want.values)
    assert len(b) == 40 and b.nbytes() > 0


def test_ids_follow_the_file_string_table():
    table = StringTable()
    table.id("w3")  # already in the file from an earlier query
    b = _built(_series("instant"), "instant")
    packed = b.pack_into(table)
    again = StringTable()
    again.id("w3")
    assert packed == pack(_series("instant"), "instant", again) and table.values == again.values
