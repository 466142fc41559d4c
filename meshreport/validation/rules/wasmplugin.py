"""WasmPlugin rules: in Ambient, a plugin runs only in a waypoint, attached with targetRefs."""

from __future__ import annotations

from collections.abc import Iterator

from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import Context
from meshreport.validation.model import Hit
from meshreport.validation.registry import rule
from meshreport.validation.rules._policy import ambient_selector_hits, ambient_waypoint_hits

WASM = ("WasmPlugin",)


@rule(
    code="KIA1111",
    kinds=WASM,
    severity="warning",
    title="WasmPlugin in Ambient needs a waypoint",
    doc="A WasmPlugin extends an Envoy proxy; in an Ambient namespace the only Envoy is the waypoint, so a "
    "plugin whose target is not enrolled in a waypoint (`istio.io/use-waypoint`) never runs.",
)
def wasm_ambient_needs_waypoint(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    yield from ambient_waypoint_hits(obj, ctx, "WasmPlugin")


@rule(
    code="KIA1116",
    kinds=WASM,
    severity="warning",
    title="WasmPlugin in Ambient uses a selector",
    doc="In an Ambient namespace a WasmPlugin must attach to a waypoint with `targetRefs`; a workload `selector` "
    "reaches no proxy there.",
)
def wasm_ambient_selector(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    yield from ambient_selector_hits(obj, ctx, "WasmPlugin")
