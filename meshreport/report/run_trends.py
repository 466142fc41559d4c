""" "Trends across runs": requests, error share and p95 for the mesh and each namespace, one point
per run of the archive (render --trend-archive), drawn as sparklines.

A section builder over `Analysis.trend` (trend.RunPoint list, oldest first); numbers only go into
the lines, names are escaped by the template.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from meshreport.report import format as fmt
from meshreport.report.model import ModelInput, Section, section_builder
from meshreport.report.sparkline import Spark, spark

MESH = ""  # trend.MESH: the whole mesh's scope


@dataclass(frozen=True)
class TrendRow:
    scope: str  # "Mesh" or a namespace
    requests: Spark | None
    errors: Spark | None
    p95: Spark | None
    last: str  # the newest run's numbers


@dataclass
class RunTrendView:
    runs: list[str]
    first: str
    last: str
    rows: list[TrendRow] = field(default_factory=list)


def _line(points: list, scope: str, attr: str, what: str, unit) -> Spark | None:
    values = [getattr(p.scopes[scope], attr) if scope in p.scopes else None for p in points]
    if any(v is None for v in values):
        values = [v or 0.0 for v in values]
    return spark(values, what, unit, span=f"over {len(values)} runs", every_point=True)


def run_trend_view(points: list) -> RunTrendView:
    scopes = [MESH] + sorted({s for p in points for s in p.scopes if s != MESH})
    view = RunTrendView([p.name for p in points], fmt.timestamp(points[0].end), fmt.timestamp(points[-1].end))
    for s in scopes:
        t = points[-1].scopes.get(s)
        p95 = "–" if t is None or t.p95 is None else fmt.ms(t.p95)
        last = "–" if t is None else f"{fmt.req_rate(t.requests)}, {fmt.pct(t.error_pct)} errors, p95 {p95}"
        view.rows.append(
            TrendRow(
                "Mesh" if s == MESH else s,
                _line(points, s, "requests", "requests", fmt.req_rate),
                _line(points, s, "error_pct", "error %", fmt.pct),
                _line(points, s, "p95", "p95", fmt.ms),
                last,
            )
        )
    return view


@section_builder
def run_trend_sections(inp: ModelInput) -> list[Section]:
    points = inp.analysis.trend if inp.analysis is not None else None
    if not points or len(points) < 2:
        return []
    return [Section("run-trends", "Trends across runs", "run_trends.html", run_trend_view(points))]
