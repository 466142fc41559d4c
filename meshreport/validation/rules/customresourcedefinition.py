"""CustomResourceDefinition rules: Gateway API CRDs too old for the Istio that reads them (IST0176).

The minimums are istiod's own table (istio/istio `pkg/config/schema/gatewayapi/minimumversions.go`,
`MinimumCRDVersions`, as shipped with Istio 1.31, the release that added IST0176). istiod's CRD watcher
filters a CRD below its minimum out silently, so every resource of that kind is ignored: the Gateways
that route through them show no attached routes and nothing says why.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import Context
from meshreport.validation.model import Hit
from meshreport.validation.registry import rule

BUNDLE_VERSION = "gateway.networking.k8s.io/bundle-version"

# CRD name -> minimum bundle version (major, minor, patch), from Istio 1.31's MinimumCRDVersions.
MINIMUM_BUNDLE_VERSIONS: dict[str, tuple[int, int, int]] = {
    "grpcroutes.gateway.networking.k8s.io": (1, 1, 0),
    "backendtlspolicies.gateway.networking.k8s.io": (1, 4, 0),
    "tlsroutes.gateway.networking.k8s.io": (1, 5, 0),
}
MINIMUM_FROM = "Istio 1.31"

# Semantic versions as Istio's parser (Masterminds semver, non-strict) reads them: optional `v`,
# minor and patch optional, then pre-release and build metadata.
_SEMVER = re.compile(
    r"^v?(?P<major>0|[1-9]\d*)(?:\.(?P<minor>0|[1-9]\d*))?(?:\.(?P<patch>0|[1-9]\d*))?"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+(?P<meta>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)


def parse_bundle_version(value: str) -> tuple[tuple[int, int, int], str] | None:
    """((major, minor, patch), normalised text) or None when the value is not a version Istio can read.

    The pre-release part is ignored for the comparison (`v1.5.0-rc.1` meets a 1.5.0 minimum), as in Istio.
    """
    m = _SEMVER.match(value.strip())
    if not m:
        return None
    core = (int(m["major"]), int(m["minor"] or 0), int(m["patch"] or 0))
    text = ".".join(map(str, core)) + (f"-{m['pre']}" if m["pre"] else "") + (f"+{m['meta']}" if m["meta"] else "")
    return core, text


@rule(
    code="IST0176",
    kinds=("CustomResourceDefinition",),
    severity="warning",
    title="Gateway API CRD version below Istio's minimum",
    doc="An installed Gateway API CRD's `gateway.networking.k8s.io/bundle-version` annotation is below the "
    "minimum istiod needs for that CRD (GRPCRoute 1.1.0, BackendTLSPolicy 1.4.0, TLSRoute 1.5.0: the table of "
    "Istio 1.31, which added this check). istiod then ignores every resource of that kind without an error, "
    "e.g. TLS passthrough Gateways report no attached routes. Upgrade the Gateway API CRDs. CRDs without the "
    "annotation, or with a value that is not a version, are not reported (istiod logs those itself).",
)
def crd_below_minimum(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    minimum = MINIMUM_BUNDLE_VERSIONS.get(obj.name)
    value = obj.annotations.get(BUNDLE_VERSION)
    if minimum is None or value is None:
        return
    parsed = parse_bundle_version(str(value))
    if parsed is None:
        return
    installed, text = parsed
    if installed < minimum:
        kind = str((obj.spec.get("names") or {}).get("kind") or obj.name.split(".", 1)[0])
        yield Hit(
            f"Gateway API CRD {obj.name} is at bundle version {text}, below the minimum "
            f"{'.'.join(map(str, minimum))} required by this Istio version ({MINIMUM_FROM}): istiod ignores "
            f"{kind} resources until the CRDs are upgraded.",
            path=f"metadata.annotations.{BUNDLE_VERSION}",
        )
