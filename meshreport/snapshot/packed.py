"""Column-wise packing of a query's series in the snapshot file (schema versions 2 and 3).

A 10,000-workload mesh answers about 600,000 series whose fifteen label names repeat in every
one: written as plain JSON objects that was 450 MB of text, and parsing it cost three times
what building the graph costs. Packed, a query stores its label names once, each label value
as an id into one string table shared by the whole file, and its numbers as little-endian
binary arrays in base64 (JSON parses one long string far faster than millions of small
tokens). A query's series become `Series` objects only when something reads them, so a run
that never looks at, say, the trend lines never pays for them.

Since schema 3 each array is deflated before base64 (`"codec": "zlib"`): the arrays are
two thirds of a big file's text, so a reader had to gunzip, decode and scan them all, the
arrays of queries it never reads included. Deflated, they are a sixth of that size and only
the arrays a run reads are ever inflated.

The layout is documented in docs/snapshot-format.md; `store.py` reads both this and the
expanded form.
"""

from __future__ import annotations

import base64
import binascii
import sys
import zlib
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


#: The one array codec: zlib-wrapped deflate (RFC 1950), level 6.
ZLIB = "zlib"
CODECS = (ZLIB,)


def _b64(a: array, codec: str | None = None) -> str:
    if _BIG_ENDIAN:
        a = array(a.typecode, a)
        a.byteswap()
    data = a.tobytes()
    if codec == ZLIB:
        data = zlib.compress(data, 6)
    return base64.b64encode(data).decode("ascii")


def pack(series: Sequence[Series], kind: str, table: StringTable, codec: str | None = ZLIB) -> dict[str, Any]:
    """The `packed` object of one query (its label values are added to `table`).

    Series of one query rarely share one label set (Prometheus drops empty labels, so HTTP and
    gRPC series differ), so each distinct set of label names is stored once and each series
    names its set; with a single set the per-series set numbers are left out. `codec=None`
    writes the arrays uncompressed (schema 2's form, still read).
    """
    if codec is not None and codec not in CODECS:
        raise ValueError(f"unknown codec {codec!r}")
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
    if codec is not None:
        out["codec"] = codec
    if len(sets) > 1:
        out["sets"] = _b64(shapes, codec)
    out["ids"] = _b64(ids, codec)
    if kind == "range":
        pts = [s.points or [] for s in series]
        out["counts"] = _b64(array("I", map(len, pts)), codec)
        out["times"] = _b64(array("d", (t for p in pts for t, _ in p)), codec)
        out["values"] = _b64(array("d", (v for p in pts for _, v in p)), codec)
    else:
        out["values"] = _b64(array("d", (float(s.value) for s in series)), codec)  # type: ignore[arg-type]
    return out


class _Encoded:
    """One array as stored (base64 text, deflated or not) and the byte size it must decode to.

    Uncompressed arrays have their length checked when the file is read; deflated ones only
    when decoded, which for most queries of a run is never.
    """

    __slots__ = ("text", "field", "size", "codec")

    def __init__(self, doc: dict, field: str, typecode: str, length: int, codec: str | None) -> None:
        raw = doc.get(field)
        if not isinstance(raw, str):
            raise PackedError(f"packed.{field}", "missing or not a base64 string")
        size = length * array(typecode).itemsize
        if codec is None and len(raw) != (size + 2) // 3 * 4:
            raise PackedError(f"packed.{field}", f"holds {len(raw)} base64 characters, expected {(size + 2) // 3 * 4}")
        self.text, self.field, self.size, self.codec = raw, field, size, codec

    def bytes(self) -> bytes:
        try:
            data = base64.b64decode(self.text, validate=True)
        except (binascii.Error, ValueError):
            raise PackedError(f"packed.{self.field}", "not valid base64") from None
        if self.codec is None:
            if len(data) != self.size:
                raise PackedError(f"packed.{self.field}", f"decodes to {len(data)} bytes, expected {self.size}")
            return data
        inflate = zlib.decompressobj()
        try:
            # Never more than one byte past the expected size: a crafted file cannot balloon.
            out = inflate.decompress(data, self.size + 1)
        except zlib.error:
            raise PackedError(f"packed.{self.field}", "not a valid zlib stream") from None
        if len(out) != self.size or not inflate.eof or inflate.unused_data:
            got = f"more than {self.size}" if len(out) > self.size else str(len(out))
            raise PackedError(f"packed.{self.field}", f"inflates to {got} bytes, expected {self.size}")
        return out

    def array(self, typecode: str) -> array:
        a = array(typecode)
        a.frombytes(self.bytes())
        if _BIG_ENDIAN:
            a.byteswap()
        return a


def _decode(doc: dict, field: str, typecode: str, length: int, codec: str | None) -> array:
    """A small array needed at once (set numbers, point counts): decoded and checked now."""
    return _Encoded(doc, field, typecode, length, codec).array(typecode)


class PackedSeries:
    """One query's packed series, checked for shape, turned into `Series` on demand."""

    __slots__ = ("sets", "count", "shapes", "ids", "values", "counts", "times", "strings")
    ids: _Encoded
    values: _Encoded
    times: _Encoded | None

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
        codec = doc.get("codec")
        if codec is not None and codec not in CODECS:
            raise PackedError("packed.codec", f"unknown codec (this meshreport reads {', '.join(CODECS)})")
        self.sets = [tuple(names) for names in sets]
        self.count = count
        if len(sets) > 1 or "sets" in doc:
            shapes = _decode(doc, "sets", "I", count, codec)
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
        self.ids = _Encoded(doc, "ids", "I", n_ids, codec)
        if kind == "range":
            self.counts: array | None = _decode(doc, "counts", "I", count, codec)
            total = sum(self.counts)
            self.times = _Encoded(doc, "times", "d", total, codec)
            self.values = _Encoded(doc, "values", "d", total, codec)
        else:
            self.counts = self.times = None
            self.values = _Encoded(doc, "values", "d", count, codec)
        self.strings = strings

    def unpack(self) -> list[Series]:
        """The query's series, label values shared with the string table (no copies)."""
        ids = self.ids.array("I")
        values = self.values.array("d")
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
        pts = zip(self.times.array("d"), values)  # type: ignore[arg-type]  # noqa: B905
        return [Series(labels, None, list(islice(pts, n))) for labels, n in zip(rows, self.counts)]  # noqa: B905

    def table(self, names: tuple[str, ...]) -> SeriesTable:
        """The series as numpy columns (`table.SeriesTable`), straight from the packed arrays."""
        import numpy as np  # here, not at the top: commands that build no graph never load numpy

        from meshreport.snapshot.table import MISSING, SeriesTable

        flat = np.frombuffer(self.ids.bytes(), dtype="<u4")
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
            values = np.frombuffer(self.values.bytes(), dtype="<f8").astype(np.float64)
            return SeriesTable(names, values, out, self.strings)
        table = SeriesTable(names, np.full(count, np.nan), out, self.strings)  # a range query has no single value
        table.counts = np.asarray(self.counts, dtype=np.intp)
        table.times = np.frombuffer(self.times.bytes(), dtype="<f8").astype(np.float64)  # type: ignore[union-attr]
        table.points = np.frombuffer(self.values.bytes(), dtype="<f8").astype(np.float64)
        return table
