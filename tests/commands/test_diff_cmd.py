"""`meshreport diff`: files and archives in, text/JSON/Markdown out, exit codes for CI."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared helpers package
from helpers import mesh_changes as mc  # noqa: E402

from meshreport.cli import main  # noqa: E402
from meshreport.snapshot import store  # noqa: E402


def _run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("diff")
    old, new = mc.pair(mc.KNOWN_MESH_CHANGES, mc.KNOWN_OBJECT_CHANGES)
    store.write(old, d / "old.mrsnap")
    store.write(new, d / "new.mrsnap")
    _, quiet = mc.pair([mc.jitter(3, 0.1)])
    store.write(quiet, d / "quiet.mrsnap")
    return d


def test_text_to_stdout(files, capsys):
    code, out, err = _run(capsys, "diff", str(files / "old.mrsnap"), str(files / "new.mrsnap"))
    assert code == 0, err
    assert "Regressions (10):" in out and "edge bookinfo/ratings → bookinfo/ratings v2: became plaintext" in out


def test_json_and_markdown_to_files(files, tmp_path, capsys):
    for fmt, name in (("json", "d.json"), ("markdown", "d.md")):
        code, _, err = _run(capsys, "diff", str(files / "old.mrsnap"), str(files / "new.mrsnap"), "--format", fmt,
                            "-o", str(tmp_path / name))  # fmt: skip
        assert code == 0, err
    doc = json.loads((tmp_path / "d.json").read_text())
    assert len(doc["regressions"]) == 10 and len(doc["findings"]["new"]) == 2  # IST0173, MR0103
    assert "### Config changes (3)" in (tmp_path / "d.md").read_text()


def test_fail_on_regression_and_new(files, capsys):
    old, new, quiet = (str(files / n) for n in ("old.mrsnap", "new.mrsnap", "quiet.mrsnap"))
    code, out, err = _run(capsys, "diff", old, new, "--fail-on-regression")
    assert code == 3 and "10 regressions beyond the thresholds" in err and "Regressions" in out
    code, _, err = _run(capsys, "diff", old, new, "--fail-on-new", "error")
    assert code == 3 and "2 new findings at or above --fail-on-new error" in err  # IST0173, MR0103
    # Findings that were already there (debt) and noise do not fail the build.
    code, out, err = _run(capsys, "diff", old, quiet, "--fail-on-regression", "--fail-on-new", "info")
    assert code == 0, err
    assert "No changes beyond the thresholds." in out


def test_thresholds_from_the_config_file(files, tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("compare:\n  p95_relative: 5\n  error_relative: 100\n  mtls_absolute: 100\n")
    code, out, _ = _run(capsys, "diff", str(files / "old.mrsnap"), str(files / "new.mrsnap"), "--config", str(cfg),
                        "--format", "json")  # fmt: skip
    assert code == 0
    kinds = {r["type"] for r in json.loads(out)["regressions"]}
    assert kinds == {"health", "mtls"}  # mTLS lost entirely still counts: plaintext is not a share move
    cfg.write_text("compare:\n  p59: 1\n")
    code, _, err = _run(capsys, "diff", str(files / "old.mrsnap"), str(files / "new.mrsnap"), "--config", str(cfg))
    assert code == 2 and "compare.p59: unknown threshold" in err


def test_archive_compares_its_two_newest_runs(files, tmp_path, capsys):
    archive = tmp_path / "archive"
    for name, src in (("2024-01-01T0000Z", "old.mrsnap"), ("2024-01-02T0000Z", "new.mrsnap")):
        (archive / name).mkdir(parents=True)
        (archive / name / "snapshot.mrsnap").write_bytes((files / src).read_bytes())
    (archive / "latest").symlink_to(archive / "2024-01-02T0000Z")
    code, out, err = _run(capsys, "diff", "--archive", str(archive))
    assert code == 0, err
    assert "Regressions (10):" in out
    code, _, err = _run(capsys, "diff", "--archive", str(tmp_path / "missing"))
    assert code == 5 and "not a folder" in err


def test_refusals_are_one_line(files, tmp_path, capsys):
    code, _, err = _run(capsys, "diff", str(files / "new.mrsnap"), str(files / "old.mrsnap"))
    assert code == 2 and "give the older snapshot first" in err and "Traceback" not in err
    bad = tmp_path / "bad.mrsnap"
    bad.write_text("not a snapshot")
    code, _, err = _run(capsys, "diff", str(files / "old.mrsnap"), str(bad))
    assert code == 5 and err.count("\n") == 1
    code, _, err = _run(capsys, "diff", str(files / "old.mrsnap"))
    assert code == 2 and "give OLD NEW" in err


def test_errors_of_the_forked_side_are_told_as_one_after_the_other(files, tmp_path, capsys):
    """OLD is analysed in a forked process while NEW is analysed here: OLD's error is the one told
    (exit 5, one line naming OLD), whichever side fails, as when the two were read in turn."""
    bad, worse = tmp_path / "bad.mrsnap", tmp_path / "worse.mrsnap"
    bad.write_text("not a snapshot")
    worse.write_bytes(b"\x1f\x8bnot gzip either")
    code, _, err = _run(capsys, "diff", str(bad), str(files / "new.mrsnap"))
    assert code == 5 and err.count("\n") == 1 and "bad.mrsnap" in err and "Traceback" not in err
    code, _, err = _run(capsys, "diff", str(bad), str(worse))
    assert code == 5 and err.count("\n") == 1 and "bad.mrsnap" in err and "worse" not in err


def test_two_files_compare_as_their_digests_do(files):
    """compare_files analyses OLD in a forked process: the comparison is the one of the two digests
    made here one after the other."""
    from meshreport import pipeline
    from meshreport.compare import compare
    from meshreport.settings import Settings

    settings = Settings.load(env={})
    old, new = files / "old.mrsnap", files / "new.mrsnap"
    together = pipeline.compare_files(old, new, settings)
    in_turn = compare(pipeline.digest_file(old, settings), pipeline.digest_file(new, settings))
    for fmt in pipeline.CHANGES_FORMATS:
        assert pipeline.changes_text(together, fmt) == pipeline.changes_text(in_turn, fmt)
    assert together.regressions()
