"""VirtualService rules: destinations, subsets, gateways, host conflicts, route shape."""

from __future__ import annotations

from collections.abc import Iterator

from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import Context
from meshreport.validation.model import Hit
from meshreport.validation.registry import rule
from meshreport.validation.rules._common import vs_destinations

VS = ("VirtualService",)


@rule(
    code="IST0101",
    kinds=VS,
    severity="error",
    equivalents=("KIA1101",),
    title="Referenced host not found",
    doc="A route or mirror destination host matches no Kubernetes Service or ServiceEntry visible from the "
    "VirtualService's namespace (exportTo respected, short names resolved in the VirtualService's namespace). "
    "Traffic for that route fails with 503 (or leaves the mesh under ALLOW_ANY). Fix the host name, create "
    "the Service or a ServiceEntry, or export it to this namespace.",
)
def vs_destination_host_not_found(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for d in vs_destinations(obj):
        if not d.host:
            continue
        if not ctx.index.resolve_host(ctx.fqdn(d.host, obj.namespace), obj.namespace):
            yield Hit(f'Referenced host not found: "{d.host}"', path=f"{d.path}.host")
