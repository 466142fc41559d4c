"""A query's series as numpy columns: label value ids and values, one row per series.

The graph reads a dozen labels of some 300,000 series for a 10,000-workload mesh. Read as
arrays, a series' flow is found by a dict lookup of its ids' bytes and only new flows become
strings (`graph.vectorised.flows`); the few labels that vary per series (code, policy,
protocol) are grouped with `group` or numbered (`graph.vectorised.Codes`) and turned into strings once per value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from meshreport.snapshot.packed import StringTable

#: The id of a label a series does not carry.
MISSING = 0xFFFFFFFF


@dataclass(slots=True)
class SeriesTable:
    """`values[i]` (NaN when a series has none) and `ids[i, j]`, the id in `strings` of label
    `names[j]` of series i (MISSING when it lacks the label).

    A range query's points, for readers that aggregate them without building a tuple per point
    (the report's trend lines): `counts[i]` points per series, their `times` and `points` (values)
    one after the other in series order. None for an instant query.
    """

    names: tuple[str, ...]
    values: np.ndarray
    ids: np.ndarray
    strings: Sequence[str]
    counts: np.ndarray | None = None
    times: np.ndarray | None = None
    points: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.values)

    def text(self, ids: list[int]) -> tuple[str | None, ...]:
        """The label values of some ids (None for MISSING)."""
        s = self.strings
        if MISSING in ids:
            return tuple(None if i == MISSING else s[i] for i in ids)
        return tuple(map(s.__getitem__, ids))

    def column_text(self, j: int, rows: np.ndarray | None = None) -> list[str | None]:
        """Label `names[j]` of every series (or of `rows`), as strings."""
        col = self.ids[:, j] if rows is None else self.ids[rows, j]
        s = self.strings
        if not len(col) or col.max() != MISSING:
            return [s[i] for i in col.tolist()]
        return [None if i == MISSING else s[i] for i in col.tolist()]


def group(cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a 2-D id array, numbered in order of first appearance.

    Returns (group number of every row, index of each group's first row). One sort of the rows
    viewed as opaque byte strings: numpy compares them with memcmp, no Python per row.
    """
    n = len(cols)
    if n == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    c = np.ascontiguousarray(cols)
    if c.shape[1] == 0:
        return np.zeros(n, dtype=np.intp), np.zeros(1, dtype=np.intp)
    flat = c.view(np.dtype((np.void, c.dtype.itemsize * c.shape[1]))).ravel()
    _, first, inverse = np.unique(flat, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty(len(order), dtype=np.intp)
    rank[order] = np.arange(len(order), dtype=np.intp)
    return rank[inverse.ravel()], first[order]


def from_series(series: Sequence, names: tuple[str, ...]) -> SeriesTable:
    """A table for series held in memory (a live collection, tests): ids into a local table."""
    strings = StringTable()
    flat = [MISSING if (v := s.labels.get(n)) is None else strings.id(v) for s in series for n in names]
    ids = np.array(flat, dtype=np.uint32).reshape(len(series), len(names))
    values = np.array([np.nan if s.value is None else float(s.value) for s in series], dtype=np.float64)
    table = SeriesTable(names, values, ids, strings.values)
    if any(s.points is not None for s in series):
        table.counts = np.array([len(s.points or ()) for s in series], dtype=np.intp)
        pts = [p for s in series for p in s.points or ()]
        table.times = np.array([float(t) for t, _ in pts], dtype=np.float64)
        table.points = np.array([float(v) for _, v in pts], dtype=np.float64)
    return table
