"""report.changes: the comparison of the issue's known changes in text, JSON and Markdown."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers import mesh_changes as mc  # noqa: E402

from meshreport.compare import compare  # noqa: E402
from meshreport.pipeline import digest_snapshot  # noqa: E402
from meshreport.report.changes import comparison_dict, render  # noqa: E402
from meshreport.settings import Settings  # noqa: E402

SETTINGS = Settings.load(env={})

REGRESSIONS = [
    "service bookinfo/ratings: health Degraded → Failure",
    "app bookinfo/ratings v1: health Degraded → Failure",
    "app bookinfo/reviews v2: health Degraded → Failure",
    "service bookinfo/ratings: error share 2.5 % → 15.2 %",
    "app bookinfo/ratings v1: error share 3.0 % → 17.8 %",
    "edge bookinfo/productpage → bookinfo/productpage v1: p95 latency 375 ms → 750 ms",
    "edge bookinfo/ratings → bookinfo/ratings v1: error share 3.0 % → 17.8 %",
    "edge bookinfo/reviews v2 → bookinfo/ratings: error share 5.0 % → 30.0 %",
    "edge bookinfo/ratings → bookinfo/ratings v2: became plaintext (mTLS 100.0 % → 0 %)",
    "edge bookinfo/reviews v3 → bookinfo/ratings: mTLS 100.0 % → 70.6 %",
]
CONFIG = [
    'DestinationRule bookinfo/details changed: spec.subsets[1]: {"labels":{"version":"v2"},"name":"v2"} → (absent)',
    'DestinationRule bookinfo/reviews changed: spec.subsets[3]: (absent) → {"labels":{"version":"v4"},"name":"v4"}',
    'VirtualService bookinfo/bookinfo changed: spec.http[0].match[1].uri.prefix: "/static" → "/assets"',
]


@pytest.fixture(scope="module")
def known():
    old, new = mc.pair(mc.KNOWN_MESH_CHANGES, mc.KNOWN_OBJECT_CHANGES)
    return compare(digest_snapshot(old, SETTINGS), digest_snapshot(new, SETTINGS))


def _section(text: str, heading: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    out = []
    for line in lines[start + 1 :]:
        if not line.strip():
            if out:
                break
            continue
        out.append(line)
    return out


def test_text(known):
    text = render(known, "text")
    assert _section(text, "Regressions (10):") == [f"  {x}" for x in REGRESSIONS]
    assert _section(text, "Disappeared (2):") == [
        "  service bookinfo/googleapis",
        "  edge bookinfo/details v1 → bookinfo/googleapis",
    ]
    assert _section(text, "Config changes (3):") == [f"  {x}" for x in CONFIG]
    new = _section(text, "New findings (2):")
    assert "[IST0173] (DestinationRule bookinfo/reviews) The Subset v4" in new[0]
    # the plaintext flow into STRICT bookinfo is a new MR0103 (Will break), its caller named
    assert "[MR0103] (Deployment bookinfo/ratings-v2)" in new[1] and "from bookinfo/reviews-v3" in new[1]
    assert "(DestinationRule bookinfo/details) The Subset v2" in _section(text, "Resolved findings (1):")[0]
    assert "Improvements" not in text and "Appeared" not in text and "Data gaps" not in text


def test_json(known):
    doc = json.loads(render(known, "json"))
    assert doc["schema_version"] == 1 and doc["empty"] is False and doc["graph_type"] == "versionedApp"
    assert [r["text"] for r in doc["regressions"]] == REGRESSIONS
    assert doc["improvements"] == [] and doc["other_changes"] == [] and doc["appeared"] == [] and doc["gaps"] == []
    assert [(d["what"], d["name"]) for d in doc["disappeared"]] == [
        ("service", "googleapis"),
        ("edge", "bookinfo/details v1 → bookinfo/googleapis"),
    ]
    assert [(f["code"], f["kind"], f["name"]) for f in doc["findings"]["new"]] == [
        ("IST0173", "DestinationRule", "reviews"),
        ("MR0103", "Deployment", "ratings-v2"),
    ]
    assert [(f["code"], f["name"]) for f in doc["findings"]["resolved"]] == [("IST0173", "details")]
    assert len(doc["findings"]["still_open"]) == 4  # with MR0102 on productpage-v1 (callers from outside)
    vs = next(x for x in doc["config"] if x["kind"] == "VirtualService")
    assert vs["fields"] == [{"path": "spec.http[0].match[1].uri.prefix", "old": '"/static"', "new": '"/assets"'}]
    p95 = next(r for r in doc["regressions"] if r["type"] == "p95")
    assert p95["new"] == pytest.approx(2 * p95["old"])
    assert doc == comparison_dict(known) | {}  # JSON is the whole comparison


def test_markdown(known):
    md = render(known, "markdown")
    assert md.startswith("## meshreport: what changed")
    assert _section(md, "### Regressions (10)") == [f"- {x}" for x in REGRESSIONS]
    assert "### New findings (2)" in md and "### Resolved findings (1)" in md
    # brackets are escaped: a name or value in them cannot become a Markdown link
    assert "- VirtualService bookinfo/bookinfo changed: spec.http\\[0\\].match\\[1\\].uri.prefix" in md


def test_noise_in_every_format():
    old, new = mc.pair([mc.jitter(7, 0.1)])
    c = compare(digest_snapshot(old, SETTINGS), digest_snapshot(new, SETTINGS))
    assert "No changes beyond the thresholds." in render(c, "text")
    assert "No changes beyond the thresholds." in render(c, "markdown")
    doc = json.loads(render(c, "json"))
    assert doc["empty"] is True and doc["regressions"] == [] and doc["findings"]["new"] == []


def test_markdown_escapes_names_from_the_cluster(known):
    from dataclasses import replace

    from meshreport.compare import Presence

    hostile = replace(known, presence=[Presence("service", "x", "<img src=x onerror=alert(1)>|`", "shop", "appeared")])
    md = render(hostile, "markdown")
    assert "<img" not in md and "&lt;img src=x onerror=alert(1)&gt;\\|" in md
