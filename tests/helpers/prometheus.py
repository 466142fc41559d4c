"""A real Prometheus for tests: backfill an OpenMetrics file with promtool, start the server on a
free loopback port with a temporary TSDB, wait until it is ready, hand out its URL, stop it.

Usage (tests/ is put on sys.path the same way as for helpers.k8s_stub):

    from helpers.prometheus import running_prometheus, query
    with running_prometheus(om_file, tmp_path) as url:
        rows = query(url, 'sum(rate(istio_requests_total[1h]))', time=end)

Traps avoided here: no scrape configs (so nothing
writes "now" samples; retention 100y because retention counts from the newest block; queries
need an explicit time inside the data).
"""

from __future__ import annotations

import json
import math
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CONFIG = "global: {scrape_interval: 15s}\nscrape_configs: []\n"


def available() -> bool:
    """True when both `prometheus` and `promtool` are on PATH."""
    return shutil.which("prometheus") is not None and shutil.which("promtool") is not None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def backfill(openmetrics_file: str | Path, data_dir: str | Path, *, max_block_duration: str | None = None) -> None:
    """`promtool tsdb create-blocks-from openmetrics` into `data_dir`; raises with promtool's output.

    `max_block_duration` (e.g. "200h") matters for long windows: with promtool's default 2h
    blocks a 7-day backfill writes 84 blocks and takes minutes; one big block takes seconds."""
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    extra = [f"--max-block-duration={max_block_duration}"] if max_block_duration else []
    proc = subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", "-q", *extra, str(openmetrics_file), str(data_dir)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"promtool backfill failed (rc {proc.returncode}): {proc.stderr.strip() or proc.stdout}")


@contextmanager
def running_prometheus(
    openmetrics_files: str | Path | list[str | Path] | None,
    workdir: str | Path,
    *,
    ready_timeout: float = 30.0,
    flags: tuple[str, ...] = (),
) -> Iterator[str]:
    """Backfill the file(s) into `workdir/data`, start Prometheus on 127.0.0.1:<free port>,
    yield its base URL (`http://127.0.0.1:PORT`), terminate it on exit. The server log is
    `workdir/prometheus.log` (its tail is in the error when the server does not come up)."""
    workdir = Path(workdir)
    data = workdir / "data"
    data.mkdir(parents=True, exist_ok=True)
    files = [] if openmetrics_files is None else openmetrics_files
    if isinstance(files, (str, Path)):
        files = [files]
    for f in files:
        backfill(f, data)
    config = workdir / "prometheus.yml"
    config.write_text(CONFIG)
    log_path = workdir / "prometheus.log"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={config}",
                f"--storage.tsdb.path={data}",
                "--storage.tsdb.retention.time=100y",
                f"--web.listen-address=127.0.0.1:{port}",
                *flags,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"prometheus exited with {proc.returncode}: {_tail(log_path)}")
            try:
                with urllib.request.urlopen(url + "/-/ready", timeout=1) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"prometheus not ready after {ready_timeout}s: {_tail(log_path)}")
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _tail(path: Path, n: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return "(no log)"


def _get(url: str, path: str, params: dict[str, str]) -> list[dict]:
    full = f"{url}{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(full, timeout=30) as r:
        doc = json.load(r)
    if doc.get("status") != "success":
        raise RuntimeError(f"query failed: {doc}")
    return doc["data"]["result"]


def _num(s: str) -> float:
    return float(s) if s not in ("NaN", "+Inf", "-Inf") else {"NaN": math.nan, "+Inf": math.inf, "-Inf": -math.inf}[s]


def query(url: str, promql: str, time: float) -> list[tuple[dict[str, str], float]]:
    """Instant query at `time`: [(labels, value)]."""
    rows = _get(url, "/api/v1/query", {"query": promql, "time": repr(float(time))})
    return [(r["metric"], _num(r["value"][1])) for r in rows]


def query_range(
    url: str, promql: str, start: float, end: float, step: float
) -> list[tuple[dict[str, str], list[tuple[float, float]]]]:
    """Range query: [(labels, [(t, value), ...])]."""
    params = {"query": promql, "start": repr(float(start)), "end": repr(float(end)), "step": repr(float(step))}
    rows = _get(url, "/api/v1/query_range", params)
    return [(r["metric"], [(float(t), _num(v)) for t, v in r["values"]]) for r in rows]
