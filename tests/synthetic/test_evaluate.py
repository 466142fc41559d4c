"""The offline evaluator: PromQL semantics on hand-built raw series, and every planned query.

Agreement with a real Prometheus on the same data is checked in test_openmetrics.py.
"""

from __future__ import annotations

import math

import pytest

from meshreport.collect.queries import (
    Matcher,
    PlannedQuery,
    QuantileQuery,
    RateQuery,
    RatioQuery,
    collection_plan,
    graph_queries,
)
from meshreport.snapshot.model import Window
from meshreport.synthetic import meshes
from meshreport.synthetic.evaluate import Evaluator, bucket_quantile, parse_fragment, range_times, round_to, unescape
from meshreport.synthetic.model import DURATION_BUCKETS, Raw, Shape

WINDOW = Window(start=1704067200.0, end=1704070800.0)


def raw(metric: str, rate: float, **labels: str) -> Raw:
    return Raw(metric, dict(labels), {}, rate)


def hist(rate_by_le: dict[float, float], **labels: str) -> Raw:
    """A duration histogram whose cumulative bucket rates are given for some bounds."""
    vec, acc = [], 0.0
    for b in DURATION_BUCKETS:
        acc = rate_by_le.get(b, acc)
        vec.append(acc)
    return Raw("istio_request_duration_milliseconds", dict(labels), {}, tuple(vec), sum_rate=0.0, count_rate=vec[-1])


def rq(metric: str, *matchers: Matcher, by: tuple[str, ...] = ("a",), **kw) -> RateQuery:
    return RateQuery(metric, tuple(matchers), by, 3600, **kw)


def values(vec) -> dict[tuple, float]:
    return {tuple(sorted(labels.items())): v for labels, v in vec}


def test_unescape_follows_go_string_rules():
    assert unescape(r"^.+\\.bookinfo\\..+$") == r"^.+\.bookinfo\..+$"
    assert unescape(r"a\"b\n\t\x41\u00e9\101") == 'a"b\n\tAéA'
    assert unescape("plain") == "plain"
    with pytest.raises(ValueError):
        unescape("bad\\q")


def test_matchers_equality_inequality_regex_anchored_and_missing_labels():
    ev = Evaluator(
        [
            raw("m", 1.0, a="x", b="reviews.bookinfo.svc.cluster.local"),
            raw("m", 2.0, a="y", b="reviews.bookinfo-2.svc.cluster.local"),
            raw("m", 4.0, a="z"),  # b missing: matches b="" and b!="x"
        ]
    )
    q = rq("m", Matcher("b", "=~", r"^.+\\.bookinfo\\..+$"), rounded=False)
    assert values(ev.instant(q)) == {(("a", "x"),): 1.0}
    # Fully anchored: a partial match is not a match.
    assert ev.instant(rq("m", Matcher("b", "=~", "bookinfo"))) == []
    assert values(ev.instant(rq("m", Matcher("b", "=", "")))) == {(("a", "z"),): 4.0}
    assert values(ev.instant(rq("m", Matcher("b", "!~", ".*bookinfo-2.*"), by=()))) == {(): 5.0}
    assert values(ev.instant(rq("m", Matcher("a", "!=", "x"), by=()))) == {(): 6.0}


def test_sum_by_keeps_only_non_empty_grouping_labels():
    ev = Evaluator([raw("m", 1.5, a="x", c="1"), raw("m", 2.5, a="x", c="2"), raw("m", 1.0, c="3")])
    out = values(ev.instant(rq("m", by=("a", "missing"))))
    assert out == {(("a", "x"),): 4.0, (): 1.0}


def test_idle_filter_round_and_scope():
    ev = Evaluator([raw("m", 0.0, a="idle", s="1"), raw("m", 0.12345, a="busy", s="1"), raw("m", 7.0, a="busy", s="2")])
    busy = rq("m", scope=(("s", "1"),))
    assert values(ev.instant(busy)) == {(("a", "busy"),): 0.123}
    idle = rq("m", idle=True, scope=(("s", "1"),))
    assert values(ev.instant(idle)) == {(("a", "busy"),): 0.123, (("a", "idle"),): 0.0}
    assert busy.promql().startswith('round(sum(rate(m{s="1",')


def test_round_matches_go_floor_half_up():
    assert round_to(0.0125) == 0.013  # Python's round() would give 0.012 (banker's rounding)
    assert round_to(2.0004) == 2.0
    assert round_to(-0.0005) == -0.0
    assert math.isnan(round_to(math.nan))


def test_bucket_quantile_interpolates_like_prometheus():
    inf = math.inf
    # 100 observations: 50 <= 10, 90 <= 100, 100 <= +Inf.
    buckets = [(10.0, 50.0), (100.0, 90.0), (inf, 100.0)]
    assert bucket_quantile(0.5, buckets) == 10.0
    assert bucket_quantile(0.7, buckets) == pytest.approx(10 + 90 * (20 / 40))
    assert bucket_quantile(0.95, buckets) == 100.0  # in the +Inf bucket: the highest finite bound
    assert bucket_quantile(0.25, buckets) == pytest.approx(5.0)  # first bucket starts at 0
    assert math.isnan(bucket_quantile(0.5, [(10.0, 1.0)]))  # no +Inf bucket
    assert math.isnan(bucket_quantile(0.5, [(10.0, 0.0), (inf, 0.0)]))  # no observations
    assert bucket_quantile(1.5, buckets) == inf and bucket_quantile(-1, buckets) == -inf
    # Non-monotonic input is made monotonic first (40, 40, 80, 100): 50 + 50 * (50 - 40) / 40.
    assert bucket_quantile(0.5, [(10.0, 40.0), (50.0, 30.0), (100.0, 80.0), (inf, 100.0)]) == 62.5


def test_histogram_quantile_query_groups_without_le():
    inf = float("inf")
    ev = Evaluator(
        [
            hist({5: 2.0, 10: 8.0, inf: 10.0}, a="x", r="1"),
            hist({10: 10.0, inf: 10.0}, a="x", r="2"),
            hist({5: 1.0, inf: 1.0}, a="y", r="1"),
            hist({inf: 4.0}, a="z", r="1"),
        ]
    )
    inner = RateQuery("istio_request_duration_milliseconds_bucket", (), ("le", "a"), 3600, rounded=False)
    out = values(ev.instant(QuantileQuery(0.5, inner)))
    # a=x summed over r: 2 <= 5, 18 <= 10, 20 in all; rank 10 lies in (5, 10]: 5 + 5 * (10 - 2) / 16.
    assert out[(("a", "x"),)] == 7.5
    # a=y: rank 0.5 of 1 in (1, 5].
    assert out[(("a", "y"),)] == 3.0
    # a=z: every observation only in +Inf: the highest finite bound.
    assert out[(("a", "z"),)] == 3600000.0
    # by (le, ...) without histogram_quantile: one series per bucket, `le` printed as Istio does.
    buckets = ev.instant(RateQuery("istio_request_duration_milliseconds_bucket", (), ("le",), 3600, idle=True))
    assert len(buckets) == len(DURATION_BUCKETS)
    les = {labels["le"]: v for labels, v in buckets}
    assert les["0.5"] == 0.0 and les["5"] == 3.0 and les["10"] == 19.0 and les["+Inf"] == 25.0
    assert "3600000" in les


def test_ratio_matches_one_to_one_and_divides_by_zero_like_go():
    ev = Evaluator(
        [
            Raw("istio_request_duration_milliseconds", {"a": "x"}, {}, (0.0,) * 20, sum_rate=30.0, count_rate=2.0),
            Raw("istio_request_duration_milliseconds", {"a": "z"}, {}, (0.0,) * 20, sum_rate=5.0, count_rate=0.0),
            Raw("istio_request_duration_milliseconds", {"a": "w"}, {}, (0.0,) * 20, sum_rate=0.0, count_rate=0.0),
        ]
    )
    num = RateQuery("istio_request_duration_milliseconds_sum", (), ("a",), 3600, space=False, rounded=False)
    den = RateQuery("istio_request_duration_milliseconds_count", (), ("a",), 3600, space=False, rounded=False)
    out = values(ev.instant(RatioQuery(num, den, idle=True)))
    assert out[(("a", "x"),)] == 15.0
    assert out[(("a", "z"),)] == math.inf
    assert math.isnan(out[(("a", "w"),)])
    # `> 0` keeps +Inf, drops NaN.
    assert set(values(ev.instant(RatioQuery(num, den)))) == {(("a", "x"),), (("a", "z"),)}


def test_parse_fragment_for_kiali_app_prefix():
    assert parse_fragment('app!="ztunnel",') == (Matcher("app", "!=", "ztunnel"),)
    ev = Evaluator([raw("m", 1.0, a="1", app="ztunnel"), raw("m", 2.0, a="2", app="reviews")])
    q = RateQuery("m", (), ("a",), 60, prefix='app!="ztunnel",')
    assert values(ev.instant(q)) == {(("a", "2"),): 2.0}


def test_range_times_include_both_ends():
    assert range_times(100.0, 160.0, 30.0) == [100.0, 130.0, 160.0]
    assert range_times(100.0, 159.0, 30.0) == [100.0, 130.0]


def test_graph_queries_on_bookinfo_give_the_mesh_rates():
    ev = Evaluator(meshes.bookinfo_mesh().series())
    (_, unserviced), (_, incoming), (_, outgoing) = graph_queries("bookinfo", 3600)
    inc = ev.instant(incoming)
    by_pair: dict[tuple[str, str, str], float] = {}
    for labels, v in inc:
        k = (labels["source_workload"], labels["destination_workload"], labels["response_code"])
        by_pair[k] = v
    assert by_pair[("reviews-v2", "ratings-v1", "500")] == 0.175
    assert by_pair[("reviews-v2", "ratings-v1", "200")] == 3.325
    assert by_pair[("unknown", "productpage-v1", "200")] == 0.5
    assert by_pair[("istio-ingressgateway", "productpage-v1", "404")] == 0.1
    # Destination telemetry never contains the external host; source telemetry does.
    assert all(labels["destination_service"] != "www.googleapis.com" for labels, _ in inc)
    ext = [labels for labels, _ in ev.instant(outgoing) if labels["destination_service"] == "www.googleapis.com"]
    assert ext and ext[0]["destination_workload"] == "unknown" and ext[0]["destination_service_namespace"] == "bookinfo"
    assert "grpc_response_status" not in ext[0]  # empty for HTTP, so Prometheus drops it
    assert ev.instant(unserviced) == []


def test_every_planned_query_evaluates_and_records_its_promql():
    mesh = meshes.scalable_mesh(namespaces=3, workloads=40, seed=5)
    ev = Evaluator(mesh.series())
    plan = collection_plan(mesh.namespaces, WINDOW.duration_s)
    kinds = {type(p.query).__name__ for p in plan}
    assert kinds == {"RateQuery", "QuantileQuery", "RatioQuery"}
    nonempty = 0
    for p in plan:
        qr = ev.run(p, WINDOW)
        assert qr.promql == p.query.promql() and qr.key == p.key and qr.namespace == p.namespace
        assert qr.kind == p.kind
        if p.kind == "range":
            assert qr.step == p.step and qr.time == WINDOW.end
            for s in qr.series:
                assert len(s.points) >= 50 and s.points[-1][0] == WINDOW.end
        nonempty += bool(qr.series)
    assert nonempty > len(plan) / 2
    # The scope label is not on the raw series, so scoped queries find nothing: scope is applied.
    scoped = collection_plan(mesh.namespaces, WINDOW.duration_s, scope={"mesh_id": "m1"})
    assert all('mesh_id="m1"' in p.query.promql() for p in scoped)
    assert not any(ev.run(p, WINDOW).series for p in scoped)


def test_range_and_instant_agree_for_steady_rates():
    ev = Evaluator(meshes.scalable_mesh(2, 12, seed=2).series())
    q = rq("istio_requests_total", Matcher("reporter", "=", "destination"), by=("destination_workload",), space=False)
    instant = values(ev.instant(q, WINDOW.end))
    ranged = ev.run(PlannedQuery("t", "team-000", q, kind="range", step=60), WINDOW)
    assert ranged.series
    for s in ranged.series:
        assert {v for _, v in s.points} == {instant[tuple(sorted(s.labels.items()))]}


def test_shaped_rates_vary_over_time_and_average_to_the_flow_rate():
    shape = Shape(WINDOW.start, 600, (0.5, 1.5, 0.0, 2.0, 1.0, 1.0))  # averages 1 over the hour
    assert shape.integral(WINDOW.start, WINDOW.end) == 3600.0
    assert shape.integral(WINDOW.start - 600, WINDOW.start) == 600.0  # repeats: factor 1.0 before
    ev = Evaluator([Raw("m", {"a": "x"}, {}, 2.0, shape=shape), Raw("m", {"a": "x"}, {}, 1.0)])
    hour = RateQuery("m", (), ("a",), 3600, space=False)
    assert values(ev.instant(hour, WINDOW.end)) == {(("a", "x"),): 3.0}
    five = RateQuery("m", (), ("a",), 300, space=False)
    assert values(ev.instant(five, WINDOW.start + 300)) == {(("a", "x"),): 2.0}  # 2 * 0.5 + 1
    assert values(ev.instant(five, WINDOW.start + 1500)) == {(("a", "x"),): 1.0}  # shaped part idle
    assert values(ev.instant(five, WINDOW.start + 900)) == {(("a", "x"),): 2.0 * 1.5 + 1}
    # A range straddling two pieces averages them: 300 s of 1.5 and 300 s of 0.0 -> 0.75.
    ten = RateQuery("m", (), ("a",), 600, space=False)
    assert values(ev.instant(ten, WINDOW.start + 1500)) == {(("a", "x"),): 2.0 * 0.75 + 1}
    # Without `> 0` and with no constant part, a quiet piece gives no point (Prometheus drops it).
    only = Evaluator([Raw("m", {"a": "x"}, {}, 2.0, shape=shape)])
    res = only.run(PlannedQuery("t", None, five, kind="range", step=300), WINDOW)
    times = [t for t, _ in res.series[0].points]
    assert WINDOW.start + 1500 not in times and WINDOW.start + 1200 in times


def test_bookinfo_error_burst_shows_in_trends_not_in_the_hour():
    snap = meshes.bookinfo_snapshot()
    errors = snap.query("trend/errors", "bookinfo")
    ratings = next(s for s in errors.series if s.labels["destination_workload"] == "ratings-v1")
    burst = [t for t, v in ratings.points if v > 0]
    assert burst and min(burst) > WINDOW.start + 1800 and max(burst) < WINDOW.start + 2400 + 60
    assert max(v for _, v in ratings.points) == 1.05  # 0.175/s * 6 during the 10-minute burst
    incoming = snap.query("graph/istio_requests_total/incoming", "bookinfo")
    hour = [s.value for s in incoming.series if s.labels["response_code"] == "500"]
    assert hour == [0.175]
    requests = snap.query("trend/requests", "bookinfo")
    details = next(s for s in requests.series if s.labels["destination_workload"] == "details-v1")
    assert min(v for _, v in details.points) == 7.8 and max(v for _, v in details.points) == 13.0
