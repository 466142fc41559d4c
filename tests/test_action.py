"""The composite GitHub Action (action.yml): its steps run here as the runner would run them,
with inputs substituted, a fake GITHUB_STEP_SUMMARY and GITHUB_OUTPUT, and meshreport on PATH."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "bookinfo.mrsnap"
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
EXPR = re.compile(r"\$\{\{\s*([\w.-]+)\s*\}\}")


def _expand(text: str, inputs: dict[str, str]) -> str:
    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        if name == "github.action_path":
            return str(ROOT)
        assert name.startswith("inputs."), name
        return inputs[name.removeprefix("inputs.")]

    return EXPR.sub(value, text)


def run_action(tmp_path: Path, **given: str) -> tuple[int, str, dict[str, str], str]:
    """Run every step; returns (exit code of the last step run, step summary, outputs, stderr)."""
    inputs = {k: str(v.get("default", "")) for k, v in ACTION["inputs"].items()}
    inputs.update({k.replace("_", "-"): v for k, v in given.items()})
    summary, output = tmp_path / "step-summary.md", tmp_path / "github-output"
    summary.write_text("previous step's summary\n")
    base = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MESHREPORT_")},
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_PATH": str(tmp_path / "github-path"),
    }
    rc, err = 0, ""
    for step in ACTION["runs"]["steps"]:
        env = {**base, **{k: _expand(str(v), inputs) for k, v in step.get("env", {}).items()}}
        proc = subprocess.run(
            [step["shell"], "-c", _expand(step["run"], inputs)],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        rc, err = proc.returncode, err + proc.stderr
        if rc != 0:
            break
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines()) if output.exists() else {}
    return rc, summary.read_text(), outputs, err


def test_action_metadata_is_a_composite_with_documented_inputs():
    assert ACTION["runs"]["using"] == "composite"
    for name, spec in ACTION["inputs"].items():
        assert spec.get("description"), name
    used = set(EXPR.findall(yaml.safe_dump(ACTION["runs"])))
    assert {u.removeprefix("inputs.") for u in used if u.startswith("inputs.")} == set(ACTION["inputs"])
    for name, spec in ACTION["outputs"].items():
        assert spec["value"].startswith("${{ steps.run.outputs."), name


def test_steps_write_the_report_the_summary_and_outputs(tmp_path):
    rc, summary, outputs, err = run_action(tmp_path, from_snapshot=str(SAMPLE), pdf="false", title="Deploy 42 <check>")
    assert rc == 0, err
    assert summary.startswith("previous step's summary\n## Deploy 42 &lt;check&gt;\n")  # appended, escaped
    assert "| Request rate | 40.20 req/s |" in summary and "### Findings" in summary
    assert len(summary.encode()) < 1024 * 1024
    report = tmp_path / "meshreport-report"
    assert outputs == {"report": "meshreport-report", "sarif": "meshreport-report/findings.sarif", "exit-code": "0"}
    for name in ("index.html", "summary.json", "summary.md", "findings.sarif", "findings.xml", "snapshot.mrsnap"):
        assert (report / name).is_file(), name
    assert not (report / "report.pdf").exists()


def test_a_failed_gate_fails_the_step_after_writing_the_summary(tmp_path):
    rc, summary, outputs, err = run_action(tmp_path, from_snapshot=str(SAMPLE), pdf="false", fail_on="error")
    assert rc == 3
    assert "gate failed" in err
    assert "**Gate failed:** 3 findings at or above error" in summary
    assert outputs["exit-code"] == "3"


def test_install_step_puts_a_working_meshreport_on_the_runner_path(tmp_path):
    """The install step as a runner without meshreport meets it: a venv under RUNNER_TEMP (Ubuntu's
    system Python refuses `pip install --user`), its bin folder appended to GITHUB_PATH."""
    step = next(s for s in ACTION["runs"]["steps"] if "action-install" in s["run"])
    path = os.pathsep.join(
        d for d in os.environ["PATH"].split(os.pathsep) if d and not (Path(d) / "meshreport").exists()
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MESHREPORT_", "VIRTUAL_ENV", "PYTHON"))},
        "PATH": path,
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_PATH": str(tmp_path / "github-path"),
    }
    proc = subprocess.run(
        [step["shell"], "-c", _expand(step["run"], {})], env=env, cwd=tmp_path,
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    added = (tmp_path / "github-path").read_text().split()
    assert added == [str(tmp_path / "meshreport-venv" / "bin")]
    version = subprocess.run(
        [str(Path(added[0]) / "meshreport"), "--version"], capture_output=True, text=True, cwd="/", timeout=60
    )
    assert version.returncode == 0 and "meshreport" in version.stdout.lower()
