"""The "Istio configuration" section: which Istio objects exist, per namespace.

A section builder (see model.section_builder): it reads only the snapshot's config objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from meshreport.report.model import ModelInput, Section, section_builder
from meshreport.snapshot.model import ConfigObject

ISTIO_GROUPS = ("networking.istio.io", "security.istio.io", "telemetry.istio.io", "extensions.istio.io")


#: Namespaces named per kind in the inventory table; the rest are counted (the table keeps three
#: columns at any mesh size, so it fits a PDF page).
INVENTORY_NAMESPACES = 8


@dataclass(frozen=True)
class InventoryRow:
    kind: str
    count: int
    namespaces: str  # "bookinfo (3), shop (1) and 4 more namespaces"


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
    wanted = set(namespaces)
    objs = [o for o in objs if o.namespace in wanted or not o.namespace]
    if not objs:
        return
    yield Section("istio-config", "Istio configuration", "inventory.html", inventory_rows(objs))
    by_ns: dict[str, list[ObjectRow]] = {}
    for o in objs:
        by_ns.setdefault(o.namespace or "", []).append(ObjectRow(o.kind, o.name, _details(o)))
    for ns in namespaces:
        mine = by_ns.get(ns)
        if mine:
            yield Section(
                "istio-config", "Istio configuration", "objects.html", mine, placement="namespace", namespace=ns
            )


def inventory_rows(objs: list[ConfigObject]) -> list[InventoryRow]:
    """Per kind: how many objects, and in which namespaces (most objects first)."""
    counts: dict[str, dict[str, int]] = {}
    for o in objs:
        per_ns = counts.setdefault(o.kind, {})
        ns = o.namespace or "(cluster-scoped)"
        per_ns[ns] = per_ns.get(ns, 0) + 1
    rows = []
    for kind in sorted(counts):
        ranked = sorted(counts[kind].items(), key=lambda kv: (-kv[1], kv[0]))
        text = ", ".join(f"{ns} ({n})" for ns, n in ranked[:INVENTORY_NAMESPACES])
        if len(ranked) > INVENTORY_NAMESPACES:
            text += f" and {len(ranked) - INVENTORY_NAMESPACES} more namespaces"
        rows.append(InventoryRow(kind, sum(counts[kind].values()), text))
    return rows
