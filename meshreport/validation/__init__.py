"""Mesh config validation: the union of Kiali's KIA checks and `istioctl analyze`'s IST checks.

`validate(objects, mesh_config=None, *, cluster=None) -> list[Finding]`; suppression is applied
afterwards by `suppress.apply`. `check()` does both. Pure: no I/O beyond what the caller passes in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from meshreport.mesh_index import MeshIndex
from meshreport.snapshot.model import ConfigObject
from meshreport.validation.meshconfig import MeshConfig
from meshreport.validation.model import Finding, Hit, ValidationResult
from meshreport.validation.runner import validate
from meshreport.validation.shape import ShapeIssue

__all__ = ["Finding", "Hit", "ValidationResult", "check", "validate"]


def check(
    objects: Iterable[ConfigObject],
    mesh_config: MeshConfig | None = None,
    suppressions: Iterable = (),
    *,
    annotations: bool = True,
    today: dt.date | None = None,
    enable: Iterable[str] = (),
    now: float | None = None,
    extra: Iterable[Finding] = (),
    index: MeshIndex | None = None,
    guarded: Sequence[tuple[ConfigObject, list[ShapeIssue]]] | None = None,
) -> ValidationResult:
    """Validate and apply suppressions (annotations, then `suppressions` from config/CLI): what outputs read.

    `enable` turns on opt-in rules by code (e.g. IST0136, which istioctl does not run by default).
    `now` (unix seconds; default the current time) is what certificate expiry is judged against:
    a snapshot's window end keeps reports reproducible. `extra`: findings made elsewhere (the traffic
    findings of validation/traffic.py), suppressed and sorted with the rest. `index`: the shared
    MeshIndex of `objects`; `guarded`: their `shape.guard_each`, when the caller made it."""
    from meshreport.validation.suppress import apply

    objs = list(objects)
    found = validate(objs, mesh_config, enable=enable, now=now, index=index, guarded=guarded)
    found = sorted([*found, *extra], key=Finding.sort_key)
    # suppression annotations go through ConfigObject's typed accessors, whatever the object holds
    return apply(found, objs, suppressions, annotations=annotations, today=today)
