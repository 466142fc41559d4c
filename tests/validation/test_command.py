"""`meshreport validate`: inputs, formats, --fail-on in every format, --show, suppression flags, errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from meshreport.cli import main
from meshreport.snapshot.model import Snapshot, Source, Window
from meshreport.snapshot.store import write

from .helpers import objects

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "validation"
BAD = FIXTURES / "IST0101" / "vs_subset_not_found.bad.yaml"
GOOD = FIXTURES / "IST0101" / "vs_subset_not_found.good.yaml"
WARN_ONLY = FIXTURES / "IST0128" / "dr_no_ca_destination.bad.yaml"


def run(argv, capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(["validate", *argv])
    out, err = capsys.readouterr()
    return e.value.code, out, err


@pytest.mark.parametrize("fmt", ["text", "json", "yaml", "sarif", "junit", "markdown"])
def test_error_finding_exits_3_in_every_format(fmt, capsys):
    code, out, err = run(["-f", str(BAD), "--format", fmt], capsys)
    assert code == 3
    assert "IST0101" in out
    assert "1 finding at or above --fail-on error" in err


def test_clean_input_exits_0(capsys):
    code, out, _ = run(["-f", str(GOOD)], capsys)
    assert code == 0 and "No validation issues found." in out


def test_fail_on_threshold(capsys):
    assert run(["-f", str(WARN_ONLY)], capsys)[0] == 0
    assert run(["-f", str(WARN_ONLY), "--fail-on", "warning"], capsys)[0] == 3
    assert run(["-f", str(BAD), "--fail-on", "none"], capsys)[0] == 0


def test_show_filters_output_but_not_the_exit_code(capsys):
    code, out, _ = run(["-f", str(BAD), "--show", "error", "--format", "json"], capsys)
    assert code == 3 and [i["code"] for i in json.loads(out)] == ["IST0101"]
    code, out, _ = run(["-f", str(WARN_ONLY), "--show", "error", "--fail-on", "warning", "--format", "json"], capsys)
    assert code == 3 and json.loads(out) == []


def test_cli_suppression_and_show_suppressed(capsys):
    sup = ["-S", "IST0101=VirtualService bookinfo/*"]
    code, out, _ = run(["-f", str(BAD), *sup], capsys)
    assert code == 0 and "Referenced host+subset" not in out and "1 suppressed" in out
    code, out, _ = run(["-f", str(BAD), *sup, "--show-suppressed"], capsys)
    assert code == 0 and "[suppressed: -S IST0101=VirtualService bookinfo/*]" in out


def test_config_file_suppression_and_expiry(tmp_path, capsys):
    cfg = tmp_path / "meshreport.yaml"
    cfg.write_text(
        "validation:\n  suppressions:\n"
        "  - {code: KIA1107, resource: 'VirtualService bookinfo/reviews', reason: ticket 42}\n"
        "  - {code: IST0128, resource: '*', reason: old, expires: 2020-01-01}\n"
    )
    code, out, _ = run(["-f", str(BAD), "--config", str(cfg), "--show-suppressed"], capsys)
    assert code == 0 and "[suppressed: config: ticket 42]" in out
    assert "Expired suppression IST0128=* (expired 2020-01-01" in out


def test_snapshot_input_and_output_file(tmp_path, capsys):
    snap = Snapshot(
        window=Window(0, 600), source=Source(kind="files"), namespaces=["bookinfo"], objects=objects(BAD.read_text())
    )
    path = tmp_path / "s.mrsnap"
    write(snap, path)
    out_file = tmp_path / "findings.sarif"
    code, out, err = run([str(path), "--format", "sarif", "-o", str(out_file)], capsys)
    assert code == 3 and out == ""
    assert json.loads(out_file.read_text())["runs"][0]["results"][0]["ruleId"] == "IST0101"
    assert err.startswith("Summary: 1 error")


def test_mesh_config_file_changes_results(tmp_path, capsys):
    text = (FIXTURES / "KIA0205" / "dr_mesh_mtls_without_pa.bad.yaml").read_text()
    src = tmp_path / "in.yaml"
    src.write_text(text)
    _, out, _ = run(["-f", str(src), "--format", "json", "--fail-on", "none"], capsys)
    assert "KIA0205" not in [i["code"] for i in json.loads(out)]  # auto mTLS is on by default: skipped
    mesh = tmp_path / "mesh.yaml"
    mesh.write_text("enableAutoMtls: false\n")
    _, out, _ = run(["-f", str(src), "--mesh-config", str(mesh), "--format", "json", "--fail-on", "none"], capsys)
    assert "KIA0205" in [i["code"] for i in json.loads(out)]


def test_enable_turns_on_an_opt_in_rule(tmp_path, capsys):
    f = tmp_path / "pod.yaml"
    f.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop, annotations: {sidecar.istio.io/proxyCPU: 1}}\n"
        "spec: {containers: [{name: app, image: app}]}\n"
    )
    code, out, _ = run(["-f", str(f), "--format", "json"], capsys)
    assert code == 0 and "IST0136" not in [i["code"] for i in json.loads(out)]
    code, out, _ = run(["-f", str(f), "--format", "json", "--enable", "IST0136"], capsys)
    assert code == 0 and "IST0136" in [i["code"] for i in json.loads(out)]


@pytest.mark.parametrize(
    ("argv", "expected", "message"),
    [
        (["--enable", "IST0101"], 2, "not an opt-in rule"),
        ([], 2, "nothing to validate"),
        (["-S", "IST0101"], 2, "invalid suppression"),
        (["--format", "html"], 2, "Invalid value"),
    ],
)
def test_usage_errors(argv, expected, message, capsys):
    extra = ["-f", str(GOOD)] if argv and argv[0] in ("-S", "--enable") else []
    code, _, err = run([*extra, *argv], capsys)
    assert code == expected and message in err and "Traceback" not in err


def test_unreadable_inputs_exit_5(tmp_path, capsys):
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("kind: [unclosed\n")
    code, _, err = run(["-f", str(bad_yaml)], capsys)
    assert code == 5 and err.count("\n") == 1
    code, _, err = run([str(tmp_path / "missing.mrsnap")], capsys)
    assert code == 5 and "Traceback" not in err
    code, _, err = run(["-f", str(GOOD), "--mesh-config", str(tmp_path / "nope.yaml")], capsys)
    assert code == 5 and "mesh config" in err


def test_live_cluster_via_context_gets_k8s_uris(tmp_path, capsys):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared helpers package
    from helpers.k8s_stub import StubCluster, StubServer, load_yaml_objects, write_kubeconfig

    cluster = StubCluster(objects=load_yaml_objects(BAD))
    with StubServer(cluster) as srv:
        kc = write_kubeconfig(tmp_path / "kc", {"east": (srv.url, "token")})
        code, out, _ = run(["--context", "east", "--kubeconfig", str(kc), "--format", "sarif"], capsys)
    assert code == 3
    results = json.loads(out)["runs"][0]["results"]
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results]
    assert "k8s://east/bookinfo/VirtualService/reviews" in uris


def test_mesh_config_accepts_a_mesh_networks_file(tmp_path):
    from meshreport.validation.meshconfig import MeshConfig

    p = tmp_path / "mn.yaml"
    p.write_text("networks:\n  n1: {endpoints: [{fromRegistry: Kubernetes}]}\n")
    mc = MeshConfig.from_file(p)
    assert mc.networks == {"n1": {"endpoints": [{"fromRegistry": "Kubernetes"}]}}
    assert mc.root_namespace == "istio-system"
    p.write_text("networks: [x]\n")
    with pytest.raises(Exception, match="must be a mapping"):
        MeshConfig.from_file(p)
