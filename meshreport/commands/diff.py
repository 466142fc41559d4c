"""`meshreport diff OLD NEW` (or `diff --archive DIR`): what changed between two snapshots.

Text for people, JSON for tools, Markdown for pull-request comments and job summaries. Exit 3
with `--fail-on-regression` or `--fail-on-new SEVERITY` when the change is worse than allowed.
"""

from __future__ import annotations

from pathlib import Path

import click

from meshreport import pipeline
from meshreport.cli import cli
from meshreport.errors import FindingsError, UsageError
from meshreport.output import write_output


def gate(comparison, fail_on_regression: bool, fail_on_new: str) -> str | None:
    """Why the run fails (exit 3), or None: regressions beyond the thresholds, new findings at or above a severity."""
    reasons = []
    if fail_on_regression and comparison.regressions():
        n = len(comparison.regressions())
        reasons.append(f"{n} regression{'s' if n != 1 else ''} beyond the thresholds")
    if fail_on_new != "none" and comparison.findings is not None:
        n = sum(1 for f in comparison.findings.new if pipeline.at_or_above(f.severity, fail_on_new))
        if n:
            reasons.append(f"{n} new finding{'s' if n != 1 else ''} at or above --fail-on-new {fail_on_new}")
    return "; ".join(reasons) or None


def _pair(old: Path | None, new: Path | None, archive: Path | None) -> tuple[Path, Path]:
    if archive is not None:
        if old is not None or new is not None:
            raise UsageError("give either OLD NEW or --archive DIR, not both")
        runs = pipeline.last_runs(archive, 2)
        if len(runs) < 2:
            raise UsageError(f"{archive}: only one run ({runs[0].name}); nothing to compare it with")
        return runs[0].snapshot, runs[1].snapshot
    if old is None or new is None:
        raise UsageError("missing snapshots: give OLD NEW (two .mrsnap files) or --archive DIR")
    return old, new


@cli.command("diff")
@click.argument("old", required=False, type=click.Path(path_type=Path))
@click.argument("new", required=False, type=click.Path(path_type=Path))
@click.option(
    "--archive",
    type=click.Path(file_okay=False, path_type=Path),
    help="Compare the two newest runs of this report archive instead of OLD NEW.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(pipeline.CHANGES_FORMATS),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option("-o", "--output", default="-", show_default=True, help="Write to FILE instead of stdout.")
@click.option(
    "--graph-type",
    type=click.Choice(pipeline.GRAPH_TYPES),
    default="versionedApp",
    show_default=True,
    help="Kiali graph type both snapshots are analysed with (nodes and edges compared).",
)
@click.option(
    "--inject-service-nodes/--no-inject-service-nodes",
    default=True,
    show_default=True,
    help="Service nodes between caller and workload, as in the report.",
)
@click.option(
    "--mesh-config",
    type=click.Path(path_type=Path),
    help="MeshConfig YAML for validating both snapshots [each snapshot's istio ConfigMap].",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(),
    help="Config file (compare thresholds, health, suppressions).",
)
@click.option(
    "--fail-on-regression", is_flag=True, help="Exit 3 when a health, error-share, latency or mTLS regression appears."
)
@click.option(
    "--fail-on-new",
    type=click.Choice(["error", "warning", "info", "none"]),
    default="none",
    show_default=True,
    help="Exit 3 when a finding not in OLD is at or above this severity.",
)
def diff_cmd(
    old: Path | None,
    new: Path | None,
    archive: Path | None,
    fmt: str,
    output: str,
    graph_type: str,
    inject_service_nodes: bool,
    mesh_config: Path | None,
    config_file: str | None,
    fail_on_regression: bool,
    fail_on_new: str,
) -> int:
    """Compare two snapshots: OLD (earlier) and NEW.

    \b
    Reports services, workloads and edges that appeared or disappeared; health
    transitions; error share, p95 latency and request rate moves beyond the
    thresholds (config file `compare:`, see docs/compare.md); edges whose mTLS
    share changed; findings new and resolved (matched by code and object);
    config objects added, removed or changed, field by field; and data gaps
    that differ. Snapshots whose windows differ are compared with a note; a
    NEW older than OLD is refused (exit 2).
    """
    from meshreport.settings import Settings

    settings = Settings.load(config_file=config_file)
    a, b = _pair(old, new, archive)
    comparison = pipeline.compare_files(
        a, b, settings, graph_type=graph_type, inject_service_nodes=inject_service_nodes, mesh_config=mesh_config
    )
    write_output(output, pipeline.changes_text(comparison, fmt))
    reason = gate(comparison, fail_on_regression, fail_on_new)
    if reason:
        raise FindingsError(reason)
    return 0
