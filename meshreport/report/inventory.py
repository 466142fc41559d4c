"""The "Istio configuration" section: which Istio objects exist, per namespace.

A section builder (see model.section_builder): it reads only the snapshot's config objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from meshreport.report.model import ModelInput, Section, section_builder
from meshreport.snapshot.model import ConfigObject

ISTIO_GROUPS = ("networking.istio.io", "security.istio.io", "telemetry.istio.io", "extensions.istio.io")


@dataclass(frozen=True)
class InventoryMatrix:
    namespaces: list[str]
    rows: list[tuple[str, list[int]]]  # (kind, count per namespace)


@dataclass(frozen=True)
class ObjectRow:
    kind: str
    name: str
    details: str


def _details(o: ConfigObject) -> str:
    spec = o.spec
    parts: list[str] = []
    hosts = spec.get("hosts") or ([spec["host"]] if isinstance(spec.get("host"), str) else [])
    if hosts:
        parts.append("hosts " + ", ".join(str(h) for h in hosts))
    if isinstance(spec.get("subsets"), list):
        names = [str(s.get("name", "?")) for s in spec["subsets"] if isinstance(s, dict)]
        parts.append("subsets " + ", ".join(names))
    if isinstance(spec.get("gateways"), list):
        parts.append("gateways " + ", ".join(str(g) for g in spec["gateways"]))
    mtls = spec.get("mtls")
    if isinstance(mtls, dict) and mtls.get("mode"):
        parts.append(f"mTLS {mtls['mode']}")
    if o.kind == "ServiceEntry" and spec.get("location"):
        parts.append(str(spec["location"]))
    return "; ".join(parts)


def istio_objects(objects: list[ConfigObject], namespace: str | None = None) -> list[ConfigObject]:
    return sorted(
        (o for o in objects if o.group in ISTIO_GROUPS and (namespace is None or o.namespace == namespace)),
        key=lambda o: (o.kind, o.name),
    )


@section_builder
def config_inventory(inp: ModelInput) -> Iterator[Section]:
    objs = istio_objects(inp.snapshot.objects)
    if not objs:
        return
    namespaces = [ns.name for ns in inp.model.namespaces]
    kinds = sorted({o.kind for o in objs})
    rows = [(k, [sum(1 for o in objs if o.kind == k and o.namespace == ns) for ns in namespaces]) for k in kinds]
    yield Section("istio-config", "Istio configuration", "inventory.html", InventoryMatrix(namespaces, rows))
    for ns in namespaces:
        mine = [ObjectRow(o.kind, o.name, _details(o)) for o in istio_objects(objs, ns)]
        if mine:
            yield Section(
                "istio-config", "Istio configuration", "objects.html", mine, placement="namespace", namespace=ns
            )
