"""`meshreport synth`: write deterministic synthetic snapshots (and OpenMetrics) for samples,
tests and benchmarks, without a cluster."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import click

from meshreport import pipeline
from meshreport.cli import cli
from meshreport.errors import UsageError
from meshreport.output import open_output
from meshreport.snapshot.model import Window
from meshreport.synthetic import meshes, mtls_mix

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DEFAULT_END = "2024-01-01T01:00:00Z"


def parse_duration(text: str) -> int:
    """`90s`, `10m`, `1h`, `2d` or `1h30m` -> seconds."""
    parts = re.findall(r"(\d+)([smhd])", text.strip())
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        raise UsageError(f"invalid duration {text!r}: use e.g. 600s, 10m, 1h, 1d")
    seconds = sum(int(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise UsageError(f"invalid duration {text!r}: must be positive")
    return seconds


def parse_time(text: str) -> float:
    """Unix seconds or an ISO 8601 time (`2024-01-01T01:00:00Z`; no zone means UTC)."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"invalid time {text!r}: use unix seconds or e.g. 2024-01-01T01:00:00Z") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.timestamp()


def _outputs(output: str | None, om: str | None) -> None:
    if not output and not om:
        raise UsageError("nothing to write: give -o/--output FILE and/or --openmetrics FILE")


@cli.group(name="synth")
def synth_group() -> None:
    """Generate synthetic meshes: snapshots that need no cluster (same arguments, same bytes).

    \b
    Examples:
      meshreport synth bookinfo -o samples/bookinfo.mrsnap
      meshreport synth mesh --namespaces 5 --workloads 200 --seed 7 -o mesh.mrsnap
      meshreport synth mesh --namespaces 2 --workloads 10 --openmetrics istio.om
      meshreport synth mtls -o mtls.mrsnap
    """


@synth_group.command(name="bookinfo")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the snapshot (.mrsnap) here.")
@click.option(
    "--openmetrics",
    "om",
    type=click.Path(dir_okay=False),
    help="Also write the raw Istio counters as OpenMetrics text (for promtool tsdb create-blocks-from openmetrics).",
)
@click.option("--step", default=15, show_default=True, help="Sample interval of the OpenMetrics file, seconds.")
def bookinfo_cmd(output: str | None, om: str | None, step: int) -> None:
    """Istio's bookinfo sample with one hour of traffic ending 2024-01-01T01:00:00Z.

    This is how samples/bookinfo.mrsnap is made: `meshreport synth bookinfo -o samples/bookinfo.mrsnap`.
    """
    _outputs(output, om)
    if output:
        pipeline.save(meshes.bookinfo_snapshot(), output)
        click.echo(f"wrote {output}")
    if om:
        w = meshes.BOOKINFO_WINDOW
        with open_output(om, text=True) as fh:
            n = meshes.write_openmetrics(meshes.bookinfo_mesh(), fh, w.start, w.end, step=step)
        click.echo(f"wrote {om} ({n} series)")


@synth_group.command(name="mtls")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the snapshot (.mrsnap) here.")
@click.option(
    "--openmetrics",
    "om",
    type=click.Path(dir_okay=False),
    help="Also write the raw Istio counters as OpenMetrics text (for promtool tsdb create-blocks-from openmetrics).",
)
@click.option("--step", default=15, show_default=True, help="Sample interval of the OpenMetrics file, seconds.")
def mtls_cmd(output: str | None, om: str | None, step: int) -> None:
    """A mesh with mixed mTLS over one hour ending 2024-01-01T01:00:00Z: namespace shop PERMISSIVE with
    only mutual TLS (ready for STRICT), billing PERMISSIVE with a plain-text caller (jobs/nightly-export-v1),
    payments STRICT."""
    _outputs(output, om)
    if output:
        pipeline.save(mtls_mix.mtls_snapshot(), output)
        click.echo(f"wrote {output}")
    if om:
        w = mtls_mix.MTLS_WINDOW
        n = meshes.write_openmetrics(mtls_mix.mtls_mesh(), om, w.start, w.end, step=step)
        click.echo(f"wrote {om} ({n} series)")


@synth_group.command(name="mesh")
@click.option("--namespaces", default=5, show_default=True, type=click.IntRange(min=1), help="Application namespaces.")
@click.option(
    "--workloads", default=50, show_default=True, type=click.IntRange(min=1), help="Workloads over all namespaces."
)
@click.option("--seed", default=1, show_default=True, help="Random seed; the same seed gives the same mesh.")
@click.option("--window", "window_", default="1h", show_default=True, help="Window length, e.g. 10m, 1h, 1d.")
@click.option("--end", default=DEFAULT_END, show_default=True, help="Window end: unix seconds or ISO 8601.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the snapshot (.mrsnap) here.")
@click.option(
    "--openmetrics",
    "om",
    type=click.Path(dir_okay=False),
    help="Also write the raw Istio counters as OpenMetrics text (for promtool tsdb create-blocks-from openmetrics).",
)
@click.option("--step", default=15, show_default=True, help="Sample interval of the OpenMetrics file, seconds.")
def mesh_cmd(
    namespaces: int, workloads: int, seed: int, window_: str, end: str, output: str | None, om: str | None, step: int
) -> None:
    """A scalable mesh: front ends -> mid tiers -> back ends -> databases, ~5 calls per workload,
    cross-namespace calls, gRPC, TCP, external hosts, errors and a few workloads without sidecars."""
    _outputs(output, om)
    if workloads < namespaces:
        raise UsageError("--workloads must be at least --namespaces (one workload per namespace)")
    t_end = parse_time(end)
    window = Window(start=t_end - parse_duration(window_), end=t_end)
    mesh = meshes.scalable_mesh(namespaces, workloads, seed)
    if output:
        snap = meshes.snapshot(mesh, window, objects=meshes.scalable_objects(mesh, window))
        pipeline.save(snap, output)
        click.echo(f"wrote {output} ({len(mesh.workloads)} workloads, {len(mesh.flows)} flows)")
    if om:
        with open_output(om, text=True) as fh:
            n = meshes.write_openmetrics(mesh, fh, window.start, window.end, step=step)
        click.echo(f"wrote {om} ({n} series)")
