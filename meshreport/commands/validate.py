"""`meshreport validate (SNAPSHOT | -f PATH... | --context C)`: mesh config findings for CI.

Exit code 3 when a finding is at or above --fail-on, in every --format (istio#35054 lesson);
--show only changes what is listed. Machine formats keep stdout clean; the summary goes to stderr.
With --baseline SNAP, findings the baseline had are existing debt: --fail-on-new gates only on
new ones, and every format marks new versus existing.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from meshreport.cli import cli
from meshreport.errors import FindingsError, InputError, UsageError
from meshreport.report.machine import FORMATS, Baseline, render, summary_line
from meshreport.snapshot.model import ConfigObject


def _objects(
    snapshot: str | None, files: tuple[str, ...], contexts: tuple[str, ...], kube: dict
) -> tuple[list[ConfigObject], float | None]:
    """The objects to check and the time certificate expiry is judged against (a snapshot's window end;
    None, meaning now, for files and live clusters)."""
    sources = sum([snapshot is not None, bool(files), bool(contexts) or kube["in_cluster"]])
    if sources == 0:
        raise UsageError("nothing to validate: give a SNAPSHOT file, -f PATH (files, folders, -) or --context NAME")
    if sources > 1:
        raise UsageError("give only one of SNAPSHOT, -f PATH or --context/--in-cluster")
    if snapshot is not None:
        from meshreport.snapshot.store import read

        snap = read(snapshot)
        return snap.objects, snap.window.end
    if files:
        from meshreport.collect.manifests import load_paths

        return load_paths(list(files)), None
    from meshreport.collect.kubernetes import collect_config

    objects, gaps, _ = collect_config(
        list(contexts) or None,
        list(kube["namespaces"]) or None,
        in_cluster=kube["in_cluster"],
        kubeconfig=kube["kubeconfig"],
        secret_names=kube["secret_names"],
        gateway_certs=kube["gateway_certs"],
    )
    for g in gaps:
        where = "/".join(x for x in (g.cluster, g.namespace) if x)
        click.echo(
            f"meshreport: warning: not collected: {g.what}{f' ({where})' if where else ''}: {g.reason}", err=True
        )
    return objects, None


def _write(text: str, output: str) -> None:
    if output == "-":
        click.echo(text, nl=False)
        return
    target = Path(output)
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".", prefix=f".{target.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except OSError as e:
        raise InputError(f"cannot write {output}: {e.strerror or e}") from None


@cli.command("validate")
@click.argument("snapshot", required=False, type=click.Path(dir_okay=False))
@click.option(
    "-f", "--filename", "files", multiple=True, metavar="PATH", help="YAML file, folder (recursive) or - for stdin."
)
@click.option("--context", "contexts", multiple=True, help="Kubernetes context to read config from (repeatable).")
@click.option("--kubeconfig", type=click.Path(dir_okay=False), help="Kubeconfig file for --context.")
@click.option("--in-cluster", is_flag=True, help="Read config with the pod's service account.")
@click.option("-n", "--namespace", "namespaces", multiple=True, help="Only these namespaces when reading a cluster.")
@click.option("--secret-names", is_flag=True, help="Also read Secret names (for gateway credential checks).")
@click.option(
    "--gateway-certs",
    is_flag=True,
    help="Also read the Secrets Gateways reference and check their certificates (IST0161); only derived facts "
    "are kept, never the data. Implies --secret-names.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Output format.")
@click.option("-o", "--output", default="-", show_default=True, help="Write to FILE instead of stdout.")
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info", "none"]),
    default="error",
    show_default=True,
    help="Exit 3 when an unsuppressed finding is at or above this severity (every format).",
)
@click.option(
    "--show",
    type=click.Choice(["error", "warning", "info"]),
    default="info",
    show_default=True,
    help="Lowest severity listed (independent of --fail-on).",
)
@click.option(
    "--mesh-config", type=click.Path(dir_okay=False), help="MeshConfig YAML (like istioctl --meshConfigFile)."
)
@click.option(
    "-S",
    "--suppress",
    "suppress",
    multiple=True,
    metavar="CODE=Kind ns/name",
    help="Suppress a code for matching objects, `*` wildcards (repeatable), e.g. -S 'IST0101=VirtualService shop/*'.",
)
@click.option("--show-suppressed", is_flag=True, help="Also list suppressed findings.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="Config file (validation.suppressions).")
@click.option("--ignore-annotations", is_flag=True, help="Do not honour suppression annotations on objects.")
@click.option(
    "--enable",
    "enable",
    multiple=True,
    metavar="CODE",
    help="Also run an opt-in rule that is off by default, like istioctl's IST0136 AlphaAnnotation (repeatable).",
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False),
    help="Snapshot (.mrsnap) of an earlier run, validated the same way: its findings are existing, the others new.",
)
@click.option(
    "--fail-on-new",
    type=click.Choice(["error", "warning", "info", "none"]),
    default=None,
    help="With --baseline: exit 3 when a NEW finding is at or above this severity (--fail-on then defaults to none).",
)
@click.option(
    "--fail-on-regression",
    is_flag=True,
    help="With --baseline and a SNAPSHOT, both with metrics: exit 3 when health, error share, p95 or mTLS "
    "regressed beyond the compare thresholds (docs/compare.md).",
)
def validate_cmd(
    snapshot: str | None,
    files: tuple[str, ...],
    contexts: tuple[str, ...],
    kubeconfig: str | None,
    in_cluster: bool,
    namespaces: tuple[str, ...],
    secret_names: bool,
    gateway_certs: bool,
    fmt: str,
    output: str,
    fail_on: str,
    show: str,
    mesh_config: str | None,
    suppress: tuple[str, ...],
    show_suppressed: bool,
    config_file: str | None,
    ignore_annotations: bool,
    enable: tuple[str, ...],
    baseline: str | None,
    fail_on_new: str | None,
    fail_on_regression: bool,
) -> int:
    """Validate Istio config: the union of Kiali's KIA and istioctl analyze's IST checks.

    \b
    Input: a SNAPSHOT (.mrsnap), YAML with -f (files, folders, - for stdin),
    or a live cluster with --context / --in-cluster.
    Suppress with the galley.istio.io/analyze-suppress or kiali.io/ignore-validations
    annotations, -S CODE=Kind ns/name, or validation.suppressions in --config.
    Exit 3 when a finding is at or above --fail-on.

    \b
    Against a baseline (findings matched by code and object, not message):
      meshreport validate -f k8s/ --baseline last-good.mrsnap --fail-on-new warning
    exits 3 only for findings the baseline did not have; outputs mark them new.
    """
    from meshreport.settings import Settings
    from meshreport.validation import check
    from meshreport.validation import suppress as sup
    from meshreport.validation.meshconfig import MeshConfig

    kube = {
        "kubeconfig": kubeconfig,
        "in_cluster": in_cluster,
        "namespaces": namespaces,
        "secret_names": secret_names,
        "gateway_certs": gateway_certs,
    }
    cli_rules = [sup.parse_cli(s) for s in suppress]
    settings = Settings.load(config_file=config_file)
    config_rules = sup.from_config(settings.section("validation"), origin=settings.config_file or "config file")
    objects, now = _objects(snapshot, files, contexts, kube)
    mesh = MeshConfig.from_file(mesh_config) if mesh_config else None
    _check_enable(enable)
    if (fail_on_new or fail_on_regression) and baseline is None:
        raise UsageError("--fail-on-new and --fail-on-regression need --baseline SNAP")
    if fail_on_regression and snapshot is None:
        raise UsageError("--fail-on-regression compares traffic: give a SNAPSHOT (with metrics), not -f or --context")
    rules = [*config_rules, *cli_rules]

    def run_checks(objs: list[ConfigObject], at: float | None):
        return check(objs, mesh, rules, annotations=not ignore_annotations, enable=enable, now=at)

    result = run_checks(objects, now)
    marks = _baseline_marks(baseline, result, run_checks) if baseline is not None else None
    _write(render(result, fmt, show=show, show_suppressed=show_suppressed, baseline=marks), output)
    if fmt not in ("text", "markdown") or output != "-":
        click.echo(summary_line(result), err=True)
        if marks is not None:
            click.echo(f"Baseline: {marks.summary(result)}", err=True)
        for e in result.expired:
            click.echo(f"meshreport: warning: suppression {e.code}={e.resource} expired on {e.expires}", err=True)
    if fail_on_new and click.get_current_context().get_parameter_source("fail_on").name == "DEFAULT":
        fail_on = "none"  # gating on new findings: the existing debt does not fail the build
    reasons = []
    if result.fails(fail_on):
        n = sum(1 for f in result.active if f.severity in _at_or_above(fail_on))
        reasons.append(f"{n} finding{'s' if n != 1 else ''} at or above --fail-on {fail_on}")
    if marks is not None and fail_on_new and fail_on_new != "none":
        n = sum(1 for f in result.active if marks.state(f) == "new" and f.severity in _at_or_above(fail_on_new))
        if n:
            reasons.append(f"{n} new finding{'s' if n != 1 else ''} at or above --fail-on-new {fail_on_new}")
    if fail_on_regression:
        reasons += _regressions(baseline, snapshot, config_file)
    if reasons:
        raise FindingsError("; ".join(reasons))
    return 0


def _baseline_marks(path: str, result, run_checks) -> Baseline:
    """Validate the baseline snapshot's objects the same way and mark `result`'s findings new or existing."""
    from meshreport.compare import compare_findings
    from meshreport.snapshot.store import read

    base = read(path)
    if not base.objects:
        raise UsageError(f"--baseline {path}: the snapshot holds no config objects (metrics only); nothing to compare")
    diff = compare_findings(run_checks(base.objects, base.window.end).active, result.active)
    return Baseline.of(diff.new, len(diff.resolved))


def _regressions(baseline: str, snapshot: str, config_file: str | None) -> list[str]:
    from meshreport.commands._baseline import compare_files
    from meshreport.settings import Settings

    comparison = compare_files(baseline, snapshot, Settings.load(config_file=config_file))
    found = comparison.regressions()
    if not found:
        return []
    from meshreport.report.changes import change_line

    for r in found:
        click.echo(f"regression: {change_line(r)}", err=True)
    return [f"{len(found)} regression{'s' if len(found) != 1 else ''} since the baseline beyond the thresholds"]


def _check_enable(codes: tuple[str, ...]) -> None:
    """--enable names only opt-in rules: a typo must not pass silently."""
    from meshreport.validation.registry import all_rules

    optional = {r.code for r in all_rules() if not r.default}
    for c in codes:
        if c not in optional:
            known = ", ".join(sorted(optional)) or "none"
            raise UsageError(f"--enable {c}: not an opt-in rule (opt-in rules: {known})")


def _at_or_above(threshold: str) -> tuple[str, ...]:
    order = ("error", "warning", "info")
    return order[: order.index(threshold) + 1]
