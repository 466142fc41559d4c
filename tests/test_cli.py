"""meshreport.cli: one exit code per error class for every command, and signals end a run cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from meshreport.cli import main
from meshreport.errors import EXIT_INPUT, EXIT_USAGE, InputError, OutputError, UsageError, exit_code_for

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "bookinfo.mrsnap"
ENTRY = [sys.executable, "-c", "from meshreport.cli import main; main()"]


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_the_mapping():
    assert exit_code_for(InputError("x")) == EXIT_INPUT == 5
    assert exit_code_for(UsageError("x")) == exit_code_for(OutputError("x")) == EXIT_USAGE == 2
    assert exit_code_for(PermissionError(13, "Permission denied")) == 5
    assert exit_code_for(KeyboardInterrupt()) == 130
    assert exit_code_for(ValueError()) == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["graph", str(SAMPLE), "-o", "{missing}/x/out.json"],
        ["validate", str(SAMPLE), "--fail-on", "none", "-o", "{missing}/x/out.txt"],
        ["synth", "bookinfo", "-o", "{missing}/x/out.mrsnap"],
        ["render", str(SAMPLE), "--no-pdf", "-o", "{missing}/x/report"],
        ["diff", str(SAMPLE), str(SAMPLE), "-o", "{missing}/x/diff.txt"],
    ],
    ids=["graph", "validate", "synth", "render", "diff"],
)
def test_the_same_unwritable_output_is_exit_2_from_every_command(capsys, tmp_path, argv):
    # A regular file where a folder should be: the same file-system error for every command.
    (tmp_path / "file").write_text("")
    argv = [a.replace("{missing}", str(tmp_path / "file")) for a in argv]
    code, _, err = run(capsys, *argv)
    assert code == 2, err
    assert err.startswith("meshreport: error: cannot write") and err.count("\n") == 1


@pytest.mark.parametrize("cmd", [["graph"], ["validate"], ["render", "--no-pdf", "-o", "{tmp}/r"]])
def test_unreadable_snapshot_is_exit_5_from_every_command(capsys, tmp_path, cmd):
    cmd = [a.replace("{tmp}", str(tmp_path)) for a in cmd]
    for bad in (tmp_path, tmp_path / "missing.mrsnap"):
        code, _, err = run(capsys, *cmd, str(bad))
        assert code == 5 and err.count("\n") == 1, err


def test_dev_null_output_stays_a_device(capsys):
    before = os.lstat("/dev/null")
    for argv in (["synth", "bookinfo", "-o", "/dev/null"], ["graph", str(SAMPLE), "-o", "/dev/null"]):
        code, _, err = run(capsys, *argv)
        assert code == 0, err
    assert os.lstat("/dev/null").st_ino == before.st_ino


@pytest.fixture(scope="module")
def slow_snapshot(tmp_path_factory) -> Path:
    """A 300-workload mesh: its render runs for seconds after staging starts, so a signal sent
    when the staging folder appears lands mid-render even on a loaded machine (bookinfo's render
    could finish between the test seeing the folder and sending the signal)."""
    path = tmp_path_factory.mktemp("slow") / "mesh300.mrsnap"
    argv = ["synth", "mesh", "--namespaces", "6", "--workloads", "300", "--seed", "3", "-o", str(path)]
    subprocess.run([*ENTRY, *argv], check=True, capture_output=True)
    return path


def _start_render(tmp_path: Path, snapshot: Path = SAMPLE) -> tuple[subprocess.Popen, Path]:
    out = tmp_path / "report"
    proc = subprocess.Popen(
        [*ENTRY, "render", str(snapshot), "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".report.new-*")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "render never started staging"
        time.sleep(0.01)
    return proc, out


@pytest.mark.parametrize(
    ("sig", "code", "word"), [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")]
)
def test_signal_mid_render_removes_staging_and_keeps_the_old_report(tmp_path, slow_snapshot, sig, code, word):
    out = tmp_path / "report"
    for _ in range(3):  # on a starved machine the render may finish before the test gets to signal it
        subprocess.run([*ENTRY, "render", str(SAMPLE), "--no-pdf", "-o", str(out)], check=True, capture_output=True)
        before = (out / "index.html").read_bytes()
        proc, _ = _start_render(tmp_path, slow_snapshot)
        if proc.poll() is None:
            break
        proc.communicate()
    else:
        pytest.fail("the render finished before it could be signalled, three times")
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert word in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]
    assert (out / "index.html").read_bytes() == before


@pytest.mark.parametrize(
    "argv",
    [
        ["graph", "{bad}"],
        ["validate", "{bad}"],
        ["render", "{bad}", "--no-pdf", "-o", "{tmp}/r"],
        ["diff", "{bad}", str(SAMPLE)],
        ["diff", str(SAMPLE), "{bad}"],
        ["run", "--from-snapshot", "{bad}", "--no-pdf", "-o", "{tmp}/run"],
        ["validate", str(SAMPLE), "--baseline", "{bad}"],
    ],
    ids=["graph", "validate", "render", "diff-old", "diff-new", "run", "validate-baseline"],
)
def test_a_damaged_snapshot_is_exit_5_from_every_command(capsys, tmp_path, argv):
    """Garbage, a truncated file and a gzip of non-JSON: the same error class, the same code (5)."""
    import gzip

    data = SAMPLE.read_bytes()
    for i, content in enumerate((b"not a snapshot", data[: len(data) // 2], gzip.compress(b'{"format": 7'))):
        bad = tmp_path / f"bad{i}.mrsnap"
        bad.write_bytes(content)
        args = [a.replace("{bad}", str(bad)).replace("{tmp}", str(tmp_path)) for a in argv]
        code, _, err = run(capsys, *args)
        assert code == EXIT_INPUT, (args, err)
        assert err.startswith("meshreport: error: ") and err.count("\n") == 1, err
    assert not (tmp_path / "run").exists() and not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["graph", str(SAMPLE)],
        ["validate", str(SAMPLE)],
        ["render", str(SAMPLE), "--no-pdf", "-o", "{tmp}/r"],
        ["diff", str(SAMPLE), str(SAMPLE)],
        ["snapshot", "--prometheus", "http://127.0.0.1:1", "-o", "{tmp}/s.mrsnap"],
        ["run", "--from-snapshot", str(SAMPLE), "--no-pdf", "-o", "{tmp}/run"],
        ["send", "{tmp}", "--email-to", "a@b.c"],
    ],
    ids=["graph", "validate", "render", "diff", "snapshot", "run", "send"],
)
def test_an_unreadable_config_file_is_exit_5_from_every_command(capsys, tmp_path, argv):
    """A file-system error reading an input (here the --config path is a folder) is exit 5 everywhere."""
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv] + ["--config", str(tmp_path)]
    code, _, err = run(capsys, *args)
    assert code == EXIT_INPUT, err
    assert err.startswith("meshreport: error: ") and err.count("\n") == 1, err


@pytest.mark.parametrize(
    "argv",
    [
        ["snapshot", "--from-files", "{manifests}", "-o", "{missing}/x/s.mrsnap"],
        ["run", "--from-snapshot", str(SAMPLE), "--no-pdf", "-o", "{missing}/x/report"],
    ],
    ids=["snapshot", "run"],
)
def test_unwritable_output_of_snapshot_and_run_is_exit_2(capsys, tmp_path, argv):
    (tmp_path / "file").write_text("")
    manifests = ROOT / "samples" / "manifests"
    args = [a.replace("{missing}", str(tmp_path / "file")).replace("{manifests}", str(manifests)) for a in argv]
    code, _, err = run(capsys, *args)
    assert code == EXIT_USAGE, err
    assert err.startswith("meshreport: error: ") and err.count("\n") == 1, err


@pytest.mark.parametrize(
    "argv",
    [
        ["diff", "{dir}", str(SAMPLE)],
        ["diff", str(SAMPLE), str(SAMPLE), "--mesh-config", "{dir}"],
        ["validate", str(SAMPLE), "--baseline", "{dir}"],
        ["validate", str(SAMPLE), "--mesh-config", "{dir}"],
        ["validate", "--context", "x", "--kubeconfig", "{dir}"],
        ["render", str(SAMPLE), "--no-pdf", "--baseline", "{dir}", "-o", "{dir}/r"],
        ["render", str(SAMPLE), "--no-pdf", "--mesh-config", "{dir}", "-o", "{dir}/r"],
        ["run", "--from-snapshot", "{dir}", "--no-pdf", "-o", "{dir}/run"],
    ],
    ids=[
        "diff",
        "diff-mesh-config",
        "validate-baseline",
        "validate-mesh-config",
        "kubeconfig",
        "render-baseline",
        "render-mesh-config",
        "run",
    ],
)
def test_a_folder_given_as_an_input_file_is_exit_5_from_every_command(capsys, tmp_path, argv):
    """The same file-system error (EISDIR reading an input) is exit 5 whichever option names it; it
    used to be click's usage error (2) for options declared as files only."""
    args = [a.replace("{dir}", str(tmp_path)) for a in argv]
    code, _, err = run(capsys, *args)
    assert code == EXIT_INPUT, err
    assert err.startswith("meshreport: error: ") and err.count("\n") == 1, err
