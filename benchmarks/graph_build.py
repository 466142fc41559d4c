"""Benchmark: build a 10,000-workload / 50,000-edge graph with all appenders (run by hand).

    .venv/bin/python benchmarks/graph_build.py [namespaces] [workloads_per_ns] [calls_per_workload]

Series are generated as the collector stores them: each call reported by destination (incoming
of the callee's namespace) and source (outgoing of the caller's namespace), plus the appender
queries. The goal from the task: < 5 s on one core for the whole build.
"""

from __future__ import annotations

import random
import sys
import time

from meshreport.graph.build import GraphOptions, build_graph
from meshreport.pipeline import paused_gc
from meshreport.snapshot.model import ConfigObject, QueryResult, Series, Snapshot, Source, Window


def _labels(sns, swl, dns, dwl, **extra):
    app_s, app_d = swl.rsplit("-", 1)[0], dwl.rsplit("-", 1)[0]
    lb = {
        "source_cluster": "east",
        "source_workload_namespace": sns,
        "source_workload": swl,
        "source_canonical_service": app_s,
        "source_canonical_revision": "v1",
        "destination_cluster": "east",
        "destination_service_namespace": dns,
        "destination_service": f"{app_d}.{dns}.svc.cluster.local",
        "destination_service_name": app_d,
        "destination_workload_namespace": dns,
        "destination_workload": dwl,
        "destination_canonical_service": app_d,
        "destination_canonical_revision": "v1",
    }
    lb.update(extra)
    return lb


def make_snapshot(n_ns: int, per_ns: int, calls: int, seed: int = 1) -> Snapshot:
    rnd = random.Random(seed)
    namespaces = [f"ns{i:03d}" for i in range(n_ns)]
    workloads = [(ns, f"svc{j:04d}-v1") for ns in namespaces for j in range(per_ns)]
    results: dict[tuple[str, str], list[Series]] = {}

    def put(key, ns, lb, v):
        results.setdefault((key, ns), []).append(Series(lb, v))

    objects: list[ConfigObject] = []
    for ns, w in workloads:
        app = w.rsplit("-", 1)[0]
        tmpl = {"metadata": {"labels": {"app": app, "version": "v1"}}}
        objects.append(
            ConfigObject(
                "apps/v1",
                "Deployment",
                w,
                ns,
                {"metadata": {"name": w}, "spec": {"replicas": 1, "template": tmpl}},
                cluster="east",
            )
        )
        pod = {
            "metadata": {
                "name": w + "-x",
                "labels": {"app": app, "version": "v1", "pod-template-hash": "abc"},
                "ownerReferences": [{"kind": "ReplicaSet", "name": w + "-abc"}],
            },
            "spec": {"containers": [{"name": "app"}, {"name": "istio-proxy"}]},
        }
        objects.append(ConfigObject("v1", "Pod", w + "-x", ns, pod, cluster="east"))
        objects.append(ConfigObject("v1", "Service", app, ns, {"metadata": {"name": app}}, cluster="east"))
    for ns, w in workloads:
        for dns, dw in rnd.sample(workloads, calls):
            for code, v in (("200", rnd.random() * 10), ("503", rnd.random())):
                lb = _labels(
                    ns,
                    w,
                    dns,
                    dw,
                    request_protocol="http",
                    response_code=code,
                    grpc_response_status="",
                    response_flags="-",
                )
                put("graph/istio_requests_total/incoming", dns, lb, v)
                put("graph/istio_requests_total/outgoing", ns, dict(lb), v * 1.01)
            rt = _labels(ns, w, dns, dw, request_protocol="http")
            put("appender/responseTime/0.95/incoming", dns, rt, 25.0)
            put("appender/throughput/response/incoming", dns, dict(rt), 1000.0)
            sp = _labels(
                ns, w, dns, dw, connection_security_policy="mutual_tls", source_principal="a", destination_principal="b"
            )
            put(
                "appender/securityPolicy/istio_requests_total/" + ("outgoing" if ns == dns else "incoming"),
                dns,
                sp,
                5.0,
            )
    queries = [
        QueryResult(key=k, promql="", namespace=ns, kind="instant", time=0.0, series=s)
        for (k, ns), s in results.items()
    ]
    return Snapshot(Window(0.0, 600.0), Source("synthetic"), namespaces, queries=queries, objects=objects)


def main() -> None:
    n_ns, per_ns, calls = (int(a) for a in (sys.argv[1:] + ["100", "100", "5"])[:3])
    t = time.perf_counter()
    snap = make_snapshot(n_ns, per_ns, calls)
    t0 = time.perf_counter()
    x = 0
    for i in range(10_000_000):
        x += i
    print(f"machine: 10M-iteration Python loop takes {time.perf_counter() - t0:.2f}s (about 0.4s on an idle core)")
    n_series = sum(len(q.series) for q in snap.queries)
    print(
        f"snapshot: {n_ns * per_ns} workloads, {n_series} series, {len(snap.objects)} objects "
        f"({time.perf_counter() - t:.1f}s to generate)"
    )
    runs = [
        ("versionedApp", False, []),
        ("versionedApp", False, None),
        ("workload", True, None),
        ("service", True, None),
    ]
    for gt, inject, appenders in runs:
        t = time.perf_counter()
        with paused_gc():  # as pipeline.analyse does
            g = build_graph(snap, GraphOptions(graph_type=gt, inject_service_nodes=inject, appenders=appenders))
        dt = time.perf_counter() - t
        label = "all appenders" if appenders is None else "no appenders"
        print(f"{gt:13s} inject={inject!s:5s} {label:13s}: {len(g.nodes):6d} nodes {len(g.edges):6d} edges  {dt:.2f}s")


if __name__ == "__main__":
    main()
