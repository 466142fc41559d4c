"""An Istio object's spec against the OpenAPI schema of Istio's own CRD, as the API server checks it.

`istio_crds.json` beside this module holds `openAPIV3Schema.properties.spec` of every istio.io CRD, copied
from istio/istio `manifests/charts/base/files/crd-all.gen.yaml` (the commit and date are in the file;
Apache-2.0, Copyright Istio Authors) with the descriptions removed. Structure, types, enums, required fields,
ranges, patterns and the oneOf/anyOf/not rules for mutually exclusive fields are checked with jsonschema;
CEL rules (`x-kubernetes-validations`) are not evaluated (the hand-written checks in this package cover what
they say). A field the schema does not know is a warning, since the API server prunes it rather than refusing.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError

from meshreport.validation.schema._checks import Issue

MAX_MESSAGE = 200  # a schema error quotes the instance; keep untrusted values short


@cache
def _bundle() -> dict[str, Any]:
    return json.loads(resources.files(__package__).joinpath("istio_crds.json").read_text(encoding="utf-8"))


def source() -> str:
    """Where the schemas come from, for docs and reports."""
    b = _bundle()
    return f"{b['source']} at istio/istio@{b['commit'][:12]} ({b['date']})"


@cache
def _validator(group_kind: str, version: str) -> tuple[Draft7Validator, dict] | None:
    entry = _bundle()["schemas"].get(group_kind)
    if entry is None or version not in entry["versions"]:
        return None
    return Draft7Validator(entry["spec"]), entry["spec"]


def spec_schema(api_version: str, kind: str) -> dict | None:
    """The CRD's `spec` schema for this apiVersion and kind, None when Istio has no CRD for it."""
    group, _, version = api_version.rpartition("/")
    found = _validator(f"{group}/{kind}", version) if group else None
    return found[1] if found is not None else None


def _path(parts: Any) -> str:
    out = "spec"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _message(path: str, e: ValidationError) -> str:
    text = " ".join(str(e.message).split())
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 1] + "…"
    return f"{path}: {text} (Istio CRD schema)"


def _unknown_fields(schema: dict, value: Any, path: str, out: list[Issue]) -> None:
    """Fields an object schema does not declare (pruned by the API server), at any depth."""
    if not isinstance(schema, dict) or schema.get("x-kubernetes-preserve-unknown-fields"):
        return
    if isinstance(value, dict):
        props = schema.get("properties")
        if isinstance(props, dict):
            for key in sorted(value, key=str):
                if key in props:
                    _unknown_fields(props[key], value[key], f"{path}.{key}", out)
                elif "additionalProperties" not in schema:
                    out.append(
                        Issue("warning", f"{path}.{key}", f'unknown field "{path}.{key}" (the API server drops it)')
                    )
        elif isinstance(schema.get("additionalProperties"), dict):
            for key in sorted(value, key=str):
                _unknown_fields(schema["additionalProperties"], value[key], f"{path}.{key}", out)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            _unknown_fields(schema["items"], item, f"{path}[{i}]", out)


def check(api_version: str, kind: str, spec: Any) -> list[Issue]:
    """Schema errors (IST0106) and unknown-field warnings (IST0133) of one object's spec; [] when the
    group, kind or version has no Istio CRD schema."""
    group, _, version = api_version.rpartition("/")
    found = _validator(f"{group}/{kind}", version)
    if found is None or spec is None:
        return []
    validator, schema = found
    out: list[Issue] = []
    for e in sorted(validator.iter_errors(spec), key=lambda e: [str(p) for p in e.absolute_path]):
        parts = list(e.absolute_path)
        if e.validator == "required" and isinstance(e.instance, dict):
            # name the missing field, where the hand-written checks report it
            parts += [f for f in e.validator_value if f not in e.instance][:1]
        path = _path(parts)
        out.append(Issue("error", path, _message(path, e)))
    _unknown_fields(schema, spec, "spec", out)
    return out
