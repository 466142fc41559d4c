"""Config from YAML files: exact source lines, Helm output, Lists, stdin, least data, clear errors."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from meshreport.cli import main
from meshreport.collect.least_data import has_istio_init, has_sidecar
from meshreport.collect.manifests import config_snapshot_from_files, load_paths, parse_text, split_input
from meshreport.errors import EXIT_INPUT, InputError
from meshreport.snapshot import store

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "k8s" / "manifests"
# Istio's own samples, copied into the repository (tests/fixtures/istio-samples/README.md).
SAMPLES = next(p for p in Path(__file__).resolve().parents if p.name == "tests") / "fixtures" / "istio-samples"


def by_ref(objects):
    return {o.ref(): o for o in objects}


def test_helm_output_keeps_exact_lines_and_skips_empty_documents():
    objs = load_paths([str(FIX / "helm-output.yaml")])
    refs = [o.ref() for o in objs]
    assert refs == [
        "ServiceAccount default/shop",
        "Secret shop/shop-tls",
        "Deployment shop/shop",
        "VirtualService default/shop",
    ]
    lines = FIX.joinpath("helm-output.yaml").read_text().splitlines()
    for o in objs:
        assert o.source.file == str(FIX / "helm-output.yaml")
        # the line the object starts on is its first key, right after the `# Source:` comment
        assert lines[o.source.line - 1].startswith("apiVersion:")
        assert lines[o.source.line - 2].startswith("# Source:")
    assert [o.source.line for o in objs] == [3, 11, 24, 65]


def test_least_data_for_secrets_env_and_noise():
    objs = by_ref(load_paths([str(FIX / "helm-output.yaml")]))
    secret = objs["Secret shop/shop-tls"]
    assert set(secret.body) == {"apiVersion", "kind", "metadata", "type", "certificate"}
    # data became facts (tests/collect/test_certs.py): here tls.crt holds no PEM at all
    assert secret.body["certificate"] == {
        "keys": "tls.crt/tls.key",
        "parsed": False,
        "certificates": 0,
        "keyParsed": False,
        "keyMatches": None,
    }
    dep = objs["Deployment shop/shop"]
    meta = dep.metadata
    assert "managedFields" not in meta
    assert meta["annotations"] == {"team": "payments"}
    assert meta["creationTimestamp"] == "2024-05-01T10:00:00Z"  # kept as the string the API server uses
    env = dep.spec["template"]["spec"]["containers"][0]["env"]
    assert env == [{"name": "DB_PASSWORD"}, {"name": "API_KEY"}]
    text = json.dumps([o.body for o in objs.values()])
    for leaked in ("hunter2", "c2VjcmV0", "last-applied", "secretKeyRef"):
        assert leaked not in text


def test_list_items_lines_scopes_and_pod_reduction():
    objs = load_paths([str(FIX / "list.yaml")])
    assert [(o.ref(), o.source.line) for o in objs] == [
        ("Namespace shop", 4),
        ("GatewayClass istio", 10),
        ("Pod shop/shop-7d9f-abcde", 17),
    ]
    ns, gc, pod = objs
    assert ns.namespace is None and gc.namespace is None  # cluster-scoped: no default namespace
    assert ns.labels == {"istio-injection": "enabled"}
    assert pod.metadata["ownerReferences"][0]["name"] == "shop-7d9f"
    assert pod.spec["serviceAccountName"] == "shop"
    assert [c["name"] for c in pod.spec["containers"]] == ["shop", "istio-proxy"]
    assert pod.spec["containers"][0] == {
        "name": "shop",
        "image": "example/shop:1.0",
        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
    }
    assert set(pod.spec) == {"serviceAccountName", "nodeName", "containers", "initContainers"}
    assert pod.body["status"] == {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True"}],
        "containerStatuses": [
            {"name": "shop", "ready": True, "restartCount": 0},
            {"name": "istio-proxy", "ready": True, "restartCount": 1},
        ],
    }
    assert has_sidecar(pod.body) and has_istio_init(pod.body)
    assert "hunter2" not in json.dumps(pod.body) and "shop-token" not in json.dumps(pod.body)


def test_folder_is_recursive_sorted_and_skips_hidden_and_other_files():
    objs = load_paths([str(FIX)])
    files = [Path(o.source.file).relative_to(FIX).as_posix() for o in objs]
    assert files == sorted(files)
    assert set(files) == {"helm-output.yaml", "list.yaml", "nested/dr.json", "nested/deeper/mesh.yml"}
    refs = by_ref(objs)
    assert refs["Widget default/gizmo"].spec == {"size": 3}  # unknown kind kept
    assert refs["Widget default/gizmo"].source.line == 2
    assert refs["PeerAuthentication istio-system/default"].source.line == 9
    assert refs["DestinationRule shop/shop"].spec["trafficPolicy"]["tls"]["mode"] == "ISTIO_MUTUAL"


def test_stdin_and_default_namespace(monkeypatch):
    text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n---\n\n\n"
    text += "apiVersion: v1\nkind: Service\nmetadata:\n  name: b\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    objs = load_paths(["-"], default_namespace="ci")
    assert [(o.ref(), o.source.file, o.source.line) for o in objs] == [
        ("Service ci/a", "<stdin>", 1),
        ("Service ci/b", "<stdin>", 8),
    ]
    assert objs[0].metadata["namespace"] == "ci"


def test_istio_samples_load_with_their_real_lines():
    objs = load_paths([str(SAMPLES)])
    kinds = {o.kind for o in objs}
    assert {"VirtualService", "DestinationRule", "Gateway", "ServiceEntry", "Service", "Deployment"} <= kinds
    for o in objs:
        line = Path(o.source.file).read_text().splitlines()[o.source.line - 1]
        first_key = line.strip().lstrip("- ").split(":")[0]
        assert first_key in o.body, (o.ref(), o.source, line)


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("apiVersion: v1\nkind: Service\nmetadata:\n  name: [a\n", ":5:", "invalid YAML"),
        ("apiVersion: v1\nkind: Service\nmetadata:\n\tname: a\n", ":4:", "invalid YAML"),
        ("# a list\n---\n- just\n- a list\n", ":3:", "not a Kubernetes object"),
        ("\n---\nkind: Pod\nmetadata:\n  name: p\n", ":3:", "apiVersion"),
        ("apiVersion: v1\nkind: Service\nmetadata: {}\n", ":1:", "metadata.name"),
    ],
)
def test_a_file_with_nothing_readable_is_one_line_with_file_and_line(tmp_path, text, where, what):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(InputError) as e:
        load_paths([str(f)])
    msg = e.value.message
    assert e.value.exit_code == EXIT_INPUT
    assert "\n" not in msg
    assert msg.startswith(f"{f}{where}"), msg
    assert what in msg


def test_missing_path_and_non_utf8_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_paths([str(tmp_path / "nope.yaml")])
    f = tmp_path / "latin1.yaml"
    f.write_bytes(b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n")
    with pytest.raises(InputError, match="not UTF-8"):
        load_paths([str(f)])


def test_hidden_folder_is_ignored_but_named_file_is_not():
    with pytest.raises(InputError, match=r"broken.yaml:\d+: invalid YAML"):
        load_paths([str(FIX / ".hidden" / "broken.yaml")])


def test_config_snapshot_round_trips_through_the_store(tmp_path):
    src = tmp_path / "in"
    shutil.copytree(FIX, src, ignore=shutil.ignore_patterns(".hidden"))
    snap = config_snapshot_from_files([str(src)], now=1_700_000_000.0)
    assert snap.source.kind == "files"
    assert snap.window.end == 1_700_000_000.0 and snap.window.duration == 600
    assert [g.phase for g in snap.gaps] == ["metrics"]
    assert snap.namespaces == ["default", "istio-system", "shop"]
    assert snap.collector["config"]["objects"] == len(snap.objects) == 10
    path = tmp_path / "config.mrsnap"
    store.write(snap, path)
    back = store.read(path)
    assert back.objects == snap.objects
    assert back.gaps == snap.gaps
    # and the objects are the ones in the files, read again independently
    assert [o.ref() for o in back.objects] == [o.ref() for o in load_paths([str(src)])]


def test_parse_text_json_document():
    objs = parse_text('{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x", "namespace": "n"}}', "x.json")
    assert [(o.ref(), o.source) for o in objs] == [("Service n/x", objs[0].source)]
    assert objs[0].source.line == 1 and objs[0].source.file == "x.json"


def run_cli(argv: list[str], capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as ei:
        main(argv)
    return ei.value.code, capsys.readouterr().err


def test_cli_from_files_writes_a_config_only_snapshot(tmp_path, capsys, monkeypatch):
    out = tmp_path / "c.mrsnap"
    code, err = run_cli(
        ["snapshot", "--from-files", str(FIX / "list.yaml"), str(FIX / "nested"), "-o", str(out), "--max-gaps", "0"],
        capsys,
    )
    assert code == 0, err  # the metrics gap is a choice, not missing data: --max-gaps 0 passes
    snap = store.read(out)
    assert snap.source.kind == "files" and snap.queries == []
    assert [g.what for g in snap.gaps] == ["metrics"]
    assert {o.ref() for o in snap.objects} == {
        o.ref() for o in load_paths([str(FIX / "list.yaml"), str(FIX / "nested")])
    }
    monkeypatch.setattr("sys.stdin", io.StringIO((FIX / "helm-output.yaml").read_text()))
    code, err = run_cli(["snapshot", "--from-files", "-", "-o", str(out), "-q"], capsys)
    assert code == 0, err
    assert [o.source.file for o in store.read(out).objects] == ["<stdin>"] * 4


def test_cli_bad_yaml_is_exit_5_and_misuse_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: [x\n")
    out = tmp_path / "c.mrsnap"
    code, err = run_cli(["snapshot", "--from-files", str(bad), "-o", str(out)], capsys)
    assert code == EXIT_INPUT
    assert err.strip().count("\n") == 0 and f"{bad}:5: invalid YAML" in err and "Traceback" not in err
    assert not out.exists()
    code, err = run_cli(["snapshot", str(bad), "-o", str(out)], capsys)
    assert code == 2 and "--from-files" in err
    code, err = run_cli(["snapshot", "--from-files", "-o", str(out)], capsys)
    assert code == 2 and "PATH" in err
    code, err = run_cli(["snapshot", "--from-files", str(bad), "--context", "x", "-o", str(out)], capsys)
    assert code == 2


def test_crds_from_files_keep_gateway_api_ones_without_schema_and_drop_others():
    text = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: virtualservices.networking.istio.io
spec:
  group: networking.istio.io
  names: {kind: VirtualService, plural: virtualservices}
  scope: Namespaced
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]
---
apiVersion: v1
kind: List
items:
- apiVersion: apiextensions.k8s.io/v1
  kind: CustomResourceDefinition
  metadata:
    name: tlsroutes.gateway.networking.k8s.io
    namespace: ignored
    annotations: {gateway.networking.k8s.io/bundle-version: v1.4.1, gateway.networking.k8s.io/channel: experimental}
  spec:
    group: gateway.networking.k8s.io
    names: {kind: TLSRoute, plural: tlsroutes, categories: [gateway-api]}
    scope: Namespaced
    versions:
    - {name: v1alpha3, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}
    - {name: v1alpha2, served: true, storage: false, deprecated: true, schema: {openAPIV3Schema: {type: object}}}
"""
    objs = parse_text(text, "crds.yaml")
    assert [o.ref() for o in objs] == ["CustomResourceDefinition tlsroutes.gateway.networking.k8s.io"]
    crd = objs[0]
    assert crd.namespace is None  # cluster-scoped, even when the file says otherwise
    assert crd.source.line == 15  # the list item, counting the leading blank line
    assert crd.annotations["gateway.networking.k8s.io/bundle-version"] == "v1.4.1"
    assert crd.spec["names"] == {"kind": "TLSRoute", "plural": "tlsroutes"}
    assert crd.spec["versions"] == [
        {"name": "v1alpha3", "served": True, "storage": True},
        {"name": "v1alpha2", "served": True, "storage": False, "deprecated": True},
    ]
    assert "openAPIV3Schema" not in json.dumps(crd.body)


def test_pod_reduction_keeps_node_name_host_network_and_run_as_user_only():
    text = """
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: shop}
spec:
  nodeName: node-1
  hostNetwork: true
  securityContext: {runAsUser: 1337, runAsGroup: 7, seLinuxOptions: {level: "s0:c1"}}
  containers:
  - name: app
    image: app
    securityContext: {runAsUser: 1000, privileged: true}
  - name: other
    image: other
"""
    (pod,) = parse_text(text, "pod.yaml")
    assert pod.spec["hostNetwork"] is True and pod.spec["nodeName"] == "node-1"
    assert pod.spec["securityContext"] == {"runAsUser": 1337}
    assert pod.spec["containers"][0]["securityContext"] == {"runAsUser": 1000}
    assert "securityContext" not in pod.spec["containers"][1]
    (plain,) = parse_text(text.replace("hostNetwork: true", "hostNetwork: false"), "pod.yaml")
    assert "hostNetwork" not in plain.spec


def test_env_keeps_only_whether_blocked_cidrs_is_set():
    text = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: istiod, namespace: istio-system, labels: {app: istiod}}
spec:
  template:
    spec:
      containers:
      - name: discovery
        env:
        - {name: BLOCKED_CIDRS_IN_JWKS_URIS, value: "10.0.0.0/8"}
        - {name: PILOT_TOKEN, value: hunter2}
        - {name: EMPTY, value: ""}
"""
    (dep,) = parse_text(text, "istiod.yaml")
    env = dep.spec["template"]["spec"]["containers"][0]["env"]
    assert env == [{"name": "BLOCKED_CIDRS_IN_JWKS_URIS", "valueSet": True}, {"name": "PILOT_TOKEN"}, {"name": "EMPTY"}]
    assert "10.0.0.0" not in json.dumps(dep.body) and "hunter2" not in json.dumps(dep.body)


def test_remote_secret_keeps_its_key_names_never_the_kubeconfigs():
    text = """
apiVersion: v1
kind: Secret
metadata: {name: istio-remote-secret-west, namespace: istio-system, labels: {istio/multiCluster: "true"}}
data: {west: a3ViZWNvbmZpZw==}
stringData: {north: "token: hunter2"}
---
apiVersion: v1
kind: Secret
metadata: {name: other, namespace: istio-system}
data: {password: aHVudGVyMg==}
"""
    remote, other = parse_text(text, "s.yaml")
    assert remote.body["dataKeys"] == ["north", "west"] and "dataKeys" not in other.body
    dumped = json.dumps([remote.body, other.body])
    assert "hunter2" not in dumped and "a3ViZWNvbmZpZw" not in dumped and "aHVudGVyMg" not in dumped


def test_split_input_reads_cluster_equals_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert split_input("east=k8s/east") == ("east", "k8s/east")
    assert split_input("arn:aws:eks:eu-west-1:1:cluster/x=k8s") == (None, "arn:aws:eks:eu-west-1:1:cluster/x=k8s")
    assert split_input("./a=b.yaml") == (None, "./a=b.yaml")  # `/` is never in a cluster id
    assert split_input("east=") == (None, "east=")
    assert split_input("-") == (None, "-") and split_input("east=-") == ("east", "-")
    (tmp_path / "east=x.yaml").write_text("")
    assert split_input("east=x.yaml") == (None, "east=x.yaml")  # an existing file as written stays a path
