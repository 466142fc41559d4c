"""mTLS as Istio resolves it: what each server accepts and what each client sends.

One answer for validation, the report and the traffic comparison, so they never disagree. It follows
istiod (pilot/pkg/security/authn ComposePeerAuthentication, pilot/pkg/xds/endpoints mtls_checker,
PushContext.destinationRule); where Kiali reads the config differently, docs/validation.md says how.

Server side (PeerAuthentication): the mesh-wide policy is the selector-less one in the root namespace,
a namespace-wide one the selector-less one in the namespace, a workload policy one whose matchLabels
are a subset of the workload's labels (never in the root namespace); per scope the oldest wins
(creationTimestamp, then name). UNSET inherits from the wider scope, the mesh default is PERMISSIVE,
and port-level modes count only on a workload policy (UNSET there inherits the workload's mode).

Client side (DestinationRule `trafficPolicy.tls`, port-level settings first): the most specific host
match among the client's namespace, then the service's namespace, then the root namespace. Without a
TLS setting, auto mTLS (on unless the mesh config says `enableAutoMtls: false`) sends ISTIO_MUTUAL to
sidecar endpoints whose port is not DISABLE; with auto mTLS off the client sends plain text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from meshreport.hosts import DEFAULT_DOMAIN, fqdn, host_matches, selector_matches, visible
from meshreport.mesh_index import MeshIndex, index_of
from meshreport.snapshot.model import ConfigObject
from meshreport.validation.meshconfig import MeshConfig

STRICT, PERMISSIVE, DISABLE = "STRICT", "PERMISSIVE", "DISABLE"
SERVER_MODES = (STRICT, PERMISSIVE, DISABLE)
# Client modes: a DestinationRule's TLS mode, or AUTO (auto mTLS) / PLAINTEXT (no TLS setting, auto off).
MTLS_CLIENT_MODES = ("ISTIO_MUTUAL", "MUTUAL")
AUTO, PLAINTEXT = "AUTO", "PLAINTEXT"
# Levels, widest first. `default` means no object decided (Istio's built-in answer).
LEVELS = ("default", "mesh", "namespace", "workload", "port")


@dataclass(frozen=True)
class ServerMode:
    """What a server accepts, and which object at which level decided it."""

    mode: str  # STRICT | PERMISSIVE | DISABLE
    level: str  # default | mesh | namespace | workload | port
    decided_by: str | None = None  # `PeerAuthentication ns/name`

    @property
    def accepts_plaintext(self) -> bool:
        return self.mode != STRICT

    @property
    def accepts_mtls(self) -> bool:
        return self.mode != DISABLE

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "level": self.level, "decided_by": self.decided_by}


@dataclass(frozen=True)
class WorkloadMode:
    """A workload's server mode, with the port-level modes of its workload policy (container ports)."""

    workload: ServerMode
    ports: Mapping[int, ServerMode] = field(default_factory=dict)

    def port(self, number: int | None) -> ServerMode:
        if number is not None and number in self.ports:
            return self.ports[number]
        return self.workload

    def all_modes(self) -> list[tuple[int | None, ServerMode]]:
        """(None, workload mode) then (port, mode) for each port-level setting, ports ascending."""
        return [(None, self.workload), *sorted(self.ports.items())]

    def as_dict(self) -> dict[str, Any]:
        return {**self.workload.as_dict(), "ports": {str(p): m.as_dict() for p, m in sorted(self.ports.items())}}


@dataclass(frozen=True)
class ClientMode:
    """What clients send to a destination, and which DestinationRule (or default) decided it."""

    mode: str  # DR tls mode (ISTIO_MUTUAL, MUTUAL, SIMPLE, DISABLE) | AUTO | PLAINTEXT
    level: str  # host | namespace | mesh (the DR's host scope) | auto | default
    decided_by: str | None = None  # `DestinationRule ns/name`

    def sends_mtls(self, server: ServerMode | None = None, sidecar: bool = True) -> bool:
        """Does the client originate mutual TLS towards a server in `server` mode?

        AUTO upgrades only to sidecar endpoints whose port is not DISABLE (istiod's mtls_checker)."""
        if self.mode in MTLS_CLIENT_MODES:
            return True
        if self.mode == AUTO:
            return sidecar and (server is None or server.mode != DISABLE)
        return False

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "level": self.level, "decided_by": self.decided_by}


def peer_mode(obj: ConfigObject) -> str:
    """PeerAuthentication `spec.mtls.mode`, upper-case; `UNSET` when absent."""
    return _mode_of(obj.spec.get("mtls"))


def _mode_of(mtls: Any) -> str:
    mode = mtls.get("mode") if isinstance(mtls, dict) else None
    return str(mode or "UNSET").upper()


def match_labels(obj: ConfigObject) -> dict[str, str]:
    sel = obj.spec.get("selector")
    if not isinstance(sel, dict) or not isinstance(sel.get("matchLabels"), dict):
        return {}
    return {str(k): str(v) for k, v in sel["matchLabels"].items()}


def dr_tls_mode(spec_part: Any, port: int | None = None) -> str | None:
    """TLS mode of a trafficPolicy for `port` (a matching portLevelSettings entry wins), None when unset.

    A `tls` block without `mode` is DISABLE, the proto default Istio reads."""
    if not isinstance(spec_part, dict):
        return None
    tls = spec_part.get("tls")
    mode = _tls_mode(tls)
    if port is not None:
        for p in spec_part.get("portLevelSettings") or ():
            if isinstance(p, dict) and _port_number(p.get("port")) == port and isinstance(p.get("tls"), dict):
                return _tls_mode(p["tls"])
    return mode


def _tls_mode(tls: Any) -> str | None:
    if not isinstance(tls, dict):
        return None
    return str(tls.get("mode") or DISABLE).upper()


def _port_number(v: Any) -> int | None:
    n = v.get("number") if isinstance(v, dict) else v
    try:
        return int(n)
    except (TypeError, ValueError):
        return None


def _age_key(obj: ConfigObject) -> tuple[str, str, str]:
    """Istio's order among same-scope policies: oldest creationTimestamp, then name, then namespace.
    Objects from files have no timestamp; they sort first and then by name."""
    return (str(obj.metadata.get("creationTimestamp") or ""), obj.name, obj.namespace or "")


def _ref(obj: ConfigObject | None) -> str | None:
    return f"{obj.kind} {obj.namespace}/{obj.name}" if obj is not None else None


class MtlsResolver:
    """Resolves server and client mTLS for workloads, namespaces and the mesh from config objects."""

    def __init__(
        self, objects: MeshIndex | Iterable[ConfigObject], mesh: MeshConfig | None = None, domain: str = DEFAULT_DOMAIN
    ) -> None:
        self.mesh = mesh if mesh is not None else MeshConfig()
        self.root = self.mesh.root_namespace
        self.domain = domain
        self.auto_mtls = self.mesh.enable_auto_mtls
        index = index_of(objects)
        pas = sorted(index.of_kind("PeerAuthentication"), key=_age_key)
        self._mesh_pa: ConfigObject | None = None
        self._ns_pa: dict[str | None, ConfigObject] = {}
        self._wl_pas: dict[str | None, list[ConfigObject]] = {}
        for pa in pas:
            if not match_labels(pa):
                if pa.namespace == self.root:
                    self._mesh_pa = self._mesh_pa or pa
                else:
                    self._ns_pa.setdefault(pa.namespace, pa)
            elif pa.namespace != self.root:
                self._wl_pas.setdefault(pa.namespace, []).append(pa)
        self._drs: dict[str | None, list[ConfigObject]] = {}
        for dr in sorted(index.of_kind("DestinationRule"), key=_age_key):
            self._drs.setdefault(dr.namespace, []).append(dr)

    # -- server side -------------------------------------------------------------------------------

    @property
    def mesh_pa(self) -> ConfigObject | None:
        return self._mesh_pa

    def namespace_pa(self, ns: str | None) -> ConfigObject | None:
        return None if ns == self.root else self._ns_pa.get(ns)

    def mesh_mode(self) -> ServerMode:
        pa = self._mesh_pa
        if pa is None:
            return ServerMode(PERMISSIVE, "default")
        mode = peer_mode(pa)
        return ServerMode(PERMISSIVE if mode not in SERVER_MODES else mode, "mesh", _ref(pa))

    def namespace_mode(self, ns: str | None) -> ServerMode:
        pa = self.namespace_pa(ns)
        if pa is not None and peer_mode(pa) in SERVER_MODES:
            return ServerMode(peer_mode(pa), "namespace", _ref(pa))
        return self.mesh_mode()

    def workload_pa(self, ns: str | None, labels: Mapping[str, str]) -> ConfigObject | None:
        for pa in self._wl_pas.get(ns, ()):
            if selector_matches(match_labels(pa), labels):
                return pa
        return None

    def workload_mode(self, ns: str | None, labels: Mapping[str, str]) -> WorkloadMode:
        base = self.namespace_mode(ns)
        pa = self.workload_pa(ns, labels)
        if pa is None:
            return WorkloadMode(base)
        mode = peer_mode(pa)
        wl = ServerMode(mode, "workload", _ref(pa)) if mode in SERVER_MODES else base
        ports: dict[int, ServerMode] = {}
        plm = pa.spec.get("portLevelMtls")
        for key, setting in plm.items() if isinstance(plm, dict) else ():
            port = _port_number(key)
            if port is None:
                continue
            pmode = _mode_of(setting)
            ports[port] = ServerMode(pmode, "port", _ref(pa)) if pmode in SERVER_MODES else wl
        return WorkloadMode(wl, ports)

    # -- client side -------------------------------------------------------------------------------

    def host_level(self, host: str) -> str:
        """`mesh` for `*`, `*.local`, `*.<domain>`; `namespace` for `*.<ns>.svc.<domain>`; else `host`."""
        h = host.lower()
        if h in ("*", "*.local", f"*.{self.domain}", f"*.svc.{self.domain}"):
            return "mesh"
        tail = f".svc.{self.domain}"
        if h.startswith("*.") and h.endswith(tail) and "." not in h[2 : -len(tail)]:
            return "namespace"
        return "host"

    def destination_rule(
        self,
        host: str,
        service_ns: str | None,
        client_ns: str | None = None,
        exclude: ConfigObject | None = None,
    ) -> ConfigObject | None:
        """The DestinationRule istiod uses for `host` from a client in `client_ns` (None: unknown client,
        so only rules exported beyond their namespace count). `exclude` answers "what if it were absent"."""
        order: list[str | None] = []
        if client_ns is not None and client_ns != self.root:
            order.append(client_ns)
        order += [service_ns, self.root]
        seen: set[str | None] = set()
        for ns in order:
            if ns in seen:
                continue
            seen.add(ns)
            local = ns == client_ns
            cands = [
                d
                for d in self._drs.get(ns, ())
                if d is not exclude and not _selects_workloads(d) and (local or self._exported(d, client_ns))
            ]
            best = _most_specific(host.lower(), cands, self.domain)
            if best is not None:
                return best
        return None

    def client_namespaces(self) -> list[str | None]:
        """None (a client with no DestinationRule of its own) and every namespace that holds one."""
        return [None, *sorted(ns for ns in self._drs if ns is not None)]

    def _exported(self, dr: ConfigObject, client_ns: str | None) -> bool:
        export = [str(x) for x in dr.spec.get("exportTo") or ()] or list(self.mesh.default_destination_rule_export_to)
        if client_ns is None:
            return "*" in export
        return visible(export, dr.namespace, client_ns)

    def client_mode(
        self,
        host: str,
        service_ns: str | None,
        port: int | None = None,
        client_ns: str | None = None,
        exclude: ConfigObject | None = None,
    ) -> ClientMode:
        dr = self.destination_rule(host, service_ns, client_ns, exclude)
        if dr is not None:
            mode = dr_tls_mode(dr.spec.get("trafficPolicy"), port)
            if mode is not None:
                h = fqdn(str(dr.spec.get("host") or ""), dr.namespace, self.domain)
                return ClientMode(mode, self.host_level(h), _ref(dr))
        if self.auto_mtls:
            return ClientMode(AUTO, "auto")
        return ClientMode(PLAINTEXT, "default")

    def namespace_host(self, ns: str | None) -> str:
        """A host only namespace- and mesh-wide rules match: the client answer for `a service` of `ns`."""
        return f"~.{ns or 'default'}.svc.{self.domain}"

    def mtls_gap(
        self, ns: str | None, labels: Mapping[str, str], hosts: Iterable[str] = (), what: str = ""
    ) -> str | None:
        """Why a sidecar workload (`what`, `labels` in `ns`) does not get mutual TLS on some port, or None.

        Its workload-level mode and each port-level mode must accept mTLS, and the clients of each of its
        hosts (none given: any service of the namespace) must send it."""
        hosts = list(hosts) or [self.namespace_host(ns)]
        for port, server in self.workload_mode(ns, labels).all_modes():
            where = what + (f" port {port}" if port is not None else "")
            if not server.accepts_mtls:
                return f"{where} accepts only plain text ({server.mode} from {server.decided_by or server.level})"
            for h in hosts:
                client = self.client_mode(h, ns, port)
                if not client.sends_mtls(server):
                    by = client.decided_by or ("auto mTLS off" if client.mode == PLAINTEXT else client.level)
                    shown = "its services" if h.startswith("~.") else h
                    return f"clients of {shown} send {client.mode} to {where} ({by})"
        return None


def _selects_workloads(dr: ConfigObject) -> bool:
    """A DR with workloadSelector applies to some client workloads only; unknown clients skip it."""
    sel = dr.spec.get("workloadSelector")
    return isinstance(sel, dict) and bool(sel.get("matchLabels"))


def _most_specific(host: str, drs: list[ConfigObject], domain: str) -> ConfigObject | None:
    """Exact host first, else the longest wildcard that covers it; the oldest among equals (istiod merges
    same-host rules keeping the first one's traffic policy)."""
    best: ConfigObject | None = None
    best_len = -1
    for d in drs:
        ns = d.namespace
        h = fqdn(str(d.spec.get("host") or ""), ns, domain)
        if not h:
            continue
        if h == host:
            return d
        if h.startswith("*") and host_matches(host, h) and len(h) > best_len:
            best, best_len = d, len(h)
    return best
