"""Exact PromQL strings: Kiali's graph and appender queries to the character, plus trend queries."""

from __future__ import annotations

from meshreport.collect import queries as Q

GB_REQ = (
    "source_cluster,source_workload_namespace,source_workload,source_canonical_service,source_canonical_revision,"
    "destination_cluster,destination_service_namespace,destination_service,destination_service_name,"
    "destination_workload_namespace,destination_workload,destination_canonical_service,"
    "destination_canonical_revision,request_protocol,response_code,grpc_response_status,response_flags"
)
GB_MSG = (
    "source_cluster,source_workload_namespace,source_workload,source_canonical_service,source_canonical_revision,"
    "destination_cluster,destination_service_namespace,destination_service,destination_service_name,"
    "destination_workload_namespace,destination_workload,destination_canonical_service,"
    "destination_canonical_revision"
)
GB_RT = GB_MSG + ",request_protocol"
GB_TCP = "app," + GB_MSG + ",response_flags"
GB_SEC = GB_MSG + ",source_principal,destination_principal,connection_security_policy"


def _plan(ns="bookinfo", range_s=600, **kw):
    return {(p.key, p.namespace): p for p in Q.collection_plan([ns], range_s, **kw)}


def test_graph_queries_match_kiali_api_test_string():
    # graph/api/api_test.go (ambient none, 10m), the non-idle form.
    [(_, incoming)] = [(r, q) for r, q in Q.graph_queries("bookinfo", 600) if r == "incoming"]
    assert incoming.promql() == (
        'round(sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="bookinfo"} '
        f"[600s])) by ({GB_REQ}) > 0,0.001)"
    )


def test_graph_queries_all_roles_idle_form_and_order():
    got = [(r, q.promql()) for r, q in Q.graph_queries("bookinfo", 600, idle=True)]
    assert [r for r, _ in got] == ["unserviced", "incoming", "outgoing"]
    assert got[0][1] == (
        'round(sum(rate(istio_requests_total{reporter="source",source_workload_namespace!="bookinfo",'
        'destination_workload_namespace="unknown",destination_workload="unknown",'
        'destination_service=~"^.+\\\\.bookinfo\\\\..+$"} '
        f"[600s])) by ({GB_REQ}),0.001)"
    )
    assert got[2][1] == (
        'round(sum(rate(istio_requests_total{reporter="source",source_workload_namespace="bookinfo"} '
        f"[600s])) by ({GB_REQ}),0.001)"
    )


def test_graph_tcp_query_uses_gb_tcp_and_dots_escaped():
    [(_, q)] = [(r, q) for r, q in Q.graph_queries("a.b", 86400, metric=Q.TCP_SENT) if r == "unserviced"]
    assert q.promql() == (
        'round(sum(rate(istio_tcp_sent_bytes_total{reporter="source",source_workload_namespace!="a.b",'
        'destination_workload_namespace="unknown",destination_workload="unknown",'
        'destination_service=~"^.+\\\\.a\\\\.b\\\\..+$"} '
        f"[86400s])) by ({GB_TCP}) > 0,0.001)"
    )


def test_query_scope_is_injected_into_every_brace_sorted():
    plan = _plan(scope={"mesh_id": "m1", "cluster": "east"})
    q = plan[("appender/responseTime/avg/incoming", "bookinfo")].query.promql()
    assert q == (
        "round(sum(rate(istio_request_duration_milliseconds_sum"
        '{cluster="east",mesh_id="m1",reporter="destination",destination_service_namespace="bookinfo"}'
        f"[600s])) by ({GB_RT}) / "
        "sum(rate(istio_request_duration_milliseconds_count"
        '{cluster="east",mesh_id="m1",reporter="destination",destination_service_namespace="bookinfo"}'
        f"[600s])) by ({GB_RT}) > 0,0.001)"
    )
    for p in plan.values():
        promql = p.query.promql()
        assert promql.count("{") == promql.count('{cluster="east",mesh_id="m1",'), p.key


def test_response_time_quantile_exact():
    plan = _plan()
    assert plan[("appender/responseTime/0.95/incoming", "bookinfo")].query.promql() == (
        "round(histogram_quantile(0.95, sum(rate(istio_request_duration_milliseconds_bucket"
        '{reporter="destination",destination_service_namespace="bookinfo"}'
        f"[600s])) by (le,{GB_RT})) > 0,0.001)"
    )
    assert plan[("appender/responseTime/0.5/outgoing", "bookinfo")].query.promql() == (
        "round(histogram_quantile(0.50, sum(rate(istio_request_duration_milliseconds_bucket"
        '{reporter="source",source_workload_namespace="bookinfo"}'
        f"[600s])) by (le,{GB_RT})) > 0,0.001)"
    )


def test_security_policy_exact():
    plan = _plan()
    assert plan[("appender/securityPolicy/istio_requests_total/incoming", "bookinfo")].query.promql() == (
        'round(sum(rate(istio_requests_total{reporter="destination",source_workload_namespace!="bookinfo",'
        f'destination_service_namespace="bookinfo"}}[600s])) by ({GB_SEC}) > 0,0.001)'
    )
    assert plan[("appender/securityPolicy/istio_tcp_received_bytes_total/outgoing", "bookinfo")].query.promql() == (
        'round(sum(rate(istio_tcp_received_bytes_total{reporter="destination",source_workload_namespace="bookinfo"}'
        f"[600s])) by ({GB_SEC}) > 0,0.001)"
    )


def test_throughput_exact():
    plan = _plan()
    assert plan[("appender/throughput/request/incoming", "bookinfo")].query.promql() == (
        'round(sum(rate(istio_request_bytes_sum{reporter="source",source_workload_namespace!="bookinfo",'
        f'destination_service_namespace="bookinfo"}}[600s])) by ({GB_MSG}) > 0,0.001)'
    )
    assert plan[("appender/throughput/response/outgoing", "bookinfo")].query.promql() == (
        'round(sum(rate(istio_response_bytes_sum{reporter="destination",source_workload_namespace="bookinfo"}'
        f"[600s])) by ({GB_MSG}) > 0,0.001)"
    )


def test_trend_queries_exact_and_range_kind():
    plan = _plan(range_s=3600)
    by = "destination_workload_namespace,destination_workload,destination_service_namespace,destination_service_name"
    req = plan[("trend/requests", "bookinfo")]
    assert (req.kind, req.step) == ("range", 30)
    assert req.query.promql() == (
        'round(sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="bookinfo"}'
        f"[60s])) by ({by}),0.001)"
    )
    assert plan[("trend/errors", "bookinfo")].query.promql() == (
        'round(sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="bookinfo",'
        f'response_code=~"0|4..|5.."}}[60s])) by ({by}),0.001)'
    )
    assert plan[("trend/p95", "bookinfo")].query.promql() == (
        "round(histogram_quantile(0.95, sum(rate(istio_request_duration_milliseconds_bucket"
        '{reporter="destination",destination_workload_namespace="bookinfo"}'
        f"[60s])) by (le,{by})) > 0,0.001)"
    )


def test_trend_step_gives_50_to_200_points():
    for window in (1800, 3600, 6 * 3600, 86400, 2 * 86400, 7 * 86400, 30 * 86400):
        step = Q.trend_step(window)
        assert 50 <= window / step <= 200, (window, step)
        start, end = Q.range_bounds(1_000_000.0, 1_000_000.0 + window, step)
        points = int(round((end - start) / step)) + 1
        assert 50 <= points <= 200
        assert start >= 1_000_000.0 + step - 1e-9 and end == 1_000_000.0 + window
    assert Q.trend_step(7 * 86400) == 7200
    assert Q.trend_step(86400) == 900
    # never below the scrape interval, and the rate range always spans 4 scrapes
    assert Q.trend_step(3600, scrape_interval=60) == 60
    assert Q.trend_rate_range(30, 15) == 60
    assert Q.trend_rate_range(7200, 15) == 7215


def test_plan_grows_with_namespaces_not_workloads_and_keys_are_unique():
    one = Q.collection_plan(["a"], 3600)
    three = Q.collection_plan(["a", "b", "c"], 3600)
    assert len(three) == 3 * len(one)
    keys = [(p.key, p.namespace) for p in three]
    assert len(keys) == len(set(keys))
    per_ns = {p.key for p in one}
    assert len(per_ns) == 15 + 8 + 10 + 4 + 3
    assert {"graph/istio_requests_total/incoming", "appender/responseTime/0.99/outgoing", "trend/p95"} <= per_ns
    assert all(p.kind == "instant" for p in one if not p.key.startswith("trend/"))
    # graph queries are collected idle-inclusive; appender queries keep Kiali's > 0
    for p in one:
        promql = p.query.promql()
        if p.key.startswith("graph/"):
            assert " > 0" not in promql and " [3600s]" in promql
        elif p.key.startswith("appender/"):
            assert promql.endswith(" > 0,0.001)") and "[3600s]" in promql and " [" not in promql


def test_aggregate_queries_only_when_asked_and_exact():
    assert not [k for k, _ in _plan() if k.startswith("appender/aggregate/")]
    plan = _plan(aggregates=["request_operation"])
    assert plan[("appender/aggregate/request_operation/incoming", "bookinfo")].query.promql() == (
        'round(sum(rate(istio_requests_total{reporter="destination",source_workload_namespace!="bookinfo",'
        'destination_service_namespace="bookinfo",request_operation!="unknown",request_operation!=""}[600s])) '
        f"by ({GB_REQ},request_operation) > 0,0.001)"
    )
    assert plan[("appender/aggregate/request_operation/outgoing", "bookinfo")].query.promql() == (
        'round(sum(rate(istio_requests_total{reporter="destination",source_workload_namespace="bookinfo",'
        'request_operation!="unknown",request_operation!=""}[600s])) '
        f"by ({GB_REQ},request_operation) > 0,0.001)"
    )
    assert len(plan) == len(_plan()) + 2
    assert Q.LABEL_NAME.match("request_operation") and not Q.LABEL_NAME.match('x"}')
