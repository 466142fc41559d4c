"""Admission webhooks as injection sees them (not a rule module): Kubernetes label selectors and Istio's
injection webhooks, shared by webhook.py (IST0139) and workload.py (IST0146)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshreport.istio_names import REVISION
from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import Context
from meshreport.validation.rules._common import as_list, dicts

REV_LABEL = REVISION


def label_selector_matches(selector: Any, labels: Mapping[str, str]) -> bool:
    """A Kubernetes LabelSelector (matchLabels and matchExpressions); null or empty selects everything."""
    if not isinstance(selector, dict):
        return True
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(str(k)) != str(v):
            return False
    for e in dicts(selector.get("matchExpressions")):
        key, op = str(e.get("key")), str(e.get("operator"))
        values = [str(x) for x in as_list(e.get("values"))]
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def is_injection_config(cfg: ConfigObject) -> bool:
    """An Istio sidecar-injection MutatingWebhookConfiguration (webhook names ending in istio.io, or revisioned)."""
    if cfg.kind != "MutatingWebhookConfiguration":
        return False
    if REV_LABEL in cfg.labels:
        return True
    return any(str(w.get("name") or "").endswith("istio.io") for w in dicts(cfg.body.get("webhooks")))


def injection_webhooks(ctx: Context) -> list[tuple[ConfigObject, dict[str, Any]]]:
    def build(c: Context) -> list[tuple[ConfigObject, dict[str, Any]]]:
        return [
            (cfg, w)
            for cfg in c.index.of_kind("MutatingWebhookConfiguration")
            if is_injection_config(cfg)
            for w in dicts(cfg.body.get("webhooks"))
        ]

    return ctx.memo("webhooks.injection", build)


def webhook_matches(webhook: dict[str, Any], ns_labels: Mapping[str, str], obj_labels: Mapping[str, str]) -> bool:
    return label_selector_matches(webhook.get("namespaceSelector"), ns_labels) and label_selector_matches(
        webhook.get("objectSelector"), obj_labels
    )
