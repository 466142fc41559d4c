"""A small synthetic mesh with mixed mTLS: one namespace ready for STRICT, one with a plain-text caller,
one already STRICT. It shows the report's mTLS section with real content (`meshreport synth mtls`).

- `shop` (PERMISSIVE): the ingress gateway -> web -> cart, all mutual TLS: ready for STRICT.
- `billing` (PERMISSIVE): cart -> invoices over mTLS, and `jobs/nightly-export-v1` -> invoices in plain
  text (its namespace's DestinationRule turns TLS off for billing's services): blocks STRICT.
  invoices -> ledger over TCP, mTLS.
- `payments` (STRICT): cart -> charge, mTLS.
- `jobs`: the nightly export; no inbound traffic.
"""

from __future__ import annotations

from typing import Any

from meshreport.snapshot.model import ConfigObject, Snapshot, Window
from meshreport.synthetic.meshes import (
    BOOKINFO_WINDOW,
    PROXY_IMAGE,
    _deployment_body,
    _deployment_status,
    _finish,
    _namespace,
    _obj,
    _pa,
    _pods,
    _service_body,
    load_manifests,
    manifests_dir,
    snapshot,
)
from meshreport.synthetic.model import Flow, Latency, Mesh, Response, Service, Workload

MTLS_WINDOW = BOOKINFO_WINDOW
NAMESPACE_MODES = {"shop": "PERMISSIVE", "billing": "PERMISSIVE", "payments": "STRICT"}


def mtls_mesh() -> Mesh:
    gateway = Workload(
        "istio-system",
        "istio-ingressgateway",
        "istio-ingressgateway",
        "",
        "istio-ingressgateway-service-account",
        image=PROXY_IMAGE,
        port=8080,
        gateway=True,
    )

    def wl(ns: str, app: str, port: int = 8080) -> Workload:
        return Workload(ns, f"{app}-v1", app, "v1", app, image=f"registry.example.com/{ns}/{app}:1.0", port=port)

    web, cart = wl("shop", "web"), wl("shop", "cart")
    invoices, ledger = wl("billing", "invoices"), wl("billing", "ledger", 5432)
    charge, export = wl("payments", "charge"), wl("jobs", "nightly-export")
    svc = {w.app: Service(w.namespace, w.app, w.port, "tcp" if w.port == 5432 else "http", w.app) for w in
           (web, cart, invoices, ledger, charge)}  # fmt: skip
    lat = Latency(((5.0, 0.7), (20.0, 0.3)))

    def ok(rate: float) -> tuple[Response, ...]:
        return (Response("200", rate),)

    flows = [
        Flow(gateway, svc["web"], web, "http", ok(20.0), lat),
        Flow(web, svc["cart"], cart, "http", ok(10.0), lat),
        Flow(cart, svc["invoices"], invoices, "http", ok(4.0), lat),
        Flow(export, svc["invoices"], invoices, "http", ok(0.5), lat, mtls=False),
        Flow(invoices, svc["ledger"], ledger, "tcp", tcp_request=2000.0, tcp_response=8000.0, connections=0.5),
        Flow(cart, svc["charge"], charge, "http", ok(3.0), lat),
    ]
    return Mesh(
        name="mtls-mix",
        workloads=[gateway, web, cart, invoices, ledger, charge, export],
        services=list(svc.values()),
        flows=flows,
        namespaces=["shop", "billing", "payments", "jobs", "istio-system"],
        facts={"mesh": "mtls-mix"},
    )


def _plaintext_dr() -> dict[str, Any]:
    """The jobs namespace's DestinationRule that makes its clients send plain text to billing."""
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": {"name": "billing-plaintext", "namespace": "jobs"},
        "spec": {"host": "*.billing.svc.cluster.local", "trafficPolicy": {"tls": {"mode": "DISABLE"}}},
    }


def mtls_objects(mesh: Mesh, window: Window) -> list[ConfigObject]:
    objs = load_manifests([manifests_dir() / "istio-system.yaml"], "istio-system")
    for ns in ("shop", "billing", "payments", "jobs"):
        objs.append(_namespace(ns, window, {"istio-injection": "enabled"}))
        if ns in NAMESPACE_MODES:
            objs.append(_obj(_pa(ns, NAMESPACE_MODES[ns])))
    objs.append(_obj(_plaintext_dr()))
    for s in mesh.services:
        objs.append(_obj(_service_body(s)))
    pods: list[ConfigObject] = []
    for w in mesh.workloads:
        if w.namespace == "istio-system":
            continue
        dep = _deployment_body(w)
        _deployment_status(dep, w)
        objs.append(_obj(dep))
        pods += _pods(dep, w, window)
    return _finish(objs + pods, window)


def mtls_snapshot() -> Snapshot:
    mesh = mtls_mesh()
    return snapshot(mesh, MTLS_WINDOW, objects=mtls_objects(mesh, MTLS_WINDOW))
