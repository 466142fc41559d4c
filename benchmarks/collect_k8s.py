"""Benchmark: collect 10,000 pods and 2,000 Istio objects from the stub API server.

Run by hand (never in the test suite):

    .venv/bin/python benchmarks/collect_k8s.py [--pods 10000] [--istio 2000] [--page-size 500]

The stub runs in a child process so the numbers are the collector's own: wall time, requests,
peak RSS of the collecting process, and (second run) the peak of Python allocations during
collection (tracemalloc), plus the size of the resulting snapshot file. Pods are shaped like real
ones (managedFields, env, volumes, status), so the least-data reduction does real work.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from helpers.k8s_stub import StubCluster, StubServer  # noqa: E402

from meshreport.collect.kubernetes import client_for, collect_cluster, merge_results  # noqa: E402
from meshreport.snapshot import store  # noqa: E402
from meshreport.snapshot.model import Snapshot, Source, Window  # noqa: E402


def pod(i: int, ns: str) -> dict:
    app = f"app-{i % 400}"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{app}-v1-{i:06d}",
            "namespace": ns,
            "labels": {
                "app": app,
                "version": "v1",
                "pod-template-hash": "abc123",
                "security.istio.io/tlsMode": "istio",
            },
            "annotations": {
                "sidecar.istio.io/status": '{"initContainers":["istio-init"],"containers":["istio-proxy"]}',
                "prometheus.io/scrape": "true",
                "kubectl.kubernetes.io/last-applied-configuration": "{" + "x" * 800 + "}",
            },
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"{app}-v1-abc123", "uid": "u"}
            ],
            "managedFields": [{"manager": "kube-controller-manager", "fieldsV1": {"f:metadata": {"x" * 20: {}}}}] * 4,
        },
        "spec": {
            "serviceAccountName": app,
            "nodeName": f"node-{i % 50}",
            "volumes": [{"name": "istio-token", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}}],
            "initContainers": [
                {"name": "istio-init", "image": "docker.io/istio/proxyv2:1.22.3", "args": ["-p", "15001"]}
            ],
            "containers": [
                {
                    "name": app,
                    "image": f"example/{app}:1.0",
                    "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                    "env": [{"name": f"VAR_{k}", "value": "v" * 40} for k in range(10)],
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                },
                {
                    "name": "istio-proxy",
                    "image": "docker.io/istio/proxyv2:1.22.3",
                    "args": ["proxy", "sidecar", "--domain", f"{ns}.svc.cluster.local"],
                    "env": [{"name": f"ISTIO_META_{k}", "value": "m" * 30} for k in range(20)],
                    "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
                },
            ],
        },
        "status": {
            "phase": "Running",
            "podIP": f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}",
            "conditions": [{"type": t, "status": "True"} for t in ("Initialized", "Ready", "ContainersReady")],
            "containerStatuses": [
                {"name": app, "ready": True, "restartCount": 0, "imageID": "sha256:" + "a" * 64},
                {"name": "istio-proxy", "ready": True, "restartCount": 0, "imageID": "sha256:" + "b" * 64},
            ],
        },
    }


def istio_object(i: int, ns: str) -> dict:
    host = f"app-{i % 400}"
    if i % 2 == 0:
        return {
            "apiVersion": "networking.istio.io/v1",
            "kind": "VirtualService",
            "metadata": {"name": f"vs-{i}", "namespace": ns},
            "spec": {
                "hosts": [host],
                "http": [{"route": [{"destination": {"host": host, "subset": "v1"}, "weight": 100}]}],
            },
        }
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": {"name": f"dr-{i}", "namespace": ns},
        "spec": {"host": host, "subsets": [{"name": "v1", "labels": {"version": "v1"}}]},
    }


def objects(pods: int, istio: int, namespaces: int) -> list[dict]:
    nss = [f"ns-{k:03d}" for k in range(namespaces)]
    out: list[dict] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in nss]
    out += [pod(i, nss[i % namespaces]) for i in range(pods)]
    out += [istio_object(i, nss[i % namespaces]) for i in range(istio)]
    return out


def serve(conn, pods: int, istio: int, namespaces: int) -> None:
    cluster = StubCluster(objects=objects(pods, istio, namespaces))
    with StubServer(cluster) as srv:
        conn.send(srv.url)
        conn.recv()  # block until the parent is done


def collect(url: str, page_size: int):
    api = client_for(url, "bench")
    try:
        return collect_cluster(api, "Kubernetes", None, page_size=page_size)
    finally:
        api.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pods", type=int, default=10_000)
    ap.add_argument("--istio", type=int, default=2_000)
    ap.add_argument("--namespaces", type=int, default=50)
    ap.add_argument("--page-size", type=int, default=500)
    args = ap.parse_args()

    parent, child = mp.Pipe()
    proc = mp.get_context("fork").Process(target=serve, args=(child, args.pods, args.istio, args.namespaces))
    proc.start()
    url = parent.recv()
    try:
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0, c0 = time.perf_counter(), time.process_time()
        r = collect(url, args.page_size)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        n_pods = sum(1 for o in r.objects if o.kind == "Pod")
        n_istio = sum(1 for o in r.objects if o.group.endswith("istio.io"))
        assert n_pods == args.pods and n_istio == args.istio, (n_pods, n_istio)
        objs, gaps, facts = merge_results([r])
        snap = Snapshot(window=Window(0, 600), source=Source(kind="kubernetes"), namespaces=[], objects=objs)
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "bench.mrsnap"
            t1 = time.perf_counter()
            store.write(snap, path)
            write_s = time.perf_counter() - t1
            size = path.stat().st_size
        del r, objs, snap

        tracemalloc.start()
        collect(url, args.page_size)
        _cur, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        parent.send("done")
        proc.join(timeout=10)

    print(f"objects: {args.pods} pods + {args.istio} Istio objects in {args.namespaces} namespaces")
    print(f"collect: {wall:.2f} s wall, {cpu:.2f} s CPU in the collector, {facts['requests']} requests,")
    print(f"         page size {args.page_size}, gaps {len(gaps)}")
    print(f"peak RSS of the collecting process: {rss1 / 1024:.0f} MiB (before collection {rss0 / 1024:.0f} MiB)")
    print(f"peak Python allocations during collection (tracemalloc): {peak / 2**20:.0f} MiB")
    print(f"snapshot: {size / 2**20:.2f} MiB gzip, written in {write_s:.2f} s")
    for g in gaps:
        print(f"gap: {g.what}: {g.reason}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (the stub shares them)")


if __name__ == "__main__":
    main()
