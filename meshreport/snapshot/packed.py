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
from typing import Any

from meshreport.snapshot.model import Series

ABSENT = 0xFFFFFFFF  # the label is not on this series (Prometheus drops empty labels)
_BIG_ENDIAN = sys.byteorder == "big"
_ABSENT_BYTES = b"\xff\xff\xff\xff"


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
    """The `packed` object of one query (its label values are added to `table`)."""
    names: dict[str, int] = {}
    last: tuple[str, ...] | None = None
    for s in series:
        keys = tuple(s.labels)
        if keys != last:
            for k in keys:
                names.setdefault(k, len(names))
            last = keys
    width = len(names)
    order = tuple(names)
    if all(tuple(s.labels) == order for s in series):
        ids = array("I", map(table.id, chain.from_iterable(s.labels.values() for s in series)))
    else:
        ids = array("I", [ABSENT]) * (width * len(series))
        for row, s in enumerate(series):
            base = row * width
            for k, v in s.labels.items():
                ids[base + names[k]] = table.id(v)
    out: dict[str, Any] = {"labels": list(order), "count": len(series), "ids": _b64(ids)}
    if kind == "range":
        pts = [s.points or [] for s in series]
        out["counts"] = _b64(array("I", map(len, pts)))
        out["times"] = _b64(array("d", (t for p in pts for t, _ in p)))
        out["values"] = _b64(array("d", (v for p in pts for _, v in p)))
    else:
        out["values"] = _b64(array("d", (float(s.value) for s in series)))  # type: ignore[arg-type]
    return out


def _decode(doc: dict, field: str, typecode: str, length: int) -> array:
    raw = doc.get(field)
    if not isinstance(raw, str):
        raise PackedError(f"packed.{field}", "missing or not a base64 string")
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise PackedError(f"packed.{field}", "not valid base64") from None
    a = array(typecode)
    if len(data) != length * a.itemsize:
        raise PackedError(f"packed.{field}", f"holds {len(data)} bytes, expected {length * a.itemsize}")
    a.frombytes(data)
    if _BIG_ENDIAN:
        a.byteswap()
    return a


class PackedSeries:
    """One query's packed series, checked for shape, turned into `Series` on demand."""

    __slots__ = ("names", "count", "ids", "values", "counts", "times", "strings", "any_absent")

    def __init__(self, doc: Any, kind: str, strings: list[str]) -> None:
        """Check everything that can be checked without the string table (which may come later)."""
        if not isinstance(doc, dict):
            raise PackedError("packed", "missing or not an object")
        names = doc.get("labels")
        if not isinstance(names, list) or not all(type(n) is str for n in names):
            raise PackedError("packed.labels", "missing or not a list of strings")
        if len(set(names)) != len(names):
            raise PackedError("packed.labels", "label names repeat")
        count = doc.get("count")
        if type(count) is not int or count < 0:
            raise PackedError("packed.count", "missing or not a non-negative integer")
        self.names = tuple(names)
        self.count = count
        ids = _decode(doc, "ids", "I", count * len(names))
        self.any_absent = _ABSENT_BYTES in ids.tobytes()
        self.ids = ids
        if kind == "range":
            self.counts = _decode(doc, "counts", "I", count)
            total = sum(self.counts)
            self.times = _decode(doc, "times", "d", total)
            self.values = _decode(doc, "values", "d", total)
        else:
            self.counts = self.times = None
            self.values = _decode(doc, "values", "d", count)
        self.strings = strings

    def unpack(self) -> list[Series]:
        """The query's series, label values shared with the string table (no copies)."""
        names, width, strings = self.names, len(self.names), self.strings
        if self.any_absent:
            table = {i: s for i, s in enumerate(strings)}
            table_get = table.get
            rows = []
            for base in range(0, self.count * width, width):
                row = {}
                for k, i in zip(names, self.ids[base : base + width], strict=True):
                    if i != ABSENT:
                        v = table_get(i)
                        if v is None:
                            raise PackedError("packed.ids", f"label value id {i} is not in the string table")
                        row[k] = v
                rows.append(row)
        else:
            try:
                flat = list(map(strings.__getitem__, self.ids))
            except IndexError:
                raise PackedError("packed.ids", "a label value id is not in the string table") from None
            if width:
                it = iter(flat)
                rows = [dict(zip(names, r, strict=True)) for r in zip(*([it] * width), strict=True)]
            else:
                rows = [{} for _ in range(self.count)]
        if self.counts is None:
            return [Series(labels, value) for labels, value in zip(rows, self.values, strict=True)]
        pts = zip(self.times, self.values, strict=True)
        return [Series(labels, None, list(islice(pts, n))) for labels, n in zip(rows, self.counts, strict=True)]
