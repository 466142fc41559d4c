"""Facts about the TLS certificate in a Secret, derived once so the Secret's data never travels.

A gateway credential Secret holds a private key. Snapshots and reports travel, so `reduce` keeps
only what IST0161 needs to judge the credential: which key pair Istio would use, whether the
certificate parses, its validity period and subject, and whether the private key parses and
belongs to the certificate. No PEM, no DER, no key material, no fingerprint is kept.

Istio's rules (pilot/pkg/credentials/kube ExtractCertInfo, xds ValidateCertificate): the generic
pair `cert`/`key` wins when both are non-empty, else `tls.crt`/`tls.key`; the Secret type does not
matter. The certificate is the first PEM block of the cert entry. `cryptography` is imported only
here and only when a Secret with data is reduced.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from typing import Any

from meshreport.errors import InputError

# (certificate key, private key key) in Istio's order of preference
KEY_PAIRS = (("cert", "key"), ("tls.crt", "tls.key"))
_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.S)
_MAX_SUBJECT = 200


def secret_data(body: dict[str, Any]) -> dict[str, bytes] | None:
    """The Secret's entries as bytes (`data` is base64, `stringData` plain and wins, as on the server).

    None when the Secret carries no data at all (a metadata-only list item). Entries that are not
    valid base64 become empty, which Istio treats like missing values.
    """
    data, string_data = body.get("data"), body.get("stringData")
    if not isinstance(data, dict) and not isinstance(string_data, dict):
        return None
    out: dict[str, bytes] = {}
    for k, v in (data or {}).items() if isinstance(data, dict) else ():
        try:
            out[str(k)] = base64.b64decode(v or "", validate=True) if isinstance(v, str) else b""
        except (binascii.Error, ValueError):
            out[str(k)] = b""
    for k, v in (string_data or {}).items() if isinstance(string_data, dict) else ():
        out[str(k)] = v.encode() if isinstance(v, str) else b""
    return out


def certificate_facts(data: dict[str, bytes]) -> dict[str, Any]:
    """What can be said about the key pair in a Secret's data, without any of its bytes.

    Keys: `keys` ("cert/key", "tls.crt/tls.key" or None), `error` (why no pair was found; key NAMES
    only), `parsed`, `notBefore`, `notAfter` (RFC 3339 UTC), `subject`, `certificates` (PEM blocks in
    the cert entry), `keyParsed`, `keyMatches` (None when either side did not parse).
    """
    pair = next(((c, k) for c, k in KEY_PAIRS if data.get(c) and data.get(k)), None)
    if pair is None:
        return {"keys": None, "error": _missing_pair(data)}
    cert_bytes, key_bytes = data[pair[0]], data[pair[1]]
    facts: dict[str, Any] = {"keys": "/".join(pair), "parsed": False}
    blocks = _PEM.findall(cert_bytes)
    facts["certificates"] = len(blocks)
    x509, serialization = _crypto()
    cert = None
    if blocks:
        try:
            cert = x509.load_der_x509_certificate(base64.b64decode(b"".join(blocks[0][1].split())))
        except (ValueError, binascii.Error):
            cert = None
    if cert is not None:
        facts["parsed"] = True
        facts["notBefore"] = _iso(cert.not_valid_before_utc)
        facts["notAfter"] = _iso(cert.not_valid_after_utc)
        facts["subject"] = cert.subject.rfc4514_string()[:_MAX_SUBJECT]
    key = None
    try:
        key = serialization.load_pem_private_key(key_bytes, password=None)
    except Exception:  # ValueError; TypeError when password-protected (Envoy cannot use that); UnsupportedAlgorithm
        key = None
    facts["keyParsed"] = key is not None
    facts["keyMatches"] = None
    if cert is not None and key is not None:
        facts["keyMatches"] = _spki(key.public_key(), serialization) == _spki(cert.public_key(), serialization)
    return facts


def _missing_pair(data: dict[str, bytes]) -> str:
    """Istio's explanation, naming keys only (never values)."""
    for c, k in KEY_PAIRS:
        if c in data and k in data:
            return f'found keys "{c}" and "{k}", but they were empty'
    names = sorted(data)
    shown = ", ".join(names[:3]) + (f", and {len(names) - 3} more" if len(names) > 3 else "")
    return f"no cert/key or tls.crt/tls.key pair; found: {shown or 'no keys'}"


def _spki(public_key: Any, serialization: Any) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _crypto() -> tuple[Any, Any]:
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
    except ImportError:
        raise InputError(
            "checking gateway certificates needs the 'cryptography' package (pip install cryptography)"
        ) from None
    return x509, serialization
