"""Report benchmark: what `meshreport render` costs, phase by phase, as the mesh grows.

Synthetic meshes (`meshreport.synthetic.meshes.scalable_snapshot`, about five flows per workload)
are generated and written first (not timed). Each size then runs in a fresh process: read the
snapshot, build the graph (all appenders, health), validate the config, build the report model,
the Istio objects that apply to each node (the service pages list them), lay out the pictures
with the real `dot`, write the HTML site (with a page per app, workload and service) and the PDF
with WeasyPrint.
Printed: seconds per phase (wall; `dot` runs as a child process), pages, PDF size, the size of
the site (every file but the PDF) and the peak memory of the Python process (VmHWM) with the
phase it was reached in.

Run by hand, never in the test suite:

    .venv/bin/python benchmarks/report_scale.py [--sizes 100,1000] [--namespaces 10] [--no-pdf]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WINDOW_END = 1_704_070_800.0


def generate(namespaces: int, workloads: int, path: Path) -> None:
    from meshreport.snapshot import store
    from meshreport.snapshot.model import Window
    from meshreport.synthetic import meshes

    snap = meshes.scalable_snapshot(namespaces, workloads, seed=1, window=Window(WINDOW_END - 3600, WINDOW_END))
    store.write(snap, path)


def _vm_hwm_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def measure(path: str, out: str, pdf: bool) -> dict:
    """Runs in the child process."""
    from meshreport.analysis import Analysis
    from meshreport.graph.build import GraphOptions, build_graph
    from meshreport.node_config import node_config
    from meshreport.pipeline import paused_gc
    from meshreport.report.build import write_pictures
    from meshreport.report.model import build_model
    from meshreport.report.pdf import write_pdf
    from meshreport.report.site import environment, write_site
    from meshreport.snapshot import store
    from meshreport.validation import check

    phases: dict[str, float] = {}
    out_dir = Path(out)
    shutil.rmtree(out_dir, ignore_errors=True)  # a kept --workdir must not count an older run's files

    peaks: dict[str, float] = {}

    def timed(name, fn):
        t = time.perf_counter()
        result = fn()
        phases[name] = time.perf_counter() - t
        peaks[name] = _vm_hwm_mb()
        return result

    with paused_gc():
        snap = timed("read", lambda: store.read(path))
        graph = timed("graph", lambda: build_graph(snap, GraphOptions(graph_type="versionedApp")))
    validation = timed("validate", lambda: check(snap.objects, None, []))
    applied = timed("config", lambda: node_config(snap, graph))
    analysis = Analysis.of(graph, validation, node_config=applied)
    model = timed("model", lambda: build_model(snap, analysis, now=WINDOW_END + 60, pdf=pdf))
    timed("pictures", lambda: write_pictures(model, graph, out_dir, pdf=pdf))
    env = environment()
    pages = timed("site", lambda: write_site(model, out_dir, env))
    pdf_path = timed("pdf", lambda: write_pdf(model, out_dir, env)) if pdf else None
    pdf_pages = None
    if pdf_path is not None:
        info = subprocess.run(["pdfinfo", str(pdf_path)], capture_output=True, text=True).stdout
        pdf_pages = next((int(line.split()[1]) for line in info.splitlines() if line.startswith("Pages:")), None)
    return {
        **phases,
        "total": sum(phases.values()),
        "nodes": len(graph.nodes),
        "edges": len(graph.edges),
        "html_pages": len(pages),
        "pdf_pages": pdf_pages,
        "pdf_mb": pdf_path.stat().st_size / 1e6 if pdf_path else None,
        "site_mb": sum(p.stat().st_size for p in out_dir.rglob("*") if p.is_file() and p != pdf_path) / 1e6,
        "peak_mb": _vm_hwm_mb(),
        # The phase during which the peak was reached (the first whose end saw the final VmHWM).
        "peak_phase": next((p for p, mb in peaks.items() if mb >= _vm_hwm_mb()), "-"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100,1000")
    ap.add_argument("--namespaces", type=int, default=10)
    ap.add_argument("--no-pdf", action="store_true")
    ap.add_argument("--workdir", help="keep snapshots and reports here (default: a temp folder)")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], args.child[1], not args.no_pdf)))
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="mr-report-bench-") as tmp:
        work = Path(args.workdir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        for n in (int(s) for s in args.sizes.split(",")):
            snap = work / f"mesh-{args.namespaces}ns-{n}.mrsnap"
            if not snap.exists():
                generate(args.namespaces, n, snap)
            cmd = [sys.executable, __file__, "--child", str(snap), str(work / f"report-{n}")]
            if args.no_pdf:
                cmd.append("--no-pdf")
            rows.append(
                {"workloads": n, **json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)}
            )
    phases = ["read", "graph", "validate", "config", "model", "pictures", "site", "pdf", "total"]
    print(f"{args.namespaces} namespaces, versionedApp graph, wall seconds per phase")
    print(
        f"{'workloads':>9} {'nodes':>6} {'edges':>6} "
        + " ".join(f"{p:>8}" for p in phases)
        + "  pages  pdf MB  site MB  peak MB (phase)"
    )
    for r in rows:
        cells = " ".join(f"{r[p]:>8.2f}" if r.get(p) is not None else f"{'-':>8}" for p in phases)
        pdf_mb = f"{r['pdf_mb']:.1f}" if r["pdf_mb"] is not None else "-"
        print(
            f"{r['workloads']:>9} {r['nodes']:>6} {r['edges']:>6} {cells}  {r['html_pages']:>3}/{r['pdf_pages'] or '-'}"
            f"  {pdf_mb:>6}  {r['site_mb']:>7.1f}  {r['peak_mb']:>7.0f} ({r['peak_phase']})"
        )


if __name__ == "__main__":
    main()
