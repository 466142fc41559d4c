"""`validate -f DIR` over a real repository: documents that are not Kubernetes objects (a Helm chart,
values, a kustomization, an unrendered template, an object without a name) and folders that cannot
be read are reported with file:line and skipped; everything else is still validated."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from meshreport.cli import main
from meshreport.collect.manifests import config_snapshot_from_files, read_paths
from meshreport.errors import EXIT_INPUT, InputError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MIXED = FIXTURES / "k8s" / "mixed-repo"
SAMPLES = FIXTURES / "istio-samples"

SKIPPED = {
    "charts/reviews/Chart.yaml:1": "Helm Chart.yaml",
    "charts/reviews/values.yaml:1": "values",
    "charts/reviews/templates/deployment.yaml:6": "template",
    "overlays/prod/kustomization.yaml:1": "Kustomization",
    "operator/default-install.yaml:1": "IstioOperator has no metadata.name",
    "manifests/reviews.yaml:14": "no apiVersion and kind",
}


def validate(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(["validate", *args])
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def findings(out: str) -> set[tuple[str, str, str]]:
    return {(f["code"], f["kind"], f"{f['namespace']}/{f['name']}") for f in json.loads(out)}


def test_each_odd_document_is_a_gap_with_file_and_line_and_the_rest_is_read():
    objects, gaps = read_paths([str(MIXED)])
    assert sorted(o.ref() for o in objects) == ["DestinationRule shop/reviews", "VirtualService shop/reviews"]
    got = {str(Path(g.what).relative_to(MIXED)) if ":" in g.what else g.what: g.reason for g in gaps}
    assert set(got) == set(SKIPPED), got
    for where, why in SKIPPED.items():
        assert why in got[where] and got[where].endswith("skipped"), (where, got[where])
        assert "\n" not in got[where]
    assert {g.phase for g in gaps} == {"config"}


def test_samples_with_odd_files_are_validated_as_without_them(tmp_path, capsys):
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLES, repo / "samples")
    shutil.copytree(MIXED, repo / "mixed")
    code, out, err = validate(capsys, "-f", str(repo / "samples"), "--format", "json", "--fail-on", "none")
    assert code == 0, err
    alone = findings(out)
    code, out, err = validate(capsys, "-f", str(repo), "--format", "json", "--fail-on", "none")
    assert code == 0, err
    together = findings(out)
    assert alone and alone <= together
    assert ("IST0101", "VirtualService", "shop/reviews") in together  # the mixed folder's manifests are read too
    warned = [line for line in err.splitlines() if "skipped" in line]
    assert len(warned) == len(SKIPPED), err
    for where in SKIPPED:
        assert any(str(repo / "mixed" / where) in line for line in warned), where


def test_config_snapshot_records_the_skipped_documents_as_gaps():
    snap = config_snapshot_from_files([str(MIXED)], now=1_700_000_000.0)
    assert len(snap.objects) == 2
    assert len([g for g in snap.gaps if g.phase == "config"]) == len(SKIPPED)


@pytest.mark.parametrize(
    "name", ["charts/reviews/Chart.yaml", "charts/reviews/values.yaml", "operator/default-install.yaml"]
)
def test_exit_5_only_when_nothing_could_be_read(capsys, name):
    code, out, err = validate(capsys, "-f", str(MIXED / name))
    assert code == EXIT_INPUT and out == ""
    (line,) = err.strip().splitlines()
    assert f"{MIXED / name}:1:" in line and "no Kubernetes object could be read" in line
    with pytest.raises(InputError):
        read_paths([str(MIXED / name)])


def test_not_utf8_and_bad_yaml_files_in_a_folder_are_skipped_not_fatal(tmp_path, capsys):
    shutil.copytree(MIXED / "manifests", tmp_path / "m")
    (tmp_path / "m" / "latin1.yaml").write_bytes(b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n")
    (tmp_path / "m" / "broken.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: [a\n")
    objects, gaps = read_paths([str(tmp_path / "m")])
    assert len(objects) == 2
    reasons = {Path(g.what.split(":")[0]).name: g.reason for g in gaps}
    assert "not UTF-8" in reasons["latin1.yaml"] and "invalid YAML" in reasons["broken.yaml"]


def _unprivileged() -> list[str]:
    """A command prefix that runs as `nobody` when the tests run as root (root reads any folder)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux) is needed to drop root for this test"
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]


def test_unreadable_sub_folder_is_reported_not_silently_skipped():
    with tempfile.TemporaryDirectory(dir="/tmp") as d:
        root = Path(d)
        root.chmod(0o755)
        shutil.copytree(MIXED / "manifests", root / "ok")
        shutil.copytree(MIXED / "manifests", root / "locked")
        for p in (root / "ok", root / "locked", *root.rglob("*")):
            p.chmod(0o755 if p.is_dir() else 0o644)
        (root / "locked").chmod(0o000)
        cmd = [*_unprivileged(), sys.executable, "-c", "from meshreport.cli import main; main()"]
        cmd += ["validate", "-f", str(root), "--fail-on", "none"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": "/tmp"})
        (root / "locked").chmod(0o755)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    (line,) = [x for x in r.stderr.splitlines() if "locked" in x]
    assert "cannot list folder" in line and "Permission denied" in line
    assert "VirtualService shop/reviews" in r.stdout
