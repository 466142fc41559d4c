"""Namespace rules: injection labels (IST0102/0123/0148) and proxy images left over from an upgrade (IST0158)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from meshreport.istio_names import DATAPLANE_MODE, NAMESPACE_INJECTION, REVISION, SIDECAR_CONTAINER
from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import Context
from meshreport.validation.model import Hit
from meshreport.validation.registry import rule
from meshreport.validation.rules._proxy_image import image_type, injector_config_map, injector_images

NS = ("Namespace",)
# Namespaces the injector never touches (and istioctl's injection analyzer skips).
IGNORED = ("kube-system", "kube-public", "kube-node-lease", "local-path-storage", "istio-system")
PROXY_IMAGE_ANNOTATION = "sidecar.istio.io/proxyImage"


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
    "`istio.io/rev` or `istio.io/dataplane-mode` (any value), or those two together. As in istioctl, "
    "`istio-injection` set to anything but `enabled` opts the namespace out, so the other labels then do not "
    "conflict with it. Which one wins depends on the webhook configuration. Keep exactly one way of enrolling "
    "the namespace.",
)
def namespace_multiple_injection_labels(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if _skipped(obj, ctx):
        return
    labels = obj.labels
    inj = labels.get(NAMESPACE_INJECTION)
    found = [] if inj is None else [f"{NAMESPACE_INJECTION}={inj}"]
    for key in (REVISION, DATAPLANE_MODE):
        if key in labels and inj in (None, "enabled"):
            found.append(f"{key}={labels[key]}")
    if len(found) > 1:
        yield Hit(
            f"The namespace has more than one type of injection labels [{' '.join(found)}], which may lead to "
            "undefined behavior. Make sure only one injection label exists.",
            path="metadata.labels",
        )


def _by_default(ctx: Context) -> bool:
    values = injector_values(ctx).get("", {})
    return bool((values.get("sidecarInjectorWebhook") or {}).get("enableNamespacesByDefault"))


def _unlabelled(obj: ConfigObject) -> bool:
    labels = obj.labels
    return NAMESPACE_INJECTION not in labels and REVISION not in labels and labels.get(DATAPLANE_MODE) != "ambient"


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


def _injected_revision(labels: dict[str, str]) -> str | None:
    """The revision whose injector serves the namespace (istio.io/rev wins), or None when not injected."""
    if REVISION in labels:
        return str(labels[REVISION])
    return "default" if labels.get(NAMESPACE_INJECTION) == "enabled" else None


def _mismatches(ctx: Context) -> dict[str | None, tuple[str, list[str]]]:
    """Namespace -> (expected image, pods whose istio-proxy image differs), per injection-image.go."""
    images = injector_images(ctx)
    if not images:
        return {}
    bad: dict[str | None, list[str]] = defaultdict(list)
    expected_by_ns: dict[str | None, str] = {}
    for pod in ctx.index.of_kind("Pod"):
        rev = _injected_revision(ctx.index.namespace_labels.get(pod.namespace or "", {}))
        if rev is None or pod.annotations.get(PROXY_IMAGE_ANNOTATION):
            continue
        expected = images.get(injector_config_map(rev))
        if expected is None:
            continue
        variant = image_type(pod, ctx)
        spec = pod.spec
        for c in [*(spec.get("containers") or ()), *(spec.get("initContainers") or ())]:
            if not isinstance(c, dict) or c.get("name") != SIDECAR_CONTAINER:
                continue
            if str(c.get("image") or "") not in (expected, f"{expected}-{variant}"):
                bad[pod.namespace].append(pod.name)
                expected_by_ns[pod.namespace] = expected
    return {ns: (expected_by_ns[ns], sorted(pods)) for ns, pods in bad.items()}


@rule(
    code="IST0158",
    kinds=NS,
    severity="warning",
    title="Pods run a proxy image other than the injector's",
    doc="Pods in this injected namespace (`istio-injection=enabled` or `istio.io/rev`, which wins) run an "
    "istio-proxy image, as a container or a native sidecar, other than the one the sidecar injector of the "
    "namespace's revision (istio-sidecar-injector[-<rev>] ConfigMap: `global.proxy.image`, as is when it holds a "
    "`/`, else hub/image:tag) injects today, with or without the `-<imageType>` suffix that mesh config, "
    "ProxyConfig resources or the pod's `proxy.istio.io/config` annotation select. Usually the pods were not "
    "restarted after a control-plane upgrade. Pods with `sidecar.istio.io/proxyImage` are skipped. Restart the "
    "workloads (kubectl rollout restart).",
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
