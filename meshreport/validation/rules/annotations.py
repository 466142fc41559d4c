"""Istio annotation rules (istioctl's annotations.K8sAnalyzer): unknown, misplaced, invalid and deprecated.

Checked on Namespaces, Services, Pods and Deployments, like istioctl. A Deployment's pod-template
annotations are checked as Pod annotations too, so files without Pods (CI) are covered.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterator

import yaml

from meshreport import safe_yaml
from meshreport.istio_names import INJECT, ISTIO_INIT_CONTAINER
from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import Context
from meshreport.validation.model import Hit
from meshreport.validation.registry import rule
from meshreport.validation.rules._annotation_table import BY_NAME, Annotation, is_istio_annotation

KINDS = ("Namespace", "Service", "Pod", "Deployment")
LOG_LEVELS = ("trace", "debug", "info", "warning", "warn", "error", "critical", "off")
QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")


def _annotation_sets(obj: ConfigObject) -> Iterator[tuple[str, str, dict[str, str], dict[str, str]]]:
    """(kind the annotations belong to, path, annotations, labels) for the object and a Deployment's template."""
    yield obj.kind, "metadata.annotations", obj.annotations, obj.labels
    if obj.kind == "Deployment":
        meta = (obj.spec.get("template") or {}).get("metadata") or {}
        yield "Pod", "spec.template.metadata.annotations", meta.get("annotations") or {}, meta.get("labels") or {}


def _istio(obj: ConfigObject, ctx: Context) -> list[tuple[str, str, str, str, dict[str, str]]]:
    """(kind, path, name, value, labels) for each Istio annotation, worked out once per object and run
    (five rules read them; the runner holds every object for the whole run, so its id is its own)."""
    memo: dict[int, list[tuple[str, str, str, str, dict[str, str]]]] = ctx.memo("annotations.istio", lambda _: {})
    found = memo.get(id(obj))
    if found is None:
        found = memo[id(obj)] = list(_istio_of(obj))
    return found


def _istio_of(obj: ConfigObject) -> Iterator[tuple[str, str, str, str, dict[str, str]]]:
    for kind, path, values, labels in _annotation_sets(obj):
        for name, value in sorted(values.items()):
            if is_istio_annotation(str(name)):
                yield kind, f"{path}.{name}", str(name), str(value), labels


def _applies(a: Annotation, kind: str) -> bool:
    return "Any" in a.kinds or kind in a.kinds


@rule(
    code="IST0108",
    kinds=KINDS,
    severity="warning",
    title="Unknown Istio annotation",
    doc="An annotation in an `*istio.io/` domain that Istio does not define, often a typo such as "
    "`sidecar.istio.io/injection`. It has no effect. Fix the name (see Istio's annotation reference).",
)
def unknown_annotation(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for _, path, name, _, _ in _istio(obj, ctx):
        if name not in BY_NAME:
            yield Hit(f"Unknown annotation: {name}", path=path)


@rule(
    code="IST0107",
    kinds=KINDS,
    severity="warning",
    title="Misplaced Istio annotation",
    doc="A known Istio annotation is set on a kind it does not apply to, so it is ignored: for example "
    "`sidecar.istio.io/inject` on a Deployment's own metadata instead of its pod template, or on a Service. "
    "Move it to the kind the annotation belongs on.",
)
def misplaced_annotation(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for kind, path, name, _, _ in _istio(obj, ctx):
        a = BY_NAME.get(name)
        if a is not None and not _applies(a, kind):
            yield Hit(f"Misplaced annotation {name}: can only be applied to {', '.join(a.kinds)}", path=path)


def _bool(v: str) -> bool:
    return v.lower() in ("true", "false", "1", "0", "yes", "no", "y", "n", "on", "off")


def _ports(v: str, star: bool = False) -> bool:
    if star and v.strip() == "*":
        return True
    items = [x.strip() for x in v.split(",") if x.strip()]
    return all(x.isdigit() and 0 < int(x) < 65536 for x in items)


def _cidrs(v: str, star: bool = False) -> bool:
    if star and v.strip() == "*":
        return True
    try:
        for x in (x.strip() for x in v.split(",") if x.strip()):
            ipaddress.ip_network(x, strict=False)
    except ValueError:
        return False
    return True


def _json(v: str) -> bool:
    try:
        json.loads(v)
    except ValueError:
        return False
    return True


def _yaml(v: str) -> bool:
    try:
        doc = safe_yaml.load(v, "annotation")
    except yaml.YAMLError:
        return False
    return doc is None or isinstance(doc, dict)


def _uint32(v: str) -> bool:
    return v.isdigit() and int(v) < 2**32


def _export_to(v: str) -> bool:
    return all(x.strip() for x in v.split(","))


VALIDATORS: dict[str, Callable[[str], bool]] = {
    "bool": _bool,
    "ports": _ports,
    "ports_or_star": lambda v: _ports(v, star=True),
    "cidrs": _cidrs,
    "cidrs_or_star": lambda v: _cidrs(v, star=True),
    "json": _json,
    "yaml": _yaml,
    "uint32": _uint32,
    "port_or_zero": lambda v: v.isdigit() and int(v) < 65536,
    "interception": lambda v: v in ("REDIRECT", "TPROXY", "NONE"),
    "log_level": lambda v: v.lower() in LOG_LEVELS,
    "quantity": lambda v: bool(QUANTITY.match(v.strip())),
    "export_to": _export_to,
}


@rule(
    code="IST0125",
    kinds=KINDS,
    severity="warning",
    title="Invalid Istio annotation value",
    doc="A known Istio annotation has a value its validator rejects (a port list with a non-number, a "
    "malformed CIDR, an unknown interception mode, proxy config that is not YAML...). The injector then "
    "ignores it or fails the pod. Fix the value.",
)
def invalid_annotation(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for kind, path, name, value, _ in _istio(obj, ctx):
        a = BY_NAME.get(name)
        if a is None or a.check is None or not _applies(a, kind):
            continue
        if not VALIDATORS[a.check](value):
            yield Hit(f"Invalid annotation {name}: {value!r} is not a valid value", path=path)


@rule(
    code="IST0135",
    kinds=KINDS,
    severity="info",
    title="Deprecated Istio annotation",
    doc="The annotation is deprecated and may stop working in a future Istio release; for "
    "`sidecar.istio.io/inject` use the label of the same name instead (not reported when the label is also "
    "set). Reported wherever it is set, also on a kind it does not apply to (which is IST0107 as well).",
)
def deprecated_annotation(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for _, path, name, _, labels in _istio(obj, ctx):
        a = BY_NAME.get(name)
        if a is None or not a.deprecated:
            continue  # deprecated wherever it is set, misplaced or not (istioctl checks this first)
        if name == INJECT and INJECT in labels:
            continue
        yield Hit(f"Annotation {name!r} has been deprecated and may not work in future Istio versions.", path=path)


# Annotations Istio itself writes (injection status, revision): never worth an alpha warning.
ALPHA_SKIPPED = ("sidecar.istio.io/status", "istio.io/rev", "galley.istio.io/analyze-suppress")
# Traffic-interception annotations do nothing on a pod without istio-init (CNI does the redirection).
INTERCEPTION_PREFIXES = ("traffic.sidecar.istio.io/", "sidecar.istio.io/interceptionMode")


def _has_istio_init(obj: ConfigObject) -> bool:
    return any(
        isinstance(c, dict) and c.get("name") == ISTIO_INIT_CONTAINER for c in obj.spec.get("initContainers") or ()
    )


@rule(
    code="IST0136",
    kinds=KINDS,
    severity="info",
    title="Alpha Istio annotation",
    doc="The annotation belongs to an alpha-maturity Istio feature: it may change or be removed without the "
    "usual deprecation period. Off by default, as in `istioctl analyze`; run it with `--enable IST0136`. "
    "Istio's own status and revision annotations are not reported, nor interception annotations on pods "
    "without `istio-init` (CNI).",
    default=False,
)
def alpha_annotation(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    cni_pod = obj.kind == "Pod" and not _has_istio_init(obj)
    for kind, path, name, _, _ in _istio(obj, ctx):
        a = BY_NAME.get(name)
        if a is None or a.status != "Alpha" or a.deprecated or not _applies(a, kind) or name in ALPHA_SKIPPED:
            continue
        if cni_pod and name.startswith(INTERCEPTION_PREFIXES):
            continue
        yield Hit(
            f"Annotation {name!r} is part of an alpha-phase feature and may be incompletely supported.", path=path
        )
