"""MeshNetworks rules: each rule has a bad and a good input."""

import pytest

from .cases import Case, assert_case, assert_every_rule_has_a_case, run


def mesh_cm(registry):
    return f"""
apiVersion: v1
kind: ConfigMap
metadata: {{name: istio, namespace: istio-system}}
data:
  mesh: |
    rootNamespace: istio-system
  meshNetworks: |
    networks:
      network1:
        endpoints:
        - fromRegistry: Kubernetes
        - fromCidr: 192.168.0.0/16
      network2:
        endpoints:
        - fromRegistry: {registry}
        gateways:
        - address: 10.0.0.1
          port: 15443
"""


REMOTE_SECRET = """
---
apiVersion: v1
kind: Secret
metadata: {name: istio-remote-secret-west, namespace: istio-system, labels: {istio/multiCluster: "true"}}
data: {west: a3ViZWNvbmZpZw==}
"""

CASES = [
    Case(
        "mesh_networks_unknown_registry",
        "IST0126",
        "ConfigMap istio-system/istio",
        mesh_cm("wset") + REMOTE_SECRET,
        mesh_cm("west") + REMOTE_SECRET,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rule(case):
    assert_case(case)


def test_every_rule_has_a_case():
    assert_every_rule_has_a_case("meshnetworks", CASES)


def test_registry_check_needs_secrets_with_data():
    def ist0126(text):
        return [f.path for f in run(text) if f.code == "IST0126"]

    # No Secrets in the input (a snapshot without --secret-names): cannot tell, stays silent.
    assert ist0126(mesh_cm("west")) == []
    # A names-only remote secret (what snapshots keep): its cluster IDs are unknown, stays silent.
    names_only = REMOTE_SECRET.replace("data: {west: a3ViZWNvbmZpZw==}\n", "")
    assert ist0126(mesh_cm("wset") + names_only) == []
    # A cluster of the input itself is a known registry; built-ins always are.
    east = (
        "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop, annotations: {test.meshreport/cluster: east}}\n"
    )
    assert ist0126(mesh_cm("east") + REMOTE_SECRET) == ["data.meshNetworks.networks.network2.endpoints[0].fromRegistry"]
    assert ist0126(mesh_cm("east") + REMOTE_SECRET + east) == []
    assert ist0126(mesh_cm("wset") + REMOTE_SECRET) == ["data.meshNetworks.networks.network2.endpoints[0].fromRegistry"]


def test_mesh_networks_file_is_checked_as_istioctl_reports_it(tmp_path, capsys):
    """A MeshNetworks file given with --mesh-config: findings on `MeshNetworks istio-system/meshnetworks`; a
    remote secret's data keys (kept as names only) are known clusters."""
    import json

    from meshreport.cli import main

    nets = tmp_path / "meshnetworks.yaml"
    nets.write_text("networks:\n  n1:\n    endpoints:\n    - fromRegistry: west\n    - fromRegistry: east\n")
    secret = tmp_path / "secret.yaml"
    secret.write_text(REMOTE_SECRET)
    with pytest.raises(SystemExit):
        main(["validate", "--format", "json", "--fail-on", "none", "-f", str(secret), "--mesh-config", str(nets)])
    found = [f for f in json.loads(capsys.readouterr().out) if f["code"] == "IST0126"]
    assert [(f["kind"], f["namespace"], f["name"]) for f in found] == [("MeshNetworks", "istio-system", "meshnetworks")]
    assert "'east'" in found[0]["message"]
