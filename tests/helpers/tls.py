"""Real certificates and keys for tests, generated on the fly (EC P-256: fast), never committed.

`credential_secret(...)` builds the Secret YAML a user would apply for a gateway; `PEM_MARKERS`
are byte strings that must never appear in a snapshot or an output once it was reduced.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PEM_MARKERS = ("BEGIN", "PRIVATE KEY", "CERTIFICATE-----", "LS0tLS1CRUdJTi")  # the last is base64 of "-----BEGIN"


@functools.cache
def _key(seed: int) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(seed: int = 0) -> bytes:
    """An unencrypted PKCS#8 private key; the same `seed` gives the same key within a test run."""
    return _key(seed).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def cert_pem(
    not_before: dt.datetime,
    not_after: dt.datetime,
    *,
    seed: int = 0,
    cn: str = "shop.example.com",
) -> bytes:
    """A self-signed certificate for key `seed` valid from `not_before` to `not_after` (UTC)."""
    key = _key(seed)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1000 + seed)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def utc(year: int, month: int = 1, day: int = 1) -> dt.datetime:
    return dt.datetime(year, month, day, tzinfo=dt.timezone.utc)


def valid_pair(seed: int = 0) -> tuple[bytes, bytes]:
    """(certificate, key) valid from 2020 to 2120."""
    return cert_pem(utc(2020), utc(2120), seed=seed), key_pem(seed)


def credential_secret(
    name: str,
    namespace: str,
    data: dict[str, bytes],
    *,
    secret_type: str = "kubernetes.io/tls",
) -> dict:
    """A Secret as stored by the API server (`data` base64-encoded)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "type": secret_type,
        "data": {k: base64.b64encode(v).decode() for k, v in data.items()},
    }


def gateway(name: str, namespace: str, credential: str, selector: dict[str, str] | None = None) -> dict:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "Gateway",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "selector": selector or {"istio": "ingressgateway"},
            "servers": [
                {
                    "port": {"number": 443, "name": "https", "protocol": "HTTPS"},
                    "hosts": ["shop.example.com"],
                    "tls": {"mode": "SIMPLE", "credentialName": credential},
                }
            ],
        },
    }


def gateway_pod(namespace: str = "istio-ingress", labels: dict[str, str] | None = None) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "ingress-1", "namespace": namespace, "labels": labels or {"istio": "ingressgateway"}},
        "spec": {"containers": [{"name": "istio-proxy", "image": "istio/proxyv2:1.22.3"}]},
    }


def as_yaml(*docs: dict) -> str:
    return yaml.safe_dump_all(list(docs), sort_keys=False)
