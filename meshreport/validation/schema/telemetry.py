"""Telemetry (telemetry.istio.io): providers, tracing sampling and tags, metric overrides."""

from __future__ import annotations

from meshreport.validation.schema import enums
from meshreport.validation.schema._checks import Issues, get_enum, get_map, get_maps, get_str, wrapped
from meshreport.validation.schema.common import policy_target


def _providers(iss: Issues, item: dict, path: str) -> None:
    for _, pr in get_maps(iss, item, "providers", path):
        if not pr.get("name"):
            iss.err(f"{path}.providers", "providers.name may not be empty")
            return


def telemetry(iss: Issues, spec: dict) -> None:
    policy_target(iss, spec)
    for p, m in get_maps(iss, spec, "metrics", "spec"):
        _providers(iss, m, p)
        for op, o in get_maps(iss, m, "overrides", p):
            for tag, to in (get_map(iss, o, "tagOverrides", op) or {}).items():
                tp = f"{op}.tagOverrides"
                if tag == "":
                    iss.warn(tp, "tagOverrides.name may not be empty")
                if not isinstance(to, dict):
                    iss.err(tp, "tagOverrides may not be null")
                    continue
                oper = get_enum(iss, to, "operation", tp, enums.TAG_OPERATION) or "UPSERT"
                if oper == "UPSERT" and not to.get("value"):
                    iss.err(tp, "tagOverrides.value must be set when operation is UPSERT")
                if oper == "REMOVE" and to.get("value"):
                    iss.err(tp, "tagOverrides.value may only be set when operation is UPSERT")
            if (match := get_map(iss, o, "match", op)) is not None:
                mp = f"{op}.match"
                get_enum(iss, match, "metric", mp, enums.METRIC)
                get_enum(iss, match, "mode", mp, enums.TELEMETRY_MODE)
                if "customMetric" in match and not match.get("customMetric"):
                    iss.err(mp, "customMetric may not be empty")
    tracing = get_maps(iss, spec, "tracing", "spec")
    if len(tracing) > 1:
        iss.warn("spec.tracing", "multiple tracing is not currently supported")
    for p, t in tracing:
        providers = t.get("providers")
        if isinstance(providers, list) and len(providers) > 1:
            iss.warn(f"{p}.providers", "multiple providers is not currently supported")
        _providers(iss, t, p)
        pct = wrapped(iss, t, "randomSamplingPercentage", p)
        if pct is not None and not 0 <= pct <= 100:
            iss.err(f"{p}.randomSamplingPercentage", "randomSamplingPercentage must be in range [0.0, 100.0]")
        for name, tag in (get_map(iss, t, "customTags", p) or {}).items():
            tp = f"{p}.customTags"
            if name == "":
                iss.err(tp, "tag name may not be empty")
            if not isinstance(tag, dict):
                iss.err(tp, f"tag '{name}' may not have a nil value")
                continue
            for kind, field, text in (
                ("literal", "value", "literal tag value may not be empty"),
                ("header", "name", "header tag name may not be empty"),
                ("environment", "name", "environment tag name may not be empty"),
            ):
                if kind in tag and not get_str(iss, tag.get(kind) or {}, field, f"{tp}.{kind}"):
                    iss.err(f"{tp}.{kind}", text)
    for p, a in get_maps(iss, spec, "accessLogging", "spec"):
        if (f := get_map(iss, a, "filter", p)) is not None and not isinstance(f.get("expression", ""), str):
            iss.err(f"{p}.filter.expression", "expression: expected a string")
        _providers(iss, a, p)
        get_enum(iss, get_map(iss, a, "match", p) or {}, "mode", f"{p}.match", enums.TELEMETRY_MODE)
