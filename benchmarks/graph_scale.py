"""Graph scale benchmark: load a snapshot and build the graph with all appenders and health.

Synthetic meshes of 100, 1,000 and 10,000 workloads over 50 namespaces (about five outgoing
flows per workload, `meshreport.synthetic.meshes.scalable_mesh`) are generated and written as
.mrsnap files first (not timed). Each measurement then runs in a fresh Python process pinned
to one CPU: read the snapshot, build the graph (all appenders, including health), and report
wall time and peak RSS. Targets (issue #4): 10,000 workloads in < 5 s and < 1 GB on one core,
and 10,000 costing at most 12x 1,000.

Run by hand, never in the test suite:

    .venv/bin/python benchmarks/graph_scale.py [--sizes 100,1000,10000] [--graph-type versionedApp] [--repeat 3]

This VM's speed drifts by half between quarters of an hour, so absolute seconds from different
moments do not compare. `--baseline DIR` (a checkout of another commit, e.g. made with
`git worktree add /tmp/base <commit>`) measures that code too, alternating run by run with
this checkout, and prints both: the ratio between them is what a change is worth. A baseline
too old to read the current snapshot schema reads a schema 2 copy (plain arrays), the format it
wrote itself. Snapshots kept with `--workdir` are written again when their schema is not the
current one.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NAMESPACES = 50
WINDOW_END = 1_704_070_800.0


def generate(workloads: int, path: Path) -> dict:
    from meshreport.snapshot import store
    from meshreport.snapshot.model import Window
    from meshreport.synthetic import meshes

    t = time.perf_counter()
    snap = meshes.scalable_snapshot(NAMESPACES, workloads, seed=1, window=Window(WINDOW_END - 3600, WINDOW_END))
    store.write(snap, path)
    series = sum(len(q.series) for q in snap.queries)
    gen_s = time.perf_counter() - t
    return {"gen_s": gen_s, "series": series, "objects": len(snap.objects), "bytes": path.stat().st_size}


def measure(path: str, graph_type: str, inject: bool, gc_paused: bool = True) -> dict:
    """Runs in the child process: one core, fresh interpreter, everything imported first."""
    import resource

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    from meshreport.graph.build import GraphOptions, build_graph
    from meshreport.snapshot import store

    try:
        from meshreport.pipeline import paused_gc
    except ImportError:  # a --baseline checkout from before meshreport/pipeline.py
        from meshreport.commands.graph import paused_gc

    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with paused_gc() if gc_paused else contextlib.nullcontext():  # as pipeline.analyse does
        t0, c0 = time.perf_counter(), time.process_time()
        snap = store.read(path)
        t1, c1 = time.perf_counter(), time.process_time()
        graph = build_graph(snap, GraphOptions(graph_type=graph_type, inject_service_nodes=inject))
        t2, c2 = time.perf_counter(), time.process_time()
    with_health = sum(1 for n in graph.nodes.values() if n.health is not None)
    peak_mb = _vm_hwm_mb() or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "load_cpu_s": c1 - c0,
        "build_cpu_s": c2 - c1,
        "total_cpu_s": c2 - c0,
        "load_s": t1 - t0,
        "build_s": t2 - t1,
        "total_s": t2 - t0,
        "peak_rss_mb": peak_mb,
        "base_rss_mb": base_rss / 1024,
        "nodes": len(graph.nodes),
        "edges": len(graph.edges),
        "nodes_with_health": with_health,
    }


def _vm_hwm_mb() -> float | None:
    """This process's peak RSS. Not ru_maxrss: Linux carries that over fork and exec, so a child
    started by a parent that had just generated a 10,000-workload mesh reported the parent's peak."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--graph-type", default="versionedApp")
    ap.add_argument("--no-inject", action="store_true", help="build without service nodes")
    ap.add_argument("--workdir", help="keep generated snapshots here and reuse them (default: a temp folder)")
    ap.add_argument("--with-gc", action="store_true", help="keep the cyclic GC running (the command pauses it)")
    ap.add_argument("--repeat", type=int, default=3, help="fresh processes per size; the fastest is reported")
    ap.add_argument("--baseline", help="also measure the meshreport checkout in this folder, alternating runs")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.graph_type, not args.no_inject, not args.with_gc)))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="mr-bench-") as tmp:
        work = Path(args.workdir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        for n in sizes:
            path = work / f"mesh-{NAMESPACES}ns-{n}.mrsnap"
            gen = describe(path) if _current(path) else generate(n, path)
            cmd = [sys.executable, os.path.abspath(__file__), "--child", str(path.resolve())]
            cmd += ["--graph-type", args.graph_type]
            if args.no_inject:
                cmd.append("--no-inject")
            if args.with_gc:
                cmd.append("--with-gc")
            trees = [("", None)] + ([("baseline ", args.baseline)] if args.baseline else [])
            runs: dict[str, list[dict]] = {name: [] for name, _ in trees}
            for _ in range(args.repeat):
                for name, tree in trees:  # alternate, so both see the same moments of the VM
                    runs[name].append(_child(cmd, tree) if not tree else _baseline_child(cmd, tree, path))
            for name, _ in trees:
                best = min(runs[name], key=lambda r: r["total_cpu_s"])  # the least disturbed run
                label = f"{name}{n}".strip()
                rows.append({"workloads": label, **gen, **best, "runs": [r["total_cpu_s"] for r in runs[name]]})
    gc_note = "GC running" if args.with_gc else "GC paused as in `meshreport graph`"
    inject = "off" if args.no_inject else "on"
    print(f"graph type {args.graph_type}, service nodes {inject}, all appenders, one core, {gc_note}")
    print(f"fastest of {args.repeat} runs per size (all runs' total CPU seconds at the end of each row)")
    print(
        f"{'workloads':>18} {'series':>8} {'gz MB':>6} {'load cpu':>8} {'build cpu':>9} {'total cpu':>9} "
        f"{'wall s':>7} {'peak MB':>7} {'nodes':>6} {'edges':>6}"
    )
    for r in rows:
        print(
            f"{r['workloads']!s:>18} {r['series']:>8} {r['bytes'] / 1e6:>6.1f} {r['load_cpu_s']:>8.2f} "
            f"{r['build_cpu_s']:>9.2f} {r['total_cpu_s']:>9.2f} {r['total_s']:>7.2f} {r['peak_rss_mb']:>7.0f} "
            f"{r['nodes']:>6} {r['edges']:>6}  " + " ".join(f"{t:.2f}" for t in r["runs"])
        )
    by = {r["workloads"]: r for r in rows if isinstance(r["workloads"], int)}
    if 1000 in by and 10000 in by:
        ratio = by[10000]["total_cpu_s"] / by[1000]["total_cpu_s"]
        big = by[10000]
        print(f"10,000 / 1,000 CPU time ratio: {ratio:.1f} (target <= 12)")
        ok = big["total_cpu_s"] < 5 and big["peak_rss_mb"] < 1024 and ratio <= 12
        print(f"targets (< 5 s, < 1 GB, ratio <= 12): {'met' if ok else 'NOT met'}")
    for r in rows:
        if isinstance(r["workloads"], str):
            mine = by.get(int(r["workloads"].split()[-1]))
            if mine is not None:
                ratio = mine["total_cpu_s"] / r["total_cpu_s"]
                print(f"{r['workloads']}: this checkout takes {ratio:.2f}x the baseline's CPU time")


def _child(cmd: list[str], tree: str | None) -> dict:
    """One measurement in a fresh process; `tree` puts another checkout's package first."""
    env = dict(os.environ)
    if tree:
        env["PYTHONPATH"] = str(Path(tree).resolve())
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env, cwd=tree or None)
    return json.loads(out.stdout)


#: Snapshot -> the schema 2 copy a baseline reads instead (it refused the snapshot once).
_SCHEMA2: dict[Path, Path] = {}


def _baseline_child(cmd: list[str], tree: str, path: Path) -> dict:
    """`_child` for the baseline; one that cannot read the current schema reads a schema 2 copy."""
    if path not in _SCHEMA2:
        try:
            return _child(cmd, tree)
        except subprocess.CalledProcessError as e:
            if "schema_version" not in (e.stderr or ""):
                raise
        old = _SCHEMA2[path] = path.with_name(path.stem + ".schema2.mrsnap")
        _write_schema2(path, old)
    return _child([str(_SCHEMA2[path].resolve()) if c == str(path.resolve()) else c for c in cmd], tree)


def _write_schema2(path: Path, out: Path) -> None:
    """The snapshot as meshreport wrote it before schema 3: packed, arrays not deflated."""
    import gzip

    from meshreport.snapshot import store

    doc = store.to_dict(store.read(path), codec=None)
    doc["schema_version"] = 2
    out.write_bytes(gzip.compress(json.dumps(doc, separators=(",", ":")).encode(), compresslevel=6, mtime=0))


def _current(path: Path) -> bool:
    """The file exists and has this checkout's schema version."""
    from meshreport.snapshot import store
    from meshreport.snapshot.model import SCHEMA_VERSION

    return path.exists() and store.read(path).schema_version == SCHEMA_VERSION


def describe(path: Path) -> dict:
    """Facts about an already generated snapshot (reused with --workdir)."""
    from meshreport.snapshot import store

    snap = store.read(path)
    series = sum(len(q.series) for q in snap.queries)
    return {"gen_s": 0.0, "series": series, "objects": len(snap.objects), "bytes": path.stat().st_size}


if __name__ == "__main__":
    main()
