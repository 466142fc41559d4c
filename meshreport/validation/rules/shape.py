"""MR0002: a field of the wrong type, found by the shape guard (`validation/shape.py`) before any
rule runs. The runner reports the guard's issues under this code (IST0106 on Istio kinds); the
rule itself checks nothing, it names and documents the code."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from meshreport.validation.model import Hit
from meshreport.validation.registry import rule
from meshreport.validation.shape import WRONG_TYPE_CODE

if TYPE_CHECKING:
    from meshreport.snapshot.model import ConfigObject
    from meshreport.validation.index import Context


@rule(
    code=WRONG_TYPE_CODE,
    kinds=("*",),
    severity="error",
    title="Field has the wrong type",
    doc="A field of a Kubernetes object (any kind's `metadata` and `spec`; the Service, Pod, controller, "
    "ConfigMap, Secret, webhook and Gateway API fields meshreport reads) holds a value of the wrong type: "
    "`annotations: 7`, a list where a mapping belongs, a number where text belongs, an integer beyond 64 bits. "
    "The API server "
    "refuses such an object. The value is left out of every other check of the object, which still runs; "
    "the rest of the input is checked as usual. Istio kinds report the same against their CRD schema as "
    "IST0106.",
)
def wrong_type(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    return iter(())
