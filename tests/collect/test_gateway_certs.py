"""`--gateway-certs`: live collection through the stub API server with the real `kubernetes` client.

Only the Secrets Gateways name are read with data, by name, in the gateway namespace; what is stored is
certificate facts; without the opt-in no Secret data is ever requested.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared helpers package

from helpers.k8s_stub import StubCluster, StubServer, write_kubeconfig  # noqa: E402
from helpers.tls import PEM_MARKERS, cert_pem, credential_secret, gateway, gateway_pod, key_pem, utc  # noqa: E402

from meshreport.cli import main  # noqa: E402
from meshreport.collect.config import ConfigSource, collect_config_snapshot  # noqa: E402
from meshreport.collect.kubernetes import METADATA_ONLY, client_for, collect_cluster  # noqa: E402
from meshreport.errors import UsageError  # noqa: E402
from meshreport.snapshot.model import Window  # noqa: E402

CERT_PATH = "/api/v1/namespaces/istio-ingress/secrets/shop-cert"


def objects() -> list[dict]:
    expired = cert_pem(utc(2020), utc(2021))
    return [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in ("istio-ingress", "shop")] + [
        gateway_pod("istio-ingress"),
        gateway("shop", "shop", "shop-cert"),
        gateway("gone", "shop", "missing-cert"),  # 404: left to IST0101
        credential_secret("shop-cert", "istio-ingress", {"tls.crt": expired, "tls.key": key_pem()}),
        credential_secret("unrelated", "istio-ingress", {"tls.crt": expired, "tls.key": key_pem()}),
        credential_secret("db", "shop", {"password": b"hunter2"}, secret_type="Opaque"),
    ]


def collect(cluster: StubCluster, **kw):
    with StubServer(cluster) as srv:
        api = client_for(srv.url, "t")
        try:
            return collect_cluster(api, "Kubernetes", None, **kw)
        finally:
            api.close()


def secrets(result) -> dict[tuple, dict]:
    return {(o.namespace, o.name): o.body for o in result.objects if o.kind == "Secret"}


def assert_clean(text: str) -> None:
    for marker in PEM_MARKERS:
        assert marker not in text, marker
    assert "hunter2" not in text and "aHVudGVyMg" not in text


def test_opt_in_reads_only_referenced_secrets_by_name_and_keeps_facts():
    cluster = StubCluster(objects=objects())
    r = collect(cluster, gateway_certs=True)
    got = secrets(r)
    assert set(got) == {("istio-ingress", "shop-cert"), ("istio-ingress", "unrelated"), ("shop", "db")}
    facts = got[("istio-ingress", "shop-cert")]["certificate"]
    assert facts["notAfter"] == "2021-01-01T00:00:00Z" and facts["keyMatches"] is True
    assert "certificate" not in got[("istio-ingress", "unrelated")]  # names only
    assert "certificate" not in got[("shop", "db")]
    assert [g.what for g in r.gaps if "secret" in g.what] == []  # the 404 for missing-cert is no gap
    by_name = [q.path for q in cluster.requests if "/secrets/" in q.path]
    assert sorted(by_name) == [
        "/api/v1/namespaces/istio-ingress/secrets/missing-cert",  # the gateway namespace, where pods run
        CERT_PATH,
    ]
    assert all(q.accept == METADATA_ONLY for q in cluster.requests if q.path.endswith("/secrets"))
    assert_clean(json.dumps([o.body for o in r.objects]))


def test_without_opt_in_no_secret_data_is_requested():
    cluster = StubCluster(objects=objects())
    r = collect(cluster, secret_names=True)
    assert all("certificate" not in b for b in secrets(r).values())
    assert not [q for q in cluster.requests if "/secrets/" in q.path]
    cluster = StubCluster(objects=objects())
    r = collect(cluster)
    assert secrets(r) == {} and not [q for q in cluster.requests if "secrets" in q.path]


def test_forbidden_secrets_are_gaps_not_crashes():
    cluster = StubCluster(objects=objects(), forbidden_resources={"secrets"})
    r = collect(cluster, gateway_certs=True)
    assert secrets(r) == {}
    whats = sorted((g.what, g.namespace) for g in r.gaps)
    assert ("secrets/shop-cert", "istio-ingress") in whats and ("secrets/missing-cert", "istio-ingress") in whats
    assert all("403" in g.reason for g in r.gaps if "secret" in g.what)


def test_gateway_own_namespace_when_no_pod_matches():
    objs = [o for o in objects() if o["kind"] != "Pod"]
    objs.append(credential_secret("shop-cert", "shop", {"tls.crt": b"junk", "tls.key": b"junk"}))
    cluster = StubCluster(objects=objs)
    r = collect(cluster, gateway_certs=True)
    assert secrets(r)[("shop", "shop-cert")]["certificate"]["parsed"] is False
    assert "certificate" not in secrets(r)[("istio-ingress", "shop-cert")]


def _kubeconfig(tmp_path: Path, url: str) -> Path:
    return write_kubeconfig(tmp_path / "kubeconfig", {"c1": (url, "t")})


def test_validate_live_cluster_with_and_without_gateway_certs(tmp_path, capsys):
    with StubServer(StubCluster(objects=objects())) as srv:
        kc = str(_kubeconfig(tmp_path, srv.url))
        with pytest.raises(SystemExit) as e:
            main(["validate", "--kubeconfig", kc, "--context", "c1", "--gateway-certs", "--format", "json"])
        out, err = capsys.readouterr()
        assert e.value.code == 3, err
        codes = {(f["code"], f["name"]) for f in json.loads(out)}
        assert ("IST0161", "shop") in codes and ("IST0101", "gone") in codes
        assert_clean(out + err)
        with pytest.raises(SystemExit) as e:
            main(["validate", "--kubeconfig", kc, "--context", "c1", "--secret-names", "--format", "json"])
        out, _ = capsys.readouterr()
        codes = {f["code"] for f in json.loads(out)}
        assert "IST0161" not in codes and "IST0101" in codes


def test_snapshot_config_source_plumbing(tmp_path):
    with StubServer(StubCluster(objects=objects())) as srv:
        kc = str(_kubeconfig(tmp_path, srv.url))
        window = Window(start=utc(2024).timestamp() - 600, end=utc(2024).timestamp())
        snap = collect_config_snapshot(ConfigSource(kubeconfig=kc, contexts=("c1",), gateway_certs=True), None, window)
        plain = collect_config_snapshot(ConfigSource(kubeconfig=kc, contexts=("c1",)), None, window)
    assert snap is not None and plain is not None
    facts = [o.body.get("certificate") for o in snap.objects if o.kind == "Secret" and o.name == "shop-cert"]
    assert facts and facts[0]["notAfter"] == "2021-01-01T00:00:00Z"
    assert not [o for o in plain.objects if o.kind == "Secret"]
    with pytest.raises(UsageError, match="--gateway-certs"):
        ConfigSource(from_files=True, paths=("x.yaml",), gateway_certs=True).check()
