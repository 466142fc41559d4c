"""Benchmark: collect a 50-namespace, 2,000-workload synthetic mesh from a real Prometheus.

Run by hand (never in the test suite):

    .venv/bin/python benchmarks/collect_scale.py [--namespaces 50] [--workloads 2000] [--step 1200]

It generates the mesh (meshreport.synthetic.meshes), writes it as OpenMetrics over a 1h window
(full Istio label set; `--step` seconds between samples keeps the file at a few GB), backfills it
with promtool into a temporary TSDB, starts Debian's prometheus on a free loopback port, then runs
`meshreport snapshot --all-namespaces` as a child process and reports: query count, series,
gaps, wall time, and the collector's peak RSS (from wait4, so promtool and the generator do not
count).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the Prometheus test helper starts/stops the server

from helpers.prometheus import running_prometheus  # noqa: E402

from meshreport.snapshot import store  # noqa: E402
from meshreport.synthetic import meshes  # noqa: E402

END = meshes.BOOKINFO_WINDOW.end


def unique(mesh):
    """The mesh's raw series without repeated label sets: promtool refuses a series written twice
    ("duplicate sample for timestamp"), and large synthetic meshes can repeat a few."""
    seen: set = set()
    out = []
    for r in mesh.series():
        key = (r.metric, tuple(sorted(r.labels().items())))
        if key not in seen:
            seen.add(key)
            out.append(r)
    if len(out) != len(mesh.series()):
        print(f"dropped {len(mesh.series()) - len(out)} repeated series")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--namespaces", type=int, default=50)
    ap.add_argument("--workloads", type=int, default=2000)
    ap.add_argument("--step", type=int, default=1200, help="seconds between samples in the data")
    ap.add_argument("--window", type=int, default=3600, help="window length in seconds")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--workdir", help="keep files here (default: a temporary directory)")
    ap.add_argument("--reuse", action="store_true", help="reuse WORKDIR/mesh.om from an earlier run")
    args = ap.parse_args()

    work = Path(args.workdir or tempfile.mkdtemp(prefix="meshreport-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    t = time.monotonic()
    om = work / "mesh.om"
    if not (args.reuse and om.exists()):
        mesh = meshes.scalable_mesh(args.namespaces, args.workloads, seed=1)
        nseries = meshes.write_openmetrics(unique(mesh), om, END - args.window, END, step=args.step, preroll=args.step)
        print(f"generated {nseries} series, {om.stat().st_size / 1e9:.2f} GB in {time.monotonic() - t:.1f}s")
    t = time.monotonic()
    data = work / "data"
    # Default 2h blocks: the window spans at most two. (Larger blocks turn promtool's silent drop of
    # a repeated series into an "out of order sample" error.)
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", "-q", str(om), str(data)], check=True)
    print(f"backfilled in {time.monotonic() - t:.1f}s")
    if not args.reuse:
        om.unlink()  # several GB; not needed any more

    out = work / "bench.mrsnap"
    with running_prometheus(None, work) as url:
        cmd = [
            str(Path(sys.executable).parent / "meshreport"),
            "snapshot",
            "--prometheus",
            url,
            "--window",
            f"{args.window}s",
            "--end",
            str(int(END)),
            "--all-namespaces",
            "--scrape-interval",
            f"{args.step}s",
            "--concurrency",
            str(args.concurrency),
            "--prometheus-timeout",
            "120s",
            "-o",
            str(out),
        ]
        t = time.monotonic()
        proc = subprocess.Popen(cmd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"meshreport snapshot failed with exit code {proc.returncode}")
    snap = store.read(out)
    m = snap.collector["metrics"]
    print()
    print(f"mesh:           {args.namespaces} namespaces (+istio-system), {args.workloads} workloads")
    print(f"namespaces:     {len(snap.namespaces)} discovered")
    print(f"queries:        {m['query_count']} ({m['query_count'] // max(1, len(snap.namespaces))} per namespace)")
    print(f"series:         {m['series']}")
    print(f"gaps:           {m['failed_queries']}")
    print(f"query phase:    {m['duration_s']:.1f}s at concurrency {m['concurrency']}")
    print(f"wall time:      {wall:.1f}s (whole `meshreport snapshot` process)")
    print(f"peak RSS:       {usage.ru_maxrss / 1024:.0f} MiB (collector process)")
    print(f"snapshot file:  {out.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
