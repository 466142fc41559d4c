"""Which Istio objects apply to each app, workload and service of the traffic graph.

The report's per-service pages list them; deciding it is analysis, so it happens here, once, with
the graph's config index (`graph.config_index`: the workloads behind a node, the services and the
VirtualServices by destination) and the mTLS resolver (`mtls.py`: which PeerAuthentication decides a
workload's mode). Matching follows Istio:

- PeerAuthentication: the workload's own (selector), its namespace's, the mesh's (root namespace);
  the mode that results and the object that decided it come from `MtlsResolver`.
- AuthorizationPolicy: all of them combine: selector-less ones in the root namespace (mesh-wide) and
  in the workload's namespace, ones whose `selector.matchLabels` match its labels, and ones whose
  `targetRef(s)` name a Service that fronts it (or, on a service page, the service).
- Sidecar: exactly one applies: the one whose `workloadSelector` matches (oldest first), else the
  namespace's selector-less one, else the root namespace's.
- VirtualService: ones whose `hosts` cover the service's host and ones that route to it.
- DestinationRule: the one istiod uses for the service's host (`MtlsResolver.destination_rule`).

A workload or app node gets the VirtualServices and DestinationRules of the services its traffic was
addressed to (`Node.dest_services`) and of the services whose selector picks its pods.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from meshreport.graph.config_index import ConfigIndex, WorkloadInfo
from meshreport.graph.model import Node, TrafficGraph
from meshreport.hosts import fqdn, host_matches, kiali_fqdn, selector_matches, service_fqdn
from meshreport.mtls import MtlsResolver, ServerMode, match_labels
from meshreport.snapshot.model import ConfigObject, Snapshot
from meshreport.validation.meshconfig import MeshConfig

#: The kinds a page lists, in this order.
KINDS = ("VirtualService", "DestinationRule", "PeerAuthentication", "AuthorizationPolicy", "Sidecar")
NODE_TYPES = ("app", "workload", "service")
#: What a workload takes from the services in front of it.
_SERVICE_KINDS = ("VirtualService", "DestinationRule")


@dataclass(frozen=True)
class AppliedObject:
    """One Istio object that applies to a node, and why (`selects app=reviews`, `namespace-wide`, ...)."""

    kind: str
    namespace: str
    name: str
    why: str


@dataclass(frozen=True)
class NodeConfig:
    """The objects that apply to one graph node and, per workload behind it, its configured server mTLS."""

    objects: tuple[AppliedObject, ...] = ()
    #: (workload name, the mode its PeerAuthentications give it) for each workload behind the node.
    modes: tuple[tuple[str, ServerMode], ...] = ()
    #: Names of the workloads behind an app or workload node (for the mTLS traffic per workload).
    workloads: tuple[str, ...] = field(default=())


def _age(o: ConfigObject) -> tuple[str, str]:
    return (str(o.metadata.get("creationTimestamp") or ""), o.name)


def _targets(o: ConfigObject) -> list[tuple[str, str]]:
    """(kind, name) of an AuthorizationPolicy's targetRef and targetRefs."""
    refs = []
    raw = o.spec.get("targetRefs")
    items = list(raw) if isinstance(raw, list) else []
    if isinstance(o.spec.get("targetRef"), dict):
        items.append(o.spec["targetRef"])
    for r in items:
        if isinstance(r, dict) and r.get("name"):
            refs.append((str(r.get("kind") or ""), str(r["name"])))
    return refs


def _for_mesh(vs: ConfigObject) -> bool:
    """A VirtualService applies to sidecars' traffic when it names no gateways or names `mesh`."""
    gateways = vs.spec.get("gateways")
    return not gateways or "mesh" in gateways


def _route_reason(vs: ConfigObject, name: str) -> str:
    gateways = [str(g) for g in vs.spec.get("gateways") or () if g != "mesh"]
    if gateways and not _for_mesh(vs):
        return f"routes to {name} from gateway {', '.join(gateways)}"
    return f"routes to {name}"


def _labels_text(labels: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))


class _Matcher:
    """The lookups, built once per analysis: objects by kind and namespace."""

    def __init__(self, objects: list[ConfigObject], mesh: MeshConfig, index: Any = None) -> None:
        self.index = ConfigIndex(index if index is not None else objects)
        self.mtls = MtlsResolver(index if index is not None else objects, mesh)
        self.root = mesh.root_namespace
        self.by_kind_ns: dict[tuple[str, str], list[ConfigObject]] = defaultdict(list)
        self.vs_by_host: dict[str, list[ConfigObject]] = defaultdict(list)
        self.wild_vs: list[tuple[str, ConfigObject]] = []
        self._by_label: dict[str, dict[tuple[str, str], list[tuple[str, dict[str, str]]]]] = {}
        for o in sorted(objects, key=_age):
            if o.kind in KINDS:
                self.by_kind_ns[(o.kind, o.namespace or "")].append(o)
            if o.kind == "VirtualService" and o.group in ("", "networking.istio.io") and _for_mesh(o):
                for h in o.spec.get("hosts") or ():
                    host = fqdn(str(h), o.namespace)
                    if host.startswith("*"):
                        self.wild_vs.append((host, o))
                    else:
                        self.vs_by_host[host].append(o)

    # -- services ----------------------------------------------------------------------------

    def service_objects(self, ns: str, name: str, extra_hosts: Iterable[str] = ()) -> list[AppliedObject]:
        """`extra_hosts`: a ServiceEntry node's hosts (its name is not a cluster host)."""
        out: list[AppliedObject] = []
        for host in dict.fromkeys([service_fqdn(name, ns), *extra_hosts]):
            for vs in self.vs_by_host.get(host, []):
                out.append(AppliedObject("VirtualService", vs.namespace or "", vs.name, f"hosts include {host}"))
            for pattern, vs in self.wild_vs:
                if host_matches(host, pattern):
                    out.append(AppliedObject("VirtualService", vs.namespace or "", vs.name, f"host {pattern}"))
            for vs in self.index.virtual_services_by_dest.get(kiali_fqdn(host, ns), []):
                out.append(AppliedObject("VirtualService", vs.namespace or "", vs.name, _route_reason(vs, name)))
            dr = self.mtls.destination_rule(host, ns)
            if dr is not None:
                why = f"host {dr.spec.get('host')}"
                out.append(AppliedObject("DestinationRule", dr.namespace or "", dr.name, why))
        for ap in self.by_kind_ns.get(("AuthorizationPolicy", ns), []):
            if ("Service", name) in _targets(ap):
                out.append(AppliedObject("AuthorizationPolicy", ns, ap.name, f"targets Service {name}"))
        return out

    def fronting_services(self, w: WorkloadInfo) -> list[str]:
        """Services of the workload's namespace whose selector picks its pods."""
        by_label = self._selectors(w.namespace)
        return [
            name for item in w.labels.items() for name, sel in by_label.get(item, ()) if selector_matches(sel, w.labels)
        ]

    def _selectors(self, ns: str) -> dict[tuple[str, str], list[tuple[str, dict[str, str]]]]:
        """The namespace's Services with a selector, each filed under one label of it: a workload is
        checked only against the Services that select one of its own labels (checking every Service
        of a 1,000-Service namespace for each workload was 10 million checks at 10,000 workloads)."""
        found = self._by_label.get(ns)
        if found is None:
            found = {}
            for svc in self.index.services_by_ns.get(ns, []):
                sel = svc.spec.get("selector")
                if isinstance(sel, dict) and sel:
                    wanted = {str(k): str(v) for k, v in sel.items()}
                    found.setdefault(min(wanted.items()), []).append((svc.name, wanted))
            self._by_label[ns] = found
        return found

    # -- workloads ---------------------------------------------------------------------------

    def workload_objects(self, w: WorkloadInfo, services: Iterable[str]) -> list[AppliedObject]:
        ns, labels = w.namespace, w.labels
        out: list[AppliedObject] = []
        mesh_pa, ns_pa = self.mtls.mesh_pa, self.mtls.namespace_pa(ns)
        wl_pa = self.mtls.workload_pa(ns, labels)
        for pa, why in ((wl_pa, "selects its pods"), (ns_pa, "namespace-wide"), (mesh_pa, "mesh-wide")):
            if pa is not None:
                if why == "selects its pods":
                    why = f"selects {_labels_text(match_labels(pa))}"
                out.append(AppliedObject("PeerAuthentication", pa.namespace or "", pa.name, why))
        services = list(services)
        for scope, why in ((self.root, "mesh-wide"), (ns, "")):
            for ap in self.by_kind_ns.get(("AuthorizationPolicy", scope), []):
                sel = match_labels(ap)
                targets = _targets(ap)
                if targets:
                    hit = [n for k, n in targets if k == "Service" and n in services and scope == ns]
                    if hit:
                        out.append(AppliedObject("AuthorizationPolicy", scope, ap.name, f"targets Service {hit[0]}"))
                    continue
                if not sel:
                    if scope == ns and ns != self.root:
                        out.append(AppliedObject("AuthorizationPolicy", scope, ap.name, "namespace-wide"))
                    elif scope == self.root:
                        out.append(AppliedObject("AuthorizationPolicy", scope, ap.name, why))
                elif scope == ns and selector_matches(sel, labels):
                    out.append(AppliedObject("AuthorizationPolicy", scope, ap.name, f"selects {_labels_text(sel)}"))
        sidecar = self._sidecar(ns, labels)
        if sidecar is not None:
            out.append(sidecar)
        return out

    def _sidecar(self, ns: str, labels: dict[str, str]) -> AppliedObject | None:
        default = None
        for sc in self.by_kind_ns.get(("Sidecar", ns), []):
            sel = (sc.spec.get("workloadSelector") or {}).get("labels") if isinstance(sc.spec, dict) else None
            if isinstance(sel, dict) and sel:
                if selector_matches({str(k): str(v) for k, v in sel.items()}, labels):
                    return AppliedObject("Sidecar", ns, sc.name, f"selects {_labels_text(sel)}")
            elif default is None:
                default = AppliedObject("Sidecar", ns, sc.name, "namespace default")
        if default is not None or ns == self.root:
            return default
        for sc in self.by_kind_ns.get(("Sidecar", self.root), []):
            sel = (sc.spec.get("workloadSelector") or {}).get("labels") if isinstance(sc.spec, dict) else None
            if not sel:
                return AppliedObject("Sidecar", self.root, sc.name, "mesh default")
        return None

    def backing(self, n: Node) -> list[WorkloadInfo]:
        """The workloads whose config a node's page lists: the named workload from any cluster, an
        app node's by its literal version. Not the mesh check's lookup (graph/appenders/mesh_check.py,
        Kiali's getAppWorkloads: the node's own cluster only, version ""/unknown/latest meaning every
        version), which the graph parity work (#20) adopted after this was written; following it
        here would change what service pages list for multi-cluster and version-less app nodes,
        which a behaviour-preserving change may not do (left open in #17's report)."""
        if n.node_type == "workload":
            w = self.index.workload(n.cluster, n.namespace, n.workload)
            return [w] if w is not None else []
        if n.node_type == "app":
            return self.index.app_workloads_for(n.namespace, n.app, n.version)
        return []


def _dedupe(objects: Iterable[AppliedObject]) -> tuple[AppliedObject, ...]:
    """One line per object with its reasons, in KINDS order then by namespace and name."""
    seen: dict[tuple[str, str, str], list[str]] = {}
    for o in objects:
        why = seen.setdefault((o.kind, o.namespace, o.name), [])
        if o.why not in why:
            why.append(o.why)
    order = {k: i for i, k in enumerate(KINDS)}
    keys = sorted(seen, key=lambda k: (order.get(k[0], 9), k[1], k[2]))
    return tuple(AppliedObject(k, ns, name, "; ".join(seen[(k, ns, name)])) for k, ns, name in keys)


def node_config(
    snapshot: Snapshot, graph: TrafficGraph, mesh: MeshConfig | None = None, index: Any = None
) -> dict[str, NodeConfig]:
    """Node id -> what applies to it, for every app, workload and service node of the graph's namespaces.

    `index`: the analysis's MeshIndex of the snapshot's config, when it has one (built once per analysis).
    Empty when the snapshot holds no config objects (nothing can be said to apply)."""
    if not snapshot.objects:
        return {}
    mesh = mesh if mesh is not None else MeshConfig.from_objects(snapshot.objects)
    m = _Matcher(list(snapshot.objects), mesh, index)
    wanted = set(graph.namespaces or snapshot.namespaces)
    out: dict[str, NodeConfig] = {}
    for nid, n in graph.nodes.items():
        if n.node_type not in NODE_TYPES or n.namespace not in wanted:
            continue
        if n.node_type == "service":
            se = n.metadata.get("isServiceEntry")
            hosts = [fqdn(str(h), se.get("namespace")) for h in se.get("hosts") or ()] if isinstance(se, dict) else []
            out[nid] = NodeConfig(_dedupe(m.service_objects(n.namespace, n.service, hosts)))
            continue
        objects: list[AppliedObject] = []
        modes: list[tuple[str, ServerMode]] = []
        workloads = m.backing(n)
        services = {name for _c, ns, name in n.dest_services if ns == n.namespace}
        for w in workloads:
            services.update(m.fronting_services(w))
        for w in workloads:
            objects += m.workload_objects(w, services)
            modes.append((w.name, m.mtls.workload_mode(w.namespace, w.labels).workload))
        for name in sorted(services):
            objects += [o for o in m.service_objects(n.namespace, name) if o.kind in _SERVICE_KINDS]
        if not workloads:
            modes.append(("", m.mtls.namespace_mode(n.namespace)))
        out[nid] = NodeConfig(_dedupe(objects), tuple(modes), tuple(w.name for w in workloads))
    return out
