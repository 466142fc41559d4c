"""End to end, as a CronJob runs it: `meshreport run` against a real Prometheus (backfilled Istio
metrics) and a Kubernetes API (the stub, through the real client) writes a dated archive run whose
findings come from the collected config, emails it to a real SMTP server, prunes by --keep, and a
run whose Prometheus is down leaves the archive untouched and exits non-zero."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from meshreport.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared helpers package
from helpers.k8s_stub import StubCluster, StubServer, load_yaml_objects, write_kubeconfig  # noqa: E402
from helpers.prometheus import available, free_port, running_prometheus  # noqa: E402
from helpers.smtp import smtp_server  # noqa: E402

TESTS = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((TESTS.parent / "docs" / "summary.schema.json").read_text())
CLUSTER = TESTS / "fixtures" / "k8s" / "cluster"
SAMPLES = TESTS / "fixtures" / "istio-samples" / "bookinfo" / "networking"


@pytest.fixture(scope="module")
def mesh_backends(tmp_path_factory):
    """Bookinfo's request counters in a real Prometheus, and the bookinfo cluster behind the API stub."""
    from meshreport.synthetic import meshes

    if not available():
        pytest.fail("prometheus/promtool not installed (scripts/setup installs them)")
    mesh, window = meshes.bookinfo_mesh(), meshes.BOOKINFO_WINDOW
    work = tmp_path_factory.mktemp("run-e2e")
    om = work / "mesh.om"
    meshes.write_openmetrics(
        mesh, om, window.start, window.end + 7200, step=60, preroll=120, metrics=("istio_requests_total",)
    )
    subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", "-q", str(om), str(work / "data")],
        check=True,
        capture_output=True,
        timeout=300,
    )
    objects = load_yaml_objects(CLUSTER) + load_yaml_objects(
        SAMPLES / "destination-rule-all.yaml", SAMPLES / "bookinfo-gateway.yaml", namespace="bookinfo"
    )
    with running_prometheus(None, work) as url, StubServer(StubCluster(objects=objects)) as api:
        kubeconfig = write_kubeconfig(work / "kubeconfig", {"east": (api.url, "e2e-token")})
        yield url, int(window.end), kubeconfig


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def _tree(root: Path) -> dict[str, bytes | str]:
    return {
        str(p.relative_to(root)): (os.readlink(p) if p.is_symlink() else p.read_bytes() if p.is_file() else "dir")
        for p in sorted(root.rglob("*"))
    }


def test_nightly_runs_archive_email_prune_and_survive_a_dead_prometheus(mesh_backends, tmp_path, capsys, monkeypatch):
    url, end, kubeconfig = mesh_backends
    archive = tmp_path / "reports"
    # what a CronJob sets: everything from the environment
    for key, value in {
        "PROMETHEUS_URL": url,
        "WINDOW": "1h",
        "SCRAPE_INTERVAL": "60s",
        "NAMESPACES": "bookinfo",
        "KUBERNETES_KUBECONFIG": str(kubeconfig),
        "ARCHIVE_DIR": str(archive),
        "ARCHIVE_KEEP": "2",
        "OUTPUTS_SARIF": "true",
        "EMAIL_FROM": "meshreport@example.com",
        "EMAIL_SMTP_TLS": "none",
    }.items():
        monkeypatch.setenv("MESHREPORT_" + key, value)
    monkeypatch.setenv("MESHREPORT_PROMETHEUS_SCRAPE_INTERVAL", "60s")

    # 1. the nightly run, emailed
    with smtp_server(tmp_path, tls="none") as srv:
        monkeypatch.setenv("MESHREPORT_EMAIL_SMTP_HOST", srv.host)
        monkeypatch.setenv("MESHREPORT_EMAIL_SMTP_PORT", str(srv.port))
        code, out, err = _cli(capsys, "run", "--end", str(end), "--email-to", "sre@example.com", "-q")
    assert code == 0, err
    first = "2024-01-01T010000Z"
    assert os.readlink(archive / "latest") == first and "emailed to sre@example.com" in out
    run = archive / first
    summary = json.loads((run / "summary.json").read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(summary)
    assert summary["source"]["kind"] == "mixed" and summary["source"]["configCollected"] is True
    assert summary["traffic"]["requestRate"] > 0 and summary["namespaces"] == ["bookinfo"]
    # findings come from the collected config: the DestinationRules served by the API stub
    assert summary["findings"]["error"] > 0
    sarif = json.loads((run / "findings.sarif").read_text())
    flagged = {r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] for r in sarif["runs"][0]["results"]}
    assert any("DestinationRule" in name and "bookinfo" in name for name in flagged), flagged
    from meshreport.snapshot.store import read

    snap = read(run / "snapshot.mrsnap")
    assert any(o.kind == "DestinationRule" and o.namespace == "bookinfo" for o in snap.objects)
    assert any(q.series for q in snap.queries)
    # the email: one message, PDF attached, body without scripts or remote images
    (mail,) = srv.messages
    msg = mail.message
    assert mail.rcpt_tos == ["sre@example.com"]
    pdf = [p for p in msg.walk() if p.get_content_type() == "application/pdf"]
    assert len(pdf) == 1 and pdf[0].get_content() == (run / "report.pdf").read_bytes()
    html = msg.get_body(("html",)).get_content().lower()
    assert "<script" not in html and "<img" not in html and "http" not in html

    # 2. two more nights with --keep 2: the oldest run is pruned
    for hour in (1, 2):
        code, _, err = _cli(capsys, "run", "--end", str(end + hour * 3600), "--no-pdf", "-q")
        assert code == 0, err
    runs = sorted(p.name for p in archive.iterdir() if p.is_dir() and not p.is_symlink())
    assert runs == ["2024-01-01T020000Z", "2024-01-01T030000Z"]
    assert os.readlink(archive / "latest") == "2024-01-01T030000Z"
    listed = json.loads((archive / "runs.json").read_text())["runs"]
    assert [r["id"] for r in listed] == ["2024-01-01T030000Z", "2024-01-01T020000Z"]
    assert first not in (archive / "index.html").read_text()

    # 3. Prometheus is down: exit 5, one line saying the previous report stays, nothing changed
    before = _tree(archive)
    monkeypatch.setenv("MESHREPORT_PROMETHEUS_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("MESHREPORT_PROMETHEUS_RETRIES", "0")
    code, _, err = _cli(capsys, "run", "--end", str(end + 3 * 3600), "--no-pdf", "-q")
    assert code == 5, err
    assert f"the previous report is untouched ({archive / 'latest'} -> 2024-01-01T030000Z)" in err
    assert err.count("\n") == 1
    assert _tree(archive) == before
