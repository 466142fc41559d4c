"""IST0161 InvalidGatewayCredential on real, generated certificates, read the way users give them
(YAML files through the manifest loader, which reduces Secret data to facts), and proof that neither the
snapshot nor any output holds a byte of a certificate or key."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/ holds the shared helpers package

from helpers.tls import (  # noqa: E402
    PEM_MARKERS,
    as_yaml,
    cert_pem,
    credential_secret,
    gateway,
    gateway_pod,
    key_pem,
    utc,
    valid_pair,
)

from meshreport.cli import main  # noqa: E402
from meshreport.collect.manifests import config_snapshot_from_files, parse_text  # noqa: E402
from meshreport.snapshot.store import read, write  # noqa: E402
from meshreport.validation import check, validate  # noqa: E402

NOW = utc(2024, 6, 1).timestamp()


def findings(data: dict[str, bytes], *, now: float = NOW, secret_ns: str = "istio-ingress", code: str = "IST0161"):
    text = as_yaml(
        gateway_pod("istio-ingress"),
        credential_secret("shop-cert", secret_ns, data),
        gateway("shop", "shop", "shop-cert"),
    )
    return [f for f in validate(parse_text(text, "gw.yaml"), now=now) if f.code == code]


def test_valid_certificate_is_silent():
    cert, key = valid_pair()
    assert findings({"tls.crt": cert, "tls.key": key}) == []
    assert findings({"cert": cert, "key": key}) == []


def test_expired_certificate_fires_with_istioctl_message():
    (f,) = findings({"tls.crt": cert_pem(utc(2020), utc(2021)), "tls.key": key_pem()})
    assert f.severity == "error" and (f.kind, f.namespace, f.name) == ("Gateway", "shop", "shop")
    assert f.message == (
        "The credential referenced by the Gateway shop in namespace istio-ingress is invalid, which can cause the "
        "traffic not to work as expected (Secret istio-ingress/shop-cert: the certificate expired at "
        "2021-01-01T00:00:00Z)."
    )
    assert f.path == "spec.servers[0].tls.credentialName"
    assert f.source is not None and f.source.file == "gw.yaml"


def test_not_yet_valid_certificate_fires():
    (f,) = findings({"tls.crt": cert_pem(utc(2030), utc(2031)), "tls.key": key_pem()})
    assert "not valid before 2030-01-01T00:00:00Z" in f.message


def test_expiry_is_judged_at_the_given_time():
    pair = {"tls.crt": cert_pem(utc(2020), utc(2021)), "tls.key": key_pem()}
    assert findings(pair, now=utc(2020, 6, 1).timestamp()) == []
    assert len(findings(pair, now=utc(2021, 1, 2).timestamp())) == 1


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"tls.crt": b"garbage", "tls.key": b"garbage"}, "the certificate in tls.crt cannot be parsed"),
        ({"cert": b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "key": b"k"}, "in cert cannot"),
        ({"tls.crt": b"", "tls.key": b""}, 'found keys "tls.crt" and "tls.key", but they were empty'),
        ({"password": b"hunter2"}, "no cert/key or tls.crt/tls.key pair; found: password"),
    ],
)
def test_unparsable_or_missing_certificate_fires(data, reason):
    (f,) = findings(data)
    assert reason in f.message and "hunter2" not in f.message


def test_key_mismatch_and_bad_key_are_mr0001_not_ist0161():
    """istioctl reads only the certificate: a key Envoy rejects is meshreport's own MR0001."""
    cert = cert_pem(utc(2020), utc(2120), seed=1)
    mismatch = {"tls.crt": cert, "tls.key": key_pem(2)}
    assert findings(mismatch) == []
    (f,) = findings(mismatch, code="MR0001")
    assert "the private key does not match the certificate" in f.message
    bad_key = {"tls.crt": cert, "tls.key": b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}
    assert findings(bad_key) == []
    (f,) = findings(bad_key, code="MR0001")
    assert "the private key in tls.key cannot be parsed" in f.message
    cert2, key2 = valid_pair()
    assert findings({"tls.crt": cert2, "tls.key": key2}, code="MR0001") == []


def test_secret_outside_the_gateway_namespace_is_ist0101_not_ist0161():
    data = {"tls.crt": b"garbage", "tls.key": b"garbage"}
    assert findings(data, secret_ns="shop") == []
    assert [f.message for f in findings(data, secret_ns="shop", code="IST0101")] == [
        'Referenced credentialName not found: "shop-cert"'
    ]


def test_names_only_secret_is_silent():
    text = as_yaml(
        gateway_pod(),
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "shop-cert", "namespace": "istio-ingress"}},
        gateway("shop", "shop", "shop-cert"),
    )
    assert [f for f in validate(parse_text(text, "gw.yaml"), now=NOW) if f.code in ("IST0161", "IST0101")] == []


def _files(tmp_path: Path, expired: bool) -> list[str]:
    cert = cert_pem(utc(2020), utc(2021)) if expired else valid_pair()[0]
    gw = tmp_path / "gateway.yaml"
    gw.write_text(as_yaml(gateway_pod(), gateway("shop", "shop", "shop-cert")))
    secret = tmp_path / "secret.yaml"
    secret.write_text(as_yaml(credential_secret("shop-cert", "istio-ingress", {"tls.crt": cert, "tls.key": key_pem()})))
    return [str(gw), str(secret)]


def _assert_clean(text: str) -> None:
    for marker in PEM_MARKERS:
        assert marker not in text, marker
    assert key_pem().decode().splitlines()[1][:40] not in text


def test_validate_files_in_ci_and_outputs_hold_no_secret_bytes(tmp_path, capsys):
    files = _files(tmp_path, expired=True)
    for fmt in ("json", "sarif", "text"):
        with pytest.raises(SystemExit) as e:
            main(["validate", "-f", files[0], "-f", files[1], "--format", fmt])
        out, err = capsys.readouterr()
        assert e.value.code == 3, err
        assert "IST0161" in out
        _assert_clean(out + err)
    with pytest.raises(SystemExit) as e:
        main(["validate", "-f", _files(tmp_path, expired=False)[0], "-f", str(tmp_path / "secret.yaml")])
    assert e.value.code == 0, capsys.readouterr()


def test_snapshot_holds_facts_only_and_is_judged_at_its_window_end(tmp_path, capsys):
    files = _files(tmp_path, expired=True)
    in_2020 = utc(2020, 6, 1).timestamp()
    snap = config_snapshot_from_files(files, now=in_2020)
    path = tmp_path / "config.mrsnap"
    write(snap, path)
    raw = gzip.decompress(path.read_bytes()).decode()
    _assert_clean(raw)
    back = read(path)
    (secret,) = [o for o in back.objects if o.kind == "Secret"]
    assert secret.body["certificate"]["notAfter"] == "2021-01-01T00:00:00Z"
    # the snapshot's window ends in 2020, when the certificate was still valid: no finding, today or later
    assert [f for f in check(back.objects, now=back.window.end).active if f.code == "IST0161"] == []
    with pytest.raises(SystemExit) as e:
        main(["validate", str(path), "--format", "json"])
    out, _ = capsys.readouterr()
    assert e.value.code == 0 and not [f for f in json.loads(out) if f["code"] == "IST0161"]
    # and a snapshot taken after expiry reports it
    later = tmp_path / "later.mrsnap"
    write(config_snapshot_from_files(files, now=utc(2022).timestamp()), later)
    with pytest.raises(SystemExit) as e:
        main(["validate", str(later), "--format", "json"])
    out, _ = capsys.readouterr()
    assert e.value.code == 3 and "IST0161" in out
    _assert_clean(out)
