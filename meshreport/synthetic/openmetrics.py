"""Export a synthetic mesh as an OpenMetrics text file for `promtool tsdb create-blocks-from
openmetrics`, so a real Prometheus can be loaded with the same data the offline evaluator uses.

The traps of `promtool tsdb create-blocks-from openmetrics` this writer avoids: timestamps are in seconds, the file
ends with `# EOF`, every sample has a timestamp, and each series is written contiguously in time
order (promtool silently drops out-of-order samples). Counters grow from a positive start value
(no extrapolation towards zero) at the mesh's rate, times its shape's multiplier for shaped
series, so `rate()` returns what the offline evaluator returns.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from meshreport.synthetic.model import COUNTERS, DURATION_BUCKETS, HISTOGRAMS, SUMMARIES, Mesh, Raw, le_label

#: Counters start as if the proxy had been running this long already (seconds).
UPTIME_S = 3600.0


def _escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labelset(labels: dict[str, str]) -> str:
    return ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))


def _num(x: float) -> str:
    r = repr(float(x))
    return r[:-2] if r.endswith(".0") else r


def timestamps(start: float, end: float, step: float) -> list[int]:
    """Sample times in whole seconds from start to end inclusive at `step`."""
    out = []
    t = int(start)
    while t <= end:
        out.append(t)
        t += int(step)
    return out


def _grouped(rows: list[Raw], key) -> dict[str, list[Raw]]:
    groups: dict[str, list[Raw]] = {}
    for r in rows:
        groups.setdefault(key(r), []).append(r)
    return groups


def write(
    mesh: Mesh | Iterable[Raw],
    out: str | Path | TextIO,
    start: float,
    end: float,
    step: int = 15,
    preroll: int = 900,
    metrics: tuple[str, ...] | None = None,
) -> int:
    """Write samples from `start - preroll` to `end` every `step` seconds; returns the number of
    series. `preroll` lets range queries with ranges up to that long start at `start`.
    `metrics` limits the output to these counters/families (files grow by ~900 bytes a sample:
    with all families, a 30-workload mesh at a 15 s step over 75 minutes is over 1 GB)."""
    if isinstance(out, (str, Path)):
        with open(out, "w", encoding="utf-8", newline="\n") as f:
            return write(mesh, f, start, end, step, preroll, metrics)
    series = mesh.series() if isinstance(mesh, Mesh) else list(mesh)
    if metrics is not None:
        series = [s for s in series if s.metric in metrics]
    ts = timestamps(start - preroll, end, step)
    t0 = ts[0]
    # Counter value per unit of rate at each timestamp, per shape (None: constant rate).
    ups: dict[int, list[float]] = {}

    def uptimes(s: Raw) -> list[float]:
        key = id(s.shape)
        u = ups.get(key)
        if u is None:
            shape = s.shape
            if shape is None:
                u = [UPTIME_S + t - t0 for t in ts]
            else:
                u = [UPTIME_S + shape.integral(t0, t) for t in ts]
            ups[key] = u
        return u

    by_metric: dict[str, list[Raw]] = {}
    for s in series:
        by_metric.setdefault(s.metric, []).append(s)
    n = 0
    for metric in COUNTERS:
        rows = by_metric.get(metric, [])
        if not rows:
            continue
        out.write(f"# TYPE {metric.removesuffix('_total')} counter\n")
        # Flows that look the same to the proxy (e.g. several sidecar-less clients, all `unknown`
        # to the destination) increment ONE counter, as they would in Istio: merge them.
        for ls, group in _grouped(rows, lambda s: _labelset(s.labels())).items():
            values = [0.0] * len(ts)
            for s in group:
                rate = float(s.value)  # type: ignore[arg-type]
                for i, up in enumerate(uptimes(s)):
                    values[i] += rate * up
            buf = io.StringIO()
            for t, v in zip(ts, values, strict=True):
                buf.write(f"{metric}{{{ls}}} {_num(v)} {t}\n")
            out.write(buf.getvalue())
            n += 1
    for fam in HISTOGRAMS + SUMMARIES:
        rows = by_metric.get(fam, [])
        if not rows:
            continue
        histogram = fam in HISTOGRAMS
        out.write(f"# TYPE {fam} {'histogram' if histogram else 'summary'}\n")
        for ls, group in _grouped(rows, lambda s: _labelset(s.labels())).items():
            labels = group[0].labels()
            names = (
                [f"{fam}_bucket{{{_labelset({**labels, 'le': le_label(b)})}}}" for b in DURATION_BUCKETS]
                if histogram
                else []
            )
            names += [f"{fam}_count{{{ls}}}", f"{fam}_sum{{{ls}}}"]
            values = [[0.0] * len(names) for _ in ts]
            for s in group:
                rates = (list(s.value) if histogram else []) + [s.count_rate, s.sum_rate]  # type: ignore[arg-type]
                for i, up in enumerate(uptimes(s)):
                    row = values[i]
                    for j, r in enumerate(rates):
                        row[j] += r * up
            buf = io.StringIO()
            for t, row in zip(ts, values, strict=True):
                for name, v in zip(names, row, strict=True):
                    buf.write(f"{name} {_num(v)} {t}\n")
            out.write(buf.getvalue())
            n += len(names)
    out.write("# EOF\n")
    return n
