"""`meshreport run` from a snapshot file: archive, gates, outputs, env-driven settings, failed runs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest

from meshreport.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "bookinfo.mrsnap"
SCHEMA = json.loads((ROOT / "docs" / "summary.schema.json").read_text())


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_archive_run_with_every_output_and_a_failed_gate(tmp_path, capsys):
    archive = tmp_path / "reports"
    code, out, err = _cli(
        capsys, "run", "--from-snapshot", str(SAMPLE), "--archive", str(archive), "--no-pdf", "-q",
        "--sarif", "--junit", "--codequality", "--markdown",
        "--fail-on", "warning", "--fail-on", "p95>100ms,error-share>50%",
    )  # fmt: skip
    assert code == 3
    assert "gate failed (report written): 5 findings at or above warning; p95 latency 375 ms" in err
    assert "error share" not in err  # 0.7 % is under 50 %
    run = archive / "latest"
    assert os.readlink(run) == "2024-01-01T010000Z"
    assert f"Report written to {archive / '2024-01-01T010000Z'}/" in out
    summary = json.loads((run / "summary.json").read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(summary)
    assert summary["gate"]["failed"] and summary["gate"]["failOn"] == ["warning", "p95>100ms", "error-share>50%"]
    assert summary["files"] == {
        "html": "index.html", "pdf": None, "snapshot": "snapshot.mrsnap", "sarif": "findings.sarif",
        "junit": "findings.xml", "codequality": "gl-code-quality-report.json", "markdown": "summary.md",
        "changes": None, "singleFile": None,
    }  # fmt: skip
    for name in ("index.html", "snapshot.mrsnap", "findings.sarif", "findings.xml", "summary.md"):
        assert (run / name).is_file(), name
    assert json.loads((run / "findings.sarif").read_text())["version"] == "2.1.0"
    quality = json.loads((run / "gl-code-quality-report.json").read_text())
    assert {q["severity"] for q in quality} <= {"major", "minor", "info"} and len(quality) >= 4
    assert "**Gate failed:**" in (run / "summary.md").read_text()
    assert "gate failed" in (archive / "index.html").read_text()


def test_settings_from_environment_and_config_file(tmp_path, capsys, monkeypatch):
    cfg = tmp_path / "meshreport.yaml"
    cfg.write_text("archive: {keep: 1}\ntitle: From the file\npdf: false\n")
    monkeypatch.setenv("MESHREPORT_ARCHIVE_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("MESHREPORT_FAIL_ON", "failure")
    monkeypatch.setenv("MESHREPORT_TITLE", "From the environment")
    code, _, err = _cli(capsys, "run", "--config", str(cfg), "--from-snapshot", str(SAMPLE), "-q")
    assert code == 0, err  # bookinfo has degraded nodes, none failing
    summary = json.loads((tmp_path / "reports/latest/summary.json").read_text())
    assert summary["title"] == "From the environment"  # env beats the file
    assert summary["files"]["pdf"] is None and summary["gate"] == {
        "failOn": ["failure"],
        "failed": False,
        "reasons": [],
    }
    code, _, err = _cli(
        capsys, "run", "--config", str(cfg), "--from-snapshot", str(SAMPLE), "-q", "--fail-on", "degraded"
    )
    assert code == 3 and "3 apps/workloads/services degraded or failing" in err
    # keep: 1 from the file: the second run (same window, so "-1") replaced the first
    assert sorted(p.name for p in (tmp_path / "reports").iterdir() if not p.name.startswith(".")) == [
        "2024-01-01T010000Z-1", "index.html", "latest", "runs.json",
    ]  # fmt: skip


def test_failed_run_leaves_the_previous_report_and_says_so(tmp_path, capsys):
    out = tmp_path / "report"
    code, _, err = _cli(capsys, "run", "--from-snapshot", str(SAMPLE), "-o", str(out), "--no-pdf", "-q")
    assert code == 0, err
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    bad = tmp_path / "broken.mrsnap"
    bad.write_text("{not json")
    code, _, err = _cli(capsys, "run", "--from-snapshot", str(bad), "-o", str(out), "--no-pdf", "-q")
    assert code == 5
    assert f"the previous report in {out} is untouched" in err and err.count("\n") == 1
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give exactly one of -o/--output DIR"),
        (["-o", "x", "--archive", "y"], "give exactly one of"),
        (["-o", "x", "--fail-on", "sometimes"], "unknown gate 'sometimes'"),
        (["-o", "x", "--prometheus", "http://127.0.0.1:1"], "either --from-snapshot FILE or --prometheus URL"),
    ],
)
def test_usage_errors(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    code, _, err = _cli(capsys, "run", "--from-snapshot", str(SAMPLE), *args)
    assert code == 2 and message in err
    assert not (tmp_path / "x").exists()


def test_refuses_a_folder_that_is_not_an_archive_before_collecting(tmp_path, capsys):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("mine")
    code, _, err = _cli(capsys, "run", "--from-snapshot", str(SAMPLE), "--archive", str(tmp_path / "docs"))
    assert code == 2 and "not a meshreport archive" in err
    assert [p.name for p in (tmp_path / "docs").iterdir()] == ["notes.txt"]


def test_diff_reads_the_archive_run_writes(tmp_path, capsys):
    archive = tmp_path / "reports"
    for _ in range(2):
        code, _, err = _cli(capsys, "run", "--from-snapshot", str(SAMPLE), "--archive", str(archive), "--no-pdf", "-q")
        assert code == 0, err
    code, out, err = _cli(capsys, "diff", "--archive", str(archive))
    assert code == 0, err
    assert "No changes beyond the thresholds." in out
