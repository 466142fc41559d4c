"""Kiali's appender unit tests, replayed end to end: traffic through a real Prometheus, config from
YAML, `meshreport snapshot --prometheus URL --from-files` and `meshreport graph --format json`.

Scenarios live in tests/fixtures/kiali-appenders/ (format: tests/helpers/kiali_scenarios.py).
Every check of every scenario must agree with what Kiali's test asserts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from meshreport.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/ holds the shared helpers package
from helpers import kiali_scenarios as ks  # noqa: E402
from helpers.prometheus import available, running_prometheus  # noqa: E402

SCENARIOS = ks.load_all()


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    """One Prometheus holding every scenario, each in its own hour."""
    if not available():
        pytest.fail("prometheus/promtool not installed (scripts/setup installs them)")
    work = tmp_path_factory.mktemp("kiali-parity")
    om = work / "scenarios.om"
    ks.write_openmetrics(SCENARIOS, om)
    with running_prometheus(om, work) as url:
        yield url


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def config_inputs(sc: ks.Scenario, tmp_path: Path) -> list[str]:
    """`--from-files` inputs: one file, or with `configs` one file per cluster as `CLUSTER=PATH`."""
    if "configs" not in sc.data:
        config = tmp_path / "config.yaml"
        config.write_text(sc.data.get("config") or "", encoding="utf-8")
        return [str(config)]
    inputs = []
    for cluster, text in sc.data["configs"].items():
        (tmp_path / cluster).mkdir()
        (tmp_path / cluster / "config.yaml").write_text(text, encoding="utf-8")
        inputs.append(f"{cluster}={tmp_path / cluster}")
    return inputs


def graph_of(sc: ks.Scenario, url: str, tmp_path: Path, capsys) -> dict:
    snap = tmp_path / "scenario.mrsnap"
    code, _, err = run(
        capsys, "snapshot", "--prometheus", url, "--window", "1h", "--end", str(sc.end),
        "--scrape-interval", "60s", "-n", ",".join(sc.data["graph"]["namespaces"]),
        "--from-files", *config_inputs(sc, tmp_path), "-o", str(snap), "-q", *ks.snapshot_args(sc),
    )  # fmt: skip
    assert code == 0, err
    code, out, err = run(capsys, "graph", str(snap), *ks.graph_args(sc), "--format", "json")
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize("sc", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_agrees_with_kiali(sc, prometheus, tmp_path, capsys):
    checks, failed = ks.compare(sc, graph_of(sc, prometheus, tmp_path, capsys))
    assert checks > 0
    where = f"{sc.data['kiali']['file']} {sc.data['kiali']['test']}"
    assert not failed, f"{where}: {len(failed)}/{checks} checks disagree:\n" + "\n".join(failed)
