"""MeshNetworks rules (the `meshNetworks` key of the `istio` ConfigMap): registries the networks name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

from meshreport import safe_yaml
from meshreport.istio_names import MULTICLUSTER_SECRET
from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import Context
from meshreport.validation.model import Hit
from meshreport.validation.registry import rule
from meshreport.validation.rules._common import dicts

BUILTIN_REGISTRIES = ("Kubernetes", "External", "Mock")


def _networks(obj: ConfigObject) -> dict[str, Any] | None:
    """The networks of a MeshNetworks given with --mesh-config, or the parsed meshNetworks of an istio
    ConfigMap (`istio` or `istio-<rev>`); else None."""
    if obj.kind == "MeshNetworks":
        nets = obj.body.get("networks")
        return nets if isinstance(nets, dict) else None
    if not (obj.name == "istio" or obj.name.startswith("istio-")):
        return None
    text = (obj.body.get("data") or {}).get("meshNetworks")
    if not text:
        return None
    try:
        doc = safe_yaml.load(str(text), "meshNetworks")
    except yaml.YAMLError:
        return None
    nets = doc.get("networks") if isinstance(doc, dict) else None
    return nets if isinstance(nets, dict) else None


def _known_registries(ctx: Context) -> set[str] | None:
    """Built-in registries, the clusters of this run and remote-secret cluster IDs; None when undecidable.

    A remote secret's data keys are cluster IDs. Snapshots keep Secret names only and may hold no
    Secrets at all, so the check runs only when Secrets are present and every remote secret has data.
    """
    secrets = ctx.index.of_kind("Secret")
    if not secrets:
        return None
    known = set(BUILTIN_REGISTRIES) | set(ctx.clusters.names)
    for s in secrets:
        if str(s.labels.get(MULTICLUSTER_SECRET, "")).lower() != "true":
            continue
        keys = s.body.get("dataKeys")
        if not isinstance(keys, list):
            data = s.body.get("data") or s.body.get("stringData")
            if not isinstance(data, dict):
                return None  # names-only Secret: its cluster IDs are unknown
            keys = list(data)
        known.update(str(k) for k in keys)
    return known


@rule(
    code="IST0126",
    kinds=("ConfigMap", "MeshNetworks"),
    severity="error",
    title="Unknown MeshNetworks service registry",
    doc="An endpoint of a network in the mesh's `meshNetworks` has a `fromRegistry` that is neither a built-in "
    "registry (Kubernetes, External, Mock) nor a known cluster ID (a data key of a Secret labelled "
    "`istio/multiCluster=true`, or a cluster in the input). istiod then assigns no endpoints to that network, "
    "breaking cross-network routing. Fix the name or add the remote secret. Reported on the `istio` "
    "ConfigMap, or, for a MeshNetworks file given with `--mesh-config`, on `MeshNetworks <root "
    "namespace>/meshnetworks` as istioctl does; only checked when the input holds Secrets and every remote "
    "secret carries its data (snapshots keep Secret names only).",
)
def mesh_networks_unknown_registry(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    nets = _networks(obj)
    if not nets:
        return
    known = ctx.memo("meshnetworks.registries", _known_registries)
    if known is None:
        return
    for net, spec in sorted(nets.items()):
        if not isinstance(spec, dict):
            continue
        for i, ep in enumerate(dicts(spec.get("endpoints"))):
            reg = ep.get("fromRegistry")
            if reg and str(reg) not in known:
                yield Hit(
                    f"Unknown service registry {reg!r} in network {net!r} of meshNetworks",
                    path=f"data.meshNetworks.networks.{net}.endpoints[{i}].fromRegistry",
                )
