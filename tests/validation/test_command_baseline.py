"""`meshreport validate --baseline`: new versus existing findings in every format, and the gates."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared helpers package
from helpers import mesh_changes as mc  # noqa: E402

from meshreport.cli import main  # noqa: E402
from meshreport.snapshot import store  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def run(argv, capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(["validate", *argv])
    out, err = capsys.readouterr()
    return e.value.code, out, err


@pytest.fixture(scope="module")
def snaps(tmp_path_factory):
    """old: the sample; new: one finding fixed (details v2), one introduced (reviews v4), and a
    failing service; quiet: noise only."""
    d = tmp_path_factory.mktemp("baseline")
    old, new = mc.pair(mc.KNOWN_MESH_CHANGES, mc.KNOWN_OBJECT_CHANGES)
    store.write(old, d / "old.mrsnap")
    store.write(new, d / "new.mrsnap")
    _, quiet = mc.pair([mc.jitter(5, 0.1)])
    store.write(quiet, d / "quiet.mrsnap")
    metrics_only = mc.snapshot(mc.OLD_WINDOW)
    metrics_only.objects = []
    store.write(metrics_only, d / "metrics.mrsnap")
    return {k: str(d / f"{k}.mrsnap") for k in ("old", "new", "quiet", "metrics")}


def test_sarif_baseline_state(snaps, capsys):
    code, out, err = run([snaps["new"], "--baseline", snaps["old"], "--format", "sarif", "--fail-on", "none"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    jsonschema.validate(doc, json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text()))
    states = []
    for r in doc["runs"][0]["results"]:
        if "suppressions" in r:
            assert "baselineState" not in r  # suppressed findings are not compared
            continue
        states.append((r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"], r["baselineState"]))
    assert sorted(states) == [
        ("Kubernetes/bookinfo/DestinationRule/originate-tls-for-googleapis", "unchanged"),
        ("Kubernetes/bookinfo/DestinationRule/ratings", "unchanged"),
        ("Kubernetes/bookinfo/DestinationRule/ratings", "unchanged"),
        ("Kubernetes/bookinfo/DestinationRule/reviews", "new"),
    ]
    assert "1 new since the baseline, 3 existing, 1 resolved" in err


def test_json_text_markdown_junit_mark_new(snaps, capsys):
    base = [snaps["new"], "--baseline", snaps["old"], "--fail-on", "none"]
    _, out, _ = run([*base, "--format", "json"], capsys)
    marks = {(f["name"], f.get("baseline")) for f in json.loads(out) if not f.get("suppressed")}
    assert ("reviews", "new") in marks and {m for _, m in marks} == {"new", "existing"}
    _, out, _ = run(base, capsys)
    new_lines = [line for line in out.splitlines() if line.startswith("[new] ")]
    assert len(new_lines) == 1 and "(DestinationRule bookinfo/reviews)" in new_lines[0]
    assert "Baseline: 1 new since the baseline, 3 existing, 1 resolved" in out
    _, out, _ = run([*base, "--format", "markdown"], capsys)
    rows = [line for line in out.splitlines() if line.startswith("| Error")]
    assert rows[0].endswith("| **new** |") and "bookinfo/reviews" in rows[0]
    assert all(r.endswith("| existing |") for r in rows[1:])
    _, out, _ = run([*base, "--format", "junit"], capsys)
    cases = {c.get("name"): c for c in ET.fromstring(out).iter("testcase")}
    new_case = cases["IST0173 DestinationRule bookinfo/reviews"]
    assert new_case.find("properties/property").get("value") == "new"
    assert new_case.find("failure").get("message").startswith("[new] ")
    old_case = cases["IST0173 DestinationRule bookinfo/ratings"]
    assert old_case.find("properties/property").get("value") == "existing"


def test_fail_on_new_gates_only_new_findings(snaps, capsys):
    code, _, err = run([snaps["new"], "--baseline", snaps["old"], "--fail-on-new", "error"], capsys)
    assert code == 3 and "1 new finding at or above --fail-on-new error" in err and "--fail-on error" not in err
    # The same config against itself: errors exist, but they are all debt.
    code, _, err = run([snaps["new"], "--baseline", snaps["new"], "--fail-on-new", "info"], capsys)
    assert code == 0, err
    # An explicit --fail-on still gates on everything.
    code, _, err = run(
        [snaps["new"], "--baseline", snaps["new"], "--fail-on-new", "info", "--fail-on", "error"], capsys
    )
    assert code == 3 and "at or above --fail-on error" in err


def test_fail_on_regression(snaps, capsys):
    code, _, err = run([snaps["new"], "--baseline", snaps["old"], "--fail-on-regression", "--fail-on", "none"], capsys)
    assert code == 3 and "10 regressions since the baseline" in err
    assert "regression: edge bookinfo/ratings → bookinfo/ratings v2: became plaintext" in err
    code, _, err = run(
        [snaps["quiet"], "--baseline", snaps["old"], "--fail-on-regression", "--fail-on", "none"], capsys
    )
    assert code == 0, err


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--fail-on-new", "error"], "need --baseline"),
        (["--baseline", "METRICS"], "holds no config objects"),
    ],
)
def test_usage_errors(snaps, capsys, extra, message):
    argv = [snaps["new"], *[snaps["metrics"] if a == "METRICS" else a for a in extra]]
    code, _, err = run(argv, capsys)
    assert code == 2 and message in err and err.count("\n") == 1


def test_fail_on_regression_needs_a_snapshot(snaps, capsys):
    yaml_file = FIXTURES / "validation" / "IST0101" / "vs_subset_not_found.good.yaml"
    code, _, err = run(["-f", str(yaml_file), "--baseline", snaps["old"], "--fail-on-regression"], capsys)
    assert code == 2 and "give a SNAPSHOT" in err
