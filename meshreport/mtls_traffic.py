"""The configured mTLS mode held against the traffic of the window: how much was mutual TLS, and what
stops a namespace or workload from switching to STRICT.

Traffic comes from the snapshot's securityPolicy results (destination-reported requests and TCP bytes,
grouped by `connection_security_policy` and by source and destination workload); the configured mode
from the resolver in meshreport/mtls.py. Two findings come out of the comparison:

- `ready-for-strict`: a PERMISSIVE namespace (or a workload whose own policy says PERMISSIVE) whose
  inbound traffic was all mutual TLS and at least the floor (FLOOR_REQUESTS requests or FLOOR_TCP_BYTES
  TCP bytes in the window, so an idle namespace is not called ready), with the PeerAuthentication to apply;
- `blocks-strict`: plain-text callers (connection_security_policy `none`) into a PERMISSIVE workload,
  the list to fix before switching; `will-break`: plain-text or unknown-source traffic into a STRICT one.
A caller is named when it sent at least CALLER_FLOOR_REQUESTS request or CALLER_FLOOR_TCP_BYTES bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from meshreport.mtls import DISABLE, PERMISSIVE, STRICT, MtlsResolver, ServerMode, match_labels
from meshreport.snapshot.keys import REQUESTS, TCP_RECEIVED, TCP_SENT, security_policy_key
from meshreport.snapshot.model import ConfigObject, Snapshot
from meshreport.validation.meshconfig import MeshConfig

FLOOR_REQUESTS = 100
FLOOR_TCP_BYTES = 1_000_000
CALLER_FLOOR_REQUESTS = 1
CALLER_FLOOR_TCP_BYTES = 1024
MUTUAL = "mutual_tls"
UNKNOWN = "unknown"
TEMPLATE_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")


@dataclass
class Share:
    """Requests and TCP bytes seen in the window, and how many of them were mutual TLS."""

    requests: float = 0.0
    mtls_requests: float = 0.0
    tcp_bytes: float = 0.0
    mtls_tcp_bytes: float = 0.0

    def add(self, other: Share) -> None:
        self.requests += other.requests
        self.mtls_requests += other.mtls_requests
        self.tcp_bytes += other.tcp_bytes
        self.mtls_tcp_bytes += other.mtls_tcp_bytes

    @property
    def request_share(self) -> float | None:
        """Percent of requests that were mutual TLS; None without requests."""
        return 100.0 * self.mtls_requests / self.requests if self.requests > 0 else None

    @property
    def tcp_share(self) -> float | None:
        return 100.0 * self.mtls_tcp_bytes / self.tcp_bytes if self.tcp_bytes > 0 else None

    @property
    def all_mtls(self) -> bool:
        return self.mtls_requests >= self.requests - 1e-9 and self.mtls_tcp_bytes >= self.tcp_bytes - 1e-9

    @property
    def above_floor(self) -> bool:
        return self.requests >= FLOOR_REQUESTS or self.tcp_bytes >= FLOOR_TCP_BYTES

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": round(self.requests, 3),
            "mtls_requests": round(self.mtls_requests, 3),
            "request_share": _pct(self.request_share),
            "tcp_bytes": round(self.tcp_bytes, 3),
            "mtls_tcp_bytes": round(self.mtls_tcp_bytes, 3),
            "tcp_share": _pct(self.tcp_share),
        }


@dataclass
class Caller:
    """A source of non-mTLS traffic into a workload: `namespace/workload`, or `unknown` (outside the mesh)."""

    name: str
    security: str  # connection_security_policy: none | unknown | mutual_tls
    requests: float = 0.0
    tcp_bytes: float = 0.0

    @property
    def counts(self) -> bool:
        return self.requests >= CALLER_FLOOR_REQUESTS or self.tcp_bytes >= CALLER_FLOOR_TCP_BYTES

    def as_dict(self) -> dict[str, Any]:
        return {
            "caller": self.name,
            "security": self.security,
            "requests": round(self.requests, 3),
            "tcp_bytes": round(self.tcp_bytes, 3),
        }


@dataclass
class WorkloadTraffic:
    namespace: str
    workload: str
    mode: ServerMode
    labels: dict[str, str] = field(default_factory=dict)
    inbound: Share = field(default_factory=Share)
    callers: dict[tuple[str, str], Caller] = field(default_factory=dict)  # non-mTLS callers

    def plaintext_callers(self) -> list[Caller]:
        return sorted((c for c in self.callers.values() if c.counts), key=lambda c: (-c.requests, -c.tcp_bytes, c.name))


@dataclass
class NamespaceMtls:
    namespace: str
    mode: ServerMode
    inbound: Share
    workloads: list[WorkloadTraffic]


@dataclass(frozen=True)
class MtlsFinding:
    kind: str  # ready-for-strict | blocks-strict | will-break
    namespace: str
    workload: str | None
    mode: ServerMode
    message: str
    callers: tuple[Caller, ...] = ()
    apply: str = ""  # the PeerAuthentication YAML to apply (ready-for-strict)

    @property
    def title(self) -> str:
        return {"ready-for-strict": "Ready for STRICT", "blocks-strict": "Blocks STRICT", "will-break": "Will break"}[
            self.kind
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "namespace": self.namespace,
            "workload": self.workload,
            "configured": self.mode.as_dict(),
            "message": self.message,
            "callers": [c.as_dict() for c in self.callers],
            "apply": self.apply or None,
        }


@dataclass
class MtlsAnalysis:
    """The mesh's configured mTLS next to its traffic, per namespace, and the findings of the comparison."""

    mesh: ServerMode
    auto_mtls: bool
    traffic_collected: bool
    inbound: Share
    namespaces: list[NamespaceMtls]
    findings: list[MtlsFinding]

    def as_dict(self) -> dict[str, Any]:
        return {
            "mesh": {**self.mesh.as_dict(), "auto_mtls": self.auto_mtls, "traffic": self.inbound.as_dict()},
            "traffic_collected": self.traffic_collected,
            "floor": {
                "requests": FLOOR_REQUESTS,
                "tcp_bytes": FLOOR_TCP_BYTES,
                "caller_requests": CALLER_FLOOR_REQUESTS,
                "caller_tcp_bytes": CALLER_FLOOR_TCP_BYTES,
            },
            "namespaces": [
                {"namespace": n.namespace, "configured": n.mode.as_dict(), "traffic": n.inbound.as_dict()}
                for n in self.namespaces
            ],
            "findings": [f.as_dict() for f in self.findings],
        }


def _pct(v: float | None) -> float | None:
    return None if v is None else round(v, 2)


def workload_labels(objects: Iterable[ConfigObject]) -> dict[tuple[str | None, str], dict[str, str]]:
    """(namespace, controller name) -> pod labels, from pod templates (the metrics' destination_workload)."""
    out: dict[tuple[str | None, str], dict[str, str]] = {}
    for o in objects:
        if o.kind not in TEMPLATE_KINDS:
            continue
        tmpl = o.spec.get("template") or {}
        if o.kind == "CronJob":
            tmpl = ((o.spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
        labels = (tmpl.get("metadata") or {}).get("labels") or {}
        out[(o.namespace, o.name)] = {str(k): str(v) for k, v in labels.items()}
    return out


def analyse_mtls(snapshot: Snapshot, mesh: MeshConfig | None = None) -> MtlsAnalysis:
    mesh = mesh if mesh is not None else MeshConfig.from_objects(snapshot.objects)
    r = MtlsResolver(snapshot.objects, mesh)
    labels = workload_labels(snapshot.objects)
    wls: dict[tuple[str, str], WorkloadTraffic] = {}
    collected = False
    for ns in snapshot.namespaces:
        for metric in (REQUESTS, TCP_SENT, TCP_RECEIVED):
            for role in ("incoming", "outgoing"):
                q = snapshot.query(security_policy_key(metric, role), ns)
                if q is None:
                    continue
                collected = True
                for s in q.series:
                    _count(s.labels, (s.value or 0.0) * snapshot.window.duration, metric, ns, wls, r, labels)
    namespaces = []
    for ns in snapshot.namespaces:
        mine = sorted((w for (n, _), w in wls.items() if n == ns), key=lambda w: w.workload)
        share = Share()
        for w in mine:
            share.add(w.inbound)
        namespaces.append(NamespaceMtls(ns, r.namespace_mode(ns), share, mine))
    total = Share()
    for n in namespaces:
        total.add(n.inbound)
    findings = _findings(namespaces, r) if collected else []
    return MtlsAnalysis(r.mesh_mode(), r.auto_mtls, collected, total, namespaces, findings)


def _count(
    lb: dict[str, str],
    amount: float,
    metric: str,
    ns: str,
    wls: dict[tuple[str, str], WorkloadTraffic],
    r: MtlsResolver,
    labels: dict[tuple[str | None, str], dict[str, str]],
) -> None:
    """One series into its destination workload's inbound share (each series once: the query of the
    destination's namespace, by the role that holds it)."""
    dns = lb.get("destination_workload_namespace") or lb.get("destination_service_namespace") or ""
    dwl = lb.get("destination_workload") or UNKNOWN
    if dns != ns or dwl == UNKNOWN or amount <= 0:
        return
    w = wls.get((dns, dwl))
    if w is None:
        lbl = labels.get((dns, dwl), {})
        w = wls[(dns, dwl)] = WorkloadTraffic(dns, dwl, r.workload_mode(dns, lbl).workload, lbl)
    csp = lb.get("connection_security_policy") or UNKNOWN
    mtls = csp == MUTUAL
    tcp = metric != REQUESTS
    part = Share(
        requests=0.0 if tcp else amount,
        mtls_requests=amount if mtls and not tcp else 0.0,
        tcp_bytes=amount if tcp else 0.0,
        mtls_tcp_bytes=amount if mtls and tcp else 0.0,
    )
    w.inbound.add(part)
    src_ns = lb.get("source_workload_namespace") or UNKNOWN
    src = lb.get("source_workload") or UNKNOWN
    name = UNKNOWN if src == UNKNOWN else f"{src_ns}/{src}"
    if not mtls or src == UNKNOWN:
        c = w.callers.setdefault((name, csp), Caller(name, csp))
        c.requests += part.requests
        c.tcp_bytes += part.tcp_bytes


def _pa_yaml(ns: str, selector: dict[str, str] | None = None, name: str = "default") -> str:
    lines = ["apiVersion: security.istio.io/v1", "kind: PeerAuthentication", "metadata:"]
    lines += [f"  name: {name}", f"  namespace: {ns}", "spec:"]
    if selector:
        lines += ["  selector:", "    matchLabels:"] + [f"      {k}: {v}" for k, v in sorted(selector.items())]
    lines += ["  mtls:", "    mode: STRICT"]
    return "\n".join(lines) + "\n"


def _findings(namespaces: list[NamespaceMtls], r: MtlsResolver) -> list[MtlsFinding]:
    out: list[MtlsFinding] = []
    for n in namespaces:
        blocked = False
        for w in n.workloads:
            callers = tuple(w.plaintext_callers())
            if not callers:
                continue
            names = ", ".join(c.name for c in callers)
            if w.mode.mode == PERMISSIVE:
                blocked = True
                out.append(
                    MtlsFinding(
                        "blocks-strict",
                        n.namespace,
                        w.workload,
                        w.mode,
                        f"{n.namespace}/{w.workload} received plain text from {names}; switching it to STRICT "
                        "would reject these callers: make them send mTLS first (a sidecar, and no DestinationRule "
                        "with tls mode DISABLE towards it)",
                        callers,
                    )
                )
            elif w.mode.mode == STRICT:
                out.append(
                    MtlsFinding(
                        "will-break",
                        n.namespace,
                        w.workload,
                        w.mode,
                        f"{n.namespace}/{w.workload} is STRICT ({w.mode.decided_by or w.mode.level}) but received "
                        f"plain-text or unknown-source traffic from {names}; those calls fail under STRICT",
                        callers,
                    )
                )
        modes = {w.mode.mode for w in n.workloads}
        if (
            n.mode.mode == PERMISSIVE
            and not blocked
            and n.inbound.above_floor
            and n.inbound.all_mtls
            and DISABLE not in modes
        ):
            out.append(
                MtlsFinding(
                    "ready-for-strict",
                    n.namespace,
                    None,
                    n.mode,
                    f"namespace {n.namespace} is PERMISSIVE ({n.mode.decided_by or 'Istio default'}) and all its "
                    f"inbound traffic in the window was mutual TLS ({_amount(n.inbound)}): apply a namespace-wide "
                    "STRICT PeerAuthentication",
                    apply=_pa_yaml(n.namespace),
                )
            )
        elif n.mode.mode != PERMISSIVE or blocked:
            for w in n.workloads:
                if w.mode.level != "workload" or w.mode.mode != PERMISSIVE:
                    continue
                pa = r.workload_pa(w.namespace, w.labels)
                if pa is not None and w.inbound.above_floor and w.inbound.all_mtls:
                    out.append(
                        MtlsFinding(
                            "ready-for-strict",
                            n.namespace,
                            w.workload,
                            w.mode,
                            f"{n.namespace}/{w.workload} is PERMISSIVE ({w.mode.decided_by}) and all its inbound "
                            f"traffic in the window was mutual TLS ({_amount(w.inbound)}): set its policy to STRICT",
                            apply=_pa_yaml(n.namespace, match_labels(pa), pa.name),
                        )
                    )
    order = {"will-break": 0, "blocks-strict": 1, "ready-for-strict": 2}
    out.sort(key=lambda f: (order[f.kind], f.namespace, f.workload or ""))
    return out


def _amount(s: Share) -> str:
    parts = []
    if s.requests > 0:
        parts.append(f"{s.requests:,.0f} requests")
    if s.tcp_bytes > 0:
        parts.append(f"{s.tcp_bytes:,.0f} TCP bytes")
    return ", ".join(parts) or "no traffic"
