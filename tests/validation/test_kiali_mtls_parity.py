"""Kiali's own mTLS checker tests, replayed through `meshreport validate --format json --fail-on none -f FILE`.

Inputs: tests/fixtures/kiali (copied from Kiali, see its NOTICE). Expected outcomes are Kiali's assertions,
per file and auto-mTLS setting (auto mTLS off is given as `--mesh-config`, as the held-out comparison does).
Kiali's KIA0105 test also injects a `ratings` Service in `bookinfo`; it is added here the same way, in place of
the nameless Service some of its files carry (Kiali's test ignores it; meshreport refuses an object without a
name, with a one-line error).

Where Kiali and Istio disagree, meshreport follows Istio (docs/validation.md): ISTIO_ONLY lists those cases.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from meshreport.cli import main

KIALI = Path(__file__).resolve().parents[1] / "fixtures" / "kiali"
AUTO_OFF = KIALI / "mesh-auto-mtls-off.yaml"
RATINGS = """\
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: bookinfo, labels: {app: ratings}}
spec:
  selector: {app: ratings}
  ports: [{name: http, port: 9080, protocol: TCP}]
"""

# file stem -> (fires with auto mTLS on, fires with auto mTLS off); None where Kiali's test does not say.
KIA0105 = {
    "1": (False, True),
    "2": (False, True),
    "3": (False, True),
    "4": (False, False),
    "5": (False, False),
    "6": (False, True),
    "7": (True, True),
    "71": (False, False),
    "8": (True, True),
    "9": (True, True),
    "10": (True, True),
    "101": (False, False),
    "11": (False, True),
    "12": (False, True),
    "13": (False, False),
    "14": (False, False),
    "15": (True, True),
    "16": (True, True),
    "17": (True, True),
    "18": (False, False),
    "19": (None, True),
    "20": (True, None),
    "21": (False, False),
    "22": (True, True),
    "23": (False, True),
}
# (folder, file stem, code) -> fires (Kiali runs these checkers with auto mTLS on)
OTHERS = {
    ("destinationrules", "disabled_meshwide_checker_1", "KIA0208"): False,
    ("destinationrules", "disabled_meshwide_checker_2", "KIA0208"): True,
    ("destinationrules", "disabled_meshwide_checker_3", "KIA0208"): False,
    ("destinationrules", "disabled_meshwide_checker_4", "KIA0208"): False,
    ("peerauthentications", "disabled_meshwide_checker_1", "KIA0506"): False,
    ("peerauthentications", "disabled_meshwide_checker_2", "KIA0506"): True,
    ("peerauthentications", "disabled_meshwide_checker_3", "KIA0506"): False,
    ("peerauthentications", "disabled_namespacewide_checker_1", "KIA0505"): False,
    ("peerauthentications", "disabled_namespacewide_checker_2", "KIA0505"): True,
    ("peerauthentications", "disabled_namespacewide_checker_3", "KIA0505"): False,
    ("peerauthentications", "disabled_namespacewide_checker_4", "KIA0505"): True,
    ("peerauthentications", "disabled_namespacewide_checker_5", "KIA0505"): False,
    ("peerauthentications", "disabled_namespacewide_checker_6", "KIA0505"): False,
}


# Auto mTLS off, no PeerAuthentication, an ISTIO_MUTUAL DestinationRule (namespace-wide in 6, mesh-wide in 12):
# Kiali wants a PeerAuthentication; Istio's default PERMISSIVE accepts the mTLS the rule makes clients send.
ISTIO_ONLY = {("6", False), ("12", False)}


def validate_json(path: Path, auto_mtls: bool, capsys) -> list[dict]:
    argv = ["validate", "--format", "json", "--fail-on", "none", "-f", str(path)]
    if not auto_mtls:
        argv += ["--mesh-config", str(AUTO_OFF)]
    with pytest.raises(SystemExit) as e:
        main(argv)
    out, err = capsys.readouterr()
    assert e.value.code == 0, err
    return json.loads(out)


def _kia0105_cases() -> list[tuple[str, bool, bool]]:
    out = []
    for stem, (on, off) in KIA0105.items():
        out += [(stem, auto, want) for auto, want in ((True, on), (False, off)) if want is not None]
    return out


@pytest.mark.parametrize(("stem", "auto_mtls", "fires"), _kia0105_cases())
def test_kia0105_agrees_with_kiali(stem, auto_mtls, fires, tmp_path, capsys):
    src = tmp_path / f"mtls_enabled_checker_{stem}.yaml"
    docs = [d for d in yaml.safe_load_all((KIALI / "authorization" / src.name).read_text()) if d]
    docs = [d for d in docs if (d.get("metadata") or {}).get("name")] + [yaml.safe_load(RATINGS)]
    src.write_text(yaml.safe_dump_all(docs))
    found = validate_json(src, auto_mtls, capsys)
    hits = [f for f in found if f["code"] == "KIA0105"]
    assert bool(hits) == (fires != ((stem, auto_mtls) in ISTIO_ONLY)), found
    for f in hits:
        assert "AuthorizationPolicy" in json.dumps(f) and "bookinfo" in json.dumps(f)


@pytest.mark.parametrize(("folder", "stem", "code"), sorted(OTHERS))
def test_disabled_checkers_agree_with_kiali(folder, stem, code, capsys):
    found = validate_json(KIALI / folder / f"{stem}.yaml", True, capsys)
    assert any(f["code"] == code for f in found) == OTHERS[(folder, stem, code)], found
