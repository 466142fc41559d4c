"""Flow numbering: a series' ends are resolved once per flow, from its label value ids."""

from __future__ import annotations

import numpy as np
from graph_helpers import labels

from meshreport.graph.telemetry import RESOLVE_LABELS, Resolver, resolve_key
from meshreport.graph.vectorised import Codes, flows
from meshreport.snapshot.model import Series
from meshreport.snapshot.table import SeriesTable, from_series

A = ("bookinfo", "productpage-v1", "productpage", "v1")
B = ("bookinfo", "reviews-v2", "reviews", "v2")
C = ("bookinfo", "ratings-v1", "ratings", "v1")
NAMES = (*RESOLVE_LABELS, "response_code")


def table_of(*series_labels: dict[str, str]) -> SeriesTable:
    return from_series([Series(lb, 1.0) for lb in series_labels], NAMES)


def key(series_labels: dict[str, str]) -> tuple[str | None, ...]:
    return tuple(map(series_labels.get, RESOLVE_LABELS))


def test_rows_of_one_flow_share_a_number_and_ends_match_resolve():
    ab, ab_500, bc = labels(A, B), labels(A, B, code="500"), labels(B, C)
    table = table_of(ab, bc, ab_500)
    resolver = Resolver("versionedApp", True)
    numbers, index = flows(resolver, table, np.arange(3))
    assert numbers.tolist() == [0, 1, 0]  # the response code is not part of a flow
    assert index.ends == [resolve_key(key(ab), "versionedApp", True), resolve_key(key(bc), "versionedApp", True)]
    assert index.ends[0] is resolver.by_key(key(ab))  # one object per distinct ends, shared with the string path


def test_tables_sharing_a_string_table_share_flow_numbers():
    first = table_of(labels(A, B), labels(B, C))
    second = SeriesTable(first.names, first.values[::-1].copy(), first.ids[::-1].copy(), first.strings)
    resolver = Resolver("workload", False)
    n1, flows1 = flows(resolver, first, np.arange(2))
    n2, flows2 = flows(resolver, second, np.arange(2))
    assert flows1 is flows2 and n2.tolist() == n1.tolist()[::-1]
    other = table_of(labels(B, C))  # its own string table: its ids mean other strings
    n3, flows3 = flows(resolver, other, np.arange(1))
    assert flows3 is not flows1 and flows3.ends[n3[0]] is flows1.ends[n1[1]]


def test_unresolvable_flows_have_no_ends():
    bad = labels(A, B)
    del bad["destination_workload"]  # a required label is missing
    numbers, index = flows(Resolver("app", False), table_of(bad), np.arange(1))
    assert index.ends[numbers[0]] is None


def test_codes_number_values_and_treat_a_missing_label_as_empty():
    table = from_series([Series({"p": "http"}), Series({}), Series({"p": "grpc"}), Series({"p": ""})], ("p",))
    codes = Codes()
    got = codes.of(table, 0, np.arange(4))
    assert [codes.values[c] for c in got.tolist()] == ["http", "", "grpc", ""]
    assert codes.of(table, 0, np.array([2])).tolist() == [codes.id("grpc")]


def _random_tables(seed: int, count: int) -> list[SeriesTable]:
    """Tables over one string table whose rows reuse a few flows in random orders."""
    rng = np.random.default_rng(seed)
    workloads = [("ns", f"w{i}", f"app{i % 3}", f"v{i % 2}") for i in range(6)]
    pairs = [labels(workloads[a], workloads[b]) for a in range(6) for b in range(6) if a != b]
    base = table_of(*pairs)
    tables = []
    for _ in range(count):
        rows = rng.integers(0, len(pairs), size=rng.integers(1, 40))
        tables.append(SeriesTable(base.names, base.values[rows], base.ids[rows], base.strings))
    return tables


def _numbering_by_first_appearance(tables: list[SeriesTable]) -> list[list[int]]:
    seen: dict[bytes, int] = {}
    return [[seen.setdefault(row.tobytes(), len(seen)) for row in t.ids[:, : len(RESOLVE_LABELS)]] for t in tables]


def test_flow_numbers_follow_first_appearance_across_many_tables():
    tables = _random_tables(seed=3, count=30)
    resolver = Resolver("versionedApp", True)
    got = [flows(resolver, t, np.arange(len(t)))[0].tolist() for t in tables]
    assert got == _numbering_by_first_appearance(tables)
