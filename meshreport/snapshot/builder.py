"""One query's series packed as they arrive, so a collection never holds them as Python objects.

A 10,000-workload mesh answers some 600,000 series; as `Series` objects (a dict of fifteen
labels each) they took over a gigabyte while the snapshot written from them is 6 MB. The
collector adds each decoded series here at once: its label values become ids into a small
string table of the query's own, its numbers go into arrays. At write time `pack_into` maps the
query's ids onto the file's string table in the order `packed.pack` would have met them, so the
file is the same as one packed from `Series` objects (docs/snapshot-format.md). A `QueryResult`
built on a `SeriesBuilder` (`QueryResult.deferred`) reads like any other: `series` and `table()`
are built from the arrays on first use.
"""

from __future__ import annotations

from array import array
from itertools import islice
from typing import TYPE_CHECKING, Any

from meshreport.snapshot.model import Series
from meshreport.snapshot.packed import ZLIB, StringTable, _b64

if TYPE_CHECKING:
    from meshreport.snapshot.table import SeriesTable


class SeriesBuilder:
    """The series of one query as arrays: label sets, value ids, values (and points for range)."""

    __slots__ = ("kind", "strings", "_ids_of", "sets", "_set_of", "shapes", "ids", "values", "counts", "times")

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.strings: list[str] = []  # this query's label values, in order of first appearance
        self._ids_of: dict[str, int] = {}
        self.sets: list[tuple[str, ...]] = []
        self._set_of: dict[tuple[str, ...], int] = {}
        self.shapes = array("I")
        self.ids = array("I")
        self.values = array("d")
        self.counts = array("I") if kind == "range" else None
        self.times = array("d") if kind == "range" else None

    def __len__(self) -> int:
        return len(self.shapes)

    def add(self, labels: dict[str, str], value: float = 0.0, points: list[tuple[float, float]] | None = None) -> None:
        """One series: an instant `value`, or the `points` of a range query."""
        names = tuple(labels)
        shape = self._set_of.get(names)
        if shape is None:
            shape = self._set_of[names] = len(self.sets)
            self.sets.append(names)
        self.shapes.append(shape)
        ids_of, strings = self._ids_of, self.strings
        for v in labels.values():
            i = ids_of.get(v)
            if i is None:
                i = ids_of[v] = len(strings)
                strings.append(v)
            self.ids.append(i)
        if self.counts is None:
            self.values.append(value)
        else:
            pts = points or []
            self.counts.append(len(pts))
            self.times.extend(t for t, _ in pts)  # type: ignore[union-attr]
            self.values.extend(v for _, v in pts)

    def nbytes(self) -> int:
        """Roughly what the arrays and strings hold (for the collector's memory facts)."""
        arrays = [self.shapes, self.ids, self.values, self.counts, self.times]
        return sum(a.itemsize * len(a) for a in arrays if a is not None) + sum(map(len, self.strings))

    # --- writing ----------------------------------------------------------------------------------

    def pack_into(self, table: StringTable, codec: str | None = ZLIB) -> dict[str, Any]:
        """The `packed` object `packed.pack(self.unpack(), kind, table, codec)` returns, without
        building the series: ids are mapped onto `table` in order of first appearance, which is
        the order `pack` adds label values to it."""
        mapping = array("I", map(table.id, self.strings))
        ids = array("I", map(mapping.__getitem__, self.ids))
        out: dict[str, Any] = {"labels": [list(k) for k in self.sets], "count": len(self.shapes)}
        if codec is not None:
            out["codec"] = codec
        if len(self.sets) > 1:
            out["sets"] = _b64(self.shapes, codec)
        out["ids"] = _b64(ids, codec)
        if self.counts is not None:
            out["counts"] = _b64(self.counts, codec)
            out["times"] = _b64(self.times, codec)  # type: ignore[arg-type]
        out["values"] = _b64(self.values, codec)
        return out

    # --- reading (DeferredSeries) -----------------------------------------------------------------

    def unpack(self) -> list[Series]:
        it = iter(list(map(self.strings.__getitem__, self.ids)))
        sets = self.sets
        rows = [dict(zip(sets[k], islice(it, len(sets[k])))) for k in self.shapes]  # noqa: B905
        if self.counts is None:
            return [Series(labels, value) for labels, value in zip(rows, self.values)]  # noqa: B905
        pts = zip(self.times, self.values)  # type: ignore[arg-type]  # noqa: B905
        return [Series(labels, None, list(islice(pts, n))) for labels, n in zip(rows, self.counts)]  # noqa: B905

    def table(self, names: tuple[str, ...]) -> SeriesTable:
        import numpy as np  # not at the top: commands that build no graph never load numpy

        from meshreport.snapshot.table import MISSING, SeriesTable

        count = len(self.shapes)
        out = np.full((count, len(names)), MISSING, dtype=np.uint32)
        flat = np.frombuffer(self.ids, dtype=np.uint32) if len(self.ids) else np.zeros(0, dtype=np.uint32)
        shape = np.frombuffer(self.shapes, dtype=np.uint32).astype(np.intp) if count else np.zeros(0, np.intp)
        widths = np.array([len(s) for s in self.sets] or [0], dtype=np.intp)[shape]
        starts = np.cumsum(widths) - widths
        for j, n in enumerate(names):
            where = np.array([s.index(n) if n in s else -1 for s in self.sets] or [-1], dtype=np.intp)[shape]
            has = where >= 0
            out[has, j] = flat[starts[has] + where[has]]
        if self.counts is None:
            values = np.frombuffer(self.values, dtype=np.float64).copy() if count else np.zeros(0)
        else:
            values = np.full(count, np.nan)  # a range query has no single value
        return SeriesTable(names, values, out, self.strings)
