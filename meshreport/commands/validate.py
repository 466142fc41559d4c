"""`meshreport validate (SNAPSHOT | -f PATH... | --context C)`: mesh config findings for CI.

Exit code 3 when a finding is at or above --fail-on, in every --format (istio#35054 lesson);
--show only changes what is listed. Machine formats keep stdout clean; the summary goes to stderr.
With --baseline SNAP, findings the baseline had are existing debt: --fail-on-new gates only on
new ones, and every format marks new versus existing.
"""

from __future__ import annotations

import click

from meshreport import pipeline
from meshreport.cli import cli
from meshreport.errors import FindingsError, UsageError
from meshreport.output import write_output
from meshreport.visible import one_line


@cli.command("validate")
@click.argument("snapshot", required=False)
@click.option(
    "-f", "--filename", "files", multiple=True, metavar="PATH", help="YAML file, folder (recursive) or - for stdin."
)
@click.option("--context", "contexts", multiple=True, help="Kubernetes context to read config from (repeatable).")
@click.option("--kubeconfig", type=click.Path(), help="Kubeconfig file for --context.")
@click.option("--in-cluster", is_flag=True, help="Read config with the pod's service account.")
@click.option("-n", "--namespace", "namespaces", multiple=True, help="Only these namespaces when reading a cluster.")
@click.option("--secret-names", is_flag=True, help="Also read Secret names (for gateway credential checks).")
@click.option(
    "--gateway-certs",
    is_flag=True,
    help="Also read the Secrets Gateways reference and check their certificates (IST0161); only derived facts "
    "are kept, never the data. Implies --secret-names.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(pipeline.FINDINGS_FORMATS),
    default="text",
    show_default=True,
    help="Output format.",
)
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
    "--mesh-config",
    type=click.Path(),
    help="MeshConfig YAML (like istioctl --meshConfigFile), an istio ConfigMap, or a MeshNetworks YAML "
    "(top-level `networks`, checked by IST0126).",
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
@click.option("--config", "config_file", type=click.Path(), help="Config file (validation.suppressions).")
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
    type=click.Path(),
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

    settings = Settings.load(config_file=config_file)
    kube = {
        "kubeconfig": kubeconfig,
        "in_cluster": in_cluster,
        "namespaces": namespaces,
        "secret_names": secret_names,
        "gateway_certs": gateway_certs,
        "timeout": settings["kubernetes.timeout"],
        "deadline": settings["deadline"],
    }
    rules = pipeline.suppressions(settings, suppress)
    objects, now, gaps = pipeline.config_objects(snapshot, files, contexts, kube)
    for g in gaps:
        where = "/".join(x for x in (g.cluster, g.namespace) if x)
        click.echo(
            one_line(f"meshreport: warning: not collected: {g.what}{f' ({where})' if where else ''}: {g.reason}"),
            err=True,
        )
    _check_enable(enable)
    if (fail_on_new or fail_on_regression) and baseline is None:
        raise UsageError("--fail-on-new and --fail-on-regression need --baseline SNAP")
    if fail_on_regression and snapshot is None:
        raise UsageError("--fail-on-regression compares traffic: give a SNAPSHOT (with metrics), not -f or --context")

    def run_checks(objs, at: float | None):
        return pipeline.findings(
            objs, mesh_config=mesh_config, suppressions=rules, annotations=not ignore_annotations, enable=enable, now=at
        )

    result = run_checks(objects, now)
    marks = pipeline.baseline_marks(baseline, result, run_checks) if baseline is not None else None
    write_output(
        output, pipeline.findings_text(result, fmt, show=show, show_suppressed=show_suppressed, baseline=marks)
    )
    if fmt not in ("text", "markdown") or output != "-":
        click.echo(pipeline.summary_line(result), err=True)
        if marks is not None:
            click.echo(f"Baseline: {marks.summary(result)}", err=True)
        for e in result.expired:
            click.echo(f"meshreport: warning: suppression {e.code}={e.resource} expired on {e.expires}", err=True)
    if fail_on_new and click.get_current_context().get_parameter_source("fail_on").name == "DEFAULT":
        fail_on = "none"  # gating on new findings: the existing debt does not fail the build
    reasons = []
    if result.fails(fail_on):
        n = sum(1 for f in result.active if pipeline.at_or_above(f.severity, fail_on))
        reasons.append(f"{n} finding{'s' if n != 1 else ''} at or above --fail-on {fail_on}")
    if marks is not None and fail_on_new and fail_on_new != "none":
        n = sum(1 for f in result.active if marks.state(f) == "new" and pipeline.at_or_above(f.severity, fail_on_new))
        if n:
            reasons.append(f"{n} new finding{'s' if n != 1 else ''} at or above --fail-on-new {fail_on_new}")
    if fail_on_regression:
        reasons += _regressions(baseline, snapshot, settings)
    if reasons:
        raise FindingsError("; ".join(reasons))
    return 0


def _regressions(baseline: str, snapshot: str, settings) -> list[str]:
    found = pipeline.compare_files(baseline, snapshot, settings).regressions()
    for r in found:
        click.echo(one_line(f"regression: {pipeline.change_line(r)}"), err=True)
    if not found:
        return []
    return [f"{len(found)} regression{'s' if len(found) != 1 else ''} since the baseline beyond the thresholds"]


def _check_enable(codes: tuple[str, ...]) -> None:
    """--enable names only opt-in rules: a typo must not pass silently."""
    optional = pipeline.optional_rules()
    for c in codes:
        if c not in optional:
            known = ", ".join(sorted(optional)) or "none"
            raise UsageError(f"--enable {c}: not an opt-in rule (opt-in rules: {known})")
