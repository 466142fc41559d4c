"""Health rules, one test per rule of Kiali's health (business/health_calculator.go, models/health_status.go)."""

from __future__ import annotations

import pytest

from meshreport import health as h
from meshreport.errors import UsageError


def reqs(inbound=None, outbound=None):
    return {"inbound": inbound or {}, "outbound": outbound or {}}


DEFAULT = h.DEFAULT_RULE.tolerances


# --- 3.1 status levels and merge -------------------------------------------------------------


def test_merge_takes_highest_priority():
    assert h.worst(h.HEALTHY, h.NOT_READY) == h.NOT_READY
    assert h.worst(h.NOT_READY, h.DEGRADED, h.HEALTHY) == h.DEGRADED
    assert h.worst(h.DEGRADED, h.FAILURE) == h.FAILURE
    assert h.worst(h.NA, h.HEALTHY) == h.HEALTHY
    assert h.worst() == h.NA


# --- 3.2 regex anchoring, X -> digit, defaults -----------------------------------------------


def test_code_x_becomes_digit_and_is_anchored():
    assert h.code_pattern("5XX") == "^5\\d\\d$"
    assert h.code_pattern("4xx") == "^4\\d\\d$"
    t = h.Tolerance(code="5XX", degraded=0, failure=10, protocol="http")
    assert t.matches_code("503")
    assert not t.matches_code("5030")
    assert not t.matches_code("1503")
    assert not t.matches_code("-")


def test_name_regex_is_anchored_and_empty_means_any():
    rule = h.RateRule(tolerances=(), namespace="book", kind="", name="")
    assert not rule.applies("bookinfo", "app", "x")  # ^book$ does not match bookinfo
    assert h.RateRule(tolerances=(), namespace="book.*").applies("bookinfo", "service", "x")
    assert h.RateRule(tolerances=()).applies("anything", "workload", "anything")


def test_already_anchored_pattern_kept():
    t = h.Tolerance(code="^[1-9]$|^1[0-6]$", degraded=0, failure=10, protocol="grpc")
    assert t.matches_code("14") and t.matches_code("1")
    assert not t.matches_code("0") and not t.matches_code("17") and not t.matches_code("200")


def test_default_rule_appended_last():
    rules = h.rules_from_config(
        {"rate": [{"namespace": "bookinfo", "tolerance": [{"code": "404", "degraded": 35, "failure": 45}]}]}
    )
    assert len(rules) == 2 and rules[-1] == h.DEFAULT_RULE
    assert rules[0].tolerances[0].code == "404"
    assert h.rules_from_config(None) == [h.DEFAULT_RULE]
    assert h.rules_from_config({}) == [h.DEFAULT_RULE]


def test_yaml_integer_code_is_accepted():
    rules = h.rules_from_config({"rate": [{"tolerance": [{"code": 404, "degraded": 1, "failure": 2}]}]})
    assert rules[0].tolerances[0].matches_code("404")


def test_first_matching_rule_wins():
    rules = h.rules_from_config(
        {
            "rate": [
                {"namespace": "bookinfo", "kind": "service", "name": "reviews", "tolerance": [_tol("5XX", 1, 2)]},
                {"namespace": "bookinfo", "tolerance": [_tol("5XX", 3, 4)]},
                {"tolerance": [_tol("5XX", 5, 6)]},
            ]
        }
    )
    assert h.resolve_tolerances(rules, "bookinfo", "service", "reviews")[0].degraded == 1
    assert h.resolve_tolerances(rules, "bookinfo", "app", "reviews")[0].degraded == 3
    assert h.resolve_tolerances(rules, "other", "app", "reviews")[0].degraded == 5
    # Without user rules the default applies.
    assert h.resolve_tolerances([h.DEFAULT_RULE], "x", "app", "y") == DEFAULT


def _tol(code, degraded, failure, protocol="http", direction=".*"):
    return {"code": code, "degraded": degraded, "failure": failure, "protocol": protocol, "direction": direction}


@pytest.mark.parametrize(
    "section, fragment",
    [
        ([], "must be a mapping"),
        ({"rates": []}, "unknown key(s) rates"),
        ({"rate": {"a": 1}}, "must be a list"),
        ({"rate": ["x"]}, "health.rate[0]: must be a mapping"),
        ({"rate": [{"namespace": "(", "tolerance": []}]}, "health.rate[0].namespace: bad regular expression"),
        ({"rate": [{"tolerance": [{"code": "5XX", "degraded": "ten", "failure": 20}]}]}, "degraded: must be"),
        ({"rate": [{"tolerance": [{"code": "5XX", "degraded": 1}]}]}, "failure: must be a percentage"),
        ({"rate": [{"tolerance": [{"code": "[", "degraded": 1, "failure": 2}]}]}, "tolerance[0].code: bad regular"),
        ({"rate": [{"tolerance": [{"code": "5XX", "degraded": 1, "failure": 2, "level": 3}]}]}, "unknown key(s)"),
        ({"rate": [{"kind": 3, "tolerance": []}]}, "kind: must be a string"),
        ({"rate": [{"tolerance": "5XX"}]}, "tolerance: must be a list"),
    ],
)
def test_bad_rules_raise_one_line_usage_error(section, fragment):
    with pytest.raises(UsageError) as e:
        h.rules_from_config(section)
    assert fragment in e.value.message
    assert "\n" not in e.value.message
    assert e.value.exit_code == 2


# --- annotation override ---------------------------------------------------------------------


def test_annotation_replaces_rule_tolerances():
    ann = {h.RATE_ANNOTATION: "4XX,10,20,http,inbound;5XX,5,10,http,inbound"}
    tols = h.resolve_tolerances([h.DEFAULT_RULE], "ns", "service", "svc", ann)
    assert [t.code for t in tols] == ["4XX", "5XX"]
    assert tols[1].degraded == 5 and tols[1].failure == 10 and tols[1].direction == "inbound"


def test_annotation_invalid_parts_skipped():
    tols = h.parse_rate_annotation("4XX,10,20,http;5XX,x,10,http,inbound;5XX,20,10,http,inbound;503,1,2,http,.*")
    assert [t.code for t in tols] == ["503"]  # 4 fields, non-numeric, degraded > failure: all skipped


def test_annotation_all_invalid_falls_back_to_rules():
    ann = {h.RATE_ANNOTATION: "nonsense"}
    assert h.resolve_tolerances([h.DEFAULT_RULE], "ns", "workload", "w", ann) == DEFAULT


def test_annotation_changes_status():
    data = reqs(inbound={"http": {"200": 95.0, "500": 5.0}})
    assert h.request_health(data, DEFAULT).status == h.DEGRADED  # default: any 5xx degrades
    tols = h.parse_rate_annotation("5XX,10,20,http,inbound")
    assert h.request_health(data, tols).status == h.HEALTHY  # 5% is below 10%


# --- 3.3 request health ----------------------------------------------------------------------


def test_any_5xx_is_degraded_and_10_percent_is_failure():
    assert h.request_health(reqs(inbound={"http": {"200": 999.0, "503": 1.0}}), DEFAULT).status == h.DEGRADED
    r = h.request_health(reqs(inbound={"http": {"200": 9.0, "503": 1.0}}), DEFAULT)
    assert r.status == h.FAILURE and r.error_ratio == pytest.approx(10.0)


def test_4xx_thresholds_10_and_20():
    assert h.request_health(reqs(inbound={"http": {"200": 91.0, "404": 9.0}}), DEFAULT).status == h.HEALTHY
    assert h.request_health(reqs(inbound={"http": {"200": 90.0, "404": 10.0}}), DEFAULT).status == h.DEGRADED
    assert h.request_health(reqs(inbound={"http": {"200": 80.0, "404": 20.0}}), DEFAULT).status == h.FAILURE


def test_3xx_is_not_an_error():
    assert h.request_health(reqs(inbound={"http": {"301": 100.0}}), DEFAULT).status == h.HEALTHY


def test_no_response_code_dash():
    r = h.request_health(reqs(outbound={"http": {"200": 99.0, "-": 1.0}}), DEFAULT)
    assert r.status == h.DEGRADED and r.error_ratio == pytest.approx(1.0)


def test_grpc_status_codes():
    assert h.request_health(reqs(inbound={"grpc": {"0": 10.0}}), DEFAULT).status == h.HEALTHY
    assert h.request_health(reqs(inbound={"grpc": {"0": 95.0, "14": 5.0}}), DEFAULT).status == h.DEGRADED
    assert h.request_health(reqs(inbound={"grpc": {"0": 5.0, "2": 5.0}}), DEFAULT).status == h.FAILURE
    # a 5xx code on grpc traffic: the http tolerance does not apply to the grpc protocol
    assert h.request_health(reqs(inbound={"grpc": {"503": 5.0}}), DEFAULT).status == h.HEALTHY


def test_directions_are_never_summed():
    # inbound 1 error of 10 = 10% (Failure); if summed with 90 good outbound it would be 1%.
    data = reqs(inbound={"http": {"200": 9.0, "500": 1.0}}, outbound={"http": {"200": 90.0}})
    assert h.request_health(data, DEFAULT).status == h.FAILURE


def test_direction_filter_of_tolerance():
    tols = (h.Tolerance(code="5XX", degraded=1, failure=2, protocol="http", direction="inbound"),)
    assert h.request_health(reqs(outbound={"http": {"500": 5.0}}), tols).status == h.HEALTHY
    assert h.request_health(reqs(inbound={"http": {"500": 5.0}}), tols).status == h.FAILURE


def test_no_traffic_is_na_and_tcp_only_is_healthy():
    assert h.request_health(reqs(), DEFAULT).status == h.NA
    assert h.request_health(reqs(inbound={"http": {"200": 0.0}}), DEFAULT).status == h.NA
    assert h.request_health(reqs(inbound={"tcp": {"-": 100.0}}), DEFAULT).status == h.HEALTHY


def test_degraded_zero_failure_zero():
    tols = (h.Tolerance(code="5XX", degraded=0, failure=0, protocol="http"),)
    assert h.request_health(reqs(inbound={"http": {"200": 999.0, "500": 0.001}}), tols).status == h.FAILURE
    assert h.request_health(reqs(inbound={"http": {"200": 999.0}}), tols).status == h.HEALTHY


def test_rule_without_tolerances_uses_fallback():
    assert h.request_health(reqs(inbound={"http": {"200": 998.0, "500": 2.0}}), ()).status == h.DEGRADED
    assert h.request_health(reqs(inbound={"http": {"200": 100000.0, "500": 1.0}}), ()).status == h.HEALTHY
    # both directions are summed in the fallback: 10 errors in 100 total
    data = reqs(inbound={"http": {"200": 45.0, "404": 10.0}}, outbound={"http": {"200": 45.0}})
    r = h.request_health(data, ())
    assert r.status == h.FAILURE and r.error_ratio == pytest.approx(10.0)
    assert h.request_health(reqs(), ()).status == h.NA


def test_tolerance_resolver_answers_as_resolve_tolerances():
    conditional = h.rules_from_config(
        {
            "rate": [
                {"namespace": "bookinfo", "kind": "app", "tolerance": [_tol("5XX", 1, 2)]},
                {"name": "ratings", "tolerance": [_tol("5XX", 3, 4)]},
            ]
        }
    )
    unconditional = h.rules_from_config({"rate": [{"tolerance": [_tol("4XX", 5, 6)]}]})
    ann = {h.RATE_ANNOTATION: "5XX,7,8,http,inbound"}
    objects = [
        ("bookinfo", "app", "reviews", None),
        ("bookinfo", "workload", "ratings", None),
        ("other", "app", "reviews", None),
        ("other", "service", "ratings", {h.RATE_ANNOTATION: "nonsense"}),
        ("bookinfo", "app", "reviews", ann),
    ]
    for rules in ([h.DEFAULT_RULE], unconditional, conditional):
        resolver = h.ToleranceResolver(rules)
        for ns, kind, name, obj_ann in objects:
            expected = h.resolve_tolerances(rules, ns, kind, name, obj_ann)
            assert resolver.resolve(ns, kind, name, obj_ann) == expected
            assert resolver(ns, kind, name, obj_ann) == expected


def test_tolerance_resolver_shares_one_answer_when_the_first_rule_is_unconditional():
    resolver = h.ToleranceResolver([h.DEFAULT_RULE])
    assert resolver.resolve("a", "app", "x") is DEFAULT and resolver.resolve("b", "service", "y") is DEFAULT
    # a valid annotation still wins over the shared answer
    assert resolver.resolve("a", "app", "x", {h.RATE_ANNOTATION: "5XX,1,2,http,.*"})[0].degraded == 1


# --- 3.4 workload status ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "desired, current, available, synced, expected",
    [
        (0, 0, 0, -1, h.NOT_READY),  # rule 1
        (3, 3, 2, -1, h.DEGRADED),  # rule 2: available < desired
        (3, 2, 2, -1, h.DEGRADED),  # rule 2: current < desired
        (2, 2, 0, -1, h.FAILURE),  # rule 3
        (2, 0, 0, -1, h.FAILURE),  # rule 3
        (2, 3, 2, -1, h.FAILURE),  # rule 4: pending pods
        (2, 2, 2, 1, h.DEGRADED),  # rule 5: unsynced proxies
        (2, 2, 2, 2, h.HEALTHY),  # rule 6
        (2, 2, 2, -1, h.HEALTHY),  # rule 6, proxies not checked
        (2, 0, 3, -1, h.DEGRADED),  # rule 7: nothing else fits
    ],
)
def test_workload_status_rules(desired, current, available, synced, expected):
    assert h.workload_status(desired, current, available, synced) == expected


# --- 3.5 entity health -----------------------------------------------------------------------


def test_workload_health_is_worst_of_status_and_requests():
    ws = h.WorkloadStatus("w", 2, 2, 1)
    got = h.workload_health(reqs(inbound={"http": {"200": 10.0}}), ws, DEFAULT)
    assert got.status == h.DEGRADED and got.request_status == h.HEALTHY
    got = h.workload_health(reqs(inbound={"http": {"500": 10.0}}), h.WorkloadStatus("w", 1, 1, 1), DEFAULT)
    assert got.status == h.FAILURE
    d = got.to_dict()
    assert d["workloadStatus"]["desiredReplicas"] == 1 and d["status"]["status"] == h.FAILURE
    assert d["requests"]["inbound"] == {"http": {"500": 10.0}}


def test_entity_health_from_a_given_request_health():
    data = reqs(inbound={"http": {"200": 95.0, "503": 5.0}})
    rh = h.request_health(data, DEFAULT)
    ws = h.WorkloadStatus("w", 1, 1, 1)
    assert h.workload_health(data, ws, DEFAULT, rh=rh) == h.workload_health(data, ws, DEFAULT)
    assert h.app_health(data, [ws], DEFAULT, rh=rh) == h.app_health(data, [ws], DEFAULT)
    assert h.app_health(data, [ws], DEFAULT, rh=rh).error_ratio == 5.0


@pytest.mark.parametrize("first", list(h.PRIORITY))
@pytest.mark.parametrize("second", list(h.PRIORITY))
def test_entities_merge_two_statuses_as_worst(first, second):
    assert h._worse(first, second) == h.worst(first, second)


def test_scaled_to_zero_without_traffic_is_not_ready():
    got = h.workload_health(reqs(), h.WorkloadStatus("w", 0, 0, 0), DEFAULT)
    assert got.status == h.NOT_READY


def test_app_health_includes_every_workload():
    statuses = [h.WorkloadStatus("v1", 1, 1, 1), h.WorkloadStatus("v2", 1, 1, 0)]
    got = h.app_health(reqs(inbound={"http": {"200": 1.0}}), statuses, DEFAULT)
    assert got.status == h.FAILURE
    assert [w["name"] for w in got.to_dict()["workloadStatuses"]] == ["v1", "v2"]


def test_service_health_is_requests_only():
    got = h.service_health(reqs(inbound={"http": {"200": 1.0}}), DEFAULT, {h.RATE_ANNOTATION: "5XX,1,2,http,.*"})
    assert got.status == h.HEALTHY
    assert got.to_dict()["requests"]["healthAnnotations"] == {h.RATE_ANNOTATION: "5XX,1,2,http,.*"}
    assert "workloadStatus" not in got.to_dict()


# --- 3.6 edge health -------------------------------------------------------------------------


def test_edge_health_worse_of_source_outbound_and_dest_inbound():
    strict_in = (h.Tolerance(code="4XX", degraded=1, failure=5, protocol="http", direction="inbound"),)
    lax_out = (h.Tolerance(code="4XX", degraded=50, failure=60, protocol="http", direction="outbound"),)
    codes = {"200": 90.0, "404": 10.0}
    assert h.edge_status("http", codes, lax_out, strict_in) == h.FAILURE
    assert h.edge_status("http", codes, lax_out, ()) == h.HEALTHY
    # outbound tolerance of the dest is ignored, inbound of the source too
    assert h.edge_status("http", codes, strict_in, lax_out) == h.HEALTHY


def test_edge_health_protocol_must_match_and_no_traffic_is_na():
    assert h.edge_status("tcp", {"-": 100.0}, DEFAULT, DEFAULT) == h.HEALTHY
    assert h.edge_status("http", {"200": 0.0}, DEFAULT, DEFAULT) == h.NA
    assert h.edge_status("grpc", {"0": 9.0, "14": 1.0}, DEFAULT, DEFAULT) == h.FAILURE
