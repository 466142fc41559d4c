"""A synthetic mesh with one failing edge and one slow edge hidden among busier, healthy ones.

checkout-v1 -> payments fails 12 % of 2 req/s (0.24 req/s of errors); cart-v1 -> inventory is far
busier (120 req/s) with 0.5 % 5xx, i.e. more errors per second: a ranking by error rate would
put it first. search-v1 -> catalog answers in ~2.4 s at p95, every other edge in ~100 ms. Twelve
busy healthy edges keep both out of the "busiest edges" top ten. Metrics come from the real
collection plan evaluated over the mesh (meshreport.snapshot.synth.snapshot).
"""

from __future__ import annotations

from meshreport.snapshot.model import Snapshot, Window
from meshreport.synthetic import meshes as synth
from meshreport.synthetic.model import Flow, Latency, Mesh, Response, Service, Workload

T0 = 1_704_067_200.0
WINDOW = Window(T0, T0 + 3600)
NORMAL = Latency(((20.0, 0.6), (50.0, 0.3), (100.0, 0.1)))
SLOW = Latency(((800.0, 0.5), (2400.0, 0.5)))


def trouble_mesh() -> Mesh:
    def wl(ns: str, app: str) -> Workload:
        return Workload(ns, f"{app}-v1", app, "v1", app)

    def svc(ns: str, app: str) -> Service:
        return Service(ns, app, 9080, "http", app)

    gateway = Workload(
        "istio-system", "istio-ingressgateway", "istio-ingressgateway", "", "gw", port=8080, gateway=True
    )
    apps = {
        "shop": ["front", "cart", "checkout", "search", "catalog", "inventory"],
        "pay": ["payments", "ledger"],
        "ops": [f"busy{i}" for i in range(12)],
    }
    workloads = {app: wl(ns, app) for ns, names in apps.items() for app in names}
    services = {app: svc(ns, app) for ns, names in apps.items() for app in names}

    def ok(rate: float) -> tuple[Response, ...]:
        return (Response("200", rate),)

    def flow(src: str | None, dst: str, responses, latency=NORMAL) -> Flow:
        source = gateway if src is None else workloads[src]
        return Flow(source, services[dst], workloads[dst], "http", responses, latency)

    flows = [
        flow(None, "front", ok(20.0)),
        flow("front", "cart", ok(10.0)),
        flow("front", "search", ok(6.0)),
        flow("cart", "inventory", (Response("200", 119.4), Response("503", 0.6, "UF"))),
        flow("cart", "checkout", ok(2.0)),
        flow("checkout", "payments", (Response("200", 1.76), Response("503", 0.24, "URX"))),
        flow("payments", "ledger", ok(1.76)),
        flow("search", "catalog", ok(3.0), SLOW),
    ]
    flows += [flow(None, f"busy{i}", ok(200.0 + i)) for i in range(12)]
    return Mesh(
        name="trouble",
        workloads=[gateway, *workloads.values()],
        services=list(services.values()),
        flows=flows,
        namespaces=["shop", "pay", "ops", "istio-system"],
        facts={"mesh": "trouble"},
    )


def trouble_snapshot() -> Snapshot:
    return synth.snapshot(trouble_mesh(), WINDOW)
