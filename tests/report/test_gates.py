"""`--fail-on` gates: findings, health and thresholds judged on a summary."""

from __future__ import annotations

import pytest

from meshreport.errors import UsageError
from meshreport.report.gates import failed, parse_gates


def summary(**over):
    doc = {
        "findings": {"collected": True, "error": 0, "warning": 2, "info": 5, "suppressed": 1},
        "health": {"failure": 0, "degraded": 1, "healthy": 7, "notReady": 0, "na": 0},
        "traffic": {"errorShare": 0.031, "p95LatencyMsMax": 420.0, "p95LatencyMsMaxEdge": "ns/a -> ns/b"},
    }
    for path, value in over.items():
        section, key = path.split("__")
        doc[section][key] = value
    return doc


def test_none_and_empty_never_fail():
    assert failed(parse_gates("none"), summary()) == []
    assert failed(parse_gates([]), summary()) == []


@pytest.mark.parametrize(
    ("spec", "fails", "reason"),
    [
        ("error", False, None),
        ("warning", True, "2 findings at or above warning"),
        ("info", True, "7 findings at or above info"),
        ("failure", False, None),
        ("degraded", True, "1 app/workload/service degraded or failing"),
        ("error-share>5%", False, None),
        ("error-share>3%", True, "mesh error share 3.10% is above 3%"),
        ("error-share>0.01", True, "above 1%"),
        ("p95>500ms", False, None),
        ("p95>400ms", True, "p95 latency 420 ms on ns/a -> ns/b is above 400 ms"),
        ("p95>0.4s", True, "above 400 ms"),
        ("p95>400", True, "above 400 ms"),
    ],
)
def test_each_gate(spec, fails, reason):
    reasons = failed(parse_gates(spec), summary())
    assert bool(reasons) is fails
    if reason:
        assert reason in reasons[0]


def test_several_gates_give_every_reason():
    reasons = failed(parse_gates(["warning,degraded", "p95>100ms"]), summary())
    assert len(reasons) == 3


def test_failure_gate_and_missing_numbers():
    assert failed(parse_gates("failure"), summary(health__failure=2))[0].startswith("2 apps/workloads/services failing")
    # no traffic: no error share and no latency, so the thresholds cannot trip
    quiet = summary(traffic__errorShare=None, traffic__p95LatencyMsMax=None)
    assert failed(parse_gates("error-share>0%,p95>1ms"), quiet) == []


@pytest.mark.parametrize("spec", ["fatal", "error-share>lots", "error-share>150%", "p95>fast", "p95<1s"])
def test_bad_gates_are_usage_errors(spec):
    with pytest.raises(UsageError, match="--fail-on"):
        parse_gates(spec)
