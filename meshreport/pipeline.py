"""The library API, one function per stage: load or collect a snapshot, analyse it, render
and publish the report. Commands, tests and benchmarks call these; docs/architecture.md draws
the stages and the imports they allow.

    snap = pipeline.load("mesh.mrsnap")                 # or pipeline.collect(settings, source)
    result = pipeline.analyse(snap, pipeline.AnalysisOptions())
    pipeline.render(snap, result, "report/")            # staged, then published atomically
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meshreport.analysis import Analysis, summarize
from meshreport.collect.config import CONFIG_NOT_COLLECTED, ConfigSource, counted_gaps, merge_config
from meshreport.deliver.publish import publish_dir as publish
from meshreport.errors import GapsError, MeshreportError, UsageError
from meshreport.graph.build import GraphOptions
from meshreport.graph.model import GRAPH_TYPES, TrafficGraph
from meshreport.report.changes import FORMATS as CHANGES_FORMATS
from meshreport.report.changes import change_line
from meshreport.report.changes import headline as changes_headline
from meshreport.report.changes import render as changes_text  # a comparison as text, json or markdown
from meshreport.report.findings import summary_text
from meshreport.report.machine import FORMATS as FINDINGS_FORMATS
from meshreport.report.machine import Baseline, summary_line
from meshreport.report.machine import render as findings_text  # findings in any of FINDINGS_FORMATS
from meshreport.settings import Settings, resolve_window
from meshreport.snapshot.keys import DEFAULT_AGGREGATE
from meshreport.snapshot.model import ConfigObject, Gap, Snapshot
from meshreport.validation.model import ValidationResult, at_or_above

if TYPE_CHECKING:
    from meshreport.compare import Comparison
    from meshreport.digest import Digest
    from meshreport.mesh_index import MeshIndex
    from meshreport.mtls_traffic import Floor as MtlsFloor
    from meshreport.mtls_traffic import MtlsAnalysis

__all__ = [
    "DEFAULT_AGGREGATE",
    "CONFIG_NOT_COLLECTED",
    "CHANGES_FORMATS",
    "FINDINGS_FORMATS",
    "GRAPH_FORMATS",
    "GRAPH_TYPES",
    "Analysis",
    "AnalysisOptions",
    "ConfigSource",
    "GraphOptions",
    "RenderOptions",
    "analyse",
    "at_or_above",
    "baseline_marks",
    "change_line",
    "changes_headline",
    "changes_text",
    "compare_analysis",
    "trend_points",
    "compare_files",
    "analysis_key",
    "digest_file",
    "digest_snapshot",
    "report_options",
    "trend_key",
    "last_runs",
    "check_gaps",
    "collect",
    "collect_metrics",
    "config_objects",
    "counted_gaps",
    "findings",
    "findings_text",
    "health_rules",
    "mtls_floor",
    "graph_text",
    "load",
    "load_snapshot",
    "merge_config",
    "optional_rules",
    "paused_gc",
    "publish",
    "render",
    "save",
    "summary_line",
    "summary_text",
    "suppressions",
]

#: What `graph_text` writes: meshreport's graph JSON, Kiali's cytoscape JSON, Graphviz source.
GRAPH_FORMATS = ("json", "cytoscape", "dot")


@contextmanager
def paused_gc() -> Iterator[None]:
    """Hold Python's cyclic GC while a snapshot is read, analysed (graph, mTLS, validation) or a
    digest unpickled: the one place it pauses.

    They create millions of small acyclic containers; the collector rescanning them made 10,000
    workloads cost 14x 1,000 (8.8x, linear, without it; benchmarks/graph_scale.py), and a 10,000-
    workload analysis for a diff 9.6 s of CPU instead of 6.3 s (5 full collections over the loaded
    snapshot, which freed ~130,000 objects: +17 MB at the peak). Nothing built here needs collecting
    before the end, so collection simply waits.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# --- Snapshot: read, or collect ----------------------------------------------------------------


def load(path: str | Path) -> Snapshot:
    """A snapshot file (`.mrsnap`); unreadable or malformed files are an InputError (exit 5)."""
    from meshreport.snapshot.store import read

    with paused_gc():
        return read(path)


def save(snapshot: Snapshot, path: str | Path) -> None:
    """Write a snapshot file (the store's current schema)."""
    from meshreport.snapshot.store import write

    write(snapshot, path)


def collect_metrics(settings: Settings, progress: Any = None) -> Snapshot:
    """A metrics snapshot straight from Prometheus for the settings' window (live `graph`/`render`)."""
    from meshreport.collect.prometheus import collect as collect_prometheus
    from meshreport.progress import Progress

    return collect_prometheus(settings, resolve_window(settings), progress=progress or Progress())


def _config_snapshot(settings: Settings, source: ConfigSource, namespaces: list[str] | None, window: Any, run: Any):
    """Config from the cluster (as `source` says) within the run's deadline and the request timeout."""
    from meshreport.collect import config

    return config.collect_config_snapshot(source, namespaces, window, request_timeout=_kube_timeout(settings), run=run)


def _kube_timeout(settings: Settings) -> float:
    timeout = settings["kubernetes.timeout"]
    if timeout is None or timeout <= 0:
        raise UsageError("--kubernetes-timeout must be more than 0")
    return float(timeout)


def collect(settings: Settings, source: ConfigSource, progress: Any = None, cluster: str | None = None) -> Snapshot:
    """The `meshreport snapshot` collection: metrics from Prometheus plus config as `source` says;
    a config-only snapshot of YAML files (`source.from_files`); or, with a `--prometheus` flag and
    files, metrics plus the files' config (objects owned by `cluster`, else the metrics' one cluster)."""
    from meshreport.collect import config
    from meshreport.collect.prometheus import collect as collect_prometheus
    from meshreport.progress import Progress

    progress = progress or Progress()
    window = resolve_window(settings)
    with_metrics = source.from_files and settings.origin("prometheus.url") == "flag"
    if cluster is not None and not with_metrics:
        raise UsageError("--cluster needs both --prometheus URL and --from-files PATH...")
    if with_metrics:
        return config.metrics_and_files(settings, window, progress, source.paths, cluster)
    if source.from_files:
        return config.config_snapshot_from_files(source.paths, now=window.end, window_s=window.duration)
    from meshreport.collect.prometheus import run_deadline

    run = run_deadline(settings)  # one deadline for the metrics and the config together
    _kube_timeout(settings)  # a bad value fails before minutes of collecting
    metrics = collect_prometheus(settings, window, progress=progress, run=run)
    namespaces = None if settings["all_namespaces"] or not settings["namespaces"] else list(settings["namespaces"])
    return merge_config(metrics, _config_snapshot(settings, source, namespaces, window, run))


def load_snapshot(path: Path | None, settings: Settings) -> Snapshot:
    """From the file, or live from Prometheus when `--prometheus` is given (never both)."""
    live = settings["prometheus.url"]
    if path is not None and live:
        raise UsageError("give either a SNAPSHOT file or --prometheus, not both")
    if path is None and not live:
        raise UsageError("missing SNAPSHOT (a .mrsnap file) or --prometheus URL")
    if path is not None:
        return load(path)
    with paused_gc():
        return collect_metrics(settings)


def slowest_requests(snap: Snapshot, n: int = 10) -> list[dict[str, Any]]:
    """The `n` slowest requests of a metrics collection (collector.metrics.requests), slowest first;
    empty for a snapshot that does not record them (older files, synthetic, config only)."""
    table = (snap.collector.get("metrics") or {}).get("requests")
    if not isinstance(table, dict) or not isinstance(table.get("rows"), list):
        return []
    cols = table.get("columns") or []
    rows = [dict(zip(cols, r, strict=False)) for r in table["rows"] if isinstance(r, list)]
    rows.sort(key=lambda r: -(r.get("seconds") or 0))
    return rows[:n]


def check_gaps(snap: Snapshot, max_gaps: int | None, kept: str = "the snapshot was still written") -> None:
    """GapsError (exit 4) when more than `max_gaps` gaps count (see `counted_gaps`); `kept` says
    what was written anyway."""
    gaps: list[Gap] = counted_gaps(snap)
    if max_gaps is not None and len(gaps) > max_gaps:
        first = gaps[0]
        where = f" in {first.namespace}" if first.namespace else ""
        raise GapsError(
            f"collection incomplete: {len(gaps)} gaps, more than --max-gaps {max_gaps} "
            f"(first: {first.what}{where}: {first.reason}); {kept}"
        )


def check_namespaces(snap: Snapshot, namespaces: Sequence[str] | None) -> None:
    """Asked-for namespaces the snapshot does not hold are a usage error, not an empty report."""
    missing = [ns for ns in namespaces or () if ns not in snap.namespaces]
    if missing:
        raise UsageError(
            f"namespace(s) {', '.join(missing)} not in the snapshot (it has: {', '.join(snap.namespaces)})"
        )


def config_objects(
    snapshot: str | None, files: Sequence[str], contexts: Sequence[str], kube: dict
) -> tuple[list[ConfigObject], float | None, list[Gap]]:
    """The config objects `validate` checks, the time certificate expiry is judged against (a
    snapshot's window end; None, meaning now, for files and live clusters) and what could not be read."""
    sources = sum([snapshot is not None, bool(files), bool(contexts) or kube["in_cluster"]])
    if sources == 0:
        raise UsageError("nothing to validate: give a SNAPSHOT file, -f PATH (files, folders, -) or --context NAME")
    if sources > 1:
        raise UsageError("give only one of SNAPSHOT, -f PATH or --context/--in-cluster")
    if snapshot is not None:
        snap = load(snapshot)
        return snap.objects, snap.window.end, []
    if files:
        from meshreport.collect.manifests import read_paths

        objects, skipped = read_paths(list(files))
        return objects, None, skipped
    from meshreport.collect.http import RunDeadline
    from meshreport.collect.kubernetes import collect_config

    objects, gaps, _ = collect_config(
        list(contexts) or None,
        list(kube["namespaces"]) or None,
        in_cluster=kube["in_cluster"],
        kubeconfig=kube["kubeconfig"],
        secret_names=kube["secret_names"],
        gateway_certs=kube["gateway_certs"],
        request_timeout=kube.get("timeout") or 60.0,
        run=RunDeadline(kube.get("deadline")),
    )
    return objects, None, gaps


# --- Analysis ----------------------------------------------------------------------------------


def suppressions(settings: Settings, cli: Sequence[str] = ()) -> list:
    """Suppression rules: the config file's `validation.suppressions`, then `-S CODE=Kind ns/name`
    flags. Every command that shows findings takes its rules from here."""
    from meshreport.validation import suppress as sup

    rules = sup.from_config(settings.section("validation"), origin=settings.config_file or "config file")
    return [*rules, *(sup.parse_cli(s) for s in cli)]


def optional_rules() -> set[str]:
    """Codes of the opt-in rules (off unless enabled, like istioctl's IST0136)."""
    from meshreport.validation.registry import all_rules

    return {r.code for r in all_rules() if not r.default}


def health_rules(settings: Settings) -> list:
    """The tolerances of the config file's `health: {rate: [...]}` section (Kiali's defaults when absent)."""
    from meshreport.health import rules_from_config

    return rules_from_config(settings.section("health"))


@dataclass
class AnalysisOptions:
    """How to analyse: the graph's options (Kiali's graph API) and how to validate config."""

    graph: GraphOptions = field(default_factory=GraphOptions)
    #: a node graph (`KIND:NAMESPACE/NAME[:VERSION]`) instead of the namespace graph
    node: str | None = None
    #: MeshConfig YAML (like istioctl --meshConfigFile); None = the snapshot's istio ConfigMap
    mesh_config: Path | None = None
    #: rules from `suppressions()`; annotations on objects are honoured unless `annotations` is False
    suppressions: list = field(default_factory=list)
    annotations: bool = True
    enable: Sequence[str] = ()
    #: False: graph only (`meshreport graph` shows no findings)
    validate: bool = True
    #: the mTLS comparison's traffic floors (`mtls_floor(settings)`); None = the documented defaults
    mtls_floor: MtlsFloor | None = None
    #: False: no configured-vs-seen mTLS analysis (a trend point never reads it; without validation nothing needs it)
    mtls: bool = True
    #: False: no per-node Istio objects (only the report's service pages read them; a digest never does)
    node_config: bool = True

    @classmethod
    def for_report(
        cls,
        graph_type: str = "versionedApp",
        inject_service_nodes: bool = True,
        namespaces: list[str] | None = None,
        health_rules: list | None = None,
        **kw: Any,
    ) -> AnalysisOptions:
        """The report's view: Kiali's default versioned-app graph with service nodes, every appender."""
        graph = GraphOptions(
            graph_type=graph_type,
            namespaces=namespaces,
            inject_service_nodes=inject_service_nodes,
            health_rules=health_rules,
        )
        return cls(graph=graph, **kw)

    def check(self) -> None:
        """Bad option values fail before anything is read or collected."""
        self.graph.validate()
        if self.node:
            from meshreport.graph.nodegraph import NodeRef

            NodeRef.parse(self.node)


def analyse(snapshot: Snapshot, options: AnalysisOptions | None = None) -> Analysis:
    """Graph (with health) and findings of one snapshot, built once for every output; the
    snapshot's config is indexed once (`MeshIndex`) and every analysis reads that index."""
    o = options or AnalysisOptions()
    o.check()
    with paused_gc():
        return _analyse(snapshot, o)


def _analyse(snapshot: Snapshot, o: AnalysisOptions) -> Analysis:
    from meshreport.mesh_index import MeshIndex

    written = snapshot
    guarded = None
    if snapshot.objects:  # the graph and mTLS read config too: only ever well-typed (validation.shape)
        from meshreport.validation.shape import guard_each

        guarded = guard_each(snapshot.objects)
        snapshot = replace(snapshot, objects=[shaped for shaped, _ in guarded])
    index = MeshIndex(snapshot.objects)
    graph = _graph(snapshot, o, index)
    mtls = _mtls(snapshot, o, index)
    validation = None
    if o.validate and snapshot.objects:
        from meshreport.validation.traffic import mtls_findings

        validation = findings(
            written.objects,  # the runner reports what the guard removed
            guarded=guarded,
            mesh_config=o.mesh_config,
            suppressions=o.suppressions,
            annotations=o.annotations,
            enable=o.enable,
            now=snapshot.window.end,
            extra=mtls_findings(mtls, snapshot.objects),
            index=index,
        )
    return Analysis.of(graph, validation, mtls, _node_config(snapshot, graph, o, index))


def _mtls(snapshot: Snapshot, o: AnalysisOptions, index: MeshIndex | None = None) -> MtlsAnalysis | None:
    """mTLS configured vs seen (meshreport.mtls_traffic), with the same mesh config as the findings."""
    from meshreport.mtls_traffic import analyse_mtls
    from meshreport.validation.meshconfig import MeshConfig

    if o.node or not o.mtls:
        return None
    mesh = MeshConfig.from_file(o.mesh_config) if o.mesh_config else None
    return analyse_mtls(snapshot, mesh, o.mtls_floor, index)


def mtls_floor(settings: Settings) -> MtlsFloor:
    """The traffic floors of the mTLS comparison: the config file's `mtls:` section, else the defaults."""
    from meshreport.mtls_traffic import Floor

    return Floor.from_config(settings.section("mtls"))


def _node_config(snapshot: Snapshot, graph: TrafficGraph, o: AnalysisOptions, index: Any = None) -> dict:
    """The Istio objects that apply to each node (meshreport.node_config), with the findings' mesh config."""
    from meshreport.node_config import node_config
    from meshreport.validation.meshconfig import MeshConfig

    if o.node or not o.node_config or not snapshot.objects:
        return {}
    return node_config(snapshot, graph, MeshConfig.from_file(o.mesh_config) if o.mesh_config else None, index)


def scoped(analysis: Analysis, namespaces: Sequence[str]) -> Analysis:
    """The analysis with only the findings about objects in `namespaces` (and cluster-scoped ones),
    for `render -n`: every count covers those namespaces. Validation saw every object, so
    references into other namespaces still resolved."""
    if analysis.validation is None:
        return analysis
    wanted = set(namespaces)
    kept = [f for f in analysis.validation.findings if _finding_namespace(f) in (wanted | {None})]
    validation = replace(analysis.validation, findings=kept)
    # everything else (mTLS, comparison, trend) stays as it was
    return replace(analysis, validation=validation, summary=summarize(analysis.graph, validation))


def _finding_namespace(f: Any) -> str | None:
    """The namespace a finding is about: a Namespace's own name (it has no namespace), else the object's."""
    return f.name if f.kind == "Namespace" else f.namespace


def _graph(snapshot: Snapshot, o: AnalysisOptions, index: MeshIndex | None = None) -> TrafficGraph:
    from meshreport.graph.build import build_graph

    if o.node:
        from meshreport.graph.nodegraph import NodeRef, node_graph

        return node_graph(snapshot, NodeRef.parse(o.node), o.graph, index)
    return build_graph(snapshot, o.graph, index)


def findings(
    objects: Sequence[ConfigObject],
    *,
    mesh_config: str | Path | None = None,
    suppressions: Sequence = (),
    annotations: bool = True,
    enable: Sequence[str] = (),
    now: float | None = None,
    extra: Sequence = (),
    index: MeshIndex | None = None,
    guarded: Sequence | None = None,
) -> ValidationResult:
    """Validate config objects and apply suppressions (annotations, then `suppressions`); `extra` are
    findings made from traffic (validation/traffic.py), suppressed like the rest. `index`: the
    MeshIndex of exactly these objects, when the caller has one; `guarded`: their `shape.guard_each`."""
    from meshreport.validation import check
    from meshreport.validation.meshconfig import MeshConfig

    mesh = MeshConfig.from_file(mesh_config) if mesh_config else None
    return check(
        objects,
        mesh,
        list(suppressions),
        annotations=annotations,
        enable=enable,
        now=now,
        extra=extra,
        index=index,
        guarded=guarded,
    )


# --- Outputs -----------------------------------------------------------------------------------


def graph_text(graph: TrafficGraph, fmt: str, box_by: Sequence[str] = (), gaps: Sequence[Gap] = ()) -> str:
    """The graph in one of GRAPH_FORMATS, as text.

    `gaps` (the snapshot's `counted_gaps`) say the graph may be incomplete: the JSON formats get a
    `gaps` list, DOT a comment line with their number (only when there are any, so a complete
    graph's text is unchanged)."""
    from meshreport.graph import export

    listed = [
        {"phase": g.phase, "what": g.what, "namespace": g.namespace, "cluster": g.cluster, "reason": g.reason}
        for g in gaps
    ]
    if fmt in ("cytoscape", "json"):
        doc = export.to_cytoscape(graph, list(box_by)) if fmt == "cytoscape" else export.to_json(graph)
        if listed:
            doc["gaps"] = listed
        return json.dumps(doc, indent=2) + "\n"
    if fmt == "dot":
        from meshreport.report.topology import graph_picture

        source = graph_picture(graph).source
        if listed:
            note = f"// incomplete: the snapshot has {len(listed)} gap(s); meshreport graph --format json lists them"
            source = note + "\n" + source
        return source
    raise UsageError(f"invalid graph format {fmt!r}: expected one of {', '.join(GRAPH_FORMATS)}")


@dataclass
class RenderOptions:
    """How the report looks; what it shows comes from the Analysis."""

    pdf: bool = True
    title: str = "Service mesh report"
    now: float | None = None  # generated-at; None = SOURCE_DATE_EPOCH or the wall clock
    #: the rules the analysis's health used (`health_rules()`); the report names the tolerance
    #: behind each unhealthy status with them
    health_rules: list | None = None
    #: Kiali, Grafana and Jaeger base URLs for the service pages' deep links (`link_bases()`)
    links: Any = None
    #: also write report.html: the whole site in one self-contained file (email, CI artifacts)
    single_file: bool = False


def render(snapshot: Snapshot, analysis: Analysis, out_dir: str | Path, options: RenderOptions | None = None) -> Path:
    """Render into a staging folder, then publish it atomically as `out_dir`.

    Returns the path of the published index.html. A failure at any step leaves an existing
    report in `out_dir` untouched.
    """
    from meshreport.report.build import write_report

    o = options or RenderOptions()
    target = Path(out_dir).absolute()
    with publish(target) as staging:
        write_report(
            snapshot,
            analysis,
            staging,
            pdf=o.pdf,
            title=o.title,
            now=o.now,
            health_rules=o.health_rules,
            links=o.links,
            single_file=o.single_file,
        )
    return target / "index.html"


LINK_SETTINGS = ("links.kiali", "links.grafana", "links.jaeger")


def link_bases(settings: Settings) -> Any:
    """The deep-link base URLs from the `links.*` settings (report.deep_links.LinkBases), None when none
    is set. Each must be an http(s) URL without credentials: it is printed into every service page."""
    from urllib.parse import urlsplit

    from meshreport.report.deep_links import LinkBases

    values: dict[str, str] = {}
    for key in LINK_SETTINGS:
        url = settings[key]
        if not url:
            continue
        try:
            parts = urlsplit(url)
            ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        except ValueError:
            ok, parts = False, None
        if not ok:
            raise UsageError(f"{key}: expected an http:// or https:// URL, got {url!r}")
        if parts is not None and (parts.username or parts.password):
            raise UsageError(f"{key}: must not contain credentials (it is written into every service page)")
        if parts is not None and (parts.query or parts.fragment):
            raise UsageError(f"{key}: give the base URL only, without ?query or #fragment")
        values[key.split(".", 1)[1]] = url
    if not values:
        return None
    dashboards = {
        k: settings[f"links.{k}"]
        for k in ("grafana_service_dashboard", "grafana_workload_dashboard")
        if settings[f"links.{k}"]
    }
    return LinkBases(**values, **dashboards)


# --- Comparison with an earlier snapshot (`diff`, `validate --baseline`) -----------------------
#
# Each side is read, analysed (graph, health, validation with the same settings) and reduced to a
# `Digest` before the other is read, so two big snapshots never sit in memory together.


def report_options(
    settings: Settings,
    *,
    graph_type: str = "versionedApp",
    inject_service_nodes: bool = True,
    mesh_config: Path | None = None,
    namespaces: list[str] | None = None,
    validate: bool = True,
    mtls: bool = True,
    node_config: bool = True,
) -> AnalysisOptions:
    """The report's analysis options from the settings (health rules, suppressions) and flags;
    `node_config=False` for a digest or a trend point, which never read the per-node objects."""
    return AnalysisOptions.for_report(
        mtls=mtls,
        node_config=node_config,
        graph_type=graph_type,
        inject_service_nodes=inject_service_nodes,
        namespaces=namespaces,
        health_rules=health_rules(settings),
        mesh_config=mesh_config,
        suppressions=suppressions(settings),
        validate=validate,
        mtls_floor=mtls_floor(settings),
    )


def analysis_key(options: AnalysisOptions, snapshot_file: Path | None = None) -> str:
    """What a stored digest was made from: the options that shape it, meshreport's version and
    (when given) the snapshot file's bytes. A stored digest is reused only under the same key."""
    import hashlib

    from meshreport import __version__
    from meshreport.digest_store import analysis_key as key

    def sha(path: Path | None) -> str | None:
        if path is None:
            return None
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        return h.hexdigest()

    g = options.graph
    return key(
        {
            "meshreport": __version__,
            "graph": [g.graph_type, g.inject_service_nodes, sorted(g.namespaces or [])],
            "health": repr(g.health_rules),
            "suppressions": repr(options.suppressions),
            "annotations": options.annotations,
            "enable": sorted(options.enable),
            "validate": options.validate,
            "mtls_floor": repr(options.mtls_floor),
            "mesh_config": sha(options.mesh_config),
            "snapshot": sha(snapshot_file),
        }
    )


def trend_key(options: AnalysisOptions) -> str:
    """What a run's stored trend point depends on: the graph's shape only (health and findings
    do not change requests, error share or p95)."""
    from meshreport import __version__
    from meshreport.digest_store import analysis_key as key

    g = options.graph
    return key({"meshreport": __version__, "trend": [g.graph_type, g.inject_service_nodes, sorted(g.namespaces or [])]})


def digest_snapshot(snap: Snapshot, settings: Settings, **kw: Any) -> Digest:
    """The snapshot as the report analyses it (same graph options, health rules, suppressions), with
    only what a digest reads: the appenders in `digest.APPENDERS`, no per-node Istio objects."""
    from meshreport.digest import APPENDERS, digest

    options = report_options(settings, node_config=False, **kw)
    options = replace(options, graph=replace(options.graph, appenders=list(APPENDERS)))
    with paused_gc():  # a digest is ~1 M small objects
        analysis = analyse(snap, options)
        return digest(snap, analysis.graph, analysis.validation)


def digest_file(path: str | Path, settings: Settings, **kw: Any) -> Digest:
    """One snapshot file as the report analyses it. A run of an archive keeps its digest beside its
    snapshot (`digest.json.gz`, written by `meshreport run`): when that digest was made from this
    very file with the same options it is read instead (no graph build, no validation). Otherwise
    the snapshot is read and analysed; its snapshot and graph are freed before returning."""
    stored = _stored_digest(Path(path), settings, **kw)
    if stored is not None:
        return stored
    d = _analysed_digest(path, settings, **kw)
    gc.collect()
    return d


def _stored_digest(path: Path, settings: Settings, **kw: Any) -> Digest | None:
    """The digest `meshreport run` kept beside this very snapshot, made with the same options; else None."""
    from meshreport.digest_store import FILE_NAME
    from meshreport.digest_store import read as read_digest

    beside = path.parent / FILE_NAME
    if beside.is_file() and path.is_file():
        return read_digest(beside, analysis_key(report_options(settings, **kw), path))
    return None


def _analysed_digest(path: str | Path, settings: Settings, **kw: Any) -> Digest:
    return digest_snapshot(load(path), settings, **kw)


def _analysed_doc(path: str | Path, settings: Settings, **kw: Any) -> dict[str, Any]:
    """The digest as the lists `digest.json.gz` holds (`digest_store.to_doc`): what a forked analysis
    sends back, pickled in half the time of the dataclasses."""
    from meshreport.digest_store import to_doc

    return to_doc(_analysed_digest(path, settings, **kw), "")


def compare_files(old: str | Path, new: str | Path, settings: Settings, **kw: Any) -> Comparison:
    """What changed from `old` to `new` (thresholds: the config file's `compare:` section).

    Two snapshots without stored digests are analysed at the same time, `old` in a forked process
    that sends back only its digest: a side is all CPU (read, graph, validation), so on two cores
    the pair takes about as long as one side. Errors are raised as they would be one after the other
    (`old`'s first)."""
    from meshreport.compare import Thresholds, compare
    from meshreport.digest_store import from_doc

    old, new = Path(old), Path(new)
    a, b = _stored_digest(old, settings, **kw), _stored_digest(new, settings, **kw)
    if a is None and b is None:
        wait = _forked(_analysed_doc, old, settings, **kw)
        try:
            b = _analysed_digest(new, settings, **kw)
        except (MeshreportError, OSError):
            wait()  # old's error, when it has one, is the one to tell
            raise
        except BaseException:
            wait.stop()
            raise
        with paused_gc():
            a = from_doc(wait())
    a = a if a is not None else digest_file(old, settings, **kw)
    b = b if b is not None else digest_file(new, settings, **kw)
    return compare(a, b, Thresholds.from_config(settings.section("compare")))


class _forked:
    """`fn(*args, **kw)` run in a forked child process; calling the instance waits for its result
    (pickled back through a pipe) or raises the exception it raised."""

    def __init__(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        self._recv, send = ctx.Pipe(duplex=False)

        def child() -> None:
            try:
                result: tuple[bool, Any] = (True, fn(*args, **kw))
            except BaseException as e:  # sent to the parent, which raises it
                result = (False, e)
            try:
                send.send(result)
            except Exception as e:  # an exception that does not pickle
                send.send((False, RuntimeError(f"{type(result[1]).__name__}: {result[1]} ({e})")))

        self._process = ctx.Process(target=child, daemon=True)
        self._process.start()
        send.close()

    def __call__(self) -> Any:
        try:
            with paused_gc():  # a digest is ~1 M small objects
                ok, value = self._recv.recv()
        except EOFError:
            self._process.join()
            raise RuntimeError(f"the analysis process ended without a result (exit {self._process.exitcode})") from None
        finally:
            self._recv.close()
        self._process.join()
        if not ok:
            raise value
        return value

    def stop(self) -> None:
        self._process.terminate()
        self._process.join()
        self._recv.close()


def compare_analysis(previous: Digest, snap: Snapshot, analysis: Analysis, settings: Settings) -> Analysis:
    """`analysis` with what changed since `previous` (`digest_file` of the previous report's
    snapshot, analysed with the same options); the report then opens with it."""
    from meshreport.compare import Thresholds, compare
    from meshreport.digest import digest

    current = digest(snap, analysis.graph, analysis.validation)
    return analysis.with_comparison(compare(previous, current, Thresholds.from_config(settings.section("compare"))))


def trend_points(
    archive: Path,
    runs: int,
    settings: Settings,
    snap: Snapshot | None = None,
    analysis: Analysis | None = None,
    **kw: Any,
) -> list:
    """One trend.RunPoint per run of the archive's newest `runs`, then this report's own when it is
    newer: oldest first. A run's stored `trend.json` (written by `meshreport run` with the same graph
    options) is read as it is; other runs' snapshots are read and their graphs built without
    validation, one at a time."""
    from meshreport.deliver.runs import last_runs as runs_of
    from meshreport.digest import digest
    from meshreport.digest_store import TREND_FILE, read_point
    from meshreport.trend import run_point

    options = report_options(settings, validate=False, mtls=False, node_config=False, **kw)
    key = trend_key(options)
    points = []
    for run in runs_of(archive, runs):
        stored = read_point(run.snapshot.parent / TREND_FILE, run.name, key) if run.snapshot.parent != archive else None
        if stored is not None:
            points.append(stored)
            continue
        one = load(run.snapshot)
        points.append(run_point(run.name, digest(one, analyse(one, options).graph, None)))
        del one
        gc.collect()
    if snap is not None and analysis is not None and (not points or snap.window.end > points[-1].end):
        points.append(run_point("this report", digest(snap, analysis.graph, None)))
    return points[-runs:]


def baseline_marks(path: str | Path, result: ValidationResult, run_checks: Callable) -> Baseline:
    """Validate the baseline snapshot's objects with `run_checks` (the same rules as `result`) and
    mark `result`'s findings new or existing."""
    from meshreport.compare import compare_findings

    base = load(path)
    if not base.objects:
        raise UsageError(f"--baseline {path}: the snapshot holds no config objects (metrics only); nothing to compare")
    diff = compare_findings(run_checks(base.objects, base.window.end).active, result.active)
    return Baseline.of(diff.new, len(diff.resolved))


def last_runs(archive: Path, n: int) -> list:
    """The newest `n` runs of a report archive (meshreport.deliver.runs), oldest first."""
    from meshreport.deliver.runs import last_runs as runs

    return runs(archive, n)


# --- Unattended runs: collect, analyse, render, publish, email (`meshreport run`, `send`) ------


@dataclass
class RunResult:
    """A published run: where its report is, its summary.json and the snapshot it was made from."""

    report: Path
    summary: dict[str, Any]
    snapshot: Snapshot
    #: what changed since the previous report (None: nothing to compare with, or not comparable)
    comparison: Comparison | None = None
    #: what the run wants said on stderr (a previous run that could not be compared, ...)
    warnings: list[str] = field(default_factory=list)


class Publisher:
    """Where a run goes: one folder replaced atomically (`output`), or a new run of an archive."""

    def __init__(self, output: str | None, archive: str | None, keep: int = 0) -> None:
        from meshreport.deliver.archive import Archive

        if bool(output) == bool(archive):
            raise UsageError("give exactly one of -o/--output DIR (one folder) or --archive DIR (dated runs)")
        self.output = Path(output).absolute() if output else None
        self.archive = Archive(archive) if archive else None
        self.keep = keep

    def check(self) -> None:
        """Refuse a wrong target before spending minutes collecting."""
        from meshreport.deliver.publish import check_target

        if self.archive is not None:
            self.archive.check()
        elif self.output is not None:
            check_target(self.output)

    def staging(self, window_end: float) -> Any:
        """A context manager yielding the staging folder; it is published on normal exit."""
        from meshreport.deliver.archive import run_id_for
        from meshreport.report.archive_page import render_index

        if self.archive is not None:
            return self.archive.new_run(run_id_for(window_end), keep=self.keep, index=render_index)
        assert self.output is not None
        return publish(self.output)

    def previous(self) -> tuple[str, Path] | None:
        """The archive's newest complete run (name, folder): what this run compares with by default."""
        if self.archive is None:
            return None
        runs = self.archive.runs()
        return (runs[-1].id, runs[-1].path) if runs else None

    def published(self) -> Path:
        if self.archive is not None:
            latest = self.archive.latest()
            assert latest is not None
            return self.archive.root / latest
        assert self.output is not None
        return self.output

    def kept(self) -> str:
        """What a failed run left in place, for its error message."""
        if self.archive is not None:
            latest = self.archive.latest()
            if latest is None:
                return f"nothing was published to {self.archive.root} (no earlier run)"
            return f"the previous report is untouched ({self.archive.root / 'latest'} -> {latest})"
        assert self.output is not None
        if (self.output / "index.html").is_file():
            return f"the previous report in {self.output} is untouched"
        return f"nothing was published to {self.output}"


def run_config_source(settings: Settings) -> ConfigSource:
    """Where `meshreport run` reads config, from its settings (every one also a MESHREPORT_* variable)."""
    files = tuple(settings["config.from_files"])
    src = ConfigSource(
        from_files=bool(files),
        paths=files,
        contexts=tuple(settings["kubernetes.contexts"]),
        kubeconfig=settings["kubernetes.kubeconfig"],
        in_cluster=settings["kubernetes.in_cluster"],
        secret_names=settings["kubernetes.secret_names"],
        gateway_certs=settings["kubernetes.gateway_certs"],
        skip=settings["config.skip"],
    )
    src.check()
    return src


def run_snapshot(settings: Settings, source: ConfigSource, progress: Any = None, path: Path | None = None) -> Snapshot:
    """`path`'s snapshot, or metrics from Prometheus plus config from the files or the cluster."""
    from meshreport.collect import config
    from meshreport.progress import Progress

    if path is not None:
        if settings["prometheus.url"]:
            raise UsageError("give either --from-snapshot FILE or --prometheus URL, not both")
        return load(path)
    if not settings["prometheus.url"]:
        raise UsageError("missing --prometheus URL (or MESHREPORT_PROMETHEUS_URL, or --from-snapshot FILE)")
    progress = progress or Progress()
    window = resolve_window(settings)
    with paused_gc():
        if source.from_files:
            snap = config.metrics_and_files(settings, window, progress, source.paths, None)
        else:
            from meshreport.collect.prometheus import collect as collect_prometheus
            from meshreport.collect.prometheus import run_deadline

            run = run_deadline(settings)
            _kube_timeout(settings)
            metrics = collect_prometheus(settings, window, progress=progress, run=run)
            wanted = settings["namespaces"]
            namespaces = None if settings["all_namespaces"] or not wanted else list(wanted)
            snap = merge_config(metrics, _config_snapshot(settings, source, namespaces, window, run))
    snap.collector["settings"] = settings.redacted()
    return snap


def run_report(
    settings: Settings,
    source: ConfigSource,
    publisher: Publisher,
    *,
    snapshot_file: Path | None = None,
    progress: Any = None,
) -> RunResult:
    """Collect (or load), analyse, compare with the previous report, write every file of the report
    into staging, publish it.

    The previous report is `baseline` when set, else the archive's newest run (its stored digest,
    or its snapshot analysed the same way). Gates (`fail_on`, `fail_on_regression`, `fail_on_new`)
    are judged and recorded in the summary; raising is the caller's choice. Any error leaves what
    was published before untouched; its message says what is kept.
    """
    from meshreport.digest import digest
    from meshreport.errors import MeshreportError
    from meshreport.report.gates import parse_gates

    gates = parse_gates(settings["fail_on"])
    fail_new = str(settings["fail_on_new"] or "none").lower()
    if fail_new not in ("error", "warning", "info", "none"):
        raise UsageError(f"--fail-on-new: expected error, warning, info or none, got {fail_new!r}")
    baseline = Path(settings["baseline"]) if settings["baseline"] else None
    if (settings["fail_on_regression"] or fail_new != "none") and baseline is None and publisher.archive is None:
        raise UsageError(
            "--fail-on-regression and --fail-on-new need a previous report: --baseline SNAP or --archive DIR"
        )
    trend_runs = settings["archive.trend_runs"]
    if trend_runs is None or trend_runs < 0:
        raise UsageError(f"--trend-runs: expected a number >= 0, got {trend_runs}")
    link_bases(settings)  # a bad link URL is a usage error before anything is collected
    mesh_config = Path(settings["mesh_config"]) if settings["mesh_config"] else None
    namespaces = list(settings["namespaces"]) or None
    options = report_options(
        settings, graph_type=settings["graph_type"], mesh_config=mesh_config, namespaces=namespaces
    )
    options.check()
    publisher.check()
    previous_run = publisher.previous()
    warnings: list[str] = []
    try:
        snap = run_snapshot(settings, source, progress, snapshot_file)
        if snapshot_file is not None:
            check_namespaces(snap, namespaces)
        analysis = analyse(snap, options)
        with paused_gc():
            current = digest(snap, analysis.graph, analysis.validation)
        comparison, previous = _previous_report(settings, options, current, baseline, previous_run, warnings)
        if comparison is not None:
            analysis = analysis.with_comparison(comparison)
        if publisher.archive is not None and trend_runs >= 2:
            analysis = analysis.with_trend(_run_trend(publisher, trend_runs, options, current, warnings))
        if namespaces:
            analysis = scoped(analysis, namespaces)
        with publisher.staging(snap.window.end) as staging:
            summary = _write_run(settings, snap, analysis, staging, gates, options, current, previous)
    except MeshreportError as e:
        e.message += f"; {publisher.kept()}"
        raise
    return RunResult(publisher.published(), summary, snap, analysis.comparison, warnings)


def _previous_report(
    settings: Settings,
    options: AnalysisOptions,
    current: Digest,
    baseline: Path | None,
    previous_run: tuple[str, Path] | None,
    warnings: list[str],
) -> tuple[Comparison | None, dict[str, Any]]:
    """What changed since the previous report, and what that report was (for summary.json).

    An explicit `baseline` that cannot be read or compared is an error, as with `render --baseline`.
    The archive's previous run is compared when it can be; when not (its snapshot is gone or
    unreadable, its window is newer, another graph type) the run goes on and says why."""
    from meshreport.compare import IncomparableError, Thresholds, compare
    from meshreport.errors import InputError

    thresholds = Thresholds.from_config(settings.section("compare"))
    kw: dict[str, Any] = {
        "graph_type": options.graph.graph_type,
        "inject_service_nodes": options.graph.inject_service_nodes,
        "mesh_config": options.mesh_config,
        "namespaces": options.graph.namespaces,
    }
    if baseline is not None:
        return compare(digest_file(baseline, settings, **kw), current, thresholds), {"baseline": baseline.name}
    if previous_run is None:
        return None, {"compared": False, "reason": "no previous run in the archive"}
    name, folder = previous_run
    info: dict[str, Any] = {"run": name}
    try:
        old = digest_file(folder / SNAPSHOT_FILE, settings, **kw)
        return compare(old, current, thresholds), info
    except (InputError, IncomparableError) as e:
        warnings.append(f"not compared with the previous run {name}: {e.message}")
        return None, {**info, "compared": False, "reason": e.message}


def _run_trend(publisher: Publisher, runs: int, options: AnalysisOptions, current: Digest, warnings: list[str]) -> list:
    """The archive's newest runs' trend points (stored, or built from their snapshots), then this run's."""
    from meshreport.deliver.runs import list_runs
    from meshreport.digest_store import TREND_FILE, read_point
    from meshreport.errors import InputError
    from meshreport.trend import run_point

    assert publisher.archive is not None
    key = trend_key(options)
    trend_options = replace(options, validate=False, mtls=False, node_config=False)
    points = []
    root = publisher.archive.root
    earlier = [r for r in list_runs(root) if r.snapshot.parent != root] if root.is_dir() else []
    for run in earlier[-(runs - 1) :]:
        point = read_point(run.snapshot.parent / TREND_FILE, run.name, key)
        if point is None:
            try:
                one = load(run.snapshot)
            except InputError as e:
                warnings.append(f"trends: run {run.name} left out: {e.message}")
                continue
            point = run_point(run.name, _digest_graph(one, trend_options))
            del one
            gc.collect()
        if point.end <= current.window.end:
            points.append(point)
    points.append(run_point("this report", current))
    return points[-runs:]


def _digest_graph(snap: Snapshot, options: AnalysisOptions) -> Digest:
    from meshreport.digest import digest

    return digest(snap, analyse(snap, options).graph, None)


SNAPSHOT_FILE = "snapshot.mrsnap"
CHANGES_FILE = "changes.json"


def _write_run(
    settings: Settings,
    snap: Snapshot,
    analysis: Analysis,
    staging: Path,
    gates: list,
    options: AnalysisOptions,
    current: Digest,
    previous: dict[str, Any],
) -> dict[str, Any]:
    from meshreport import digest_store
    from meshreport.report.build import write_report
    from meshreport.report.changes import changes_document
    from meshreport.report.gates import failed
    from meshreport.report.summary import build_summary, write_summary
    from meshreport.report.summary_md import FILE_NAME as MD_FILE
    from meshreport.report.summary_md import markdown_summary
    from meshreport.trend import run_point

    title, pdf = settings["title"], settings["pdf"]
    single = settings["single_file"]
    write_report(
        snap,
        analysis,
        staging,
        pdf=pdf,
        title=title,
        health_rules=options.graph.health_rules,
        links=link_bases(settings),
        single_file=single,
    )
    save(snap, staging / SNAPSHOT_FILE)
    (staging / SNAPSHOT_FILE).chmod(0o644)  # published with the report; secrets never reach a snapshot
    # what the next run compares with and draws its trend from, without re-analysing this snapshot
    digest_store.write(current, analysis_key(options, staging / SNAPSHOT_FILE), staging / digest_store.FILE_NAME)
    digest_store.write_point(run_point("", current), trend_key(options), staging / digest_store.TREND_FILE)
    files: dict[str, str | None] = {"html": "index.html", "pdf": "report.pdf" if pdf else None}
    files["singleFile"] = "report.html" if single else None
    files["snapshot"] = SNAPSHOT_FILE
    machine = (
        ("outputs.sarif", "sarif", "findings.sarif"),
        ("outputs.junit", "junit", "findings.xml"),
        ("outputs.codequality", "codequality", "gl-code-quality-report.json"),
    )
    comparison = analysis.comparison
    # findings outputs mark each finding new or existing against the previous report
    baseline = None
    if comparison is not None and comparison.findings is not None:
        f = comparison.findings
        baseline = Baseline.of(f.new, len(f.resolved), name="previous report")
    for key, fmt, name in machine:
        files[fmt] = None
        if settings[key]:
            result = analysis.validation or ValidationResult(findings=[])
            (staging / name).write_text(findings_text(result, fmt, baseline=baseline))
            files[fmt] = name
    files["markdown"] = MD_FILE if settings["outputs.markdown"] else None
    files["changes"] = None
    if comparison is not None:
        (staging / CHANGES_FILE).write_text(json.dumps(changes_document(comparison, previous), indent=1) + "\n")
        files["changes"] = CHANGES_FILE
    summary = build_summary(snap, analysis, title=title, files=files)
    summary["changes"] = _changes_summary(comparison, previous)
    reasons = failed(gates, summary) if gates else []
    reasons += _comparison_gate(comparison, settings["fail_on_regression"], str(settings["fail_on_new"]).lower())
    gate_texts = [g.text for g in gates]
    if settings["fail_on_regression"]:
        gate_texts.append("regression")
    if str(settings["fail_on_new"]).lower() != "none":
        gate_texts.append(f"new>={str(settings['fail_on_new']).lower()}")
    if gate_texts:
        summary["gate"] = {"failOn": gate_texts, "failed": bool(reasons), "reasons": reasons}
    write_summary(summary, staging)
    if settings["outputs.markdown"]:
        changes = changes_text(comparison, "markdown") if comparison is not None else None
        md = markdown_summary(summary, analysis.validation, changes=changes, baseline=baseline)
        (staging / MD_FILE).write_text(md)
    return summary


def _changes_summary(c: Comparison | None, previous: dict[str, Any]) -> dict[str, Any]:
    """summary.json's `changes`: what this report was compared with and the counts of what changed."""
    if c is None:
        return {"compared": False, "run": previous.get("run"), "baseline": previous.get("baseline"),
                "reason": previous.get("reason", "no previous report")}  # fmt: skip
    f = c.findings
    return {
        "compared": True,
        "run": previous.get("run"),
        "baseline": previous.get("baseline"),
        "headline": changes_headline(c),
        "regressions": len(c.regressions()),
        "improvements": len(c.improvements()),
        "newFindings": None if f is None else len(f.new),
        "resolvedFindings": None if f is None else len(f.resolved),
        "appeared": sum(p.change == "appeared" for p in c.presence),
        "disappeared": sum(p.change == "disappeared" for p in c.presence),
        "configChanges": None if c.config is None else len(c.config),
        "file": CHANGES_FILE,
    }


def _comparison_gate(c: Comparison | None, fail_on_regression: bool, fail_on_new: str) -> list[str]:
    """The reasons `--fail-on-regression` / `--fail-on-new` trip (nothing without a comparison)."""
    if c is None:
        return []
    out = []
    if fail_on_regression and c.regressions():
        n = len(c.regressions())
        out.append(f"{n} regression{'s' if n != 1 else ''} since the previous report")
    if fail_on_new != "none" and c.findings is not None:
        n = sum(1 for f in c.findings.new if at_or_above(f.severity, fail_on_new))
        if n:
            out.append(f"{n} new finding{'s' if n != 1 else ''} at or above {fail_on_new}")
    return out


def send_report(settings: Settings, report_dir: Path, summary: dict[str, Any] | None = None) -> list[str]:
    """Email the report in `report_dir` (its summary.json and PDF) as the `email.*` settings say;
    returns the recipients. DeliveryError (exit 6) when the server does not take it."""
    from email.utils import parseaddr

    from meshreport.deliver.smtp import SmtpOptions, send
    from meshreport.errors import InputError
    from meshreport.report.mail import compose
    from meshreport.report.summary import FILE_NAME, read_summary

    to = [a for a in settings["email.to"] if a]
    if not to:
        raise UsageError("no recipients: give --email-to ADDRESS (or MESHREPORT_EMAIL_TO, email.to)")
    for a in to:
        if "@" not in parseaddr(a)[1]:
            raise UsageError(f"email.to: {a!r} is not an email address")
    options = SmtpOptions.of(
        host=settings["email.smtp.host"],
        port=settings["email.smtp.port"],
        tls=settings["email.smtp.tls"],
        ca_file=settings["email.smtp.ca_file"],
        username=settings["email.smtp.username"],
        password=settings["email.smtp.password"],
        password_file=settings["email.smtp.password_file"],
        timeout=settings["email.smtp.timeout"],
    )
    if summary is None:
        summary = read_summary(report_dir / FILE_NAME)
        if summary is None:
            raise InputError(f"{report_dir}: no readable {FILE_NAME}; is it a report written by meshreport run?")
    msg = compose(
        summary,
        report_dir,
        sender=settings["email.from"],
        to=to,
        subject_template=settings["email.subject"],
        max_attachment=settings["email.max_attachment"],
        report_url=settings["email.report_url"],
    )
    send(msg, options)
    return to
