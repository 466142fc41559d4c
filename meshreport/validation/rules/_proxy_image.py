"""The proxy image a pod should run, as istioctl's injection.ImageAnalyzer works it out (IST0158).

The injector ConfigMap of the namespace's revision names the image (`global.proxy.image`, used as is when it
holds a `/`, else `hub/image:tag`); a pod may also run that image with a `-<imageType>` suffix, the image type
being the last one set of: mesh config `defaultConfig.image.imageType`, the root-namespace ProxyConfig, the
namespace's selector-less ProxyConfig, a ProxyConfig whose selector matches the pod, and the pod's
`proxy.istio.io/config` annotation (`default` means none). Follows `injection-image.go` and
`util/proxyconfig.go` in istio/istio.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import Context

INJECTOR = "istio-sidecar-injector"
PROXY_CONFIG_ANNOTATION = "proxy.istio.io/config"


def injector_config_map(revision: str) -> str:
    """The injector ConfigMap of a revision (`default` and no revision share the unsuffixed one)."""
    return INJECTOR if revision in ("", "default") else f"{INJECTOR}-{revision}"


def proxy_image(values_json: Any) -> str:
    """The image an injector ConfigMap's `values` injects; "" when the JSON does not parse (as Istio)."""
    try:
        values = json.loads(values_json) if isinstance(values_json, str) else None
    except ValueError:
        values = None
    if not isinstance(values, dict):
        return ""
    g = values.get("global") if isinstance(values.get("global"), dict) else {}
    proxy = g.get("proxy") if isinstance(g.get("proxy"), dict) else {}
    image = str(proxy.get("image") or "")
    if "/" in image:
        return image
    return f"{g.get('hub') or ''}/{image}:{g.get('tag') or ''}"


def injector_images(ctx: Context) -> dict[str, str]:
    """ConfigMap name -> the proxy image it injects, for every istio-sidecar-injector* ConfigMap."""

    def build(c: Context) -> dict[str, str]:
        return {
            cm.name: proxy_image((cm.body.get("data") or {}).get("values"))
            for cm in c.index.of_kind("ConfigMap")
            if cm.name.startswith(INJECTOR)
        }

    return ctx.memo("proxy_image.injectors", build)


def _image_type(doc: Any) -> str:
    image = doc.get("image") if isinstance(doc, dict) else None
    return str(image.get("imageType") or "") if isinstance(image, dict) else ""


def image_type(pod: ConfigObject, ctx: Context) -> str:
    """The pod's effective proxy image type ("" for the default image)."""
    variant = _image_type(ctx.mesh.raw.get("defaultConfig"))
    for pc in ctx.index.of_kind("ProxyConfig"):
        if pc.namespace == ctx.mesh.root_namespace and (t := _image_type(pc.spec)):
            variant = t
    for pc in ctx.index.of_kind("ProxyConfig"):
        if pc.namespace == pod.namespace and pc.namespace != ctx.mesh.root_namespace and not pc.spec.get("selector"):
            variant = _image_type(pc.spec) or variant
    for pc in ctx.index.of_kind("ProxyConfig"):
        sel = pc.spec.get("selector")
        if pc.namespace == ctx.mesh.root_namespace or not isinstance(sel, dict) or pc.namespace != pod.namespace:
            continue
        want = sel.get("matchLabels") or {}
        if isinstance(want, dict) and all(pod_labels(pod).get(k) == str(v) for k, v in want.items()):
            variant = _image_type(pc.spec) or variant
    ann = pod.annotations.get(PROXY_CONFIG_ANNOTATION)
    if ann:
        try:
            variant = _image_type(yaml.safe_load(str(ann))) or variant
        except yaml.YAMLError:
            pass
    return "" if variant == "default" else variant


def pod_labels(pod: ConfigObject) -> dict[str, str]:
    return {str(k): str(v) for k, v in pod.labels.items()}
