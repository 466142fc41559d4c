"""Kiali's Sidecar import scope: which hosts a namespace imports, and the KIA checks it gates.

Kiali runs KIA0201 (DR multi-match), KIA0204 (DR mTLS overridden), KIA1106 (VS host conflicts) and KIA1211
(SE duplicates) only over objects the validated namespace's Sidecar egress imports; IST checks are not gated.
"""

from __future__ import annotations

import pytest

from meshreport.validation.index import Context

from ..helpers import objects
from .cases import run

NAMESPACES = """
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: vault}
---
apiVersion: v1
kind: Namespace
metadata: {name: istio-system}
---
apiVersion: v1
kind: Namespace
metadata: {name: external}
"""


def sidecar(hosts, ns="shop", name="default", selector=""):
    sel = f"\n  workloadSelector: {{labels: {selector}}}" if selector else ""
    return f"""
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {{name: {name}, namespace: {ns}}}
spec:{sel}
  egress: [{{hosts: {hosts}}}]
"""


def scope(text, ns="shop"):
    return Context(objects(NAMESPACES + text)).index.import_scope(ns)


# -- the scope itself ------------------------------------------------------------------------------


def test_no_sidecar_or_selector_only_sidecar_or_no_egress_imports_everything():
    assert not scope("").limited
    assert not scope(sidecar("['./*']", selector="{app: web}")).limited
    no_egress = sidecar("[]").replace("egress: [{hosts: []}]", "egress: []")
    s = scope(no_egress)
    assert not s.limited and s.imports("reviews.vault.svc.cluster.local", "shop")


def test_dot_slash_star_imports_own_namespace_only():
    s = scope(sidecar("['./*', 'istio-system/*']"))
    assert s.limited
    assert s.imports("productpage.shop.svc.cluster.local", "shop")
    assert s.imports("productpage", "shop")  # short name in an object of shop
    assert s.imports("istiod.istio-system.svc.cluster.local", "istio-system")
    assert not s.imports("reviews.vault.svc.cluster.local", "shop")
    assert not s.imports("*.vault.svc.cluster.local", "shop")
    assert not s.imports("reviews", "vault")  # short name in an object of vault
    assert s.imports("example.com", "shop")  # external hosts belong to their object's namespace
    assert not s.imports("example.com", "external")


def test_specific_host_wildcards_star_and_exclusions():
    s = scope(sidecar("['vault/reviews.vault.svc.cluster.local']"))
    assert s.imports("reviews.vault.svc.cluster.local", "shop")
    assert s.imports("reviews.vault", "shop")  # name.namespace form
    assert not s.imports("ratings.vault.svc.cluster.local", "shop")
    assert s.imports("*.vault.svc.cluster.local", "shop")  # a wildcard DR covering the imported host
    assert not s.imports("*.shop.svc.cluster.local", "shop")
    s = scope(sidecar("['*/*', '~vault/*']"))
    assert s.imports("productpage.shop.svc.cluster.local", "shop")
    assert not s.imports("reviews.vault.svc.cluster.local", "shop")
    s = scope(sidecar("['~/*']"))
    assert s.limited and not s.imports("productpage.shop.svc.cluster.local", "shop")
    s = scope(sidecar("['*/*.example.com']"))
    assert s.imports("api.example.com", "external") and not s.imports("example.org", "external")


def test_root_namespace_sidecar_applies_where_the_namespace_has_none_and_dot_means_that_namespace():
    root = sidecar("['./*']", ns="istio-system")
    s = scope(root)
    assert s.limited
    assert s.imports("productpage.shop.svc.cluster.local", "shop")
    assert not s.imports("reviews.vault.svc.cluster.local", "shop")
    # the namespace's own selector-less Sidecar wins over the root one
    s = scope(root + sidecar("['vault/*']"))
    assert s.imports("reviews.vault.svc.cluster.local", "shop")
    assert not s.imports("productpage.shop.svc.cluster.local", "shop")


def test_scopes_are_built_once_per_namespace():
    idx = Context(objects(NAMESPACES + sidecar("['./*']"))).index
    assert idx.import_scope("shop") is idx.import_scope("shop")
    assert idx.import_scope("vault") is not idx.import_scope("shop")


# -- the gated checks: fire when imported, silent when not ---------------------------------------------

IMPORTS_VAULT = sidecar("['./*', 'vault/*']")
OWN_ONLY = sidecar("['./*']")


def dr(name, host, ns="shop", tls=""):
    policy = f"\n  trafficPolicy: {{tls: {{mode: {tls}}}}}" if tls else ""
    return f"""
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: {name}, namespace: {ns}}}
spec:
  host: {host}{policy}
"""


def vs(name, host, ns="shop"):
    return f"""
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: {name}, namespace: {ns}}}
spec:
  hosts: [{host}]
  gateways: [istio-system/ingress]
  http: [{{route: [{{destination: {{host: {host}}}}}]}}]
"""


def se(name, host, ns="shop"):
    return f"""
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: {name}, namespace: {ns}}}
spec:
  hosts: [{host}]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{{number: 443, name: tls, protocol: TLS}}]
"""


GATEWAY = """
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ingress, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ['*']}]
"""


def codes_on(text, code):
    return sorted(f.origin for f in run(NAMESPACES + text) if f.code == code)


FAMILIES = {
    # code: (objects whose finding is gated by the scope, the targets expected when imported)
    "KIA0201": (
        dr("a", "echo.vault.svc.cluster.local") + dr("b", "echo.vault.svc.cluster.local"),
        ["DestinationRule shop/a", "DestinationRule shop/b"],
    ),
    "KIA0204": (
        dr("mesh", "'*.local'", ns="istio-system", tls="ISTIO_MUTUAL") + dr("plain", "echo.vault.svc.cluster.local"),
        ["DestinationRule shop/plain"],
    ),
    "KIA1106": (
        GATEWAY + vs("a", "echo.vault.svc.cluster.local") + vs("b", "echo.vault.svc.cluster.local"),
        ["VirtualService shop/a", "VirtualService shop/b"],
    ),
    "KIA1211": (
        se("a", "api.example.com", ns="vault") + se("b", "api.example.com", ns="vault"),
        ["ServiceEntry vault/a", "ServiceEntry vault/b"],
    ),
}


@pytest.mark.parametrize("code", sorted(FAMILIES))
def test_gated_check_fires_without_sidecar_and_when_imported(code):
    text, expected = FAMILIES[code]
    assert codes_on(text, code) == expected
    # the Sidecar of each object's namespace imports the vault hosts
    assert codes_on(text + IMPORTS_VAULT + sidecar("['*/*']", ns="vault"), code) == expected


@pytest.mark.parametrize("code", sorted(FAMILIES))
def test_gated_check_is_silent_when_not_imported(code):
    text, expected = FAMILIES[code]
    # shop imports only itself; vault's own Sidecar imports only shop
    limited = OWN_ONLY + sidecar("['shop/*']", ns="vault")
    assert codes_on(text + limited, code) == []


def test_only_peers_imported_by_the_validated_namespace_count():
    # external hosts belong to their object's namespace: shop's `./*` imports shop/a but not vault/b,
    # so shop/a has no imported peer; vault has no Sidecar, so vault/b still sees shop/a
    text = se("a", "api.example.com") + se("b", "api.example.com", ns="vault") + OWN_ONLY
    assert codes_on(text, "KIA1211") == ["ServiceEntry vault/b"]


def test_ist_checks_are_not_gated():
    text = se("a", "api.example.com", ns="vault") + se("b", "api.example.com", ns="vault")
    conflicting = text.replace("name: tls, protocol: TLS", "name: http, protocol: HTTP", 1)
    limited = OWN_ONLY + sidecar("['shop/*']", ns="vault")
    assert codes_on(conflicting + limited, "IST0177") == ["ServiceEntry vault/a", "ServiceEntry vault/b"]


# -- ExportTo checks are skipped in Ambient namespaces -----------------------------------------------


def test_export_to_check_skipped_in_ambient_namespaces():
    text = """
---
apiVersion: v1
kind: Namespace
metadata: {name: amb, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: d, namespace: NS}
spec: {host: web, exportTo: [nowhere]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: v, namespace: NS}
spec: {hosts: [web], exportTo: [nowhere], http: [{route: [{destination: {host: web}}]}]}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: s, namespace: NS}
spec: {hosts: [api.example.com], exportTo: [nowhere], ports: [{number: 443, name: tls, protocol: TLS}]}
"""
    assert codes_on(text.replace("NS", "shop"), "KIA0005") == [
        "DestinationRule shop/d",
        "ServiceEntry shop/s",
        "VirtualService shop/v",
    ]
    assert codes_on(text.replace("NS", "amb"), "KIA0005") == []
