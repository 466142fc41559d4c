"""Series tables: grouping rows by their ids, and tables of series held in memory."""

from __future__ import annotations

import math

import numpy as np

from meshreport.snapshot.model import Series
from meshreport.snapshot.table import MISSING, from_series, group


def test_group_numbers_distinct_rows_by_first_appearance():
    rows = np.array([[5, 1], [2, 2], [5, 1], [0, 9], [2, 2], [5, 2]], dtype=np.uint32)
    numbers, firsts = group(rows)
    assert numbers.tolist() == [0, 1, 0, 2, 1, 3]  # not the sorted order ([0, 9] would be first)
    assert firsts.tolist() == [0, 1, 3, 5]


def test_group_of_nothing_and_of_no_columns():
    numbers, firsts = group(np.zeros((0, 3), dtype=np.uint32))
    assert numbers.tolist() == [] and firsts.tolist() == []
    numbers, firsts = group(np.zeros((3, 0), dtype=np.uint32))
    assert numbers.tolist() == [0, 0, 0] and firsts.tolist() == [0]


def test_group_tells_apart_rows_that_differ_in_any_byte():
    rows = np.array([[1, 256], [256, 1], [1, 256], [0x01000000, 0]], dtype=np.uint32)
    numbers, _ = group(rows)
    assert numbers.tolist() == [0, 1, 0, 2]


def test_table_from_series_in_memory():
    series = [Series({"a": "x", "b": "<y>"}, 1.5), Series({"b": "<y>"}, None), Series({}, math.inf)]
    table = from_series(series, ("b", "a", "zzz"))
    assert len(table) == 3
    assert [table.text(r) for r in table.ids.tolist()] == [("<y>", "x", None), ("<y>", None, None), (None,) * 3]
    assert table.ids[1, 1] == MISSING
    assert table.values[0] == 1.5 and math.isnan(table.values[1]) and table.values[2] == math.inf
    assert table.column_text(0) == ["<y>", "<y>", None]
    assert table.column_text(1, np.array([0])) == ["x"]
