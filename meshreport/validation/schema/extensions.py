"""WasmPlugin (extensions.istio.io) and ProxyConfig (networking.istio.io/v1beta1)."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from meshreport.validation.schema import enums
from meshreport.validation.schema._checks import (
    Issues,
    get_enum,
    get_int,
    get_maps,
    get_str,
    workload_selector,
    wrapped,
)
from meshreport.validation.schema.common import policy_target

_SHA = re.compile(r"^[a-f0-9]{64}$")


def wasm_plugin(iss: Issues, spec: dict) -> None:
    policy_target(iss, spec)
    url = get_str(iss, spec, "url", "spec")
    if not url:
        iss.err("spec.url", "url field needs to be set")
    else:
        scheme = urlparse(url).scheme if "://" in url else ""
        if scheme not in ("", "file", "http", "https", "oci"):
            iss.err("spec.url", f"url contains unsupported scheme: {scheme}")
        elif " " in url:
            iss.err("spec.url", f'failed to parse url: parse "{url}": invalid character " " in host name')
    sha = get_str(iss, spec, "sha256", "spec")
    if sha and len(sha) != 64:
        iss.err("spec.sha256", "sha256 field must be 64 characters long")
    elif sha and not _SHA.match(sha):
        iss.err("spec.sha256", "sha256 field must match [a-f0-9]{64} pattern")
    if len(get_str(iss, spec, "imagePullSecret", "spec")) > 253:
        iss.err("spec.imagePullSecret", "imagePullSecret field must be less than 253 characters long")
    if len(get_str(iss, spec, "pluginName", "spec")) > 256:
        iss.err("spec.pluginName", "pluginName field must be less than 255 characters long")
    get_enum(iss, spec, "phase", "spec", enums.WASM_PHASE)
    get_enum(iss, spec, "imagePullPolicy", "spec", enums.WASM_PULL)
    get_enum(iss, spec, "failStrategy", "spec", enums.WASM_FAIL)
    get_enum(iss, spec, "type", "spec", enums.WASM_TYPE)
    get_int(iss, spec, "priority", "spec")
    vm = spec.get("vmConfig")
    names: set[str] = set()
    for p, env in get_maps(iss, vm, "env", "spec.vmConfig") if isinstance(vm, dict) else ():
        name = get_str(iss, env, "name", p)
        if not name:
            iss.err(p, "spec.vmConfig.env invalid")
            break
        if len(name) > 256:
            iss.err(p, "env.name field must be less than 255 characters long")
            break
        if name in names:
            iss.err(p, "duplicate env")
            break
        names.add(name)
        if (get_enum(iss, env, "valueFrom", p, enums.ENV_VALUE_FROM) or "INLINE") != "INLINE" and env.get("value"):
            iss.err(p, "value may only be set when valueFrom is INLINE")
            break
    for i, (p, sel) in enumerate(get_maps(iss, spec, "match", "spec")):
        get_enum(iss, sel, "mode", p, enums.WASM_MODE)
        for j, (pp, pt) in enumerate(get_maps(iss, sel, "ports", p)):
            n = get_int(iss, pt, "number", pp) or 0
            if not 0 < n <= 65535:
                iss.err(pp, f"spec.Match[{i}].Ports[{j}] is out of range: {n}")


def proxy_config(iss: Issues, spec: dict) -> None:
    workload_selector(iss, spec.get("selector"), "spec.selector")
    c = wrapped(iss, spec, "concurrency", "spec")
    if c is not None and c < 0:
        iss.err("spec.concurrency", "concurrency must be greater than or equal to 0")
