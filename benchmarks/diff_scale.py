"""Diff scale benchmark: `meshreport diff` of two 10,000-workload snapshots (issue #15: < 10 s, < 1 GB).

Two synthetic meshes of N workloads over 50 namespaces (`synthetic.meshes.scalable_mesh`) a day apart are
written first (not timed): the new one has 1 % of its flows removed, 1 % answering a third of
their requests with HTTP 500 and 1 % twice as slow. Each measurement runs in a fresh Python
process: read, analyse (graph with all appenders and health, validation) and digest both
snapshots (`pipeline.compare_files`: the old one in a forked process at the same time), compare,
and render the JSON. It reports wall time, CPU time of the process and its forked child, and
memory: `peak MB`, the process's peak RSS (VmHWM) plus the child's (an upper bound: as if both
peaked at once and shared no page; the target is judged on it), and `pss MB`, the largest sum of
both processes' proportional set size seen (sampled every 50 ms; the sampling's CPU is not counted).

Two cases: `files`, two bare snapshot files (each side read, graph built, validated), and
`archive`, the same two snapshots as runs of an archive that `meshreport run` wrote, each with
its `digest.json.gz` beside it (what `run`'s comparison with the previous run and `diff --archive`
read: no graph build, no validation). The archive's digests are written first, not timed.

Run by hand, never in the test suite:

    .venv/bin/python benchmarks/diff_scale.py [--sizes 1000,10000] [--repeat 2] [--cases both|files|archive]
        [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

NAMESPACES = 50
WINDOW_END = 1_704_070_800.0
DAY = 86400.0


def generate(workloads: int, old_path: Path, new_path: Path) -> None:
    from meshreport.snapshot import store
    from meshreport.snapshot.model import Window
    from meshreport.synthetic import meshes as synth
    from meshreport.synthetic.model import Latency, Response

    old_w = Window(WINDOW_END - 3600, WINDOW_END)
    new_w = Window(old_w.start + DAY, old_w.end + DAY)
    mesh = synth.scalable_mesh(NAMESPACES, workloads, seed=1)
    store.write(synth.snapshot(mesh, old_w, objects=synth.scalable_objects(mesh, old_w)), old_path)
    flows = []
    for i, f in enumerate(mesh.flows):
        if i % 100 == 0:
            continue  # removed
        if i % 100 == 1 and f.responses:
            total = f.rate
            f = replace(f, responses=(Response("200", total * 2 / 3), Response("500", total / 3)))
        if i % 100 == 2 and f.responses:
            f = replace(f, latency=Latency(tuple((ms * 2, s) for ms, s in f.latency.points)))
        flows.append(f)
    mesh.flows = flows
    store.write(synth.snapshot(mesh, new_w, objects=synth.scalable_objects(mesh, new_w)), new_path)


def archive_runs(old: Path, new: Path, root: Path) -> tuple[Path, Path]:
    """Two run folders holding the snapshots and the digests `meshreport run` keeps beside them."""
    import shutil

    from meshreport import digest_store, pipeline
    from meshreport.settings import Settings

    settings = Settings.load(env={})
    out = []
    for src, run in ((old, "2024-01-01T010000Z"), (new, "2024-01-02T010000Z")):
        folder = root / run
        folder.mkdir(parents=True, exist_ok=True)
        snap = folder / "snapshot.mrsnap"
        if not snap.is_file():
            shutil.copyfile(src, snap)
        if not (folder / digest_store.FILE_NAME).is_file():
            key = pipeline.analysis_key(pipeline.report_options(settings), snap)
            digest_store.write(pipeline.digest_file(snap, settings), key, folder / digest_store.FILE_NAME)
        out.append(snap)
    return out[0], out[1]


def measure(old: str, new: str) -> dict:
    """Runs in the child process: everything imported first, then one diff."""
    from meshreport.pipeline import changes_text as render
    from meshreport.pipeline import compare_files
    from meshreport.settings import Settings

    settings = Settings.load(env={})
    sampler = _PssSampler()
    sampler.start()
    t0, c0 = time.perf_counter(), _cpu()
    comparison = compare_files(old, new, settings)
    text = render(comparison, "json")
    t1, c1 = time.perf_counter(), _cpu()
    sampler.done = True
    sampler.join()
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "wall_s": t1 - t0,
        "cpu_s": c1 - c0 - sampler.cpu_s,
        # the parent's peak plus the forked child's (it analyses the old side at the same time):
        # an upper bound, as if both peaked at once and shared no page
        "peak_rss_mb": _vm_hwm_mb() + child_mb,
        "child_peak_mb": child_mb,
        # the largest sum of both processes' proportional set size seen (sampled every 50 ms)
        "peak_pss_mb": sampler.peak_mb,
        "regressions": len(comparison.regressions()),
        "presence": len(comparison.presence),
        "json_kb": len(text) / 1024,
    }


class _PssSampler(threading.Thread):
    """The largest total PSS (shared pages split between the processes sharing them) of this
    process and its children, sampled until `done`. Reading smaps_rollup walks a process's page
    tables: the thread's own CPU time (`cpu_s`) is taken out of the diff's."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.done = False
        self.peak_mb = 0.0
        self.cpu_s = 0.0

    def run(self) -> None:
        me = os.getpid()
        while not self.done:
            pids = [me]
            for task in Path(f"/proc/{me}/task").iterdir():
                try:
                    pids += [int(p) for p in (task / "children").read_text().split()]
                except OSError:
                    pass
            self.peak_mb = max(self.peak_mb, sum(_pss_kb(p) for p in pids) / 1024)
            self.cpu_s = time.thread_time()
            time.sleep(0.05)


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the diff's forked analysis)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _vm_hwm_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--repeat", type=int, default=2, help="fresh processes per size; the fastest is reported")
    ap.add_argument("--workdir", help="keep generated snapshots here and reuse them (default: a temp folder)")
    ap.add_argument("--cases", choices=("both", "files", "archive"), default="both")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child)))
        return
    with tempfile.TemporaryDirectory(prefix="mr-diff-") as tmp:
        work = Path(args.workdir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        print(
            f"{'workloads':>9} {'case':>7} {'wall s':>7} {'cpu s':>7} {'peak MB':>8} {'pss MB':>7} {'regressions':>11} "
            f"{'appeared/gone':>13}"
        )
        for n in (int(s) for s in args.sizes.split(",")):
            old, new = work / f"diff-{n}-old.mrsnap", work / f"diff-{n}-new.mrsnap"
            if not (old.is_file() and new.is_file()):
                generate(n, old, new)
            cases = {"files": (old, new)}
            if args.cases != "files":
                cases["archive"] = archive_runs(old, new, work / f"archive-{n}")
            if args.cases == "archive":
                del cases["files"]
            for case, (a, b) in cases.items():
                cmd = [sys.executable, os.path.abspath(__file__), "--child", str(a), str(b)]
                runs = [json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
                        for _ in range(args.repeat)]  # fmt: skip
                best = min(runs, key=lambda r: r["wall_s"])
                print(
                    f"{n:>9} {case:>7} {best['wall_s']:>7.2f} {best['cpu_s']:>7.2f} {best['peak_rss_mb']:>8.0f} "
                    f"{best['peak_pss_mb']:>7.0f} "
                    f"{best['regressions']:>11} {best['presence']:>13}"
                )
                if n == 10000:
                    ok = best["wall_s"] < 10 and best["peak_rss_mb"] < 1024
                    print(f"target ({case}, 10,000 workloads: < 10 s, < 1 GB): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
