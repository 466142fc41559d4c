"""Certificate facts from Secret data (certs.py, reduce.py): Istio's key choice, parse, validity, key match,
and never a byte of the certificate or the key in what is kept."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared helpers package

from helpers.tls import PEM_MARKERS, cert_pem, credential_secret, key_pem, utc, valid_pair  # noqa: E402

from meshreport.collect.certs import certificate_facts, secret_data  # noqa: E402
from meshreport.collect.least_data import reduce  # noqa: E402
from meshreport.validation.rules.gateway import fact_time  # noqa: E402


def reduced(data: dict[str, bytes], **kw) -> dict:
    return reduce(credential_secret("shop-cert", "istio-ingress", data, **kw))


def assert_no_secret_bytes(body: dict, *secrets: bytes) -> None:
    text = json.dumps(body)
    for marker in PEM_MARKERS:
        assert marker not in text
    for s in secrets:
        assert base64.b64encode(s).decode() not in text
        # any 40-character stretch of the base64 body of a PEM would give it away
        inner = b"".join(s.split(b"\n")[1:-2]).decode()
        assert inner and inner[:40] not in text


def test_valid_pair_gives_facts_and_no_data():
    cert, key = valid_pair()
    body = reduced({"tls.crt": cert, "tls.key": key, "ca.crt": cert})
    assert "data" not in body and "stringData" not in body
    assert body["certificate"] == {
        "keys": "tls.crt/tls.key",
        "parsed": True,
        "certificates": 1,
        "notBefore": "2020-01-01T00:00:00Z",
        "notAfter": "2120-01-01T00:00:00Z",
        "subject": "CN=shop.example.com",
        "keyParsed": True,
        "keyMatches": True,
    }
    assert_no_secret_bytes(body, cert, key)


def test_key_of_another_certificate_does_not_match():
    cert = cert_pem(utc(2020), utc(2120), seed=1)
    facts = certificate_facts({"tls.crt": cert, "tls.key": key_pem(2)})
    assert facts["parsed"] and facts["keyParsed"] and facts["keyMatches"] is False


def test_garbage_certificate_and_key():
    facts = certificate_facts({"tls.crt": b"not a certificate", "tls.key": b"not a key"})
    assert facts == {
        "keys": "tls.crt/tls.key",
        "parsed": False,
        "certificates": 0,
        "keyParsed": False,
        "keyMatches": None,
    }
    # a PEM block whose body is not a certificate
    bad = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    assert certificate_facts({"tls.crt": bad, "tls.key": key_pem()})["parsed"] is False


def test_only_the_first_pem_block_is_the_certificate_as_in_istio():
    cert, key = valid_pair()
    other = cert_pem(utc(2001), utc(2002), seed=3)
    facts = certificate_facts({"tls.crt": cert + other, "tls.key": key})
    assert facts["certificates"] == 2 and facts["notAfter"] == "2120-01-01T00:00:00Z" and facts["keyMatches"]
    # a key block first: Istio parses the first block as a certificate and fails
    assert certificate_facts({"tls.crt": key + cert, "tls.key": key})["parsed"] is False


def test_generic_cert_key_pair_wins_and_type_does_not_matter():
    cert, key = valid_pair()
    facts = reduced({"cert": cert, "key": key, "tls.crt": b"junk", "tls.key": b"junk"}, secret_type="Opaque")
    assert facts["certificate"]["keys"] == "cert/key" and facts["certificate"]["keyMatches"] is True
    # an empty generic pair is skipped for a non-empty tls pair
    facts = certificate_facts({"cert": b"", "key": b"", "tls.crt": cert, "tls.key": key})
    assert facts["keys"] == "tls.crt/tls.key"


def test_missing_or_empty_pair_names_keys_only():
    assert certificate_facts({"tls.crt": b"", "tls.key": b""}) == {
        "keys": None,
        "error": 'found keys "tls.crt" and "tls.key", but they were empty',
    }
    facts = certificate_facts({"a": b"hunter2", "b": b"x", "c": b"y", "d": b"z"})
    assert facts == {"keys": None, "error": "no cert/key or tls.crt/tls.key pair; found: a, b, c, and 1 more"}
    assert "hunter2" not in json.dumps(facts)


def test_string_data_is_read_and_wins_over_data():
    cert, key = valid_pair()
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "n"},
        "data": {"tls.crt": base64.b64encode(b"junk").decode(), "tls.key": "not base64!"},
        "stringData": {"tls.crt": cert.decode(), "tls.key": key.decode()},
    }
    assert secret_data(body)["tls.crt"] == cert
    out = reduce(body)
    assert out["certificate"]["keyMatches"] is True
    assert_no_secret_bytes(out, cert, key)


def test_password_protected_key_does_not_parse():
    from cryptography.hazmat.primitives import serialization
    from helpers.tls import _key

    enc = _key(0).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    facts = certificate_facts({"tls.crt": valid_pair()[0], "tls.key": enc})
    assert facts["parsed"] and facts["keyParsed"] is False and facts["keyMatches"] is None


def test_metadata_only_secret_has_no_facts():
    body = reduce({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "n"}})
    assert "certificate" not in body


def test_fact_time_reads_the_times_the_facts_hold():
    assert fact_time("2021-01-01T00:00:00Z") == utc(2021).timestamp()
    assert fact_time("yesterday") is None and fact_time(None) is None
