"""Field-level differences between two config bodies: `spec.http[0].route[0].destination.subset`.

Bounded: at most `limit` changes per object, values shown as short JSON, so a hostile or huge
object cannot blow up a diff.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_VALUE = 80
MAX_CHANGES = 20
_MISSING = object()


@dataclass(frozen=True)
class FieldChange:
    """One path whose value changed; `old`/`new` are short JSON texts, "" when absent."""

    path: str
    old: str
    new: str

    @property
    def change(self) -> str:
        if not self.old:
            return "added"
        if not self.new:
            return "removed"
        return "changed"


def short(value: Any) -> str:
    """Compact JSON, cut at MAX_VALUE characters."""
    if value is _MISSING:
        return ""
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def _key_path(path: str, key: str) -> str:
    plain = key.replace("_", "").replace("-", "").isalnum() and "." not in key
    seg = key if plain else json.dumps(key)
    return f"{path}.{seg}" if path else seg


def field_changes(old: Any, new: Any, limit: int = MAX_CHANGES) -> tuple[list[FieldChange], int]:
    """The changed leaves (dicts by key, lists by index), first `limit` of them, and how many in all."""
    out: list[FieldChange] = []
    total = 0
    # An explicit stack (no recursion): depth is whatever the object's author chose.
    stack: list[tuple[str, Any, Any]] = [("", old, new)]
    while stack:
        path, a, b = stack.pop()
        if isinstance(a, dict) and isinstance(b, dict):
            keys = sorted(set(a) | set(b), key=str, reverse=True)
            for k in keys:
                stack.append((_key_path(path, str(k)), a.get(k, _MISSING), b.get(k, _MISSING)))
            continue
        if isinstance(a, list) and isinstance(b, list):
            for i in reversed(range(max(len(a), len(b)))):
                stack.append((f"{path}[{i}]", a[i] if i < len(a) else _MISSING, b[i] if i < len(b) else _MISSING))
            continue
        if a is _MISSING and b is _MISSING or a == b and type(a) is type(b):
            continue
        total += 1
        if len(out) < limit:
            out.append(FieldChange(path or "(whole object)", short(a), short(b)))
    return out, total
