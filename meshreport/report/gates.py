"""`--fail-on` gates of `meshreport run`: config findings, health and thresholds, judged on summary.json.

Judging the written summary (not the live objects) means a gate sees exactly the numbers the
report and the archive show, and a CI step can re-judge an archived run the same way.

Gate syntax (comma-separated or repeated):
  error | warning | info | none   unsuppressed findings at or above that severity
  failure | degraded              an app, workload or service with that health (degraded: or worse)
  error-share>5%                  mesh error share above 5% (also `>0.05`)
  p95>500ms                       the worst request edge's p95 latency above 500 ms (`1s`, `250`)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from meshreport.errors import UsageError
from meshreport.validation.model import SEVERITIES

_THRESHOLD = re.compile(r"^(error-share|p95)\s*>\s*(\S+)$")
_LATENCY = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)?$")


@dataclass(frozen=True)
class Gate:
    kind: str  # severity | health | error-share | p95
    value: Any  # severity name, health level, share (0..1) or milliseconds
    text: str


def parse_gates(specs: list[str] | tuple[str, ...] | str | None) -> list[Gate]:
    """`["warning", "failure,p95>500ms"]` -> gates; `none` alone means no gate."""
    items: list[str] = []
    for spec in [specs] if isinstance(specs, str) else list(specs or []):
        items += [s.strip() for s in str(spec).split(",") if s.strip()]
    gates: list[Gate] = []
    for item in items:
        low = item.lower()
        if low == "none":
            continue
        if low in SEVERITIES:
            gates.append(Gate("severity", low, low))
        elif low in ("failure", "degraded"):
            gates.append(Gate("health", low, low))
        elif m := _THRESHOLD.match(low):
            gates.append(_threshold(m.group(1), m.group(2), item))
        else:
            raise UsageError(
                f"--fail-on: unknown gate {item!r} (use error, warning, info, none, failure, degraded, "
                "error-share>N%, p95>DURATION)"
            )
    return gates


def _threshold(kind: str, value: str, text: str) -> Gate:
    if kind == "error-share":
        try:
            share = float(value[:-1]) / 100 if value.endswith("%") else float(value)
        except ValueError:
            raise UsageError(f"--fail-on {text}: expected a share like 5% or 0.05") from None
        if not 0 <= share <= 1:
            raise UsageError(f"--fail-on {text}: the share must be between 0% and 100%")
        return Gate("error-share", share, text)
    m = _LATENCY.match(value)
    if m is None:
        raise UsageError(f"--fail-on {text}: expected a latency like 500ms, 1.5s or 500 (milliseconds)")
    ms = float(m.group(1)) * (1000 if m.group(2) == "s" else 1)
    return Gate("p95", ms, text)


def failed(gates: list[Gate], summary: dict[str, Any]) -> list[str]:
    """Why the run fails, one sentence per gate that tripped; empty when it passes."""
    reasons: list[str] = []
    findings, health, traffic = summary["findings"], summary["health"], summary["traffic"]
    for g in gates:
        if g.kind == "severity":
            worse = SEVERITIES[: SEVERITIES.index(g.value) + 1]
            n = sum(findings.get(s, 0) for s in worse)
            if n:
                reasons.append(f"{n} finding{'s' if n != 1 else ''} at or above {g.value}")
        elif g.kind == "health":
            n = health["failure"] + (health["degraded"] if g.value == "degraded" else 0)
            if n:
                what = "failing" if g.value == "failure" else "degraded or failing"
                nodes = "apps/workloads/services" if n != 1 else "app/workload/service"
                reasons.append(f"{n} {nodes} {what} (gate {g.text})")
        elif g.kind == "error-share":
            share = traffic["errorShare"]
            if share is not None and share > g.value:
                reasons.append(f"mesh error share {share * 100:.2f}% is above {g.value * 100:g}% (gate {g.text})")
        elif g.kind == "p95":
            p95 = traffic["p95LatencyMsMax"]
            if p95 is not None and p95 > g.value:
                edge = traffic.get("p95LatencyMsMaxEdge") or "an edge"
                reasons.append(f"p95 latency {p95:.0f} ms on {edge} is above {g.value:g} ms (gate {g.text})")
    return reasons
