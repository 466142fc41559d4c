"""Deterministic synthetic meshes: the bookinfo sample, and scalable meshes for tests and benchmarks.

A synthetic snapshot is made the way a real one is, minus the cluster: the collection plan of
queries.py is evaluated (evaluate.py) against the raw series of a mesh model (mesh.py), and the
config objects are built from manifests and the model. The same arguments always give a
byte-identical `.mrsnap` (seeded random numbers, fixed window, no wall-clock anywhere).

Scalable meshes have constant rates (flat trends). The bookinfo sample varies its rates in
5-minute steps (mesh.Shape) that average exactly 1 over its window, so its instant results are
the documented rates while its trends show a traffic swell and an error burst. The OpenMetrics
export (`write_openmetrics`) writes the same shapes, so a real Prometheus loaded from it answers
like the snapshot (for query times and ranges on its sample grid).
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

import yaml

from meshreport.collect.queries import collection_plan
from meshreport.errors import InputError
from meshreport.snapshot.model import ConfigObject, Snapshot, Source, Window
from meshreport.synthetic import openmetrics
from meshreport.synthetic.evaluate import Evaluator
from meshreport.synthetic.model import ExternalHost, Flow, Latency, Mesh, Response, Service, Shape, Workload

ISTIO_VERSION = "1.22.0"
KUBERNETES_VERSION = "v1.29.4"
PROXY_IMAGE = f"docker.io/istio/proxyv2:{ISTIO_VERSION}"

#: The bookinfo sample's window: one hour ending 2024-01-01T01:00:00Z (start on a 2 h boundary,
#: which is where promtool cuts blocks).
BOOKINFO_END = 1704070800.0
BOOKINFO_WINDOW = Window(start=BOOKINFO_END - 3600, end=BOOKINFO_END)

_UUID_NS = uuid.UUID("5b0c6f39-3f5c-4a55-9d0e-6d5e9b2f7a10")


def manifests_dir() -> Path:
    """`samples/manifests/`: inside the wheel when packaged as the data package `meshreport.samples`
    (like templates/), else the top-level folder of a source checkout."""
    try:
        import meshreport.samples as shipped  # type: ignore[import-not-found]

        cands = [Path(p) / "manifests" for p in shipped.__path__]
    except ImportError:
        cands = []
    cands.append(Path(__file__).resolve().parents[2] / "samples" / "manifests")
    for cand in cands:
        if (cand / "bookinfo.yaml").is_file():
            return cand
    raise InputError("the bookinfo sample manifests (samples/manifests/) are not installed with this meshreport")


# ---------------------------------------------------------------------------------------
# bookinfo
# ---------------------------------------------------------------------------------------


def bookinfo_mesh() -> Mesh:
    """Istio's bookinfo with traffic: ingress gateway and outside clients -> productpage ->
    details and reviews v1/v2/v3; reviews v2/v3 -> ratings (5 % HTTP 500 on reviews-v2 ->
    ratings-v1, in a burst); ratings-v2 -> mongodb over TCP; details -> www.googleapis.com
    (ServiceEntry). Rates are the means over BOOKINFO_WINDOW (see samples/README.md)."""
    ns = "bookinfo"

    def wl(app: str, version: str, sa: str, **kw: Any) -> Workload:
        image = f"registry.istio.io/release/examples-bookinfo-{app}-{version}:1.20.3"
        return Workload(ns, f"{app}-{version}", app, version, sa, image=image, **kw)

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
    istiod = Workload(
        "istio-system", "istiod", "istiod", "", "istiod", sidecar=False, image=f"docker.io/istio/pilot:{ISTIO_VERSION}"
    )
    productpage = wl("productpage", "v1", "bookinfo-productpage")
    details = wl("details", "v1", "bookinfo-details")
    reviews = [wl("reviews", v, "bookinfo-reviews") for v in ("v1", "v2", "v3")]
    ratings1 = wl("ratings", "v1", "bookinfo-ratings")
    ratings2 = wl("ratings", "v2", "bookinfo-ratings-v2")
    mongodb = Workload(
        ns,
        "mongodb-v1",
        "mongodb",
        "v1",
        "default",
        image="registry.istio.io/release/examples-bookinfo-mongodb:1.20.3",
        port=27017,
    )
    svc = {name: Service(ns, name, 9080, "http", name) for name in ("productpage", "details", "reviews", "ratings")}
    svc["mongodb"] = Service(ns, "mongodb", 27017, "mongo", "mongodb")
    google = ExternalHost("www.googleapis.com", ns, "googleapis", 443, "HTTPS")

    def ok(rate: float) -> tuple[Response, ...]:
        return (Response("200", rate),)

    fast = Latency(((2.0, 0.7), (5.0, 0.3)))
    page = Latency(((20.0, 0.5), (50.0, 0.4), (300.0, 0.1)))
    stars = Latency(((30.0, 0.6), (60.0, 0.3), (250.0, 0.1)))
    flows = [
        Flow(gateway, svc["productpage"], productpage, "http", (Response("200", 9.9), Response("404", 0.1)), page,
             request_bytes=600, response_bytes=5200),
        Flow(None, svc["productpage"], productpage, "http", ok(0.5), page, request_bytes=450, response_bytes=5200),
        Flow(productpage, svc["details"], details, "http", ok(10.4), fast, request_bytes=350, response_bytes=180),
        Flow(productpage, svc["reviews"], reviews[0], "http", ok(3.5), Latency(((10.0, 0.8), (25.0, 0.2))),
             request_bytes=350, response_bytes=400),
        Flow(productpage, svc["reviews"], reviews[1], "http", ok(3.5), stars, request_bytes=350, response_bytes=560),
        Flow(productpage, svc["reviews"], reviews[2], "http", ok(3.4), stars, request_bytes=350, response_bytes=560),
        Flow(reviews[1], svc["ratings"], ratings1, "http", (Response("200", 3.325), Response("500", 0.175)),
             Latency(((1.0, 0.6), (3.0, 0.4))), request_bytes=300, response_bytes=48),
        Flow(reviews[2], svc["ratings"], ratings1, "http", ok(2.4), Latency(((1.0, 0.6), (3.0, 0.4))),
             request_bytes=300, response_bytes=48),
        Flow(reviews[2], svc["ratings"], ratings2, "http", ok(1.0), Latency(((3.0, 0.5), (10.0, 0.5))),
             request_bytes=300, response_bytes=48),
        Flow(ratings2, svc["mongodb"], mongodb, "tcp", tcp_request=1500.0, tcp_response=12000.0, connections=1.0),
        Flow(details, google, None, "http", ok(2.0), Latency(((150.0, 0.8), (400.0, 0.2))), request_bytes=500,
             response_bytes=2400),
    ]  # fmt: skip
    # Over the sample hour traffic swells and ebbs in 5-minute steps and reviews-v2 -> ratings-v1
    # has its HTTP 500s in one 10-minute burst (minutes 30-40). Both multipliers average exactly 1
    # over the hour (binary-exact factors), so the hour's rates are the ones written above.
    t0 = BOOKINFO_WINDOW.start
    traffic = Shape(t0, 300, (0.75, 0.875, 1.0, 1.125, 1.25, 1.25, 1.125, 1.0, 0.875, 0.75, 1.0, 1.0))
    burst = Shape(t0, 300, (0.0,) * 6 + (6.0, 6.0) + (0.0,) * 4)
    flows = [replace(f, shape=traffic) for f in flows]
    bad = flows[6]
    flows[6] = replace(bad, responses=(bad.responses[0], replace(bad.responses[1], shape=burst)))
    workloads = [gateway, istiod, productpage, details, *reviews, ratings1, ratings2, mongodb]
    return Mesh(
        name="bookinfo",
        workloads=workloads,
        services=list(svc.values()),
        externals=[google],
        flows=flows,
        namespaces=["bookinfo", "istio-system"],
        facts={"mesh": "bookinfo"},
    )


def load_manifests(paths: list[Path], default_namespace: str) -> list[ConfigObject]:
    """Objects from YAML files; namespaced objects without a namespace go to `default_namespace`."""
    out = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            docs = list(yaml.safe_load_all(f))
        for doc in docs:
            if not doc:
                continue
            meta = doc.setdefault("metadata", {})
            if doc["kind"] not in ("Namespace",) and not meta.get("namespace"):
                meta["namespace"] = default_namespace
            out.append(_obj(doc))
    return out


def _obj(doc: dict[str, Any]) -> ConfigObject:
    meta = doc["metadata"]
    return ConfigObject(doc["apiVersion"], doc["kind"], meta["name"], meta.get("namespace"), doc)


def bookinfo_objects(mesh: Mesh | None = None, window: Window = BOOKINFO_WINDOW) -> list[ConfigObject]:
    """The bookinfo manifests, plus what a cluster adds: namespaces, pods, deployment status."""
    mesh = mesh or bookinfo_mesh()
    d = manifests_dir()
    files = [
        "bookinfo.yaml",
        "bookinfo-ratings-v2.yaml",
        "bookinfo-db.yaml",
        "bookinfo-gateway.yaml",
        "destination-rule-all.yaml",
        "egress-rule-google-apis.yaml",
        "peer-authentication.yaml",
    ]
    objs = load_manifests([d / "istio-system.yaml"], "istio-system")
    objs += [_namespace("bookinfo", window, {"istio-injection": "enabled"})]
    objs += load_manifests([d / f for f in files], "bookinfo")
    by_name = {(w.namespace, w.name): w for w in mesh.workloads}
    pods = []
    for o in objs:
        if o.kind == "Deployment":
            w = by_name.get((o.namespace, o.name))
            if w is not None:
                _deployment_status(o.body, w)
                pods += _pods(o.body, w, window)
    return _finish(objs + pods, window)


def _finish(objs: list[ConfigObject], window: Window) -> list[ConfigObject]:
    """Add the metadata a cluster would (uid, creationTimestamp), deterministically."""
    created = _iso(window.start - 14 * 86400)
    for o in objs:
        meta = o.body.setdefault("metadata", {})
        meta.setdefault("uid", str(uuid.uuid5(_UUID_NS, f"{o.kind}/{o.namespace}/{o.name}")))
        meta.setdefault("creationTimestamp", created)
    order = {"Namespace": 0, "ServiceAccount": 1, "Service": 2, "Deployment": 3, "Pod": 4}
    return sorted(objs, key=lambda o: (order.get(o.kind, 9), o.kind, o.namespace or "", o.name))


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _namespace(name: str, window: Window, labels: dict[str, str] | None = None) -> ConfigObject:
    body = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name, **(labels or {})}},
        "status": {"phase": "Active"},
    }
    return ConfigObject("v1", "Namespace", name, None, body)


def _hash(text: str, n: int, alphabet: str = "bcdfghjklmnpqrstvwxz2456789") -> str:
    h = int.from_bytes(hashlib.sha256(text.encode()).digest(), "big")
    out = []
    for _ in range(n):
        h, r = divmod(h, len(alphabet))
        out.append(alphabet[r])
    return "".join(out)


def _deployment_status(body: dict[str, Any], w: Workload) -> None:
    n = body.get("spec", {}).get("replicas", w.replicas)
    body["status"] = {
        "observedGeneration": 1,
        "replicas": n,
        "updatedReplicas": n,
        "readyReplicas": n,
        "availableReplicas": n,
        "conditions": [
            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
        ],
    }


def _pods(deploy: dict[str, Any], w: Workload, window: Window) -> list[ConfigObject]:
    """Reduced pods: labels, service account, container names/images/ports, readiness."""
    tmpl = deploy.get("spec", {}).get("template", {})
    labels = dict(tmpl.get("metadata", {}).get("labels", {}))
    spec = tmpl.get("spec", {})
    rs_hash = _hash(f"{w.namespace}/{w.name}", 10)
    labels["pod-template-hash"] = rs_hash
    containers = [
        {
            "name": c["name"],
            "image": c.get("image", ""),
            "ports": [{k: p[k] for k in ("containerPort", "name", "protocol") if k in p} for p in c.get("ports", [])],
        }
        for c in spec.get("containers", [])
    ]
    annotations = dict(tmpl.get("metadata", {}).get("annotations", {}))
    if w.sidecar and not w.gateway:
        labels["security.istio.io/tlsMode"] = "istio"
        labels["service.istio.io/canonical-name"] = w.canonical_service
        labels["service.istio.io/canonical-revision"] = w.canonical_revision
        annotations["sidecar.istio.io/status"] = (
            '{"initContainers":["istio-init"],"containers":["istio-proxy"],'
            '"volumes":["istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],'
            '"imagePullSecrets":null,"revision":"default"}'
        )
        containers.append(
            {
                "name": "istio-proxy",
                "image": PROXY_IMAGE,
                "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
            }
        )
    out = []
    for i in range(deploy.get("spec", {}).get("replicas", w.replicas)):
        name = f"{w.name}-{rs_hash}-{_hash(f'{w.namespace}/{w.name}/{i}', 5)}"
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": w.namespace,
                "labels": labels,
                "annotations": annotations,
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"{w.name}-{rs_hash}"}],
            },
            "spec": {"serviceAccountName": spec.get("serviceAccountName", "default"), "containers": containers},
            "status": {
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": "True"}, {"type": "ContainersReady", "status": "True"}],
                "containerStatuses": [
                    {"name": c["name"], "ready": True, "restartCount": 0, "image": c["image"]} for c in containers
                ],
            },
        }
        out.append(ConfigObject("v1", "Pod", name, w.namespace, body))
    return out


def bookinfo_snapshot() -> Snapshot:
    """The committed sample (`samples/bookinfo.mrsnap`)."""
    mesh = bookinfo_mesh()
    return snapshot(mesh, BOOKINFO_WINDOW, objects=bookinfo_objects(mesh, BOOKINFO_WINDOW))


# ---------------------------------------------------------------------------------------
# snapshots and OpenMetrics
# ---------------------------------------------------------------------------------------


def snapshot(
    mesh: Mesh,
    window: Window,
    *,
    objects: list[ConfigObject] | None = None,
    scope: dict[str, str] | None = None,
    namespaces: list[str] | None = None,
) -> Snapshot:
    """Run the collection plan against the mesh, as the collector would against Prometheus."""
    nss = list(namespaces or mesh.namespaces)
    series = mesh.series()
    ev = Evaluator(series)
    plan = collection_plan(nss, window.duration_s, scope=scope)
    queries = [ev.run(p, window) for p in plan]
    return Snapshot(
        window=window,
        source=Source(
            kind="synthetic",
            clusters=[mesh.cluster],
            versions={"istio": ISTIO_VERSION, "kubernetes": KUBERNETES_VERSION},
            description=f"synthetic mesh '{mesh.name}' generated by meshreport synth",
        ),
        namespaces=nss,
        queries=queries,
        objects=list(objects or []),
        collector={"generator": "meshreport.snapshot.synth", **mesh.facts, "raw_series": len(series)},
    )


def write_openmetrics(
    mesh: Mesh,
    out: str | Path | TextIO,
    start: float,
    end: float,
    step: int = 15,
    preroll: int = 900,
    metrics: tuple[str, ...] | None = None,
) -> int:
    """The mesh's counters as OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`;
    returns the number of series written. See openmetrics.write."""
    return openmetrics.write(mesh, out, start, end, step=step, preroll=preroll, metrics=metrics)


# ---------------------------------------------------------------------------------------
# scalable meshes
# ---------------------------------------------------------------------------------------

_FRONT = ("web", "portal", "storefront", "mobile-bff", "admin-ui")
_MID = ("cart", "checkout", "catalog", "orders", "users", "pricing", "search", "inventory", "shipping", "billing")
_BACK = ("ledger", "stock", "profile", "recommend", "notify", "audit", "payments", "tax", "fraud", "geo")
_DB = ("postgres", "mongodb", "redis", "mysql")


def scalable_mesh(namespaces: int = 5, workloads: int = 50, seed: int = 1) -> Mesh:
    """A realistic call structure: front ends (called by the ingress gateway and by clients
    outside the mesh) -> mid tiers -> back ends -> databases over TCP, about five outgoing
    flows per workload, some cross-namespace calls, gRPC, external hosts, errors on about one
    flow in ten and a few workloads without sidecars. `workloads` is the total over all
    namespaces. Deterministic for a given seed."""
    if namespaces < 1 or workloads < namespaces:
        raise ValueError("need at least one namespace and one workload per namespace")
    rng = random.Random(seed)
    mesh = Mesh(name=f"scalable-{namespaces}x{workloads}-s{seed}")
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
    mesh.workloads.append(gateway)
    ns_names = [f"team-{i:03d}" for i in range(namespaces)]
    tiers: dict[str, dict[str, list[tuple[Service, list[Workload]]]]] = {}
    for i, ns in enumerate(ns_names):
        count = workloads // namespaces + (1 if i < workloads % namespaces else 0)
        tiers[ns] = _namespace_apps(rng, mesh, ns, count)
        ext = ExternalHost(f"api.partner-{i:03d}.example.com", ns, f"partner-{i:03d}", 443, "HTTPS")
        mesh.externals.append(ext)
    seen: set[tuple] = set()

    def add(src: Workload | None, svc: Service, dests: list[Workload], protocol: str, rate: float) -> None:
        share = rate / len(dests)
        for d in dests:
            key = (src.namespace if src else "", src.name if src else "", svc.namespace, svc.name, d.name, protocol)
            if key in seen:
                continue
            seen.add(key)
            mesh.flows.append(_flow(rng, src, svc, d, protocol, share))

    for ns in ns_names:
        t = tiers[ns]
        for svc, dests in t["front"]:
            add(gateway, svc, dests, "http", rng.uniform(5, 50))
            if rng.random() < 0.3:
                add(None, svc, dests, "http", rng.uniform(0.2, 2))
        for tier, targets, lo, hi in (
            ("front", ("mid",), 4, 8),
            ("mid", ("mid", "back"), 3, 7),
            ("back", ("back",), 1, 3),
        ):
            for _, srcs in t[tier]:
                for src in srcs:
                    pool = [x for name in targets for x in t[name]]
                    if tier == "mid" and rng.random() < 0.15 and len(ns_names) > 1:
                        other = tiers[rng.choice([n for n in ns_names if n != ns])]
                        pool = pool + other["mid"] + other["back"]
                    pool = [x for x in pool if src not in x[1]]
                    for svc, dests in rng.sample(pool, min(len(pool), rng.randint(lo, hi))):
                        protocol = "grpc" if svc.port_name == "grpc" else "http"
                        add(src, svc, dests, protocol, rng.uniform(0.5, 20))
                    if tier == "back":
                        for svc, dests in rng.sample(t["db"], min(len(t["db"]), rng.randint(1, 2))):
                            add(src, svc, dests, "tcp", rng.uniform(500, 50000))
                        if rng.random() < 0.1:
                            ext = next(e for e in mesh.externals if e.namespace == ns)
                            mesh.flows.append(_flow(rng, src, ext, None, "http", rng.uniform(0.2, 5)))
    mesh.namespaces = [*ns_names, "istio-system"]
    mesh.facts = {"mesh": "scalable", "namespaces": namespaces, "workloads": workloads, "seed": seed}
    return mesh


def _namespace_apps(rng: random.Random, mesh: Mesh, ns: str, count: int) -> dict[str, list]:
    """Apps of one namespace by tier; each app is a Service and one or two versioned workloads."""
    shares = (("front", 0.1), ("mid", 0.4), ("back", 0.35), ("db", 0.15))
    want = {tier: max(1, round(count * share)) for tier, share in shares}
    want["mid"] = max(1, count - want["front"] - want["back"] - want["db"])
    out: dict[str, list] = {tier: [] for tier, _ in shares}
    made = 0
    for tier, _ in shares:
        names = {"front": _FRONT, "mid": _MID, "back": _BACK, "db": _DB}[tier]
        n = 0
        k = 0
        while n < want[tier] and made < count:
            app = f"{names[k % len(names)]}-{k // len(names)}" if k >= len(names) else names[k]
            k += 1
            versions = ["v1", "v2"] if tier != "db" and rng.random() < 0.2 and n + 2 <= want[tier] else ["v1"]
            grpc = tier in ("mid", "back") and rng.random() < 0.15
            port, port_name = (27017, "tcp") if tier == "db" else (9090, "grpc") if grpc else (8080, "http")
            svc = Service(ns, app, port, port_name, app)
            wls = [
                Workload(
                    ns,
                    f"{app}-{v}",
                    app,
                    v,
                    app,
                    sidecar=rng.random() >= 0.03,
                    replicas=rng.choice((1, 1, 2, 3)),
                    image=f"registry.example.com/{ns}/{app}:{v}.{rng.randint(0, 9)}",
                    port=port,
                )
                for v in versions
            ]
            mesh.services.append(svc)
            mesh.workloads.extend(wls)
            out[tier].append((svc, wls))
            n += len(wls)
            made += len(wls)
    return out


def _flow(
    rng: random.Random,
    src: Workload | None,
    svc: Service | ExternalHost,
    dest: Workload | None,
    protocol: str,
    rate: float,
) -> Flow:
    base = rng.choice((1, 2, 5, 10, 20, 50))
    latency = Latency(((float(base), 0.6), (float(base * 3), 0.3), (float(base * 12), 0.1)))
    if protocol == "tcp":
        req = round(rate, 3)
        return Flow(src, svc, dest, "tcp", tcp_request=req, tcp_response=round(req * rng.uniform(2, 10), 3),
                    connections=round(rng.uniform(0.1, 5), 3))  # fmt: skip
    total = round(rate, 3)
    responses: list[Response] = []
    roll = rng.random()
    if protocol == "grpc":
        if roll < 0.1:
            err = round(total * rng.uniform(0.01, 0.1), 3)
            responses = [Response("200", round(total - err, 3), grpc_status="0"), Response("200", err, "UF", "14")]
        else:
            responses = [Response("200", total, grpc_status="0")]
    elif roll < 0.1:
        err = round(total * rng.uniform(0.01, 0.1), 3)
        code, flags = rng.choice((("500", "-"), ("503", "UF"), ("503", "URX"), ("504", "UT")))
        responses = [Response("200", round(total - err, 3)), Response(code, err, flags)]
    elif roll < 0.15:
        err = round(total * rng.uniform(0.01, 0.05), 3)
        responses = [Response("200", round(total - err, 3)), Response("404", err)]
    else:
        responses = [Response("200", total)]
    responses = [r for r in responses if r.rate > 0]
    return Flow(src, svc, dest, protocol, tuple(responses), latency,
                request_bytes=float(rng.randint(100, 2000)), response_bytes=float(rng.randint(50, 20000)))  # fmt: skip


def scalable_objects(mesh: Mesh, window: Window) -> list[ConfigObject]:
    """Config for a scalable mesh: namespaces, service accounts, services, deployments, pods,
    destination rules with subsets, some virtual services, peer authentications, service entries,
    and the ingress gateway with its Gateway."""
    objs = load_manifests([manifests_dir() / "istio-system.yaml"], "istio-system")
    gw_body = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "public-gateway", "namespace": "istio-system"},
        "spec": {
            "selector": {"istio": "ingressgateway"},
            "servers": [{"port": {"number": 8080, "name": "http", "protocol": "HTTP"}, "hosts": ["*.example.com"]}],
        },
    }
    objs.append(_obj(gw_body))
    plaintext_ns = {
        f.dest.namespace
        for f in mesh.flows
        if f.dest is not None and f.dest.sidecar and not f.is_mtls and isinstance(f.service, Service)
    }
    ns_names = [n for n in mesh.namespaces if n != "istio-system"]
    for ns in ns_names:
        objs.append(_namespace(ns, window, {"istio-injection": "enabled"}))
        mode = "PERMISSIVE" if ns in plaintext_ns else "STRICT"
        objs.append(_obj(_pa(ns, mode)))
    by_app: dict[tuple[str, str], list[Workload]] = {}
    for w in mesh.workloads:
        if w.namespace != "istio-system":
            by_app.setdefault((w.namespace, w.app), []).append(w)
    fronts = {(f.service.namespace, f.service.name) for f in mesh.flows if f.source is not None and f.source.gateway}
    for svc in mesh.services:
        wls = by_app.get((svc.namespace, svc.app), [])
        objs.append(_obj(_service_body(svc)))
        sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": svc.app, "namespace": svc.namespace}}
        objs.append(_obj(sa))
        if len(wls) > 1:
            objs.append(_obj(_dr(svc, wls)))
        if (svc.namespace, svc.name) in fronts:
            objs.append(_obj(_front_vs(svc, wls)))
    for w in mesh.workloads:
        if w.namespace == "istio-system":
            continue
        dep = _deployment_body(w)
        _deployment_status(dep, w)
        objs.append(_obj(dep))
        objs += _pods(dep, w, window)
    for ext in mesh.externals:
        objs.append(_obj(_se(ext)))
    return _finish(objs, window)


def _service_body(svc: Service) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": svc.name, "namespace": svc.namespace, "labels": {"app": svc.app, "service": svc.name}},
        "spec": {"ports": [{"port": svc.port, "name": svc.port_name, "protocol": "TCP"}], "selector": {"app": svc.app}},
    }


def _deployment_body(w: Workload) -> dict[str, Any]:
    labels = {"app": w.app, "version": w.version}
    tmeta: dict[str, Any] = {"labels": dict(labels)}
    if not w.sidecar:
        tmeta["annotations"] = {"sidecar.istio.io/inject": "false"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": w.name, "namespace": w.namespace, "labels": labels},
        "spec": {
            "replicas": w.replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": tmeta,
                "spec": {
                    "serviceAccountName": w.service_account,
                    "containers": [{"name": w.app, "image": w.image, "ports": [{"containerPort": w.port}]}],
                },
            },
        },
    }


def _dr(svc: Service, wls: list[Workload]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": {"name": svc.name, "namespace": svc.namespace},
        "spec": {
            "host": svc.name,
            "trafficPolicy": {"connectionPool": {"http": {"http1MaxPendingRequests": 100}}},
            "subsets": [{"name": w.version, "labels": {"version": w.version}} for w in wls],
        },
    }


def _front_vs(svc: Service, wls: list[Workload]) -> dict[str, Any]:
    route: list[dict[str, Any]] = [{"destination": {"host": svc.name, "port": {"number": svc.port}}}]
    if len(wls) > 1:
        route = [
            {"destination": {"host": svc.name, "subset": w.version}, "weight": 100 // len(wls) + (i < 100 % len(wls))}
            for i, w in enumerate(wls)
        ]
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": svc.name, "namespace": svc.namespace},
        "spec": {
            "hosts": [f"{svc.name}.{svc.namespace}.example.com"],
            "gateways": ["istio-system/public-gateway"],
            "http": [{"route": route, "timeout": "10s"}],
        },
    }


def _pa(ns: str, mode: str) -> dict[str, Any]:
    return {
        "apiVersion": "security.istio.io/v1",
        "kind": "PeerAuthentication",
        "metadata": {"name": "default", "namespace": ns},
        "spec": {"mtls": {"mode": mode}},
    }


def _se(ext: ExternalHost) -> dict[str, Any]:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": {"name": ext.entry, "namespace": ext.namespace},
        "spec": {
            "hosts": [ext.host],
            "location": "MESH_EXTERNAL",
            "ports": [{"number": ext.port, "name": ext.protocol.lower(), "protocol": ext.protocol}],
            "resolution": "DNS",
        },
    }


def scalable_snapshot(namespaces: int, workloads: int, seed: int, window: Window) -> Snapshot:
    mesh = scalable_mesh(namespaces, workloads, seed)
    return snapshot(mesh, window, objects=scalable_objects(mesh, window))
