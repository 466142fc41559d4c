"""Kiali's appender unit tests, replayed end to end: traffic through a real Prometheus, config from
YAML, `meshreport snapshot --prometheus URL --from-files` and `meshreport graph --format json`.

Scenarios live in tests/fixtures/kiali-appenders/ (format: tests/helpers/kiali_scenarios.py).
Every check of every scenario must agree with what Kiali's test asserts (or, for scenarios that name
an appender instead of a test, what Kiali's appender code does; their `note` says why).

Each rule of issue #20 has a scenario where it must hold and one where it must not (scenario file
names; a name on both sides checks each side on different nodes; test_table_names_scenarios keeps
the names true):

SE visible by its exportTo
    hold: se-export-all, se-export-namespace-found, se-export-definition-namespace
    not:  se-export-namespace-not-found
... else by the mesh's defaultServiceExportTo (the caller's cluster's mesh config)
    hold: se-mesh-export-all, se-mesh-export-definition-namespace, se-mesh-export-per-cluster (west)
    not:  se-mesh-export-definition-namespace-other, se-mesh-export-per-cluster (east)
SE node in the client namespace
    hold: se-kiali7153-other-namespace, se-same-host-visible-wins
    not:  se-kiali7153-other-namespace, se-same-host-visible-wins (no node in the SE's namespace)
host in several namespaces: the visible SE
    hold: se-same-host-match-namespace, se-same-host-visible-wins
    not:  se-same-host-no-match-namespace (host2's only SE unreadable)
no visible SE: plain service node
    hold: se-export-namespace-not-found, se-mesh-export-definition-namespace-other
    not:  se-export-namespace-found
MESH_INTERNAL prefix, MESH_EXTERNAL exact
    hold: se-default (internalHost2), se-location-prefix-match (db)
    not:  se-location-prefix-match (api)
several hosts per SE
    hold: se-default (externalSE: 2 hosts)
    not:  se-default (hostX stays plain)
wildcard hosts
    hold: se-wildcard-host (*.wikipedia.org)
    not:  se-wildcard-host (de.wikipedia.org)
'.global' hosts match exactly
    hold: se-disjoint-multicluster (svc1.namespace.global)
    not:  se-disjoint-multicluster (svc1)
destServices
    hold: se-default, se-location-prefix-match
    not:  se-same-host-no-match-namespace (SE1: 1, not host2)
SEs per cluster (files: CLUSTER=PATH)
    hold: se-kiali7589-two-clusters
    not:  se-kiali7589-one-cluster-defines, se-kiali7305-inaccessible-source
injected service nodes are no SE
    hold: se-multiple-edges-not-injected
    not:  se-multiple-edges
dead: no pods, no traffic (no 'status' too)
    hold: dead-node (testNoPodsNoTraffic)
    not:  dead-node (testPodsNoTraffic, testNoPodsWithTraffic)
removed: no workload, no traffic
    hold: dead-node (testNoDeploymentNoTraffic), dead-node-issue2783
    not:  dead-node (testNoDeploymentWithTraffic), dead-node-issue2982
a workload has its own cluster's pods only
    hold: dead-node-same-name-two-clusters (west b-v1)
    not:  dead-node-same-name-two-clusters (east a-v1 and b-v1, west a-v1)
inaccessible per cluster: kept and marked isInaccessible
    hold: dead-node-issue7179, dead-node-issue7179-both-clusters
    not:  dead-node-issue7179-both-clusters (readable cluster's node removed; the caller not inaccessible)
mesh: sidecar status annotation
    hold: mesh-check-workload-sidecar
    not:  mesh-check-workload-missing-sidecar
mesh: Ambient enrolled pods
    hold: mesh-check-app-ambient, mesh-check-ambient-label-no-pods (enrolled)
    not:  mesh-check-ambient-label-no-pods (workload-1)
app out of mesh if any workload is
    hold: mesh-check-app-missing-sidecar, mesh-check-app-one-workload-missing,
          mesh-check-versioned-app-no-version-label (reviews)
    not:  mesh-check-app-sidecar, mesh-check-app-no-pods, mesh-check-versioned-app-no-version-label (ratings)
mesh check per cluster
    hold: mesh-check-app-per-cluster, mesh-check-workload-per-cluster (east)
    not:  mesh-check-app-per-cluster, mesh-check-workload-per-cluster (west)
mesh check skips services, inaccessible nodes
    hold: mesh-check-workload-missing-sidecar
    not:  mesh-check-service, mesh-check-inaccessible-workload
idle nodes without --include-idle-edges
    hold: idle-node-no-traffic, idle-node-one-node-traffic, idle-node-version-with-no-traffic
    not:  idle-node-one-node-traffic (customer-v1; no service nodes)
idle nodes with --include-idle-edges
    hold: idle-node-with-idle-edges (preference-v1's zero edge)
    not:  idle-node-with-idle-edges (recommendation-v2 not idle)
health config annotation (the node's cluster's object)
    hold: health-service-config, health-workload-config, health-config-per-cluster (east)
    not:  health-service-no-config, health-workload-no-config, health-config-per-cluster (west)
health request data per node
    hold: health-data-svc-to-workload, health-data-codes
    not:  health-data-codes (directions without edges are empty)
WorkloadEntries on the workload they back
    hold: workload-entry, workload-entry-multiple-for-same-workload
    not:  workload-entry-none, workload-entry-app-label-not-matching, workload-entry-per-cluster
aggregate nodes (app, versionedApp, workload)
    hold: aggregate-app-graph, aggregate-namespace-service-injection, aggregate-namespace-no-service-injection,
          aggregate-workload-graph
    not:  aggregate-not-classified, aggregate-skip-rates
--aggregate-value
    hold: aggregate-node-service-injection, aggregate-node-no-service-injection (Top)
    not:  aggregate-node-service-injection, aggregate-node-no-service-injection (All)
"""

from __future__ import annotations

import json
import re
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


def test_table_names_scenarios():
    """Every scenario the rule table above names exists, and each rule names one on each side."""
    names = {s.name for s in SCENARIOS}
    lines = [line.strip() for line in (__doc__ or "").splitlines()]
    sides = [line for line in lines if line.startswith(("hold:", "not:"))]
    assert len(sides) >= 50 and len(sides) % 2 == 0
    # a side is its line and any wrapped lines below it; parentheses name nodes, not scenarios
    text = re.sub(r"\([^)]*\)", "", "\n".join(lines[lines.index(sides[0]) :]))
    named = set(re.findall(r"(?<![\w.-])[a-z0-9]+(?:-[a-z0-9]+)+(?![\w.-])", text))
    named -= {"include-idle-edges", "aggregate-value"}  # flags in the rule titles
    assert len(named) > 40 and not named - names, sorted(named - names)


@pytest.mark.parametrize("sc", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_agrees_with_kiali(sc, prometheus, tmp_path, capsys):
    checks, failed = ks.compare(sc, graph_of(sc, prometheus, tmp_path, capsys))
    assert checks > 0
    where = f"{sc.data['kiali']['file']} {sc.data['kiali']['test']}"
    assert not failed, f"{where}: {len(failed)}/{checks} checks disagree:\n" + "\n".join(failed)
