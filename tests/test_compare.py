"""compare: pairs of synthetic bookinfo snapshots with known changes report exactly those changes."""

from __future__ import annotations

import pytest
from helpers import mesh_changes as mc

from meshreport.compare import (
    CHANGED,
    IMPROVEMENT,
    REGRESSION,
    IncomparableError,
    Thresholds,
    compare,
    compare_findings,
)
from meshreport.errors import UsageError
from meshreport.pipeline import digest_snapshot
from meshreport.settings import Settings
from meshreport.validation.model import Finding

SETTINGS = Settings.load(env={})


def _compare(old, new, thresholds=None):
    return compare(digest_snapshot(old, SETTINGS), digest_snapshot(new, SETTINGS), thresholds)


@pytest.fixture(scope="module")
def known():
    """The issue's six changes in one pair."""
    return _compare(*mc.pair(mc.KNOWN_MESH_CHANGES, mc.KNOWN_OBJECT_CHANGES))


def test_known_changes_are_exactly_reported(known):
    c = known
    assert {(p.what, p.name, p.change) for p in c.presence} == {
        ("edge", "bookinfo/details v1 → bookinfo/googleapis", "disappeared"),
        ("service", "googleapis", "disappeared"),
    }
    # The failing service: its own health and error share, the callers' and the backing app's.
    assert {(h.name, h.old, h.new, h.direction) for h in c.health} == {
        ("ratings", "Degraded", "Failure", REGRESSION),
        ("ratings v1", "Degraded", "Failure", REGRESSION),
        ("reviews v2", "Degraded", "Failure", REGRESSION),  # its outbound requests fail
    }
    assert {(m.what, m.name, m.metric, m.direction) for m in c.moves} == {
        ("service", "ratings", "error_share", REGRESSION),
        ("app", "ratings v1", "error_share", REGRESSION),
        ("edge", "bookinfo/ratings → bookinfo/ratings v1", "error_share", REGRESSION),
        ("edge", "bookinfo/reviews v2 → bookinfo/ratings", "error_share", REGRESSION),
        ("edge", "bookinfo/productpage → bookinfo/productpage v1", "p95", REGRESSION),
    }
    p95 = next(m for m in c.moves if m.metric == "p95")
    assert p95.new == pytest.approx(2 * p95.old)
    # The plaintext flow: the service -> workload edge is all plaintext, the caller's edge to the
    # service is now partly plaintext (ratings v1 still answers over mTLS).
    assert {(m.name, round(m.old), round(m.new), m.direction) for m in c.mtls} == {
        ("bookinfo/ratings → bookinfo/ratings v2", 100, 0, REGRESSION),
        ("bookinfo/reviews v3 → bookinfo/ratings", 100, 71, REGRESSION),
    }
    assert c.improvements() == []
    assert [(f.code, f.origin) for f in c.findings.new] == [
        ("IST0173", "DestinationRule bookinfo/reviews"),
        ("MR0103", "Deployment bookinfo/ratings-v2"),  # the plaintext flow into STRICT bookinfo
    ]
    assert [(f.code, f.origin) for f in c.findings.resolved] == [("IST0173", "DestinationRule bookinfo/details")]
    assert {f.origin for f in c.findings.still_open} == {
        "DestinationRule bookinfo/ratings",
        "DestinationRule bookinfo/originate-tls-for-googleapis",
        "Deployment bookinfo/productpage-v1",  # MR0102: plain text from outside the mesh, both windows
    }
    changed = {x.ref: x for x in c.config}
    assert set(changed) == {
        "DestinationRule bookinfo/details",
        "DestinationRule bookinfo/reviews",
        "VirtualService bookinfo/bookinfo",
    }
    vs = changed["VirtualService bookinfo/bookinfo"]
    assert [(f.path, f.old, f.new) for f in vs.fields] == [
        ("spec.http[0].match[1].uri.prefix", '"/static"', '"/assets"')
    ]
    assert c.gaps == [] and c.notes == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_noise_reports_nothing(seed):
    c = _compare(*mc.pair([mc.jitter(seed, 0.1)]))
    assert c.empty, (c.health, c.moves, c.mtls, c.presence)


def test_the_same_snapshot_reports_nothing():
    old = mc.snapshot(mc.OLD_WINDOW)
    assert _compare(old, old).empty


def test_improvements_are_the_reverse_of_regressions():
    failing = mc.snapshot(mc.OLD_WINDOW, [mc.error_share("reviews-v2", "ratings-v1", 0.3)])
    c = _compare(failing, mc.snapshot(mc.NEW_WINDOW))
    assert c.regressions() == []
    assert {h.name for h in c.health if h.direction == IMPROVEMENT} == {"ratings", "ratings v1", "reviews v2"}


def test_thresholds_decide_what_a_move_is():
    old, new = mc.pair([mc.scale_rates(1.3)])
    assert _compare(old, new).empty  # +30 %: below the default 50 %
    c = _compare(old, new, Thresholds(rate_relative=0.2, rate_absolute=0.5))
    moved = {m.name for m in c.moves if m.metric == "request_rate"}
    assert "productpage" in moved and all(m.direction == CHANGED for m in c.moves)
    # The traffic floor: nothing that carries less than it is compared.
    assert _compare(old, new, Thresholds(rate_relative=0.2, rate_absolute=0.5, min_rate=1000)).empty


def test_thresholds_from_config():
    t = Thresholds.from_config({"p95_relative": 1, "min_rate": 0.5})
    assert t.p95_relative == 1.0 and t.min_rate == 0.5 and t.error_absolute == Thresholds().error_absolute
    with pytest.raises(UsageError, match="compare.p59: unknown threshold"):
        Thresholds.from_config({"p59": 1})
    with pytest.raises(UsageError, match="expected a number >= 0"):
        Thresholds.from_config({"p95_relative": "fast"})


def test_newer_old_snapshot_is_refused():
    old, new = mc.pair()
    with pytest.raises(IncomparableError, match="give the older snapshot first"):
        _compare(new, old)


def test_different_graph_types_are_refused():
    snap = mc.snapshot(mc.OLD_WINDOW)
    a = digest_snapshot(snap, SETTINGS, graph_type="app")
    b = digest_snapshot(snap, SETTINGS, graph_type="workload")
    with pytest.raises(IncomparableError, match="cannot compare a app graph with a workload graph"):
        compare(a, b)


def test_different_windows_and_namespaces_are_compared_with_notes():
    from meshreport.snapshot.model import Window
    from meshreport.synthetic import meshes

    mesh = meshes.bookinfo_mesh()
    w = Window(mc.NEW_WINDOW.end - 7200, mc.NEW_WINDOW.end)
    two_hours = meshes.snapshot(mesh, w, objects=meshes.bookinfo_objects(mesh, w), namespaces=["bookinfo"])
    c = _compare(mc.snapshot(mc.OLD_WINDOW), two_hours)
    assert any("windows differ (1h then 2h)" in n for n in c.notes)
    assert any("only in the old snapshot: istio-system" in n for n in c.notes)
    # Nothing of istio-system is reported as gone: it was not collected, which is not a change.
    assert not [p for p in c.presence if p.namespace == "istio-system"]


def test_metrics_only_snapshot_skips_findings_with_a_note():
    old = mc.snapshot(mc.OLD_WINDOW)
    new = mc.snapshot(mc.NEW_WINDOW)
    new.objects = []
    c = _compare(old, new)
    assert c.findings is None and c.config is None
    assert any("config was not collected in the new snapshot" in n for n in c.notes)


def test_gaps_that_differ():
    from meshreport.snapshot.model import Gap

    old, new = mc.pair()
    old.gaps = [Gap("metrics", "graph/istio_requests_total/incoming", "timeout", "bookinfo")]
    new.gaps = [Gap("config", "AuthorizationPolicy", "forbidden", "bookinfo")]
    c = _compare(old, new)
    assert [(g.change, g.what) for g in c.gaps] == [
        ("new", "AuthorizationPolicy"),
        ("resolved", "graph/istio_requests_total/incoming"),
    ]


def _finding(code: str, name: str, message: str, path: str | None = None) -> Finding:
    return Finding(code, "warning", "VirtualService", name, "shop", "Kubernetes", message, path=path)


def test_findings_match_by_code_and_object_not_message():
    old = [_finding("IST0101", "cart", "Referenced host not found: cart"), _finding("KIA1104", "cart", "weights")]
    new = [_finding("IST0101", "cart", 'Referenced host was not found: "cart"'), _finding("IST0101", "web", "x")]
    d = compare_findings(old, new)
    assert [(f.code, f.name) for f in d.still_open] == [("IST0101", "cart")]
    assert [(f.code, f.name) for f in d.new] == [("IST0101", "web")]
    assert [(f.code, f.name) for f in d.resolved] == [("KIA1104", "cart")]


def test_repeated_findings_on_one_object_count_as_a_multiset():
    old = [_finding("KIA1106", "cart", "dup", "spec.http[0]")]
    new = [_finding("KIA1106", "cart", "dup", "spec.http[1]"), _finding("KIA1106", "cart", "dup", "spec.http[0]")]
    d = compare_findings(old, new)
    assert [f.path for f in d.still_open] == ["spec.http[0]"]  # the exact match is the old one
    assert [f.path for f in d.new] == ["spec.http[1]"]


def test_a_digest_is_the_full_analysis_reduced():
    """A comparison analyses with only `digest.APPENDERS` and no per-node objects: its digest is the
    one of the report's full analysis (every appender), on the known pair and a scalable mesh."""
    from meshreport.digest import digest
    from meshreport.pipeline import analyse, report_options
    from meshreport.snapshot.model import Window
    from meshreport.synthetic import meshes as synth

    window = Window(1_704_067_200.0, 1_704_070_800.0)
    mesh = synth.scalable_mesh(4, 120, seed=3)
    snaps = [*mc.pair(mc.KNOWN_MESH_CHANGES, mc.KNOWN_OBJECT_CHANGES)]
    snaps.append(synth.snapshot(mesh, window, objects=synth.scalable_objects(mesh, window)))
    for snap in snaps:
        full = analyse(snap, report_options(SETTINGS))
        assert full.node_config  # the report's analysis works the per-node objects out
        reduced = digest_snapshot(snap, SETTINGS)
        assert reduced == digest(snap, full.graph, full.validation)
        assert reduced.nodes and reduced.edges and reduced.findings is not None


def test_different_schema_versions_are_compared_with_a_note():
    """A snapshot an older meshreport wrote (schema 1) is read into the same model and compared; the
    note says so in every output."""
    from dataclasses import replace

    from meshreport.report.changes import render

    old, new = mc.pair(mc.KNOWN_MESH_CHANGES)
    c = _compare(replace(old, schema_version=1), new)
    note = f"snapshot schema versions differ (1 then {new.schema_version}); both are read into one model"
    assert c.notes == [note] and c.regressions()
    for fmt in ("text", "markdown", "json"):
        assert note in render(c, fmt)
    assert _compare(old, new).notes == []
