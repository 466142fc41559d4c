"""`meshreport run` compares every report with the previous one (the archive's previous run or
`--baseline`): "Since the previous report" in the site, changes.json and summary.json, gates on
what got worse, trends from the archive, and the email body through a real SMTP server."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared helpers package
from helpers import mesh_changes as mc  # noqa: E402
from helpers.smtp import smtp_server  # noqa: E402

from meshreport import digest_store, pipeline  # noqa: E402
from meshreport.cli import main  # noqa: E402
from meshreport.errors import InputError  # noqa: E402
from meshreport.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "docs" / "summary.schema.json").read_text())
#: A subset name from the cluster that tries HTML and a forged line in the mail.
HOSTILE = "<b>x</b>\nFAKE: line"
OLD_RUN, NEW_RUN = "2024-01-01T010000Z", "2024-01-02T010000Z"


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


@pytest.fixture(scope="module")
def snaps(tmp_path_factory) -> tuple[Path, Path]:
    """The bookinfo hour and the same hour a day later with the issue's known changes (and a hostile subset)."""
    d = tmp_path_factory.mktemp("snaps")
    changes = (*mc.KNOWN_OBJECT_CHANGES, mc.edit_object("DestinationRule", "ratings", mc.add_subset(HOSTILE)))
    old, new = mc.pair(mc.KNOWN_MESH_CHANGES, changes)
    pipeline.save(old, d / "old.mrsnap")
    pipeline.save(new, d / "new.mrsnap")
    return d / "old.mrsnap", d / "new.mrsnap"


def _run(capsys, snap: Path, *args: str) -> tuple[int, str, str]:
    return _cli(capsys, "run", "--from-snapshot", str(snap), "--no-pdf", "-q", *args)


def test_second_run_compares_with_the_first_and_emails_the_changes(tmp_path, snaps, capsys, monkeypatch):
    archive = tmp_path / "reports"
    code, out, err = _run(capsys, snaps[0], "--archive", str(archive))
    assert code == 0, err
    assert "since the previous report" not in out  # nothing to compare the first run with
    first = json.loads((archive / OLD_RUN / "summary.json").read_text())
    assert first["changes"] == {
        "compared": False, "run": None, "baseline": None, "reason": "no previous run in the archive",
    }  # fmt: skip
    assert first["files"]["changes"] is None and not (archive / OLD_RUN / "changes.json").exists()

    for key, value in (("HOST", "localhost"), ("TLS", "starttls"), ("FROM", "meshreport@example.com")):
        monkeypatch.setenv(f"MESHREPORT_EMAIL_SMTP_{key}" if key != "FROM" else "MESHREPORT_EMAIL_FROM", value)
    with smtp_server(tmp_path, tls="starttls") as srv:
        monkeypatch.setenv("MESHREPORT_EMAIL_SMTP_PORT", str(srv.port))
        monkeypatch.setenv("MESHREPORT_EMAIL_SMTP_CA_FILE", str(srv.ca_file))
        code, out, err = _run(
            capsys, snaps[1], "--archive", str(archive), "--email-to", "sre@example.com",
            "--fail-on-regression", "--fail-on-new", "error",
        )  # fmt: skip
    assert code == 3
    assert (
        "gate failed (report written): 10 regressions since the previous report; 5 new findings at or above error"
        in err
    )
    assert "since the previous report: 10 regressions; 0 improvements; 5 new findings, 1 resolved" in out
    run = archive / NEW_RUN
    summary = json.loads((run / "summary.json").read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(summary)
    c = summary["changes"]
    assert (c["compared"], c["run"], c["file"]) == (True, OLD_RUN, "changes.json")
    assert (c["regressions"], c["improvements"], c["newFindings"], c["resolvedFindings"]) == (10, 0, 5, 1)
    assert (c["appeared"], c["disappeared"], c["configChanges"]) == (0, 2, 4)
    assert summary["gate"]["failOn"] == ["regression", "new>=error"] and summary["gate"]["failed"]

    # changes.json: the diff document, what it was compared with, the section as the report words it
    doc = json.loads((run / "changes.json").read_text())
    assert doc["previous"] == {"run": OLD_RUN} and doc["schema_version"] == 1
    sections = {s["title"]: s["lines"] for s in doc["sections"]}
    assert list(sections) == ["Regressions", "New findings", "Resolved findings", "Disappeared", "Config changes"]
    assert (
        "edge bookinfo/ratings → bookinfo/ratings v2: became plaintext (mTLS 100.0 % → 0 %)" in sections["Regressions"]
    )
    assert "edge bookinfo/productpage → bookinfo/productpage v1: p95 latency 375 ms → 750 ms" in sections["Regressions"]
    assert [x["text"] for x in doc["regressions"]] == sections["Regressions"]
    assert any('uri.prefix: "/static" → "/assets"' in line for line in sections["Config changes"])

    # the archive's index and runs.json show it per run
    page = (archive / "index.html").read_text()
    assert "Since the previous run" in page and "10 regressions, 0 improvements, 5 new findings, 1 resolved" in page
    assert f'href="{NEW_RUN}/changes.json"' in page and f'href="{OLD_RUN}/changes.json"' not in page
    listed = {r["id"]: r["changes"] for r in json.loads((archive / "runs.json").read_text())["runs"]}
    assert listed == {NEW_RUN: f"{NEW_RUN}/changes.json", OLD_RUN: None}

    # the site opens with the section and draws the archive's two runs
    index = (run / "index.html").read_text()
    assert index.index('id="sec-since"') < index.index('id="sec-run-trends"')
    assert "2 runs" in index[index.index('id="sec-run-trends"') :]
    assert "&lt;b&gt;x&lt;/b&gt;" in index and "<b>x</b>" not in index

    # the mail's body is that section, in both parts, escaped
    (got,) = srv.messages
    msg = got.message
    text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = msg.get_body(("html",)).get_content()

    assert text.index("SINCE THE PREVIOUS REPORT (run 2024-01-01T010000Z)") < text.index("THIS REPORT")
    assert "Regressions (10):" in text and "New findings (5):" in text and "Resolved findings (1):" in text
    assert "  - service bookinfo/ratings: health Degraded → Failure\n" in text
    assert "<b>x</b>\\nFAKE: line" in text  # the cluster's newline is shown, never a line of its own
    assert "\nFAKE: line" not in text
    assert html.index("Since the previous report") < html.index("This report")
    assert "became plaintext (mTLS 100.0 % → 0 %)" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert text.index("Regressions") < text.index("New findings") < text.index("Resolved findings")

    # `send` of the archive's latest run mails the same section
    with smtp_server(tmp_path, tls="starttls") as srv2:
        monkeypatch.setenv("MESHREPORT_EMAIL_SMTP_PORT", str(srv2.port))
        monkeypatch.setenv("MESHREPORT_EMAIL_SMTP_CA_FILE", str(srv2.ca_file))
        code, _, err = _cli(capsys, "send", str(archive / "latest"), "--to", "lead@example.com")
    assert code == 0, err
    (sent,) = srv2.messages
    assert (
        sent.message.get_body(("plain",)).get_content().replace("\r\n", "\n").split("\n\nTHIS REPORT")[0]
        == text.split("\n\nTHIS REPORT")[0]
    )


def test_the_stored_digest_is_reused_only_for_its_own_snapshot_and_options(tmp_path, snaps, capsys, monkeypatch):
    archive = tmp_path / "reports"
    assert _run(capsys, snaps[0], "--archive", str(archive))[0] == 0
    snap = archive / OLD_RUN / "snapshot.mrsnap"
    assert (archive / OLD_RUN / digest_store.FILE_NAME).is_file()
    settings = Settings.load(env={})
    fresh = pipeline.digest_snapshot(pipeline.load(snap), settings)

    calls = []
    real = pipeline.analyse
    monkeypatch.setattr(pipeline, "analyse", lambda *a, **k: calls.append(1) or real(*a, **k))
    stored = pipeline.digest_file(snap, settings)
    assert calls == []  # read, not re-analysed
    assert stored.nodes == fresh.nodes and stored.edges == fresh.edges and stored.gaps == fresh.gaps
    assert stored.findings == fresh.findings and stored.objects == fresh.objects
    assert (stored.window, stored.graph_type, stored.namespaces) == (fresh.window, fresh.graph_type, fresh.namespaces)

    pipeline.digest_file(snap, settings, graph_type="app")  # other options: analysed again
    assert calls == [1]
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "validation:\n  suppressions:\n    - {code: IST0173, resource: 'DestinationRule *', reason: known}\n"
    )
    pipeline.digest_file(snap, Settings.load(config_file=str(cfg), env={}))  # other suppressions
    assert calls == [1, 1]
    copy = tmp_path / "run" / "snapshot.mrsnap"  # the digest beside another snapshot's bytes
    copy.parent.mkdir()
    copy.write_bytes(snap.read_bytes()[:-1] + b" ")
    (copy.parent / digest_store.FILE_NAME).write_bytes((archive / OLD_RUN / digest_store.FILE_NAME).read_bytes())
    with pytest.raises(InputError):  # the changed bytes are read (and fail), not trusted
        pipeline.digest_file(copy, settings)
    assert calls == [1, 1]  # failed while reading, before analysing


def test_a_previous_run_that_cannot_be_read_is_said_and_skipped(tmp_path, snaps, capsys):
    archive = tmp_path / "reports"
    assert _run(capsys, snaps[0], "--archive", str(archive))[0] == 0
    (archive / OLD_RUN / "snapshot.mrsnap").write_text("{not json")
    code, out, err = _run(capsys, snaps[1], "--archive", str(archive), "--fail-on-regression")
    assert code == 0, err  # nothing to compare, so nothing regressed
    assert f"meshreport: warning: not compared with the previous run {OLD_RUN}:" in err
    summary = json.loads((archive / NEW_RUN / "summary.json").read_text())
    assert summary["changes"]["compared"] is False and summary["changes"]["run"] == OLD_RUN


def test_baseline_with_one_folder_and_usage_errors(tmp_path, snaps, capsys):
    out = tmp_path / "report"
    code, stdout, err = _run(
        capsys, snaps[1], "-o", str(out), "--baseline", str(snaps[0]), "--fail-on-new", "error",
        "--sarif", "--junit", "--markdown",
    )  # fmt: skip
    assert code == 3 and "5 new findings at or above error" in err
    # the findings outputs mark new and existing findings against the previous report
    sarif = json.loads((out / "findings.sarif").read_text())["runs"][0]
    states = [r.get("baselineState") for r in sarif["results"] if not r.get("suppressions")]
    assert sorted(states) == ["new"] * 5 + ["unchanged"] * 4
    assert sarif["properties"]["baseline"]["summary"] == "5 new since the previous report, 4 existing, 1 resolved"
    junit = (out / "findings.xml").read_text()  # one testcase per object
    assert junit.count('<property name="baseline" value="new"') == 4
    assert junit.count('<property name="baseline" value="existing"') == 2
    md = (out / "summary.md").read_text()
    assert md.index("### Since the previous report") < md.index("#### Regressions (10)") < md.index("### Findings")
    assert md.count("| **new** |") == 5 and "\nFAKE: line" not in md
    summary = json.loads((out / "summary.json").read_text())
    assert summary["changes"]["baseline"] == "old.mrsnap" and summary["changes"]["regressions"] == 10
    assert "Since the previous report" in (out / "index.html").read_text()
    assert "run-trends" not in (out / "index.html").read_text()  # trends need an archive

    code, _, err = _run(capsys, snaps[1], "-o", str(tmp_path / "x"), "--fail-on-regression")
    assert code == 2 and "need a previous report: --baseline SNAP or --archive DIR" in err
    code, _, err = _run(capsys, snaps[0], "-o", str(tmp_path / "x"), "--baseline", str(snaps[1]))
    assert code == 2 and "give the older snapshot first" in err
    assert not (tmp_path / "x").exists()
