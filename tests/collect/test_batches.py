"""Batches: one request for several namespaces answers each namespace's query exactly.

Ground truth offline: the synthetic evaluator answers the batched expression the way Prometheus
would, and `route` must hand every namespace exactly the series its own query returns."""

from __future__ import annotations

from meshreport.collect import queries as Q
from meshreport.collect.batches import make_batches
from meshreport.collect.queries import PlannedQuery
from meshreport.synthetic import meshes
from meshreport.synthetic.evaluate import Evaluator

WINDOW = meshes.BOOKINFO_WINDOW


def _rows(result) -> list:
    return sorted(
        (tuple(sorted(s.labels.items())), s.value if s.points is None else tuple(s.points)) for s in result.series
    )


def test_routed_answers_equal_each_namespace_query():
    mesh = meshes.scalable_mesh(5, 60, seed=2)
    ev = Evaluator(mesh.series())
    plan = Q.collection_plan(list(mesh.namespaces), WINDOW.duration_s, scrape_interval=60)
    batches = make_batches(plan, size=3)
    assert len(batches) == 2 * 40  # five namespaces in requests of three and two
    assert sorted(i for b in batches for i in b.index) == list(range(len(plan)))
    seen = 0
    for b in batches:
        answer = ev.run(PlannedQuery(b.key, None, b.query, b.kind, b.members[0].step), WINDOW)
        got: list[list] = [[] for _ in b.members]
        for s in answer.series:
            for k in b.route(s.labels):
                got[k].append(s)
        for k, pq in enumerate(b.members):
            want = ev.run(pq, WINDOW)
            assert sorted(map(repr, got[k])) == sorted(map(repr, want.series)), (pq.key, pq.namespace)
            seen += len(want.series)
    assert seen > 1000  # the mesh has traffic in every kind of query


def test_merged_promql_names_every_namespace_once():
    plan = Q.collection_plan(["a", "b-2", "c"], 3600, scope={"mesh_id": "m1"})
    by_key = {b.key: b for b in make_batches(plan, size=10)}
    inc = by_key["graph/istio_requests_total/incoming"].promql()
    assert 'destination_workload_namespace=~"a|b-2|c"' in inc and inc.count('mesh_id="m1"') == 1
    uns = by_key["graph/istio_requests_total/unserviced"].promql()
    # the `!=` matcher is checked on the answer (its label is a grouping label), the regexes are joined
    assert "source_workload_namespace!=" not in uns
    assert 'destination_service=~"(?:^.+\\\\.a\\\\..+$)|(?:^.+\\\\.b-2\\\\..+$)|(?:^.+\\\\.c\\\\..+$)"' in uns
    rt = by_key["appender/responseTime/avg/incoming"].promql()
    assert rt.count('destination_service_namespace=~"a|b-2|c"') == 2  # both sides of the ratio
    # a single namespace is sent exactly as planned
    alone = make_batches(plan, size=1)
    assert [b.promql() for b in alone] == [pq.query.promql() for pq in plan]


def test_names_that_need_escaping_are_never_batched():
    plan = Q.collection_plan(["a", "we.ird", "b"], 3600)
    batches = make_batches(plan, size=10)
    odd = [b for b in batches if "we.ird" in b.namespaces]
    assert odd and all(len(b.members) == 1 for b in odd)
    assert all(b.namespaces == ["a", "b"] for b in batches if len(b.members) > 1)


def test_halves_split_down_to_one_namespace():
    plan = Q.collection_plan([f"n{i}" for i in range(5)], 3600)
    b = next(x for x in make_batches(plan, size=5) if x.key == "trend/p95")
    halves = b.halves()
    assert [h.namespaces for h in halves] == [["n0", "n1", "n2"], ["n3", "n4"]]
    assert [h.namespaces for h in halves[1].halves()] == [["n3"], ["n4"]]
    assert halves[1].halves()[0].promql() == b.members[3].query.promql()
