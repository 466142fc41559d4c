"""`meshreport validate (SNAPSHOT | -f PATH... | --context C)`: mesh config findings for CI.

Exit code 3 when a finding is at or above --fail-on, in every --format (istio#35054 lesson);
--show only changes what is listed. Machine formats keep stdout clean; the summary goes to stderr.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from meshreport.cli import cli
from meshreport.errors import FindingsError, InputError, UsageError
from meshreport.report.machine import FORMATS, render, summary_line
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
        from meshreport.snapshot.manifests import load_paths

        return load_paths(list(files)), None
    from meshreport.snapshot.kubernetes import collect_config

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
) -> int:
    """Validate Istio config: the union of Kiali's KIA and istioctl analyze's IST checks.

    \b
    Input: a SNAPSHOT (.mrsnap), YAML with -f (files, folders, - for stdin),
    or a live cluster with --context / --in-cluster.
    Suppress with the galley.istio.io/analyze-suppress or kiali.io/ignore-validations
    annotations, -S CODE=Kind ns/name, or validation.suppressions in --config.
    Exit 3 when a finding is at or above --fail-on.
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
    result = check(
        objects, mesh, [*config_rules, *cli_rules], annotations=not ignore_annotations, enable=enable, now=now
    )
    _write(render(result, fmt, show=show, show_suppressed=show_suppressed), output)
    if fmt not in ("text", "markdown") or output != "-":
        click.echo(summary_line(result), err=True)
        for e in result.expired:
            click.echo(f"meshreport: warning: suppression {e.code}={e.resource} expired on {e.expires}", err=True)
    if result.fails(fail_on):
        n = sum(1 for f in result.active if f.severity in _at_or_above(fail_on))
        raise FindingsError(f"{n} finding{'s' if n != 1 else ''} at or above --fail-on {fail_on}")
    return 0


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
