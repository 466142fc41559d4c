"""Scale benchmark of the synthetic generator (run by hand, not part of the test suite).

    .venv/bin/python benchmarks/bench_synth.py [NAMESPACES WORKLOADS ...]

For each size: time to build the mesh, its config objects, the snapshot (every planned query
evaluated offline) and to write the .mrsnap; plus flows per workload, raw series and file size.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

from meshreport.snapshot import store
from meshreport.snapshot.model import Window
from meshreport.synthetic import meshes

WINDOW = Window(start=1704067200.0, end=1704070800.0)


def bench(namespaces: int, workloads: int) -> None:
    t0 = time.perf_counter()
    mesh = meshes.scalable_mesh(namespaces, workloads, seed=1)
    t1 = time.perf_counter()
    objects = meshes.scalable_objects(mesh, WINDOW)
    t2 = time.perf_counter()
    snap = meshes.snapshot(mesh, WINDOW, objects=objects)
    t3 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "scale.mrsnap")
        store.write(snap, path)
        t4 = time.perf_counter()
        size = os.path.getsize(path)
    print(
        f"{namespaces:>4} ns {workloads:>6} workloads: {len(mesh.flows)} flows "
        f"({len(mesh.flows) / workloads:.2f}/workload), {snap.collector['raw_series']} raw series, "
        f"{len(objects)} objects | mesh {t1 - t0:.1f}s objects {t2 - t1:.1f}s snapshot {t3 - t2:.1f}s "
        f"write {t4 - t3:.1f}s | {size / 1e6:.1f} MB",
        flush=True,
    )


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]] or [5, 500, 20, 2000, 50, 10000]
    for ns, wl in zip(args[::2], args[1::2], strict=True):
        bench(ns, wl)
