"""istio finalizer: DestinationRule, VirtualService and Gateway badges on nodes.

hasCB, hasVS and the VS feature flags tell a reader where traffic is shaped by config; isGateway
marks the mesh's doors. Hosts match as Kiali's FilterByHost does (short names expanded in the
object's namespace), see meshreport.hosts.kiali_fqdn.
"""

from __future__ import annotations

from collections import defaultdict

from meshreport.graph.appenders.base import AppenderContext
from meshreport.graph.appenders.mesh_check import backing_workloads
from meshreport.graph.config_index import ConfigIndex, WorkloadInfo
from meshreport.graph.model import Node, TrafficGraph, is_ok
from meshreport.hosts import kiali_fqdn, service_fqdn
from meshreport.snapshot.model import ConfigObject


def _has_cb(policy: object) -> bool:
    return isinstance(policy, dict) and ("connectionPool" in policy or "outlierDetection" in policy)


def dr_has_cb(dr: ConfigObject, version: str | None) -> bool:
    """CB in the DR's trafficPolicy, or in a subset (only the node's version's subset, if versioned)."""
    if _has_cb(dr.spec.get("trafficPolicy")):
        return True
    for subset in dr.spec.get("subsets") or []:
        if not isinstance(subset, dict) or not _has_cb(subset.get("trafficPolicy")):
            continue
        if version is None or (subset.get("labels") or {}).get("version") == version:
            return True
    return False


def vs_flags(vs: ConfigObject) -> dict[str, bool]:
    """The VS feature badges Kiali shows on a service node the VS routes to."""
    spec = vs.spec
    flags: dict[str, bool] = {}
    http = [r for r in spec.get("http") or [] if isinstance(r, dict)]
    routes = http + [r for k in ("tcp", "tls") for r in spec.get(k) or [] if isinstance(r, dict)]
    if any(len(r.get("route") or []) >= 1 for r in routes):
        flags["hasRequestRouting"] = True
    if any(r.get("timeout") for r in http):
        flags["hasRequestTimeout"] = True
    if any(r.get("fault") for r in http):
        flags["hasFaultInjection"] = True
    if any(len(r.get("route") or []) > 1 for r in http):
        flags["hasTrafficShifting"] = True
    if any(len(r.get("route") or []) > 1 for r in spec.get("tcp") or [] if isinstance(r, dict)):
        flags["hasTCPTrafficShifting"] = True
    if any(r.get("mirror") or r.get("mirrors") for r in http):
        flags["hasMirroring"] = True
    return flags


def _gateway_direction(w: WorkloadInfo) -> str:
    comp = w.labels.get("operator.istio.io/component")
    if comp == "EgressGateways":
        return "egressInfo"
    if comp == "IngressGateways":
        return "ingressInfo"
    return "egressInfo" if "egress" in (w.labels.get("istio") or w.name) else "ingressInfo"


class _Gateways:
    """Istio Gateways by one selector item, so each workload finds its gateways by its own labels."""

    def __init__(self, index: ConfigIndex) -> None:
        self.by_item: dict[tuple[str, str], list[ConfigObject]] = defaultdict(list)
        for gw in index.gateways:
            sel = gw.spec.get("selector") or {}
            if sel:
                k = sorted(sel)[0]
                self.by_item[(k, sel[k])].append(gw)
        self.index = index

    def info(self, w: WorkloadInfo) -> dict[str, dict[str, list[str]]]:
        out: dict[str, set[str]] = defaultdict(set)
        seen: set[int] = set()
        for item in w.labels.items():
            for gw in self.by_item.get(item, []):
                if id(gw) in seen:
                    continue
                seen.add(id(gw))
                sel = gw.spec.get("selector") or {}
                if all(w.labels.get(k) == v for k, v in sel.items()):
                    hosts = out[_gateway_direction(w)]
                    for server in gw.spec.get("servers") or []:
                        hosts.update(h for h in (server or {}).get("hosts") or [] if isinstance(h, str))
        gw_name = w.labels.get("gateway.networking.k8s.io/gateway-name")
        if gw_name:
            k8s = self.index.k8s_gateways.get((w.namespace, gw_name))
            if k8s is not None:
                listeners = k8s.spec.get("listeners") or []
                out["gatewayAPIInfo"].update((ln or {}).get("hostname") or "*" for ln in listeners)
                if not listeners:
                    out["gatewayAPIInfo"].add("*")
        return {k: {"hostnames": sorted(v)} for k, v in out.items()}


class IstioAppender:
    name = "istio"
    finalizer = True

    def apply(self, graph: TrafficGraph, ctx: AppenderContext) -> None:
        index = ctx.index
        gateways = _Gateways(index)
        for n in graph.nodes.values():
            md = n.metadata
            if md.get("isInaccessible"):
                continue
            if n.node_type == "service":
                self._service(n, ctx)
            elif n.node_type in ("app", "workload"):
                self._cb_through_dest_services(n, ctx)
                self._gateway(n, ctx, gateways)

    def _service(self, n: Node, ctx: AppenderContext) -> None:
        index, md = ctx.index, n.metadata
        host = service_fqdn(n.service, n.namespace)
        if any(dr_has_cb(dr, None) for dr in index.destination_rules_by_host.get(host, [])):
            md["hasCB"] = True
        svc = index.service(n.namespace, n.service)
        if svc is not None and svc.labels.get("app") and not n.app:
            n.app = svc.labels["app"]
        if md.get("isOutside"):
            return
        hosts = [host]
        se = md.get("isServiceEntry")
        if se:
            hosts += [kiali_fqdn(h, se.get("namespace")) for h in se.get("hosts") or []]
        has_vs: dict[str, list[str]] = {}
        for h in hosts:
            for vs in index.virtual_services_by_dest.get(h, []):
                if vs.name in has_vs:
                    continue
                has_vs[vs.name] = list(vs.spec.get("hosts") or [])
                md.update(vs_flags(vs))
                if vs.labels.get("gateway.networking.k8s.io/gateway-name") or vs.annotations.get(
                    "internal.istio.io/parent"
                ):
                    md["isK8sGatewayAPI"] = True
        if has_vs:
            md["hasVS"] = has_vs

    def _cb_through_dest_services(self, n: Node, ctx: AppenderContext) -> None:
        versioned = is_ok(n.version)
        if n.node_type == "workload" and not versioned:
            return
        for _cluster, ns, name in n.dest_services:
            for dr in ctx.index.destination_rules_by_host.get(service_fqdn(name, ns), []):
                if dr_has_cb(dr, n.version if versioned else None):
                    n.metadata["hasCB"] = True
                    return

    def _gateway(self, n: Node, ctx: AppenderContext, gateways: _Gateways) -> None:
        merged: dict[str, set[str]] = defaultdict(set)
        for w in backing_workloads(n, ctx):
            for kind, info in gateways.info(w).items():
                merged[kind].update(info["hostnames"])
        if merged:
            n.metadata["isGateway"] = {k: {"hostnames": sorted(v)} for k, v in sorted(merged.items())}
