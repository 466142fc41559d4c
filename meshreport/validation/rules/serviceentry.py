"""ServiceEntry rules: addresses for TCP ports, host/port collisions, exportTo, status conditions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator

from meshreport.hosts import export_scope
from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import Context
from meshreport.validation.model import Hit
from meshreport.validation.registry import rule
from meshreport.validation.rules._common import as_list, dicts, export_to_hits, imported

SE = ("ServiceEntry",)


def _auto_allocate(ctx: Context) -> bool:
    md = {k: v.lower() for k, v in ctx.mesh.proxy_metadata.items()}
    return md.get("ISTIO_META_DNS_CAPTURE") == "true" and (
        md.get("ISTIO_META_DNS_AUTO_ALLOCATE") == "true" or md.get("PILOT_ENABLE_IP_AUTOALLOCATE") == "true"
    )


@rule(
    code="IST0134",
    kinds=SE,
    severity="warning",
    title="ServiceEntry addresses required",
    doc="A ServiceEntry port with protocol TCP (or no protocol) has no `addresses` and none allocated in its "
    "status, and the mesh config does not turn on DNS capture with address auto-allocation. Without a VIP, "
    "sidecars cannot tell its TCP traffic from other traffic on the same port and it goes to the wrong place. "
    "Add `addresses`, or enable ISTIO_META_DNS_CAPTURE and ISTIO_META_DNS_AUTO_ALLOCATE.",
)
def se_addresses_required(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    status = obj.body.get("status") or {}
    if as_list(obj.spec.get("addresses")) or as_list(status.get("addresses")) or _auto_allocate(ctx):
        return
    for i, p in enumerate(dicts(obj.spec.get("ports"))):
        if str(p.get("protocol") or "").upper() in ("", "TCP"):
            yield Hit(
                f"ServiceEntry addresses are required for this protocol (port {p.get('number')}).",
                path=f"spec.ports[{i}].protocol",
            )


def _scope(se: ConfigObject, ctx: Context) -> set[str]:
    exp = export_scope(as_list(se.spec.get("exportTo")), ctx.mesh.default_service_export_to)
    return {(se.namespace or "") if e == "." else str(e) for e in exp}


def _meet(a: set[str], b: set[str]) -> bool:
    if "~" in a or "~" in b:
        return False
    return "*" in a or "*" in b or bool(a & b)


def _host_ports(ctx: Context) -> dict[tuple[str, int], list[tuple[ConfigObject, str]]]:
    out: dict[tuple[str, int], list[tuple[ConfigObject, str]]] = defaultdict(list)
    for se in ctx.index.of_kind("ServiceEntry"):
        for h in {ctx.fqdn(str(h), se.namespace) for h in as_list(se.spec.get("hosts"))}:
            for p in dicts(se.spec.get("ports")):
                if isinstance(p.get("number"), int):
                    out[(h, p["number"])].append((se, str(p.get("protocol") or "").upper()))
    return out


def _collisions(
    obj: ConfigObject, ctx: Context, same_protocol: bool, peer: Callable[..., bool] | None = None
) -> Iterator[tuple[str, int, list[str], str]]:
    """Other SEs with the same host and port; `peer(ctx, se, obj.namespace)` filters them (Sidecar import scope)."""
    table = ctx.memo("serviceentry.host_ports", _host_ports)
    mine = _scope(obj, ctx)
    for h in sorted({ctx.fqdn(str(h), obj.namespace) for h in as_list(obj.spec.get("hosts"))}):
        for p in dicts(obj.spec.get("ports")):
            num = p.get("number")
            if not isinstance(num, int):
                continue
            proto = str(p.get("protocol") or "").upper()
            others = [
                (se, pr)
                for se, pr in table.get((h, num), ())
                if se is not obj
                and (pr == proto) == same_protocol
                and _meet(mine, _scope(se, ctx))
                and (peer is None or peer(ctx, se, obj.namespace))
            ]
            if others:
                yield (
                    h,
                    num,
                    sorted({f"{se.namespace}/{se.name}" for se, _ in others}),
                    ",".join(sorted({proto or "(none)", *(pr or "(none)" for _, pr in others)})),
                )


@rule(
    code="IST0177",
    kinds=SE,
    severity="warning",
    equivalents=("KIA1212",),
    title="Conflicting ServiceEntry protocols",
    doc="ServiceEntries that can see each other (exportTo) define the same host and port number with different "
    "protocols. Sidecars pick one protocol arbitrarily, so the other's traffic is handled wrongly. Use one "
    "ServiceEntry per host and port, or agree on the protocol.",
)
def se_conflicting_protocol(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for host, port, others, protos in _collisions(obj, ctx, same_protocol=False):
        yield Hit(
            f"ServiceEntries {', '.join(others)} also define host {host} port {port}, with conflicting "
            f"protocols {protos}.",
            path="spec.ports",
        )


@rule(
    code="KIA1211",
    kinds=SE,
    severity="warning",
    title="Duplicate ServiceEntry host and port",
    doc="Another ServiceEntry visible in the same scope declares the same host and port number with the same "
    "protocol. One of them is redundant and changes to it may silently have no effect. Keep one.",
)
def se_duplicate_host_port(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if not imported(ctx, obj):
        return
    for host, port, others, _ in _collisions(obj, ctx, same_protocol=True, peer=imported):
        yield Hit(f"More than one ServiceEntry defines host {host} port {port}: also {', '.join(others)}")


@rule(
    code="KIA0005",
    kinds=SE,
    severity="error",
    title="exportTo namespace not found",
    doc="An `exportTo` entry names a namespace that does not exist (entries `.`, `*` and `~` are always valid). "
    "The ServiceEntry is not visible where it was meant to be. Fix the namespace name.",
)
def se_export_to_namespace(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    yield from export_to_hits(obj, ctx)
