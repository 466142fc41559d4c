"""Namespace rules: injection labels (IST0102/0123/0148) and proxy images left over from an upgrade (IST0158)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from meshreport.istio_names import SIDECAR_CONTAINER
from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import Context
from meshreport.validation.model import Hit
from meshreport.validation.registry import rule

NS = ("Namespace",)
# Namespaces the injector never touches (and istioctl's injection analyzer skips).
IGNORED = ("kube-system", "kube-public", "kube-node-lease", "local-path-storage", "istio-system")
PROXY_IMAGE_ANNOTATION = "sidecar.istio.io/proxyImage"
IMAGE_TYPE_ANNOTATION = "sidecar.istio.io/proxyImageType"


def _skipped(obj: ConfigObject, ctx: Context) -> bool:
    return obj.name in IGNORED or obj.name == ctx.mesh.root_namespace


def injector_values(ctx: Context) -> dict[str, dict[str, Any]]:
    """Revision ("" for the default) -> the `values` JSON of its istio-sidecar-injector ConfigMap."""

    def build(c: Context) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for cm in c.index.of_kind("ConfigMap"):
            if not cm.name.startswith("istio-sidecar-injector"):
                continue
            rev = cm.name[len("istio-sidecar-injector") :].lstrip("-")
            raw = (cm.body.get("data") or {}).get("values")
            try:
                values = json.loads(raw) if raw else {}
            except (TypeError, ValueError):
                values = {}
            out[rev] = values if isinstance(values, dict) else {}
        return out

    return ctx.memo("namespace.injector_values", build)


@rule(
    code="IST0123",
    kinds=NS,
    severity="warning",
    title="Namespace has conflicting injection labels",
    doc="The namespace carries injection labels that contradict each other: `istio-injection` together with "
    "`istio.io/rev`, or a sidecar injection label together with `istio.io/dataplane-mode=ambient`. Which one "
    "wins depends on the webhook configuration. Keep exactly one way of enrolling the namespace.",
)
def namespace_multiple_injection_labels(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if _skipped(obj, ctx):
        return
    labels = obj.labels
    found = [k for k in ("istio-injection", "istio.io/rev") if k in labels]
    if labels.get("istio.io/dataplane-mode") == "ambient" and (
        labels.get("istio-injection") == "enabled" or "istio.io/rev" in labels
    ):
        found.append("istio.io/dataplane-mode")
    if len(found) > 1:
        yield Hit(
            f"The namespace has more than one type of injection labels: {', '.join(found)}",
            path="metadata.labels",
        )


def _by_default(ctx: Context) -> bool:
    values = injector_values(ctx).get("", {})
    return bool((values.get("sidecarInjectorWebhook") or {}).get("enableNamespacesByDefault"))


def _unlabelled(obj: ConfigObject) -> bool:
    labels = obj.labels
    return (
        "istio-injection" not in labels
        and "istio.io/rev" not in labels
        and labels.get("istio.io/dataplane-mode") != "ambient"
    )


@rule(
    code="IST0102",
    kinds=NS,
    severity="info",
    title="Namespace is not enabled for Istio injection",
    doc="The namespace has neither `istio-injection` nor `istio.io/rev` (and is not Ambient), so its pods get "
    "no sidecar and are outside the mesh: no mTLS, no telemetry, no policies. Label it "
    "`istio-injection=enabled` (or a revision), or `istio-injection=disabled` to say it is deliberate.",
)
def namespace_not_injected(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if not _skipped(obj, ctx) and _unlabelled(obj) and not _by_default(ctx):
        yield Hit(
            f"The namespace is not enabled for Istio injection. Run 'kubectl label namespace {obj.name} "
            "istio-injection=enabled' to enable it, or 'kubectl label namespace "
            f"{obj.name} istio-injection=disabled' to explicitly mark it as not needing injection.",
            path="metadata.labels",
        )


@rule(
    code="IST0148",
    kinds=NS,
    severity="info",
    title="Namespace injection is enabled by default",
    doc="The namespace has no injection label, but the injector is configured with enableNamespacesByDefault, "
    "so its pods will be injected. Label it explicitly so the intent is visible.",
)
def namespace_injected_by_default(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if not _skipped(obj, ctx) and _unlabelled(obj) and _by_default(ctx):
        yield Hit(
            f"Namespace {obj.name!r} has no Istio injection labels and will be injected because "
            "enableNamespacesByDefault is set",
            path="metadata.labels",
        )


def _expected_image(values: dict[str, Any]) -> str | None:
    g = values.get("global") or {}
    image = str((g.get("proxy") or {}).get("image") or "")
    if not image:
        return None
    if "/" in image or ":" in image:
        return image
    hub, tag = str(g.get("hub") or ""), str(g.get("tag") or "")
    if not hub or not tag:
        return None
    return f"{hub}/{image}:{tag}"


def _mismatches(ctx: Context) -> dict[str | None, tuple[str, list[str]]]:
    """Namespace -> (expected image, pods whose istio-proxy image differs)."""
    injectors = injector_values(ctx)
    mesh_type = str(((ctx.mesh.raw.get("defaultConfig") or {}).get("image") or {}).get("imageType") or "")
    out: dict[str | None, tuple[str, list[str]]] = {}
    bad: dict[str | None, list[str]] = defaultdict(list)
    expected_by_ns: dict[str | None, str] = {}
    for w in ctx.index.workloads:
        if not w.is_pod or PROXY_IMAGE_ANNOTATION in w.annotations:
            continue
        inj = ctx.index.namespace_injection(w.namespace)
        if inj == "enabled":
            rev = ""
        elif inj == "rev":
            rev = ctx.index.namespace_labels.get(w.namespace or "", {}).get("istio.io/rev", "")
        else:
            continue
        expected = _expected_image(injectors.get(rev, {}))
        if not expected:
            continue
        proxy = next((c for c in w.containers if c.get("name") == SIDECAR_CONTAINER), None)
        if proxy is None:
            continue
        image_type = str(w.annotations.get(IMAGE_TYPE_ANNOTATION) or mesh_type)
        accepted = {expected}
        if image_type and image_type != "default":
            accepted.add(f"{expected}-{image_type}")
        if str(proxy.get("image") or "") not in accepted:
            bad[w.namespace].append(w.obj.name)
            expected_by_ns[w.namespace] = expected
    for ns, pods in bad.items():
        out[ns] = (expected_by_ns[ns], sorted(pods))
    return out


@rule(
    code="IST0158",
    kinds=NS,
    severity="warning",
    title="Pods run a proxy image other than the injector's",
    doc="Pods in this injected namespace run an istio-proxy image different from the one the sidecar "
    "injector (istio-sidecar-injector ConfigMap of the namespace's revision) injects today, usually because "
    "they were not restarted after a control-plane upgrade. Restart the workloads (kubectl rollout restart).",
)
def namespace_proxy_image_mismatch(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    found = ctx.memo("namespace.image_mismatch", _mismatches).get(obj.name)
    if found:
        expected, pods = found
        yield Hit(
            f'The Istio proxy image of the pods running in the namespace "{obj.name}" does not match the image '
            f'defined in the injection configuration ("{expected}"): {", ".join(pods)}. This often happens after '
            "upgrading the Istio control-plane and can be fixed by redeploying the pods."
        )
