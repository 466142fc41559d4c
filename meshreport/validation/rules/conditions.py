"""Status conditions (istioctl's conditions.ConditionAnalyzer, Kiali's GWAPI): negative conditions that the
controllers wrote into `status`, reported where the user can see them without kubectl."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import Context
from meshreport.validation.model import Hit
from meshreport.validation.registry import rule
from meshreport.validation.rules._common import dicts

BENIGN_REASONS = ("Pending", "NotReconciled")


def _status(obj: ConfigObject) -> dict[str, Any]:
    s = obj.body.get("status")
    return s if isinstance(s, dict) else {}


def _negative(conds: list[dict[str, Any]], types: tuple[str, ...], path: str) -> Iterator[Hit]:
    for i, c in enumerate(conds):
        if str(c.get("type")) in types and str(c.get("status")) == "False":
            if str(c.get("reason") or "") in BENIGN_REASONS:
                continue
            yield Hit(
                f"Condition {c.get('type')}=False ({c.get('reason') or 'no reason'}): {c.get('message') or ''}".rstrip(
                    ": "
                ),
                path=f"{path}[{i}]",
            )


@rule(
    code="IST0171",
    kinds=("Service", "ServiceEntry", "WorkloadEntry"),
    severity="warning",
    title="Waypoint binding failed",
    doc="The status condition istio.io/WaypointBound is False: the object asks for a waypoint "
    "(istio.io/use-waypoint) that istiod could not bind, so its traffic skips L7 processing. Read the "
    "condition's reason and fix the waypoint reference.",
)
def waypoint_bound_condition(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    yield from _negative(dicts(_status(obj).get("conditions")), ("istio.io/WaypointBound",), "status.conditions")


@rule(
    code="IST0171",
    kinds=("AuthorizationPolicy",),
    severity="warning",
    title="AuthorizationPolicy not accepted",
    doc="ztunnel or the waypoint did not accept the AuthorizationPolicy (ZtunnelAccepted or WaypointAccepted "
    "False, or WaypointAccepted with reason PartiallyInvalid): part or all of it is not enforced. Read the "
    "condition's message and fix the rules it names.",
)
def authorization_policy_condition(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    conds = dicts(_status(obj).get("conditions"))
    yield from _negative(conds, ("ZtunnelAccepted", "WaypointAccepted"), "status.conditions")
    for i, c in enumerate(conds):
        if c.get("type") == "WaypointAccepted" and c.get("status") == "True" and c.get("reason") == "PartiallyInvalid":
            yield Hit(
                f"Condition WaypointAccepted is PartiallyInvalid: {c.get('message') or ''}", f"status.conditions[{i}]"
            )


@rule(
    code="IST0171",
    kinds=("K8sGateway",),
    severity="warning",
    equivalents=("GWAPI",),
    title="Gateway API Gateway has a failing condition",
    doc="The Gateway's status says Accepted, Programmed or ResolvedRefs is False (or a listener is Conflicted, "
    "Detached or has unresolved refs): the gateway, or some of its listeners, serves no traffic. Benign "
    "`Pending` reasons are ignored, as Kiali does.",
)
def k8s_gateway_condition(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    st = _status(obj)
    yield from _negative(dicts(st.get("conditions")), ("Accepted", "Programmed", "ResolvedRefs"), "status.conditions")
    for i, ls in enumerate(dicts(st.get("listeners"))):
        path = f"status.listeners[{i}].conditions"
        conds = dicts(ls.get("conditions"))
        yield from _negative(conds, ("Accepted", "Programmed", "ResolvedRefs"), path)
        for j, c in enumerate(conds):
            if c.get("type") in ("Conflicted", "Detached") and c.get("status") == "True":
                yield Hit(f"Listener {ls.get('name')!r}: {c.get('type')} ({c.get('reason') or ''})", f"{path}[{j}]")


@rule(
    code="IST0171",
    kinds=("HTTPRoute", "GRPCRoute"),
    severity="warning",
    title="Route not accepted by its parent",
    doc="A parent (Gateway or Service) reports Accepted or ResolvedRefs False for this route, so it is not "
    "attached or some backends are not resolved. Read the parent status message.",
)
def route_condition(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for i, p in enumerate(dicts(_status(obj).get("parents"))):
        yield from _negative(
            dicts(p.get("conditions")), ("Accepted", "ResolvedRefs"), f"status.parents[{i}].conditions"
        )
