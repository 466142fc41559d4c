"""The mesh config settings validation depends on (Istio MeshConfig), with Istio's defaults.

Read from the `istio` ConfigMap's `mesh` key when the snapshot has it, or from a MeshConfig
YAML file given with `--mesh-config` (like istioctl's `--meshConfigFile`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from meshreport import safe_yaml
from meshreport.errors import InputError
from meshreport.istio_names import DEFAULT_TRUST_DOMAIN, ISTIO_NAMESPACE
from meshreport.safe_yaml import YamlLimitError
from meshreport.snapshot.model import ConfigObject


@dataclass(frozen=True)
class MeshConfig:
    root_namespace: str = ISTIO_NAMESPACE
    outbound_policy: str = "ALLOW_ANY"  # outboundTrafficPolicy.mode: ALLOW_ANY | REGISTRY_ONLY
    enable_auto_mtls: bool = True
    trust_domain: str = DEFAULT_TRUST_DOMAIN
    trust_domain_aliases: tuple[str, ...] = ()
    default_service_export_to: tuple[str, ...] = ("*",)
    default_virtual_service_export_to: tuple[str, ...] = ("*",)
    default_destination_rule_export_to: tuple[str, ...] = ("*",)
    ingress_service: str = "istio-ingressgateway"
    ingress_selector: str = "ingressgateway"
    proxy_metadata: dict[str, str] = field(default_factory=dict)
    default_access_log_providers: tuple[str, ...] = ()
    extension_providers: tuple[dict[str, Any], ...] = ()
    origin: str = "defaults"  # where it came from: defaults | ConfigMap ns/name | file path
    raw: dict[str, Any] = field(default_factory=dict, compare=False)
    # MeshNetworks `networks` given with --mesh-config (istioctl's meshNetworks), checked by IST0126
    networks: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def allow_any(self) -> bool:
        return self.outbound_policy.upper() != "REGISTRY_ONLY"

    @property
    def trust_domains(self) -> tuple[str, ...]:
        return (self.trust_domain, *self.trust_domain_aliases)

    @classmethod
    def from_dict(cls, doc: dict[str, Any] | None, origin: str = "dict") -> MeshConfig:
        """Build from a MeshConfig document (camelCase keys as Istio writes them)."""
        d = doc or {}
        if not isinstance(d, dict):
            raise InputError(f"{origin}: mesh config must be a YAML mapping")
        dc = d.get("defaultConfig") or {}
        providers = (d.get("defaultProviders") or {}).get("accessLogging") or ()

        def strs(key: str) -> tuple[str, ...]:
            v = d.get(key)
            return tuple(str(x) for x in v) if v else ("*",)

        return cls(
            root_namespace=str(d.get("rootNamespace") or ISTIO_NAMESPACE),
            outbound_policy=str((d.get("outboundTrafficPolicy") or {}).get("mode") or "ALLOW_ANY").upper(),
            enable_auto_mtls=bool(d.get("enableAutoMtls", True)),
            trust_domain=str(d.get("trustDomain") or DEFAULT_TRUST_DOMAIN),
            trust_domain_aliases=tuple(str(x) for x in d.get("trustDomainAliases") or ()),
            default_service_export_to=strs("defaultServiceExportTo"),
            default_virtual_service_export_to=strs("defaultVirtualServiceExportTo"),
            default_destination_rule_export_to=strs("defaultDestinationRuleExportTo"),
            ingress_service=str(d.get("ingressService") or "istio-ingressgateway"),
            ingress_selector=str(d.get("ingressSelector") or "ingressgateway"),
            proxy_metadata={str(k): str(v) for k, v in (dc.get("proxyMetadata") or {}).items()},
            default_access_log_providers=tuple(str(x) for x in providers),
            extension_providers=tuple(d.get("extensionProviders") or ()),
            origin=origin,
            raw=d,
        )

    @classmethod
    def from_file(cls, path: str | Path) -> MeshConfig:
        """A MeshConfig YAML file; a whole `istio` ConfigMap (with `data.mesh`) is accepted too, and so is a
        MeshNetworks file (top-level `networks`, like istioctl's meshNetworks), which keeps the mesh defaults."""
        p = Path(path)
        try:
            doc = safe_yaml.load(p.read_text(encoding="utf-8"), str(p))
        except YamlLimitError:
            raise
        except OSError as e:
            raise InputError(f"cannot read mesh config {p}: {e.strerror or e}") from None
        except yaml.YAMLError as e:
            raise InputError(f"{p}: not valid YAML: {_first_line(e)}") from None
        if isinstance(doc, dict) and doc.get("kind") == "ConfigMap":
            return cls.from_dict(_parse_mesh_key((doc.get("data") or {}).get("mesh"), str(p)), origin=str(p))
        if isinstance(doc, dict) and "networks" in doc:  # a MeshNetworks document (MeshConfig has no `networks`)
            nets = doc.get("networks")
            if not isinstance(nets, dict):
                raise InputError(f"{p}: mesh networks: `networks` must be a mapping")
            return replace(cls(origin=str(p)), networks=nets)
        return cls.from_dict(doc, origin=str(p))

    @classmethod
    def from_objects(cls, objects: list[ConfigObject]) -> MeshConfig:
        """The `istio` ConfigMap in istio-system (else any `istio` / `istio-<rev>` one), else defaults."""
        best: ConfigObject | None = None
        for o in objects:
            if o.kind != "ConfigMap" or not (o.name == "istio" or o.name.startswith("istio-")):
                continue
            if "mesh" not in (o.body.get("data") or {}):
                continue
            if o.name == "istio" and o.namespace == ISTIO_NAMESPACE:
                best = o
                break
            if best is None or (o.name == "istio" and best.name != "istio"):
                best = o
        if best is None:
            return cls()
        origin = f"ConfigMap {best.namespace}/{best.name}"
        return cls.from_dict(_parse_mesh_key(best.body["data"]["mesh"], origin), origin=origin)


def _parse_mesh_key(text: Any, origin: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        doc = safe_yaml.load(str(text), origin)
    except YamlLimitError:
        raise
    except yaml.YAMLError as e:
        raise InputError(f"{origin}: mesh config is not valid YAML: {_first_line(e)}") from None
    return doc if isinstance(doc, dict) else {}


def _first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
