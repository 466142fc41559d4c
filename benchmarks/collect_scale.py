"""Benchmark: collect a synthetic mesh (default 2,000 and 10,000 workloads) from a real Prometheus.

Run by hand (never in the test suite):

    .venv/bin/python benchmarks/collect_scale.py [--sizes 50:2000,100:10000] [--workdir DIR] [--runs 3]
        [--baseline SRC] [--step 1200] [--by-key]

For each size it generates the mesh (meshreport.synthetic.meshes), writes it as OpenMetrics over
a 1h window (full Istio label set; `--step` seconds between samples keeps the file at a few GB),
backfills it with promtool into WORKDIR/<size>/data (kept and reused by later runs with the same
WORKDIR), starts Debian's prometheus on a free loopback port, then runs
`meshreport snapshot --all-namespaces` as a child process `--runs` times and keeps the fastest.

It prints one table: requests, queries, series, wall time, query phase, Prometheus' own time for
the same requests (the sum of the `stats=all` execTotalTime of each, and the wall time of
replaying them at the same concurrency while reading the bytes without decoding them: the floor
for any collector), the collector's peak RSS (from wait4, so promtool and the generator do not
count) and the snapshot size. With `--baseline SRC` (a source tree of another meshreport, e.g.
`git archive main | tar -x -C /tmp/main`) the same collection is run with that code too, and
both snapshots are compared after the documented normalisation (`snapshot_compare.normalised`):
the table says whether they are equal.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the Prometheus test helper starts/stops the server

from helpers.prometheus import running_prometheus  # noqa: E402
from helpers.snapshot_compare import normalised  # noqa: E402

from meshreport.collect import queries as Q  # noqa: E402
from meshreport.collect.batches import make_batches  # noqa: E402
from meshreport.snapshot import store  # noqa: E402
from meshreport.synthetic import meshes  # noqa: E402

END = meshes.BOOKINFO_WINDOW.end
RUNNER = "import sys; from meshreport.cli import main; sys.exit(main())"


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
    return out


def prepare(work: Path, namespaces: int, workloads: int, step: int, window: int) -> None:
    """Generate and backfill once per WORKDIR/size; later runs reuse the TSDB."""
    marker = work / "mesh.json"
    want = {"namespaces": namespaces, "workloads": workloads, "step": step, "window": window, "end": END}
    if marker.exists() and json.loads(marker.read_text()) == want and (work / "data").is_dir():
        return
    work.mkdir(parents=True, exist_ok=True)
    t = time.monotonic()
    om = work / "mesh.om"
    mesh = meshes.scalable_mesh(namespaces, workloads, seed=1)
    nseries = meshes.write_openmetrics(unique(mesh), om, END - window, END, step=step, preroll=step)
    print(f"generated {nseries} series, {om.stat().st_size / 1e9:.2f} GB in {time.monotonic() - t:.1f}s", flush=True)
    t = time.monotonic()
    # Default 2h blocks: the window spans at most two. (Larger blocks turn promtool's silent drop of
    # a repeated series into an "out of order sample" error.)
    subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", "-q", str(om), str(work / "data")], check=True
    )
    om.unlink()  # several GB; not needed any more
    print(f"backfilled in {time.monotonic() - t:.1f}s", flush=True)
    marker.write_text(json.dumps(want))


def collect_once(url: str, out: Path, args, src: Path | None, extra: list[str]) -> tuple[float, int]:
    """One `meshreport snapshot` child process: (wall seconds, peak RSS bytes)."""
    cmd = [sys.executable, "-c", RUNNER, "snapshot", "--prometheus", url, "--window", f"{args.window}s"]
    cmd += ["--end", str(int(END)), "--all-namespaces", "--scrape-interval", f"{args.step}s"]
    cmd += ["--concurrency", str(args.concurrency), "--prometheus-timeout", "120s", "-q", "-o", str(out), *extra]
    env = dict(os.environ, PYTHONPATH=str(src or ROOT))
    t = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=src or ROOT)  # the working folder comes first on sys.path
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(
            f"meshreport snapshot ({src or 'this tree'}) failed with exit code {os.waitstatus_to_exitcode(status)}"
        )
    return wall, usage.ru_maxrss * 1024


_STATS = re.compile(rb'"execTotalTime":([0-9.eE+-]+)')


def replay(url: str, snap, batch: int, concurrency: int, by_key: dict | None = None) -> tuple[int, float, float, int]:
    """The requests a collection with `batch` namespaces per request sends, read without decoding.

    Returns (requests, wall seconds, sum of Prometheus' execTotalTime, bytes). With `by_key`, also
    adds each request's execTotalTime and bytes to `by_key[plan key]` (which queries cost what)."""
    m = snap.collector["metrics"]
    plan = Q.collection_plan(
        list(snap.namespaces), snap.window.duration_s, scrape_interval=m["scrape_interval_s"], trends=True
    )
    batches = make_batches(plan, size=batch)
    local = threading.local()
    own = [0.0]
    size = [0]
    lock = threading.Lock()

    def one(b) -> None:
        s = getattr(local, "s", None) or requests.Session()
        local.s = s
        if b.kind == "range":
            step = b.members[0].step or 60
            start, end = Q.range_bounds(snap.window.start, snap.window.end, step)
            path, params = "/api/v1/query_range", {"query": b.promql(), "start": start, "end": end, "step": step}
        else:
            path, params = "/api/v1/query", {"query": b.promql(), "time": snap.window.end}
        params.update(stats="all", timeout="120s")
        tail = b""
        n = 0
        with s.get(url + path, params=params, stream=True, timeout=300) as r:
            for chunk in r.iter_content(1 << 18):
                n += len(chunk)
                tail = (tail + chunk)[-4096:]
        found = _STATS.search(tail)
        spent = float(found.group(1)) if found else 0.0
        with lock:
            own[0] += spent
            size[0] += n
            if by_key is not None:
                k = by_key.setdefault(b.key, [0.0, 0, 0])
                k[0] += spent
                k[1] += n
                k[2] += 1

    t = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, batches))
    return len(batches), time.monotonic() - t, own[0], size[0]


def print_by_key(title: str, costs: dict) -> None:
    """Prometheus' own time per plan key, largest first: the queries worth making cheaper."""
    total = sum(c[0] for c in costs.values()) or 1.0
    print(f"\nPrometheus' own time by query ({title}):")
    print("| query key | requests | own time | share | bytes |")
    print("|---|---|---|---|---|")
    for key, (spent, nbytes, n) in sorted(costs.items(), key=lambda kv: -kv[1][0]):
        print(f"| {key} | {n} | {spent:.1f} s | {100 * spent / total:.1f} % | {nbytes / 1e6:,.1f} MB |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="50:2000,100:10000", help="NAMESPACES:WORKLOADS,... [50:2000,100:10000]")
    ap.add_argument("--step", type=int, default=1200, help="seconds between samples in the data")
    ap.add_argument("--window", type=int, default=3600, help="window length in seconds")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--batch-namespaces", type=int, default=None, help="passed on (default: meshreport's)")
    ap.add_argument("--runs", type=int, default=1, help="collections per variant; the fastest is shown")
    ap.add_argument("--baseline", type=Path, help="source tree of the meshreport to compare with (e.g. main)")
    ap.add_argument("--workdir", help="keep the TSDBs here for later runs (default: a temporary directory)")
    ap.add_argument(
        "--by-key", action="store_true", help="also print Prometheus' own time per plan key (what costs what)"
    )
    args = ap.parse_args()

    work = Path(args.workdir or tempfile.mkdtemp(prefix="meshreport-bench-"))
    rows = []
    for size in args.sizes.split(","):
        ns, wl = (int(x) for x in size.split(":"))
        here = work / f"{ns}x{wl}"
        prepare(here, ns, wl, args.step, args.window)
        variants = [("baseline", args.baseline, [])] if args.baseline else []
        extra = ["--batch-namespaces", str(args.batch_namespaces)] if args.batch_namespaces else []
        variants.append(("this tree", None, extra))
        with running_prometheus(None, here) as url:
            snaps = {}
            for name, src, flags in variants:
                out = here / f"{name.replace(' ', '-')}.mrsnap"
                best = min((collect_once(url, out, args, src, flags) for _ in range(args.runs)), key=lambda r: r[0])
                snap = store.read(out)
                snaps[name] = snap
                m = snap.collector["metrics"]
                batch = m.get("batch_namespaces", 1)
                costs: dict = {}
                nreq, replay_s, own_s, nbytes = replay(url, snap, batch, args.concurrency, costs)
                if args.by_key:
                    print_by_key(f"{ns} ns, {wl} workloads, {name}", costs)
                rows.append(
                    {
                        "mesh": f"{ns} ns, {wl} workloads",
                        "variant": name,
                        "requests": nreq,
                        "queries": m["query_count"],
                        "series": m["series"],
                        "wall": best[0],
                        "queries_s": m["duration_s"],
                        "prom_s": own_s,
                        "replay_s": replay_s,
                        "bytes": nbytes,
                        "rss": best[1],
                        "file": out.stat().st_size,
                        "gaps": len(snap.gaps),
                    }
                )
            if "baseline" in snaps:
                same = orjson.dumps(normalised(snaps["baseline"])) == orjson.dumps(normalised(snaps["this tree"]))
                rows[-1]["equal"] = "yes" if same else "NO"
    print()
    head = "| mesh | variant | requests | queries | series | wall | query phase | Prometheus own (sum) | replay, no decoding | answers | peak RSS | snapshot | same as baseline |"  # noqa: E501
    print(head)
    print("|---" * (head.count("|") - 1) + "|")
    for r in rows:
        print(
            f"| {r['mesh']} | {r['variant']} | {r['requests']:,} | {r['queries']:,} | {r['series']:,} "
            f"| {r['wall']:.1f} s "
            f"| {r['queries_s']:.1f} s | {r['prom_s']:.1f} s | {r['replay_s']:.1f} s | {r['bytes'] / 1e6:,.0f} MB "
            f"| {r['rss'] / 2**20:,.0f} MiB | {r['file'] / 1e6:.1f} MB | {r.get('equal', '')} |"
        )


if __name__ == "__main__":
    main()
