"""One page per app, workload and service of the graph (what the graph type draws): its traffic in and
out with every number, its health and why, the Istio objects that apply to it, its findings, its mTLS
and deep links into Kiali, Grafana and Jaeger for the same window.

File names come from cluster names, so each is reduced to `[A-Za-z0-9._-]` and, when that lost
anything or two names would meet (also ignoring case), gets a short hash of the node id: no name can
leave `services/<namespace>/`, overwrite another page or carry markup into a path.

Pages are lean on purpose (a 10,000-workload mesh has 10,000 of them): one short navigation, shared
CSS, no repeated explanations; the overview and namespace pages explain the columns.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from meshreport.graph.model import TrafficGraph
from meshreport.report import format as fmt
from meshreport.report.deep_links import DeepLink, LinkBases, node_links
from meshreport.report.edges import EdgeRow
from meshreport.report.findings import FindingRow
from meshreport.report.findings import row as finding_row

#: Node types that get a page (the graph type decides which of them the graph has).
PAGE_TYPES = {"app": "app", "workload": "wl", "service": "svc"}
PAGES_DIR = "services"
#: Controller kinds whose findings belong on a workload's page (findings name the controller).
_WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod")
#: The mTLS comparison's findings (validation/traffic.py): shown in the page's Mutual TLS block.
MTLS_CODES = ("MR0101", "MR0102", "MR0103")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX = 80


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def safe_names(items: Iterable[tuple[str, str]], max_len: int = _MAX) -> dict[str, str]:
    """(key, wanted name) -> key: a file-name-safe name, unique ignoring case.

    A name that had to change (unsafe characters, too long, empty, leading dots) or that meets
    another one gets `-<hash of the key>`, so it never collides and never becomes `.` or `..`."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for key, wanted in sorted(items, key=lambda kv: kv[0]):
        base = _UNSAFE.sub("_", wanted).strip("._-")[:max_len] or "_"
        name = base
        if base != wanted or base.lower() in taken:
            name = f"{base}-{_short_hash(key)}"
        while name.lower() in taken:  # a hash suffix met a real name: hash again
            name = f"{base}-{_short_hash(name + key)}"
        taken.add(name.lower())
        out[key] = name
    return out


def page_paths(graph: TrafficGraph, namespaces: list[str]) -> dict[str, str]:
    """Node id -> `services/<ns>/<type>-<name>.html` for every app, workload and service node of the
    report's namespaces."""
    wanted = set(namespaces)
    dirs = safe_names((ns, ns) for ns in namespaces)
    by_ns: dict[str, list[tuple[str, str]]] = {}
    for nid, n in graph.nodes.items():
        prefix = PAGE_TYPES.get(n.node_type)
        if prefix is None or n.namespace not in wanted:
            continue
        name = n.label if n.node_type != "app" else f"{n.app}-{n.version}" if n.version else n.app
        by_ns.setdefault(n.namespace, []).append((nid, f"{prefix}-{name}"))
    out: dict[str, str] = {}
    for ns, items in by_ns.items():
        for nid, name in safe_names(items).items():
            out[nid] = f"{PAGES_DIR}/{dirs[ns]}/{name}.html"
    return out


@dataclass(frozen=True)
class ObjectLine:
    kind: str
    namespace: str
    name: str
    why: str


@dataclass
class NodeMtls:
    """What a page says about mutual TLS: configured mode per workload, share seen, mTLS findings."""

    #: report.mtls.ModeRow per workload (the Mutual TLS section's rows, so both say the same)
    modes: list[Any] = field(default_factory=list)
    request_share: str = "–"
    tcp_share: str = "–"
    #: report.mtls.FindingView: Ready for STRICT / Blocks STRICT / Will break with the callers
    findings: list[Any] = field(default_factory=list)
    traffic_collected: bool = False


@dataclass
class ServicePage:
    node_id: str
    path: str
    #: The node's row (name, kind, health with its reason, rates, sparklines): model.NodeRow.
    row: Any
    ns_page: str | None
    inbound: list[EdgeRow] = field(default_factory=list)
    outbound: list[EdgeRow] = field(default_factory=list)
    objects: list[ObjectLine] = field(default_factory=list)
    #: False when the snapshot holds no config: nothing can be said about Istio objects or findings.
    config_collected: bool = False
    findings: list[FindingRow] = field(default_factory=list)
    mtls: NodeMtls | None = None
    links: list[DeepLink] = field(default_factory=list)

    @property
    def folder(self) -> str:
        """The page's folder, for links to pages next to it."""
        return self.path.rsplit("/", 1)[0] + "/"


def _by_rate(rows: list[EdgeRow]) -> list[EdgeRow]:
    return sorted(rows, key=lambda r: (r.protocol == "tcp", -r.rate, r.source.name, r.dest.name))


def _findings_index(validation: Any) -> dict[tuple[str, str, str], list[FindingRow]]:
    out: dict[tuple[str, str, str], list[FindingRow]] = {}
    if validation is None:
        return out
    for f in validation.active:
        if f.code in MTLS_CODES:
            continue  # the page's Mutual TLS block shows them, with their callers
        out.setdefault((f.kind, f.namespace or "", f.name), []).append(finding_row(f))
    return out


def _object_keys(node: Any, config: Any) -> list[tuple[str, str, str]]:
    keys = [(o.kind, o.namespace, o.name) for o in (config.objects if config is not None else ())]
    ns = node.namespace
    if node.node_type == "service":
        keys += [("Service", ns, node.service), ("ServiceEntry", ns, node.service)]
    workloads = list(config.workloads) if config is not None else []
    if node.node_type == "workload" and node.workload and node.workload not in workloads:
        workloads.append(node.workload)
    keys += [(k, ns, w) for w in workloads for k in _WORKLOAD_KINDS]
    return keys


def _share(parts: Iterable[tuple[float, float]]) -> str:
    total = secured = 0.0
    for amount, pct in parts:
        total += amount
        secured += amount * pct / 100.0
    return fmt.pct(secured / total * 100.0) if total > 0 else "–"


def _node_mtls(
    node: Any, config: Any, analysis: Any, inbound: list[EdgeRow], configs: dict, backends: list[str]
) -> NodeMtls | None:
    """Configured mode and findings from Analysis.mtls and node_config; shares from the window's traffic."""
    # imported here: report.mtls imports the model, which imports this module
    from meshreport.report.mtls import _finding, active_findings

    a = getattr(analysis, "mtls", None)
    view = NodeMtls(traffic_collected=bool(a is not None and a.traffic_collected))
    workloads = list(config.workloads) if config is not None else ([node.workload] if node.workload else [])
    if node.node_type == "service":
        # A service's mode is its backends': the workload nodes its edges reach.
        for nid in backends:
            c = configs.get(nid)
            for w, mode in c.modes if c is not None else ():
                if w and all(r.name != w for r in view.modes):
                    view.modes.append(_mode_row(w, mode))
    elif config is not None:
        view.modes = [_mode_row(w or f"namespace {node.namespace}", m) for w, m in config.modes]
    traffic = []
    if a is not None:
        wanted = set(workloads)
        for n in a.namespaces:
            if n.namespace != node.namespace:
                continue
            traffic = [w for w in n.workloads if w.workload in wanted]
        # Workload findings only (the namespace page carries the namespace's own, with its YAML); a
        # suppressed one is left out, as in the Mutual TLS section.
        found, _ = active_findings(a, getattr(analysis, "validation", None), [node.namespace])
        view.findings = [_finding(f) for f in found if f.workload in wanted]
    if traffic:
        view.request_share = _share((w.inbound.requests, w.inbound.request_share or 0.0) for w in traffic)
        view.tcp_share = _share((w.inbound.tcp_bytes, w.inbound.tcp_share or 0.0) for w in traffic)
    else:
        live = [r for r in inbound if r.mtls is not None and r.rate > 0]
        view.request_share = _share((r.rate, r.mtls or 0.0) for r in live if r.protocol != "tcp")
        view.tcp_share = _share((r.rate, r.mtls or 0.0) for r in live if r.protocol == "tcp")
    if not (view.modes or view.findings or view.request_share != "–" or view.tcp_share != "–"):
        return None
    return view


def _mode_row(name: str, mode: Any) -> Any:
    from meshreport.mtls_traffic import Share
    from meshreport.report.mtls import _row

    return _row(name, mode, Share())


def build_pages(
    graph: TrafficGraph,
    paths: dict[str, str],
    rows: dict[str, Any],
    touches: list[tuple[EdgeRow, str, str, str | None]],
    ns_pages: dict[str, str],
    analysis: Any,
    bases: LinkBases | None,
    window: Any,
) -> list[ServicePage]:
    """`touches`: each table row with the node ids it leaves from and arrives at (and the workload a
    folded service hop reaches)."""
    pages = {nid: ServicePage(nid, path, rows[nid], ns_pages.get(rows[nid].namespace)) for nid, path in paths.items()}
    for r, src, dst, via in touches:
        if src in pages:
            pages[src].outbound.append(r)
        if dst in pages:
            pages[dst].inbound.append(r)
        if via is not None and via in pages and via != dst:
            pages[via].inbound.append(r)
    configs = getattr(analysis, "node_config", None) or {}
    validation = getattr(analysis, "validation", None)
    findings = _findings_index(validation)
    collected = validation is not None or bool(configs)
    backends: dict[str, list[str]] = {}
    for e in graph.edges.values():
        if e.source in pages and graph.nodes[e.source].node_type == "service":
            backends.setdefault(e.source, []).append(e.dest)
    for nid, p in pages.items():
        node = graph.nodes[nid]
        config = configs.get(nid)
        p.inbound = _by_rate(p.inbound)
        p.outbound = _by_rate(p.outbound)
        p.config_collected = collected
        if config is not None:
            p.objects = [ObjectLine(o.kind, o.namespace, o.name, o.why) for o in config.objects]
        seen: set[int] = set()
        for key in _object_keys(node, config):
            for f in findings.get(key, ()):
                if id(f) not in seen:
                    seen.add(id(f))
                    p.findings.append(f)
        p.mtls = _node_mtls(node, config, analysis, p.inbound, configs, backends.get(nid, []))
        if bases is not None:
            p.links = node_links(bases, node, window)
    return [pages[nid] for nid in sorted(pages, key=lambda nid: paths[nid])]
