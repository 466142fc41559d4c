"""Comparing with an earlier snapshot, shared by `diff`, `render --baseline` and `validate --baseline`.

Each side is read, analysed (graph, health, validation with the same settings) and reduced to
a `Digest` before the other is read, so two big snapshots never sit in memory together.
"""

from __future__ import annotations

import gc
from pathlib import Path

from meshreport.compare import Comparison, Thresholds, compare
from meshreport.digest import Digest, digest
from meshreport.settings import Settings
from meshreport.snapshot.model import Snapshot


def thresholds(settings: Settings) -> Thresholds:
    """The config file's `compare:` section, over the defaults."""
    return Thresholds.from_config(settings.section("compare"))


def analyse(
    snap: Snapshot,
    settings: Settings,
    *,
    graph_type: str = "versionedApp",
    inject_service_nodes: bool = True,
    mesh_config: Path | None = None,
    namespaces: list[str] | None = None,
) -> Digest:
    """The snapshot as the report analyses it (same graph options, health rules, suppressions)."""
    from meshreport.commands.graph import paused_gc
    from meshreport.commands.render import RenderOptions, build_graph_for_report, validate_snapshot
    from meshreport.health import rules_from_config

    options = RenderOptions(
        graph_type=graph_type,
        inject_service_nodes=inject_service_nodes,
        namespaces=namespaces,
        health_rules=rules_from_config(settings.section("health")),
    )
    with paused_gc():
        graph = build_graph_for_report(snap, options)
    return digest(snap, graph, validate_snapshot(snap, settings, mesh_config))


def digest_file(path: str | Path, settings: Settings, **kw) -> Digest:
    """Read and analyse one snapshot file; its snapshot and graph are freed before returning."""
    from meshreport.snapshot.store import read

    d = analyse(read(path), settings, **kw)
    gc.collect()
    return d


def compare_files(old: str | Path, new: str | Path, settings: Settings, **kw) -> Comparison:
    a = digest_file(old, settings, **kw)
    b = digest_file(new, settings, **kw)
    return compare(a, b, thresholds(settings))
