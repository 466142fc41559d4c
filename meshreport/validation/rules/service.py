"""Kubernetes Service rules: protocol selection by port name/appProtocol, and targetPorts the pods expose."""

from __future__ import annotations

from collections.abc import Iterator

from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import Context
from meshreport.validation.model import Hit
from meshreport.validation.registry import rule
from meshreport.validation.rules._common import dicts

SVC = ("Service",)
# Protocols Istio selects from a port name prefix or appProtocol (Kiali's list plus Istio's aliases).
PROTOCOLS = ("grpc", "grpc-web", "http", "http2", "https", "mongo", "redis", "tcp", "tls", "udp", "mysql")
APP_PROTOCOLS = (*PROTOCOLS, "kubernetes.io/h2c", "kubernetes.io/ws", "kubernetes.io/wss")
GATEWAY_LABELS = ("gateway.networking.k8s.io/gateway-name", "gateway.istio.io/managed")


def port_protocol(name: str) -> str | None:
    """Istio's rule: the name is `<protocol>` or `<protocol>-<suffix>` (case-insensitive)."""
    n = name.lower()
    for p in sorted(PROTOCOLS, key=len, reverse=True):
        if n == p or n.startswith(p + "-"):
            return p
    return None


def _skipped(obj: ConfigObject, ctx: Context) -> bool:
    """Control-plane and gateway-managed Services are named by Istio itself."""
    return (
        obj.namespace == ctx.mesh.root_namespace
        or "istio" in obj.labels
        or any(k in obj.labels for k in GATEWAY_LABELS)
    )


def _explicit(port: dict) -> bool:
    app = str(port.get("appProtocol") or "").lower()
    return (
        app in APP_PROTOCOLS
        or str(port.get("protocol") or "TCP").upper() in ("UDP", "SCTP")
        or port_protocol(str(port.get("name") or "")) is not None
    )


@rule(
    code="IST0118",
    kinds=SVC,
    severity="info",
    equivalents=("KIA0601",),
    title="Port name is not under the naming convention",
    doc="The Service port's name (`<protocol>[-<suffix>]`), appProtocol and protocol give Istio no protocol, so "
    "it falls back to protocol sniffing, which adds latency and treats server-first protocols as TCP. Name the "
    "port `http-...`, `grpc-...`, `tcp-...` and so on, or set appProtocol. Kiali reports the same as KIA0601 "
    "(error, for in-mesh services).",
)
def service_port_naming(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if _skipped(obj, ctx) or obj.spec.get("type") == "ExternalName":
        return
    for i, p in enumerate(dicts(obj.spec.get("ports"))):
        if not _explicit(p):
            yield Hit(
                f"Port name {p.get('name') or '(unnamed)'} (port: {p.get('port')}, targetPort: "
                f"{p.get('targetPort', p.get('port'))}) doesn't follow the naming convention of Istio port.",
                path=f"spec.ports[{i}].name",
            )


@rule(
    code="IST0150",
    kinds=SVC,
    severity="warning",
    title="ExternalName Service has an invalid port name",
    doc="An ExternalName Service forwards as TCP only when its port name selects a protocol other than plain "
    "`tcp`; a port named `tcp` or not following the naming convention breaks the forwarding. Name the port "
    "after its real protocol (for example `https` or `tls`).",
)
def external_name_port_name(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if _skipped(obj, ctx) or obj.spec.get("type") != "ExternalName":
        return
    for i, p in enumerate(dicts(obj.spec.get("ports"))):
        name = str(p.get("name") or "")
        if not _explicit(p) or name.lower() == "tcp":
            yield Hit(
                f"Port name {name or '(unnamed)'} for ExternalName service is invalid; Proxy may prevent TCP "
                "forwarding",
                path=f"spec.ports[{i}].name",
            )


def _in_mesh(obj: ConfigObject, ctx: Context) -> bool:
    sel = obj.spec.get("selector")
    if not isinstance(sel, dict) or not sel:
        return False
    return any(w.in_mesh for w in ctx.index.workloads_matching({str(k): str(v) for k, v in sel.items()}, obj.namespace))


@rule(
    code="KIA0602",
    kinds=SVC,
    severity="error",
    title="Invalid appProtocol",
    doc="The port's appProtocol is not a protocol Istio knows (grpc, grpc-web, http, http2, https, mongo, "
    "redis, tcp, tls, udp, mysql, kubernetes.io/h2c, kubernetes.io/ws, kubernetes.io/wss), so Istio ignores it. "
    "Checked for Services that select in-mesh workloads, as Kiali does.",
)
def service_app_protocol(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    ports = [(i, p) for i, p in enumerate(dicts(obj.spec.get("ports"))) if p.get("appProtocol")]
    if not ports or _skipped(obj, ctx) or not _in_mesh(obj, ctx):
        return
    for i, p in ports:
        if str(p["appProtocol"]).lower() not in APP_PROTOCOLS:
            yield Hit(
                f"appProtocol {p['appProtocol']!r} is not a valid Istio protocol", path=f"spec.ports[{i}].appProtocol"
            )


@rule(
    code="KIA0701",
    kinds=SVC,
    severity="warning",
    title="Service targetPort not exposed by its Deployment",
    doc="A port's targetPort (number or name) is not among the container ports of the Deployments the Service "
    "selects, so traffic is sent to a port nothing declares. Fix the targetPort or the containerPort. Control "
    "plane, gateway and waypoint Services are skipped, as in Kiali.",
)
def service_target_port(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    sel = obj.spec.get("selector")
    if not isinstance(sel, dict) or not sel or _skipped(obj, ctx):
        return
    if obj.labels.get("gateway.istio.io/managed") or obj.labels.get("istio.io/gateway-name"):
        return
    deps = [
        w
        for w in ctx.index.workloads_matching({str(k): str(v) for k, v in sel.items()}, obj.namespace)
        if w.obj.kind == "Deployment"
    ]
    if not deps:
        return
    numbers: set[int] = set()
    names: set[str] = set()
    for w in deps:
        for c in w.containers:
            for cp in dicts(c.get("ports")):
                if cp.get("containerPort") is not None:
                    numbers.add(int(cp["containerPort"]))
                if cp.get("name"):
                    names.add(str(cp["name"]))
    for i, p in enumerate(dicts(obj.spec.get("ports"))):
        tp = p.get("targetPort", p.get("port"))
        if isinstance(tp, int) or (isinstance(tp, str) and tp.isdigit()):
            ok = int(tp) in numbers
        else:
            ok = str(tp) in names
        if not ok:
            yield Hit(
                f"targetPort {tp} is not exposed by the containers of {', '.join(sorted(w.obj.name for w in deps))}",
                path=f"spec.ports[{i}].targetPort",
            )


def _shape(svc: ConfigObject) -> dict[str, object]:
    """What must agree across clusters for one multi-cluster service (istioctl's ServiceAnalyzer)."""
    spec = svc.spec
    ports = sorted(
        (str(p.get("port")), str(p.get("protocol") or "TCP").upper(), str(p.get("name") or ""))
        for p in dicts(spec.get("ports"))
    )
    return {
        "headless": str(spec.get("clusterIP") or "") == "None",
        "type": str(spec.get("type") or "ClusterIP"),
        "ports": ports,
    }


@rule(
    code="IST0170",
    kinds=SVC,
    severity="warning",
    title="Service differs between clusters",
    doc="A Service with the same namespace and name exists in several clusters of the mesh, and the copies "
    "differ in being headless or not, in type, or in ports. Istio merges same-named Services across clusters "
    "into one service, so clients get different behaviour depending on which cluster's definition applies "
    "(ports missing, headless DNS in one cluster only). Make the definitions agree. Only checked when the input "
    "holds more than one cluster.",
)
def multicluster_inconsistent_service(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if not ctx.clusters.multi:
        return
    mine = _shape(obj)
    for cl, other in sorted(ctx.clusters.same("Service", obj.namespace, obj.name).items()):
        if cl == ctx.cluster:
            continue
        theirs = _shape(other)
        diff = [k for k in ("headless", "type", "ports") if mine[k] != theirs[k]]
        if diff:
            yield Hit(
                f"Service {obj.namespace}/{obj.name} differs from the one in cluster {cl!r}: {', '.join(diff)}",
                path="spec",
            )
