"""Admission webhook rules: overlapping injection webhooks, missing webhook Services, external control plane URLs."""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterator
from itertools import product
from urllib.parse import urlparse

from meshreport.istio_names import INJECT
from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import Context
from meshreport.validation.model import Hit
from meshreport.validation.registry import rule
from meshreport.validation.rules._common import dicts
from meshreport.validation.rules._webhooks import REV_LABEL, injection_webhooks, is_injection_config, webhook_matches

MWC = ("MutatingWebhookConfiguration",)
WEBHOOKS = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")


def _overlaps(ctx: Context) -> dict[str, set[str]]:
    """Webhook configuration name -> names of the other injection webhooks that match the same pod."""
    hooks = injection_webhooks(ctx)
    revs = sorted({cfg.labels[REV_LABEL] for cfg, _ in hooks if cfg.labels.get(REV_LABEL)})
    rev_sets: list[dict[str, str]] = [{}] + [{REV_LABEL: r} for r in revs]
    ns_sets = [
        {**base, **rev}
        for base in ({}, {"istio-injection": "enabled"}, {"istio-injection": "disabled"})
        for rev in rev_sets
    ]
    obj_sets = [{**base, **rev} for base in ({}, {INJECT: "true"}, {INJECT: "false"}) for rev in rev_sets]
    out: dict[str, set[str]] = defaultdict(set)
    for ns_labels, obj_labels in product(ns_sets, obj_sets):
        matched = [(cfg, w) for cfg, w in hooks if webhook_matches(w, ns_labels, obj_labels)]
        if len(matched) > 1:
            for cfg, w in matched:
                out[cfg.name].update(f"{c.name}/{x.get('name')}" for c, x in matched if x is not w)
    return out


@rule(
    code="IST0139",
    kinds=MWC,
    severity="error",
    title="Invalid injection webhook",
    doc="Istio's sidecar-injection webhooks overlap: for some combination of namespace labels (istio-injection, "
    "istio.io/rev) and pod labels (sidecar.istio.io/inject, istio.io/rev) more than one webhook matches, so a "
    "pod could be injected twice, or a webhook's clientConfig points to a Service that does not exist, so "
    "injection fails. Usually left over from a revision upgrade: remove the stale webhook or fix its selectors.",
)
def webhook_invalid(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if not is_injection_config(obj):
        return
    others = ctx.memo("webhook.overlaps", _overlaps).get(obj.name)
    if others:
        yield Hit(
            f"Webhook overlaps with others: {sorted(others)}. This may cause injection to occur twice.",
            path="webhooks",
        )
    if not ctx.index.of_kind("Service"):
        return  # the input holds no Services at all: cannot judge references
    for i, w in enumerate(dicts(obj.body.get("webhooks"))):
        svc = (w.get("clientConfig") or {}).get("service")
        if isinstance(svc, dict) and svc.get("name"):
            ns, name = str(svc.get("namespace") or ""), str(svc["name"])
            if ctx.index.service(ns, name) is None:
                yield Hit(
                    f"Injector refers to a control plane service that does not exist: {ns}/{name}.",
                    path=f"webhooks[{i}].clientConfig.service",
                )


def _external_cp_config(obj: ConfigObject) -> bool:
    if obj.kind == "ValidatingWebhookConfiguration":
        return obj.name == "istiod-default-validator" or obj.name.startswith("istio-validator")
    return obj.name.startswith("istio-sidecar-injector")


def _url_problems(obj: ConfigObject) -> Iterator[tuple[str, str, str]]:
    """(code, message, path) for each webhook of an Istio webhook configuration."""
    for i, w in enumerate(dicts(obj.body.get("webhooks"))):
        cc = w.get("clientConfig") or {}
        url = cc.get("url")
        path = f"webhooks[{i}].clientConfig"
        if url is None:
            if not cc.get("service"):
                yield "IST0163", f"The webhook {w.get('name')!r} has neither a URL nor a service", path
            continue
        try:
            parsed = urlparse(str(url))
            host = parsed.hostname
        except ValueError:
            host = None
            parsed = None
        if not str(url).strip() or parsed is None or not parsed.scheme or not host:
            yield "IST0163", f"The webhook {w.get('name')!r} has an invalid URL: {str(url)!r}", f"{path}.url"
            continue
        try:
            ipaddress.ip_address(host)
        except ValueError:
            continue
        yield "IST0164", f"The webhook {w.get('name')!r} uses an IP address ({host}) instead of a hostname", path


@rule(
    code="IST0163",
    kinds=WEBHOOKS,
    severity="warning",
    title="Invalid external control plane configuration",
    doc="An Istio webhook (istiod-default-validator, istio-validator*, istio-sidecar-injector*) has an empty or "
    "malformed URL, or neither a URL nor a Service. With an external control plane the data-plane cluster then "
    "cannot reach istiod for validation or injection. Set the webhook URL to the istiod endpoint.",
)
def webhook_external_cp_invalid(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if _external_cp_config(obj):
        for code, msg, path in _url_problems(obj):
            if code == "IST0163":
                yield Hit(msg, path=path)


@rule(
    code="IST0164",
    kinds=WEBHOOKS,
    severity="info",
    title="External control plane address is an IP",
    doc="An Istio webhook URL uses an IP address rather than a hostname. It works, but certificates and "
    "address changes of the external istiod are easier to manage with a DNS name.",
)
def webhook_external_cp_ip(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if _external_cp_config(obj):
        for code, msg, path in _url_problems(obj):
            if code == "IST0164":
                yield Hit(msg, path=path)
