"""fielddiff: field-level changes of config bodies, bounded."""

from __future__ import annotations

from meshreport.fielddiff import MAX_VALUE, field_changes


def test_leaves_by_key_and_index():
    old = {"spec": {"hosts": ["a"], "http": [{"route": [{"destination": {"host": "r", "subset": "v1"}}]}]}}
    new = {"spec": {"hosts": ["a", "b"], "http": [{"route": [{"destination": {"host": "r", "subset": "v3"}}]}]}}
    changes, total = field_changes(old, new)
    assert total == 2
    assert [(c.path, c.old, c.new, c.change) for c in changes] == [
        ("spec.hosts[1]", "", '"b"', "added"),
        ("spec.http[0].route[0].destination.subset", '"v1"', '"v3"', "changed"),
    ]


def test_odd_keys_are_quoted_and_types_matter():
    changes, _ = field_changes({"a.b": 1, "x": 1}, {"a.b": 2, "x": 1.5})
    assert [c.path for c in changes] == ['"a.b"', "x"]
    changes, total = field_changes({"n": 1}, {"n": True})
    assert total == 1 and changes[0].new == "true"


def test_bounded_count_and_value_size():
    old = {f"k{i}": i for i in range(100)}
    new = {f"k{i}": i + 1 for i in range(100)}
    changes, total = field_changes(old, new, limit=5)
    assert total == 100 and len(changes) == 5
    changes, _ = field_changes({}, {"big": "x" * 10_000})
    assert len(changes[0].new) == MAX_VALUE and changes[0].new.endswith("…")


def test_deep_nesting_does_not_recurse():
    a: dict = {}
    b: dict = {}
    ca, cb = a, b
    for _ in range(5000):
        ca["d"] = {}
        cb["d"] = {}
        ca, cb = ca["d"], cb["d"]
    cb["leaf"] = 1
    changes, total = field_changes(a, b)
    assert total == 1 and changes[0].path.endswith(".d.leaf")
