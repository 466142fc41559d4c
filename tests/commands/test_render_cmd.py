"""`meshreport render`: exit codes, one-line errors, output folder handling."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest

from meshreport.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "bookinfo.mrsnap"


def _run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_render_bookinfo_without_pdf(tmp_path, capsys):
    out_dir = tmp_path / "report"
    code, out, err = _run(capsys, "render", str(SAMPLE), "-o", str(out_dir), "--no-pdf")
    assert code == 0, err
    assert (out_dir / "index.html").is_file() and (out_dir / "namespaces/bookinfo.html").is_file()
    assert not (out_dir / "report.pdf").exists()
    assert (out_dir / "index.html").as_uri() in out
    assert "productpage" in (out_dir / "img/mesh.svg").read_text()


def test_render_workload_graph_type(tmp_path, capsys):
    out_dir = tmp_path / "report"
    code, _, err = _run(capsys, "render", str(SAMPLE), "-o", str(out_dir), "--no-pdf", "--graph-type", "workload")
    assert code == 0, err
    svg = (out_dir / "img/mesh.svg").read_text()
    assert "reviews&#45;v2" in svg or "reviews-v2" in svg  # workload names


@pytest.mark.parametrize(
    "content, message",
    [
        (b"not a snapshot at all", "not gzip-compressed"),
        (gzip.compress(b'{"format": "meshreport-snapshot", "schema_version": 1}')[:12], "truncated or corrupt"),
        (gzip.compress(b'{"format": "meshreport-snapshot", "schema_version": 99}'), "schema_version 99"),
    ],
)
def test_bad_snapshot_is_one_line_and_exit_5(tmp_path, capsys, content, message):
    bad = tmp_path / "bad.mrsnap"
    bad.write_bytes(content)
    code, out, err = _run(capsys, "render", str(bad), "-o", str(tmp_path / "report"))
    assert code == 5
    assert message in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert not (tmp_path / "report").exists()


def test_missing_snapshot_is_exit_5(tmp_path, capsys):
    code, _, err = _run(capsys, "render", str(tmp_path / "nope.mrsnap"), "-o", str(tmp_path / "r"))
    assert code == 5 and "no such snapshot file" in err


def test_missing_graphviz_keeps_previous_report(tmp_path, capsys, monkeypatch):
    out_dir = tmp_path / "report"
    code, _, _ = _run(capsys, "render", str(SAMPLE), "-o", str(out_dir), "--no-pdf")
    assert code == 0
    before = {p.relative_to(out_dir): p.read_bytes() for p in out_dir.rglob("*") if p.is_file()}
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no `dot` anywhere
    code, _, err = _run(capsys, "render", str(SAMPLE), "-o", str(out_dir), "--no-pdf")
    assert code == 5
    assert "Graphviz is not installed" in err and len(err.strip().splitlines()) == 1
    after = {p.relative_to(out_dir): p.read_bytes() for p in out_dir.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no staging folder left behind


def test_refuses_to_overwrite_a_folder_that_is_not_a_report(tmp_path, capsys):
    out_dir = tmp_path / "mydocs"
    out_dir.mkdir()
    (out_dir / "thesis.tex").write_text("precious")
    code, _, err = _run(capsys, "render", str(SAMPLE), "-o", str(out_dir), "--no-pdf")
    assert code == 2 and "not a meshreport report" in err
    assert (out_dir / "thesis.tex").read_text() == "precious"


def test_render_help_is_complete(capsys):
    code, out, _ = _run(capsys, "render", "--help")
    assert code == 0
    for opt in (
        "--output",
        "--graph-type",
        "--no-pdf",
        "--namespaces",
        "--title",
        "versionedApp",
        "exits with code 5",
        "--prometheus",
        "--window",
        "--config",
        "--mesh-config",
        "--fail-on",
        "findings.html",
    ):
        assert opt in out


# --- findings, health rules and --fail-on ------------------------------------------------------


def test_render_writes_findings_then_fail_on_exits_3(tmp_path, capsys):
    out_dir = tmp_path / "report"
    code, out, err = _run(capsys, "render", str(SAMPLE), "-o", str(out_dir), "--no-pdf", "--fail-on", "error")
    assert code == 3
    assert "3 findings at or above --fail-on error (report written)" in err and len(err.strip().splitlines()) == 1
    html = (out_dir / "findings.html").read_text()  # the report was published before the exit
    assert "IST0173" in html and 'id="sev-error"' in html and "10 suppressed" in html
    assert "IST0173" in (out_dir / "namespaces/bookinfo.html").read_text().split('id="findings"')[1]
    assert "findings: 3 errors, 2 warnings, 0 info; 10 suppressed" in out  # with MR0102 on productpage-v1


def test_render_default_fail_on_none_exits_0_with_findings(tmp_path, capsys):
    code, _, err = _run(capsys, "render", str(SAMPLE), "-o", str(tmp_path / "r"), "--no-pdf")
    assert code == 0, err


def test_config_file_suppressions_and_health_rules(tmp_path, capsys):
    cfg = tmp_path / "meshreport.yaml"
    cfg.write_text(
        "validation:\n"
        "  suppressions:\n"
        "    - {code: IST0173, resource: 'DestinationRule bookinfo/*', reason: subsets for later versions}\n"
        "health:\n"
        "  rate:\n"
        "    - tolerance: [{code: '.*', degraded: 99, failure: 100}]\n"
    )
    out_dir = tmp_path / "report"
    code, out, err = _run(
        capsys, "render", str(SAMPLE), "-o", str(out_dir), "--no-pdf", "--config", str(cfg), "--fail-on", "error"
    )
    assert code == 0, err
    assert "findings: 0 errors, 2 warnings, 0 info; 13 suppressed" in out  # with MR0102 on productpage-v1
    findings = (out_dir / "findings.html").read_text()
    assert "config: subsets for later versions" in findings
    index = (out_dir / "index.html").read_text()
    counts = index.split('class="data health-counts"')[1].split("</table>")[0]
    assert "health.html#healthy-app" in counts and "#degraded-" not in counts  # lax rules from the config file


def test_default_health_shows_degraded_bookinfo(tmp_path, capsys):
    out_dir = tmp_path / "report"
    code, _, err = _run(capsys, "render", str(SAMPLE), "-o", str(out_dir), "--no-pdf")
    assert code == 0, err
    index = (out_dir / "index.html").read_text()
    counts = index.split('class="data health-counts"')[1].split("</table>")[0]
    assert 'href="health.html#degraded-app">2</a>' in counts  # the sample's 5xx burst, Kiali's default tolerances
    unhealthy = index.split('id="unhealthy"')[1].split("</table>")[0]
    assert "reviews v2" in unhealthy and "outbound http 5xx 5.0 % (degraded at &gt; 0 %)" in unhealthy
    ns = (out_dir / "namespaces/bookinfo.html").read_text()
    assert '<span class="status st-degraded">▲ Degraded</span>' in ns  # health column in the namespace tables


def test_mesh_config_file(tmp_path, capsys):
    mc = tmp_path / "mesh.yaml"
    mc.write_text("outboundTrafficPolicy: {mode: REGISTRY_ONLY}\nrootNamespace: istio-system\n")
    code, _, err = _run(capsys, "render", str(SAMPLE), "-o", str(tmp_path / "r"), "--no-pdf", "--mesh-config", str(mc))
    assert code == 0, err
    code, _, err = _run(
        capsys,
        "render",
        str(SAMPLE),
        "-o",
        str(tmp_path / "r2"),
        "--no-pdf",
        "--mesh-config",
        str(tmp_path / "no.yaml"),
    )
    assert code == 5 and "cannot read mesh config" in err
    assert not (tmp_path / "r2").exists()


def test_metrics_only_snapshot_says_config_not_collected(tmp_path, capsys):
    from meshreport.snapshot.store import read, write

    snap = read(SAMPLE)
    snap.objects = []
    path = tmp_path / "metrics.mrsnap"
    write(snap, path)
    out_dir = tmp_path / "report"
    code, out, err = _run(capsys, "render", str(path), "-o", str(out_dir), "--no-pdf", "--fail-on", "info")
    assert code == 0, err
    assert "config was not collected" in out
    assert "Config was not collected for this snapshot" in (out_dir / "findings.html").read_text()


@pytest.mark.parametrize(
    "args, message",
    [
        ((), "missing SNAPSHOT (a .mrsnap file) or --prometheus URL"),
        ((str(SAMPLE), "--prometheus", "http://127.0.0.1:1"), "give either a SNAPSHOT file or --prometheus, not both"),
        ((str(SAMPLE), "-n", "nope"), "namespace(s) nope not in the snapshot"),
        ((str(SAMPLE), "--window", "7d"), "--window only apply with --prometheus"),
        ((str(SAMPLE), "--end", "2024-01-01T00:00:00Z"), "--end only apply with --prometheus"),
        ((str(SAMPLE), "-A"), "-A/--all-namespaces only apply with --prometheus"),
    ],
)
def test_exactly_one_source_is_a_usage_error(tmp_path, capsys, args, message):
    code, _, err = _run(capsys, "render", *args, "-o", str(tmp_path / "r"), "--no-pdf")
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_no_pdf_leaves_no_pdf_link_and_no_png(tmp_path, capsys):
    out_dir = tmp_path / "report"
    code, out, err = _run(capsys, "render", str(SAMPLE), "-o", str(out_dir), "--no-pdf")
    assert code == 0, err
    for page in out_dir.rglob("*.html"):
        assert "report.pdf" not in page.read_text(), page
    assert not list(out_dir.rglob("*.png"))
    assert "PDF" not in out


def test_namespace_flag_scopes_every_count_and_page(tmp_path, capsys):
    out_dir = tmp_path / "report"
    code, out, err = _run(capsys, "render", str(SAMPLE), "-o", str(out_dir), "--no-pdf", "-n", "istio-system")
    assert code == 0, err
    assert sorted(p.name for p in (out_dir / "namespaces").iterdir()) == ["istio-system.html"]
    index = (out_dir / "index.html").read_text()
    assert "of 1 namespace over" in index
    assert 'href="namespaces/bookinfo.html"' not in index
    # bookinfo's findings (IST0173 on its DestinationRules) are out of scope, in the page and the exit line.
    assert "IST0173" not in (out_dir / "findings.html").read_text()
    assert "findings: 0 errors" in out
    assert "bookinfo (" not in index  # the Istio-configuration inventory counts istio-system only


def test_config_only_snapshot_shows_no_window_or_zeros(tmp_path, capsys):
    from meshreport.snapshot.store import read, write

    snap = read(SAMPLE)
    snap.queries = []  # what `snapshot --from-files` writes: config objects, no metrics
    path = tmp_path / "config.mrsnap"
    write(snap, path)
    out_dir = tmp_path / "report"
    code, _, err = _run(capsys, "render", str(path), "-o", str(out_dir))
    assert code == 0, err
    index = (out_dir / "index.html").read_text()
    assert "Config only:" in index and "config only" in index
    for absent in ("req/s", "2024-01-01 00:00 UTC", "Traffic between", "img/mesh.svg"):
        assert absent not in index, absent
    assert "IST0173" in index  # the findings are the point of a config-only report
    assert not (out_dir / "img").exists()
    pdf = subprocess.run(["pdftotext", str(out_dir / "report.pdf"), "-"], capture_output=True, text=True).stdout
    assert "Config only" in pdf and "req/s" not in pdf and "2024-01-01 00:00 UTC" not in pdf
    assert "IST0173" in pdf


# --- live mode: render straight from a real Prometheus ------------------------------------------

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared helpers package
from helpers.prometheus import available, running_prometheus  # noqa: E402


@pytest.fixture(scope="module")
def small_prometheus(tmp_path_factory):
    """Bookinfo's request counters only (1h, 60 s samples), backfilled into a real Prometheus."""
    from meshreport.synthetic import meshes

    if not available():
        pytest.fail("prometheus/promtool not installed (scripts/setup installs them)")
    mesh, window = meshes.bookinfo_mesh(), meshes.BOOKINFO_WINDOW
    work = tmp_path_factory.mktemp("render-live")
    om = work / "mesh.om"
    meshes.write_openmetrics(
        mesh, om, window.start, window.end, step=60, preroll=120, metrics=("istio_requests_total",)
    )
    subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", "-q", str(om), str(work / "data")],
        check=True,
        capture_output=True,
        timeout=300,
    )
    with running_prometheus(None, work) as url:
        yield mesh, window, url


def test_render_live_from_prometheus(small_prometheus, tmp_path, capsys):
    mesh, window, url = small_prometheus
    out_dir = tmp_path / "report"
    code, out, err = _run(
        capsys,
        "render", "--prometheus", url, "--window", "1h", "--end", str(int(window.end)), "--scrape-interval", "60s",
        "-n", ",".join(sorted(mesh.namespaces)), "-o", str(out_dir), "--no-pdf", "--fail-on", "error",
    )  # fmt: skip
    assert code == 0, err
    index = (out_dir / "index.html").read_text()
    assert "Prometheus " + url in index  # the source line names the live Prometheus
    assert "productpage" in (out_dir / "img/mesh.svg").read_text()
    page = (out_dir / "namespaces/bookinfo.html").read_text()
    assert "reviews" in page and "req/s" in page
    # Metrics only: no config objects were collected, so findings say so instead of "none".
    assert "config was not collected" in out
    assert "Config was not collected for this snapshot" in (out_dir / "findings.html").read_text()


def test_render_with_baseline_gates_after_writing(tmp_path, capsys):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared helpers package
    from helpers import mesh_changes as mc

    from meshreport.snapshot import store

    old, new = mc.pair(mc.KNOWN_MESH_CHANGES, mc.KNOWN_OBJECT_CHANGES)
    store.write(old, tmp_path / "old.mrsnap")
    store.write(new, tmp_path / "new.mrsnap")
    out_dir = tmp_path / "report"
    args = ["render", str(tmp_path / "new.mrsnap"), "--baseline", str(tmp_path / "old.mrsnap"), "-o", str(out_dir)]
    code, out, err = _run(capsys, *args, "--no-pdf")
    assert code == 0, err
    # new: IST0173 and MR0103 (the plaintext flow into STRICT bookinfo)
    assert "since the previous report: 10 regressions; 0 improvements; 2 new findings, 1 resolved" in out
    assert 'id="sec-since"' in (out_dir / "index.html").read_text()
    code, out, err = _run(capsys, *args, "--no-pdf", "--fail-on-regression", "--fail-on-new", "error")
    assert code == 3
    gates = "10 regressions beyond the thresholds; 2 new findings at or above --fail-on-new error"
    assert gates + " (report written)" in err
    assert (out_dir / "index.html").is_file()
    code, _, err = _run(capsys, "render", str(tmp_path / "new.mrsnap"), "--fail-on-regression", "-o", str(out_dir))
    assert code == 2 and "need --baseline" in err
