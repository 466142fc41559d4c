"""Validation's view of the mesh index, built once per run, so no check scans all objects per object.

`Context` is what every rule receives: `ctx.index` (this module's ValidationIndex), `ctx.mesh`
(MeshConfig), `ctx.now` (unix seconds time-dependent checks use) and `ctx.memo(key, builder)` for
module-specific lookups built once. Objects by kind, namespace and name, and the namespaces, are
the snapshot's one `MeshIndex` (`meshreport/mesh_index.py`, shared with the graph and mTLS); what
is validation's alone (hosts with exportTo, selector targets as istioctl sees them, import scopes
under a MeshConfig's domain) is built here from it.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from meshreport.hosts import (
    expand_name_ns,
    export_scope,
    fqdn,
    host_matches,
    is_wildcard,
    selector_matches,
    service_host,
    suffixes,
    visible,
)
from meshreport.istio_names import (
    AMBIENT_REDIRECTION,
    DATAPLANE_MODE,
    DEFAULT_DOMAIN,
    INJECT,
    NAMESPACE_INJECTION,
    REVISION,
    SIDECAR_CONTAINER,
)
from meshreport.mesh_index import GATEWAY_API_GROUP, TEMPLATE_KINDS, MeshIndex, index_of, pod_template, rule_kind
from meshreport.snapshot.model import ConfigObject
from meshreport.validation.meshconfig import MeshConfig

T = TypeVar("T")

__all__ = ["GATEWAY_API_GROUP", "TEMPLATE_KINDS", "Context", "ValidationIndex", "Workload", "rule_kind"]


@dataclass(frozen=True)
class Port:
    """A Service or ServiceEntry port, normalised (`number` is the service port)."""

    number: int
    name: str = ""
    protocol: str = ""
    target_port: Any = None
    app_protocol: str = ""


@dataclass
class HostTarget:
    """A Service or ServiceEntry that defines a host, with where it is visible."""

    obj: ConfigObject
    host: str
    export_to: tuple[str, ...]
    ports: list[Port]

    @property
    def kind(self) -> str:
        return self.obj.kind

    @property
    def namespace(self) -> str | None:
        return self.obj.namespace

    def visible_from(self, ns: str | None) -> bool:
        return ns is None or visible(self.export_to, self.obj.namespace, ns)


@dataclass
class Workload:
    """A pod, a controller's pod template, or a WorkloadEntry: something selectors match."""

    obj: ConfigObject
    namespace: str | None
    labels: dict[str, str]
    annotations: dict[str, str]
    is_pod: bool
    sidecar: bool  # has an istio-proxy container (pod) or would be injected (template)
    ambient: bool
    in_mesh: bool  # istioctl's definition (authz analyzer)
    service_account: str = "default"
    containers: list[dict[str, Any]] = field(default_factory=list)


class ValidationIndex:
    """The lookups rules share: the mesh index's tables plus hosts, selector targets, service
    accounts, secrets, DestinationRules and VirtualServices by host, each built once."""

    def __init__(
        self, objects: MeshIndex | Iterable[ConfigObject], mesh: MeshConfig, domain: str = DEFAULT_DOMAIN
    ) -> None:
        shared = index_of(objects)
        self.mesh = mesh
        self.domain = domain
        self.objects: list[ConfigObject] = shared.objects
        self.by_kind: dict[str, list[ConfigObject]] = shared.by_kind
        self._shared = shared
        #: The shared MeshIndex this view reads (for other readers of the same objects, e.g. mTLS).
        self.mesh_index = shared
        self.namespace_labels: dict[str, dict[str, str]] = shared.namespace_labels
        self.has_namespace_objects = bool(self.namespace_labels)
        # Namespaces known to exist: declared ones plus those any object lives in.
        self.namespace_names: set[str] = shared.namespace_names

        self._build_hosts()
        self._build_workloads()
        self.service_accounts: set[tuple[str | None, str]] = {
            (o.namespace, o.name) for o in self.by_kind.get("ServiceAccount", [])
        }
        self.secrets: set[tuple[str | None, str]] = {(o.namespace, o.name) for o in self.by_kind.get("Secret", [])}

        self._drs_by_host: dict[str, list[ConfigObject]] = defaultdict(list)
        self._wild_drs: list[tuple[str, ConfigObject]] = []
        for dr in self.by_kind.get("DestinationRule", []):
            h = self.fqdn(str(dr.spec.get("host") or ""), dr.namespace)
            if is_wildcard(h):
                self._wild_drs.append((h, dr))
            else:
                self._drs_by_host[h].append(dr)

        self._import_scopes: dict[str, ImportScope] = {}
        self._vss_by_host: dict[str, list[ConfigObject]] = defaultdict(list)
        for vs in self.by_kind.get("VirtualService", []):
            for h in vs.spec.get("hosts") or ():
                self._vss_by_host[self.fqdn(str(h), vs.namespace)].append(vs)

    # -- generic ------------------------------------------------------------------------------

    # Kinds below are rule kinds (see `rule_kind`): Istio `Gateway` vs Gateway API `K8sGateway`.

    def of_kind(self, kind: str) -> list[ConfigObject]:
        return self._shared.of_kind(kind)

    def in_namespace(self, kind: str, namespace: str | None) -> list[ConfigObject]:
        return self._shared.in_namespace(kind, namespace)

    def get(self, kind: str, namespace: str | None, name: str) -> ConfigObject | None:
        return self._shared.get(kind, namespace, name)

    def fqdn(self, host: str, namespace: str | None) -> str:
        return fqdn(host, namespace, self.domain)

    def namespace_exists(self, ns: str) -> bool:
        return ns in self.namespace_names

    # -- hosts: Services and ServiceEntries -------------------------------------------------------

    def _build_hosts(self) -> None:
        self._hosts: dict[str, list[HostTarget]] = defaultdict(list)  # exact host -> targets
        self._by_suffix: dict[str, list[HostTarget]] = defaultdict(list)  # for wildcard queries
        self._wild: dict[str, list[HostTarget]] = defaultdict(list)  # `*.x` targets by `x`
        self._any_host: list[HostTarget] = []  # ServiceEntry host `*`
        self.services_by_ns: dict[str | None, list[ConfigObject]] = defaultdict(list)
        default_svc = self.mesh.default_service_export_to
        for svc in self.by_kind.get("Service", []):
            self.services_by_ns[svc.namespace].append(svc)
            exp = svc.annotations.get("networking.istio.io/exportTo")
            export = export_scope([x.strip() for x in exp.split(",")] if exp else None, default_svc)
            ports = [
                Port(
                    number=_int(p.get("port")),
                    name=str(p.get("name") or ""),
                    protocol=str(p.get("protocol") or "TCP"),
                    target_port=p.get("targetPort", p.get("port")),
                    app_protocol=str(p.get("appProtocol") or ""),
                )
                for p in svc.spec.get("ports") or ()
                if isinstance(p, dict)
            ]
            self._add_host(
                HostTarget(svc, service_host(svc.name, svc.namespace or "default", self.domain), export, ports)
            )
        for se in self.by_kind.get("ServiceEntry", []):
            export = export_scope(se.spec.get("exportTo"), default_svc)
            ports = [
                Port(
                    number=_int(p.get("number")),
                    name=str(p.get("name") or ""),
                    protocol=str(p.get("protocol") or ""),
                    target_port=p.get("targetPort"),
                )
                for p in se.spec.get("ports") or ()
                if isinstance(p, dict)
            ]
            for h in se.spec.get("hosts") or ():
                self._add_host(HostTarget(se, self.fqdn(str(h), se.namespace), export, ports))

    def _add_host(self, t: HostTarget) -> None:
        if t.host == "*":
            self._any_host.append(t)
        elif t.host.startswith("*."):
            self._wild[t.host[2:]].append(t)
        else:
            self._hosts[t.host].append(t)
            for s in suffixes(t.host):
                self._by_suffix[s].append(t)

    def resolve_host(self, host: str, from_ns: str | None = None) -> list[HostTarget]:
        """Services/ServiceEntries defining `host` (already normalised; wildcards both ways),
        visible from `from_ns` when given. `name.ns` is also tried as `name.ns.svc.<domain>` (Kiali)."""
        h = host.lower()
        found: list[HostTarget] = []
        if h == "*":
            found = [t for ts in self._hosts.values() for t in ts] + [t for ts in self._wild.values() for t in ts]
        elif h.startswith("*."):
            found = list(self._by_suffix.get(h[2:], ()))
            for s in [h[2:], *suffixes(h[2:])]:
                found.extend(self._wild.get(s, ()))
        else:
            found = list(self._hosts.get(h, ()))
            for s in suffixes(h):
                found.extend(self._wild.get(s, ()))
            if not found:
                alt = expand_name_ns(h, self.domain)
                if alt:
                    found = list(self._hosts.get(alt, ()))
        found.extend(self._any_host)
        if from_ns is not None:
            found = [t for t in found if t.visible_from(from_ns)]
        return found

    def host_exists(self, host: str, from_ns: str | None = None) -> bool:
        return bool(self.resolve_host(host, from_ns))

    def service(self, namespace: str | None, name: str) -> ConfigObject | None:
        return self.get("Service", namespace, name)

    # -- workloads and pods -------------------------------------------------------------------------

    def _build_workloads(self) -> None:
        self.workloads: list[Workload] = []
        self._wl_by_ns: dict[str | None, list[Workload]] = defaultdict(list)
        self._wl_by_label: dict[tuple[str, str], list[Workload]] = defaultdict(list)
        self._wl_by_ns_label: dict[tuple[str | None, str, str], list[Workload]] = defaultdict(list)
        for o in self.objects:
            w = self._workload(o)
            if w is None:
                continue
            self.workloads.append(w)
            self._wl_by_ns[w.namespace].append(w)
            for k, v in w.labels.items():
                self._wl_by_label[(k, v)].append(w)
                self._wl_by_ns_label[(w.namespace, k, v)].append(w)

    def _workload(self, o: ConfigObject) -> Workload | None:
        if o.kind == "Pod":
            pod_spec, meta, is_pod = o.spec, o.metadata, True
        elif o.kind in TEMPLATE_KINDS:
            tmpl = pod_template(o)
            pod_spec, meta, is_pod = tmpl.get("spec") or {}, tmpl.get("metadata") or {}, False
        elif o.kind == "WorkloadEntry":
            return Workload(
                obj=o,
                namespace=o.namespace,
                labels=dict(o.spec.get("labels") or {}),
                annotations={},
                is_pod=False,
                sidecar=True,
                ambient=False,
                in_mesh=True,
                service_account=str(o.spec.get("serviceAccount") or "default"),
            )
        else:
            return None
        labels = dict(meta.get("labels") or {})
        annotations = dict(meta.get("annotations") or {})
        containers = [c for c in pod_spec.get("containers") or () if isinstance(c, dict)]
        inits = [c for c in pod_spec.get("initContainers") or () if isinstance(c, dict)]
        has_proxy = any(c.get("name") == SIDECAR_CONTAINER for c in containers + inits)
        ns_inj = self.namespace_injection(o.namespace)
        inject = str(labels.get(INJECT, annotations.get(INJECT, ""))).lower()
        if is_pod:
            sidecar = has_proxy
        else:
            sidecar = has_proxy or inject == "true" or (ns_inj in ("enabled", "rev") and inject != "false")
        ambient = annotations.get(AMBIENT_REDIRECTION) == "enabled" or (
            ns_inj == "ambient" and not sidecar and labels.get(DATAPLANE_MODE) != "none"
        )
        in_mesh = sidecar or inject != "" or ns_inj == "enabled" or ambient
        return Workload(
            obj=o,
            namespace=o.namespace,
            labels=labels,
            annotations=annotations,
            is_pod=is_pod,
            sidecar=sidecar,
            ambient=ambient,
            in_mesh=in_mesh,
            service_account=str(pod_spec.get("serviceAccountName") or pod_spec.get("serviceAccount") or "default"),
            containers=containers,
        )

    def namespace_injection(self, ns: str | None) -> str | None:
        """`enabled`, `disabled`, `rev` (istio.io/rev set), `ambient`, or None (no label)."""
        labels = self.namespace_labels.get(ns or "", {})
        inj = labels.get(NAMESPACE_INJECTION)
        if inj == "enabled":
            return "enabled"
        if inj == "disabled":
            return "disabled"
        if labels.get(REVISION):
            return "rev"
        if labels.get(DATAPLANE_MODE) == "ambient":
            return "ambient"
        return None

    def workloads_in(self, namespace: str | None) -> list[Workload]:
        return self._wl_by_ns.get(namespace, [])

    def workloads_matching(self, selector: Mapping[str, str] | None, namespace: str | None = None) -> list[Workload]:
        """Workloads whose labels match `selector` (matchLabels), in `namespace` or anywhere (None).
        An empty selector matches every workload of the namespace."""
        if not selector:
            return list(self._wl_by_ns.get(namespace, [])) if namespace is not None else list(self.workloads)
        items = list(selector.items())
        if namespace is None:
            cands = [self._wl_by_label.get((k, str(v)), []) for k, v in items]
        else:
            cands = [self._wl_by_ns_label.get((namespace, k, str(v)), []) for k, v in items]
        smallest = min(cands, key=len)
        return [w for w in smallest if selector_matches({k: str(v) for k, v in items}, w.labels)]

    # -- Istio objects ----------------------------------------------------------------------------

    def gateway(self, namespace: str | None, name: str) -> ConfigObject | None:
        """An Istio (networking.istio.io) Gateway."""
        return self.get("Gateway", namespace, name)

    def k8s_gateway(self, namespace: str | None, name: str) -> ConfigObject | None:
        """A Gateway API (gateway.networking.k8s.io) Gateway."""
        return self.get("K8sGateway", namespace, name)

    @property
    def has_workloads(self) -> bool:
        """False when the input holds no pods, controllers or WorkloadEntries at all: checks that need
        workloads (selectors, subsets) cannot judge and stay silent rather than flag everything."""
        return bool(self.workloads)

    def destination_rules_for(self, host: str) -> list[ConfigObject]:
        """DRs whose (normalised) host is `host` or a wildcard covering it."""
        h = host.lower()
        out = list(self._drs_by_host.get(h, ()))
        out.extend(dr for pattern, dr in self._wild_drs if host_matches(h, pattern))
        return out

    def virtual_services_for(self, host: str) -> list[ConfigObject]:
        return self._vss_by_host.get(host.lower(), [])

    # -- Sidecar import scope (Kiali) ---------------------------------------------------------------

    def import_scope(self, namespace: str | None) -> ImportScope:
        """The import scope of proxies in `namespace`, built once per namespace (see ImportScope)."""
        ns = namespace or ""
        scope = self._import_scopes.get(ns)
        if scope is None:
            sidecar = self._namespace_sidecar(ns) if ns else None
            if sidecar is None and ns and ns != self.mesh.root_namespace:
                sidecar = self._namespace_sidecar(self.mesh.root_namespace)
            egress = parse_egress_hosts(sidecar, ns) if sidecar is not None else []
            scope = self._import_scopes[ns] = ImportScope(ns, egress, self)
        return scope

    def _namespace_sidecar(self, ns: str) -> ConfigObject | None:
        for sc in self.in_namespace("Sidecar", ns):
            if not ((sc.spec.get("workloadSelector") or {}).get("labels")):
                return sc
        return None


@dataclass(frozen=True)
class EgressHost:
    """One Sidecar `egress[].hosts` entry `ns/dnsName`: `.` already expanded, `~ns/` an exclusion (`~` alone = all)."""

    namespace: str  # `*` = any
    dns: str
    exclude: bool = False


@dataclass(frozen=True)
class _Host:
    """A config host as Kiali reads it: complete (`svc.ns.svc.<domain>`, `svc.ns`, short name) or external."""

    raw: str
    service: str
    namespace: str
    complete: bool
    fqdn: str


class ImportScope:
    """Which hosts the proxies of one namespace import, as Kiali decides it (business/checkers/common/
    sidecar_import_scope.go): the selector-less Sidecar of the namespace, else the selector-less Sidecar of
    the root namespace; Sidecars with a workload selector are ignored. No such Sidecar, or one without egress
    hosts, imports everything (`limited` False). Kiali runs some VS/DR/SE checks only over imported objects.
    """

    def __init__(self, namespace: str, egress: list[EgressHost], index: ValidationIndex) -> None:
        self.namespace = namespace
        self.egress = egress
        self.limited = bool(egress)
        self._index = index

    def imports(self, host: str, config_namespace: str | None) -> bool:
        """Whether a VS/DR/SE host (as written, in an object of `config_namespace`) is imported here."""
        if not self.limited:
            return True
        if not host:
            return False
        h = self._read(str(host).strip().lower(), config_namespace or "")
        if not any(not e.exclude and self._matches(e, h, config_namespace or "") for e in self.egress):
            return False
        return not any(e.exclude and self._matches(e, h, config_namespace or "") for e in self.egress)

    def _read(self, raw: str, config_ns: str) -> _Host:
        domain_suffix = f".svc.{self._index.domain}"
        parts = raw.split(".")
        if raw.endswith(domain_suffix) and len(parts) == 3 + len(self._index.domain.split(".")):
            svc, ns = parts[0], parts[1]
        elif len(parts) == 2 and parts[1] in self._index.namespace_names:
            svc, ns = parts
        elif len(parts) == 1 and raw != "*":
            svc, ns = raw, config_ns
        else:
            return _Host(raw, raw, "", False, raw)
        return _Host(raw, svc, ns, True, f"{svc}.{ns}{domain_suffix}")

    @staticmethod
    def _matches(e: EgressHost, h: _Host, config_ns: str) -> bool:
        if e.namespace != "*":
            # external hosts (a ServiceEntry's example.com) belong to the namespace of their object
            if (h.namespace if h.complete else config_ns) != e.namespace:
                return False
        if e.dns in ("*", h.raw):
            return True
        if not h.complete:
            return e.dns == h.service or _within(h.service, e.dns)
        if e.dns in (h.fqdn, h.service, f"{h.service}.{h.namespace}"):
            return True
        if _within(h.fqdn, e.dns) or _within(h.raw, e.dns):
            return True
        # a wildcard DR/VS host applies to an imported egress host it covers
        return h.service == "*" and _within(e.dns, h.fqdn)


def _within(host: str, wildcard: str) -> bool:
    """`host` falls under `*.suffix` (Kiali's HostWithinWildcardHost)."""
    return wildcard.startswith("*.") and host.endswith(wildcard[1:])


def parse_egress_hosts(sidecar: ConfigObject, workload_ns: str) -> list[EgressHost]:
    out: list[EgressHost] = []
    for listener in sidecar.spec.get("egress") or ():
        if not isinstance(listener, dict):
            continue
        for entry in listener.get("hosts") or ():
            ns, sep, dns = str(entry).strip().lower().partition("/")
            if not sep:
                continue
            exclude = ns.startswith("~")
            if exclude:
                ns = ns[1:] or "*"
            if ns == ".":
                ns = workload_ns
            out.append(EgressHost(namespace=ns, dns=dns, exclude=exclude))
    return out


class ClusterIndex:
    """Every cluster's objects in one run, for the few multi-cluster checks (IST0170, KIA0107).

    Built once per run by the runner and shared by every cluster's Context; the per-kind tables
    are built lazily, so single-cluster runs pay nothing for them.
    """

    def __init__(self, groups: Mapping[str, list[ConfigObject]]) -> None:
        self._groups = groups
        self.names: tuple[str, ...] = tuple(sorted(groups))
        self._by_kind: dict[str, dict[tuple[str | None, str], dict[str, ConfigObject]]] = {}

    @property
    def multi(self) -> bool:
        return len(self.names) > 1

    def _table(self, kind: str) -> dict[tuple[str | None, str], dict[str, ConfigObject]]:
        if kind not in self._by_kind:
            table: dict[tuple[str | None, str], dict[str, ConfigObject]] = defaultdict(dict)
            for cl, objs in self._groups.items():
                for o in objs:
                    if rule_kind(o) == kind:
                        table[(o.namespace, o.name)].setdefault(cl, o)
            self._by_kind[kind] = table
        return self._by_kind[kind]

    def same(self, kind: str, namespace: str | None, name: str) -> dict[str, ConfigObject]:
        """The object of this kind, namespace and name in each cluster that has it: {cluster: object}."""
        return self._table(kind).get((namespace, name), {})

    def keys(self, kind: str, cluster: str) -> set[tuple[str | None, str]]:
        """(namespace, name) of every object of `kind` in `cluster`."""
        return {k for k, per in self._table(kind).items() if cluster in per}


class Context:
    """What every rule receives: the index, the mesh config, and a per-run memo.

    `clusters` sees every cluster of the run (the index only this one); when not given it holds
    just this Context's objects. `objects` may be the cluster's shared MeshIndex.
    """

    def __init__(
        self,
        objects: MeshIndex | Iterable[ConfigObject],
        mesh: MeshConfig | None = None,
        *,
        cluster: str = "Kubernetes",
        domain: str = DEFAULT_DOMAIN,
        clusters: ClusterIndex | None = None,
        now: float | None = None,
    ) -> None:
        shared = index_of(objects)
        objs = shared.objects
        self.mesh = mesh if mesh is not None else MeshConfig.from_objects(objs)
        self.cluster = cluster
        # The moment time-dependent checks (certificate expiry) judge against: a snapshot's window end,
        # so a report made again from the same snapshot says the same; the current time otherwise.
        self.now = time.time() if now is None else now
        self.index = ValidationIndex(shared, self.mesh, domain)
        self.clusters = clusters if clusters is not None else ClusterIndex({cluster: objs})
        self._memo: dict[str, Any] = {}

    def memo(self, key: str, builder: Callable[[Context], T]) -> T:
        """Build a module-specific lookup once per run (key it by module, e.g. `gateway.by_port`)."""
        if key not in self._memo:
            self._memo[key] = builder(self)
        return self._memo[key]

    def fqdn(self, host: str, namespace: str | None) -> str:
        return self.index.fqdn(host, namespace)


def _int(v: Any) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return 0
