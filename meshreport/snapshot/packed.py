"""Column-wise packing of a query's series in the snapshot file (schema version 2).

A 10,000-workload mesh answers about 600,000 series whose fifteen label names repeat in every
one: written as plain JSON objects that was 450 MB of text, and parsing it cost three times
what building the graph costs. Packed, a query stores its label names once, each label value
as an id into one string table shared by the whole file, and its numbers as little-endian
binary arrays in base64 (JSON parses one long string far faster than millions of small
tokens). A query's series become `Series` objects only when something reads them, so a run
that never looks at, say, the trend lines never pays for them.

The layout is documented in docs/snapshot-format.md; `store.py` reads both this and the
expanded form.
"""

from __future__ import annotations

import base64
import binascii
import sys
from array import array
from collections.abc import Sequence
from itertools import chain, islice
from typing import TYPE_CHECKING, Any

from meshreport.snapshot.model import Series

if TYPE_CHECKING:
    from meshreport.snapshot.table import SeriesTable

_BIG_ENDIAN = sys.byteorder == "big"


class PackedError(ValueError):
    """A packed query is malformed: `where` is the JSON path below the query, `why` the problem."""

    def __init__(self, where: str, why: str) -> None:
        super().__init__(f"{where}: {why}")
        self.where = where
        self.why = why


class StringTable:
    """Label values of a whole file, each stored once; ids are list positions."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self._ids: dict[str, int] = {}

    def id(self, value: str) -> int:
        found = self._ids.get(value)
        if found is None:
            found = self._ids[value] = len(self.values)
            self.values.append(value)
        return found


def _b64(a: array) -> str:
    if _BIG_ENDIAN:
        a = array(a.typecode, a)
        a.byteswap()
    return base64.b64encode(a.tobytes()).decode("ascii")


def pack(series: Sequence[Series], kind: str, table: StringTable) -> dict[str, Any]:
    """The `packed` object of one query (its label values are added to `table`).

    Series of one query rarely share one label set (Prometheus drops empty labels, so HTTP and
    gRPC series differ), so each distinct set of label names is stored once and each series
    names its set; with a single set the per-series set numbers are left out.
    """
    sets: dict[tuple[str, ...], int] = {}
    shapes = array("I")
    for s in series:
        keys = tuple(s.labels)
        shape = sets.get(keys)
        if shape is None:
            shape = sets[keys] = len(sets)
        shapes.append(shape)
    ids = array("I", map(table.id, chain.from_iterable(s.labels.values() for s in series)))
    out: dict[str, Any] = {"labels": [list(k) for k in sets], "count": len(series)}
    if len(sets) > 1:
        out["sets"] = _b64(shapes)
    out["ids"] = _b64(ids)
    if kind == "range":
        pts = [s.points or [] for s in series]
        out["counts"] = _b64(array("I", map(len, pts)))
        out["times"] = _b64(array("d", (t for p in pts for t, _ in p)))
        out["values"] = _b64(array("d", (v for p in pts for _, v in p)))
    else:
        out["values"] = _b64(array("d", (float(s.value) for s in series)))  # type: ignore[arg-type]
    return out


def _decode(doc: dict, field: str, typecode: str, length: int) -> array:
    """A small array needed at once (set numbers, point counts): decoded and checked now."""
    return _array(_text(doc, field, typecode, length), field, typecode)


def _text(doc: dict, field: str, typecode: str, length: int) -> str:
    """A big array's base64 text, its length checked now and its decoding left for `unpack`:
    most queries of a run are never unpacked, and decoding them all cost half a second."""
    raw = doc.get(field)
    if not isinstance(raw, str):
        raise PackedError(f"packed.{field}", "missing or not a base64 string")
    size = length * array(typecode).itemsize
    if len(raw) != (size + 2) // 3 * 4:
        raise PackedError(f"packed.{field}", f"holds {len(raw)} base64 characters, expected {(size + 2) // 3 * 4}")
    return raw


def _bytes(raw: str, field: str) -> bytes:
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise PackedError(f"packed.{field}", "not valid base64") from None


def _array(raw: str, field: str, typecode: str) -> array:
    data = _bytes(raw, field)
    a = array(typecode)
    if len(data) % a.itemsize:
        raise PackedError(f"packed.{field}", "not a whole number of array items")
    a.frombytes(data)
    if _BIG_ENDIAN:
        a.byteswap()
    return a


class PackedSeries:
    """One query's packed series, checked for shape, turned into `Series` on demand."""

    __slots__ = ("sets", "count", "shapes", "ids", "values", "counts", "times", "strings")

    def __init__(self, doc: Any, kind: str, strings: list[str]) -> None:
        """Check everything that can be checked without the string table (which may come later)."""
        if not isinstance(doc, dict):
            raise PackedError("packed", "missing or not an object")
        sets = doc.get("labels")
        if not isinstance(sets, list) or not all(
            isinstance(names, list) and all(type(n) is str for n in names) for names in sets
        ):
            raise PackedError("packed.labels", "missing or not a list of label name lists")
        if any(len(set(names)) != len(names) for names in sets):
            raise PackedError("packed.labels", "a label name repeats within a set")
        count = doc.get("count")
        if type(count) is not int or count < 0:
            raise PackedError("packed.count", "missing or not a non-negative integer")
        self.sets = [tuple(names) for names in sets]
        self.count = count
        if len(sets) > 1 or "sets" in doc:
            shapes = _decode(doc, "sets", "I", count)
            if shapes and max(shapes) >= len(sets):
                raise PackedError("packed.sets", "names a label set that is not in packed.labels")
            widths = [len(names) for names in sets]
            n_ids = sum(widths[k] for k in shapes)
            self.shapes: array | None = shapes
        elif sets:
            self.shapes = None
            n_ids = count * len(sets[0])
        else:
            if count:
                raise PackedError("packed.labels", "no label set for the series")
            self.shapes, n_ids = None, 0
        self.ids = _text(doc, "ids", "I", n_ids)
        if kind == "range":
            self.counts: array | None = _decode(doc, "counts", "I", count)
            total = sum(self.counts)
            self.times: str | None = _text(doc, "times", "d", total)
            self.values = _text(doc, "values", "d", total)
        else:
            self.counts = self.times = None
            self.values = _text(doc, "values", "d", count)
        self.strings = strings

    def unpack(self) -> list[Series]:
        """The query's series, label values shared with the string table (no copies)."""
        ids = _array(self.ids, "ids", "I")
        values = _array(self.values, "values", "d")
        try:
            it = iter(list(map(self.strings.__getitem__, ids)))
        except IndexError:
            raise PackedError("packed.ids", "a label value id is not in the string table") from None
        if self.shapes is not None:
            sets = self.sets
            widths = [len(names) for names in sets]
            rows = [dict(zip(sets[k], islice(it, widths[k]))) for k in self.shapes]  # noqa: B905
        elif self.sets and self.sets[0]:
            names = self.sets[0]
            rows = [dict(zip(names, r)) for r in zip(*([it] * len(names)))]  # noqa: B905 (lengths checked)
        else:
            rows = [{} for _ in range(self.count)]
        if self.counts is None:
            return [Series(labels, value) for labels, value in zip(rows, values)]  # noqa: B905
        pts = zip(_array(self.times, "times", "d"), values)  # type: ignore[arg-type]  # noqa: B905
        return [Series(labels, None, list(islice(pts, n))) for labels, n in zip(rows, self.counts)]  # noqa: B905

    def table(self, names: tuple[str, ...]) -> SeriesTable:
        """The series as numpy columns (`table.SeriesTable`), straight from the packed arrays."""
        import numpy as np  # here, not at the top: commands that build no graph never load numpy

        from meshreport.snapshot.table import MISSING, SeriesTable

        flat = np.frombuffer(_bytes(self.ids, "ids"), dtype="<u4")
        if len(flat) and int(flat.max()) >= len(self.strings):
            raise PackedError("packed.ids", "a label value id is not in the string table")
        count, sets = self.count, self.sets
        out = np.full((count, len(names)), MISSING, dtype=np.uint32)
        if self.shapes is None:
            if sets and sets[0]:
                rows = flat.reshape(count, len(sets[0]))
                for j, n in enumerate(names):
                    if n in sets[0]:
                        out[:, j] = rows[:, sets[0].index(n)]
        else:
            shape = np.asarray(self.shapes, dtype=np.intp)
            widths = np.array([len(s) for s in sets], dtype=np.intp)[shape]
            starts = np.cumsum(widths) - widths
            for j, n in enumerate(names):
                where = np.array([s.index(n) if n in s else -1 for s in sets], dtype=np.intp)[shape]
                has = where >= 0
                out[has, j] = flat[starts[has] + where[has]]
        if self.counts is None:
            values = np.frombuffer(_bytes(self.values, "values"), dtype="<f8").astype(np.float64)
        else:
            values = np.full(count, np.nan)  # a range query has no single value
        return SeriesTable(names, values, out, self.strings)
