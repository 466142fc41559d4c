"""Configured mTLS held against the window's traffic: shares, the floor, and the three findings."""

from __future__ import annotations

from dataclasses import replace

import pytest

from meshreport.mtls_traffic import FLOOR_REQUESTS, analyse_mtls
from meshreport.synthetic import meshes
from meshreport.synthetic.model import Response
from meshreport.synthetic.mtls_mix import MTLS_WINDOW, mtls_mesh, mtls_objects, mtls_snapshot


def _kinds(a):
    return {(f.kind, f.namespace, f.workload) for f in a.findings}


def test_mixed_mesh_shares_and_findings():
    a = analyse_mtls(mtls_snapshot())
    assert a.traffic_collected and a.auto_mtls
    by_ns = {n.namespace: n for n in a.namespaces}
    assert by_ns["shop"].inbound.request_share == 100.0
    assert by_ns["billing"].inbound.request_share == pytest.approx(400 / 4.5)
    assert by_ns["billing"].inbound.tcp_share == 100.0  # invoices -> ledger over TCP, mTLS
    assert by_ns["payments"].mode.mode == "STRICT"
    assert _kinds(a) == {("ready-for-strict", "shop", None), ("blocks-strict", "billing", "invoices-v1")}
    (ready,) = [f for f in a.findings if f.kind == "ready-for-strict"]
    assert "namespace: shop" in ready.apply and "mode: STRICT" in ready.apply


def _with(mesh, flows, objects=None):
    m = replace(mesh, flows=flows)
    return meshes.snapshot(m, MTLS_WINDOW, objects=objects if objects is not None else mtls_objects(m, MTLS_WINDOW))


def test_plain_text_into_a_strict_workload_will_break():
    m = mtls_mesh()
    charge = next(w for w in m.workloads if w.name == "charge-v1")
    export = next(w for w in m.workloads if w.name == "nightly-export-v1")
    svc = next(s for s in m.services if s.name == "charge")
    flow = replace(m.flows[-1], source=export, service=svc, dest=charge, mtls=False)
    a = analyse_mtls(_with(m, [*m.flows, flow]))
    (brk,) = [f for f in a.findings if f.kind == "will-break"]
    assert (brk.namespace, brk.workload) == ("payments", "charge-v1")
    assert [c.name for c in brk.callers] == ["jobs/nightly-export-v1"]
    assert "PeerAuthentication payments/default" in brk.message


def test_unknown_source_into_a_permissive_workload_is_named_unknown():
    m = mtls_mesh()
    outside = replace(m.flows[0], source=None)  # a client outside the mesh -> shop/web, plain text
    a = analyse_mtls(_with(m, [*m.flows, outside]))
    (blk,) = [f for f in a.findings if f.namespace == "shop"]
    assert blk.kind == "blocks-strict" and [c.name for c in blk.callers] == ["unknown"]


def test_below_the_floor_a_namespace_is_not_called_ready():
    m = mtls_mesh()
    tiny = FLOOR_REQUESTS / 4 / MTLS_WINDOW.duration  # two flows into shop: half the floor over the window
    flows = [
        replace(f, responses=(Response("200", tiny),)) if f.dest and f.dest.namespace == "shop" else f for f in m.flows
    ]
    a = analyse_mtls(_with(m, flows))
    assert ("ready-for-strict", "shop", None) not in _kinds(a)
    assert next(n for n in a.namespaces if n.namespace == "shop").inbound.requests == pytest.approx(
        FLOOR_REQUESTS / 2, rel=0.02
    )


def test_workload_policy_permissive_in_a_blocked_namespace_is_ready_on_its_own():
    m = mtls_mesh()
    objs = mtls_objects(m, MTLS_WINDOW)
    from meshreport.snapshot.model import ConfigObject

    body = {
        "apiVersion": "security.istio.io/v1",
        "kind": "PeerAuthentication",
        "metadata": {"name": "ledger", "namespace": "billing"},
        "spec": {"selector": {"matchLabels": {"app": "ledger"}}, "mtls": {"mode": "PERMISSIVE"}},
    }
    objs.append(ConfigObject("security.istio.io/v1", "PeerAuthentication", "ledger", "billing", body))
    a = analyse_mtls(_with(m, m.flows, objs))
    (ready,) = [f for f in a.findings if f.workload == "ledger-v1"]
    assert ready.kind == "ready-for-strict" and "app: ledger" in ready.apply and "name: ledger" in ready.apply


def test_without_security_policy_results_only_the_config_is_shown():
    snap = mtls_snapshot()
    snap.queries = [q for q in snap.queries if not q.key.startswith("appender/securityPolicy/")]
    a = analyse_mtls(snap)
    assert not a.traffic_collected and a.findings == []
    assert {n.namespace: n.mode.mode for n in a.namespaces}["payments"] == "STRICT"


def test_will_break_is_a_warning_when_a_port_of_the_strict_workload_accepts_plain_text():
    from meshreport.snapshot.model import ConfigObject

    m = mtls_mesh()
    charge = next(w for w in m.workloads if w.name == "charge-v1")
    export = next(w for w in m.workloads if w.name == "nightly-export-v1")
    svc = next(s for s in m.services if s.name == "charge")
    flow = replace(m.flows[-1], source=export, service=svc, dest=charge, mtls=False)
    plain = _with(m, [*m.flows, flow])
    assert next(f for f in analyse_mtls(plain).findings if f.kind == "will-break").severity == "error"
    body = {
        "apiVersion": "security.istio.io/v1",
        "kind": "PeerAuthentication",
        "metadata": {"name": "charge", "namespace": "payments"},
        "spec": {"selector": {"matchLabels": {"app": "charge"}}, "portLevelMtls": {"8080": {"mode": "PERMISSIVE"}}},
    }
    plain.objects.append(ConfigObject("security.istio.io/v1", "PeerAuthentication", "charge", "payments", body))
    (brk,) = [f for f in analyse_mtls(plain).findings if f.kind == "will-break"]
    assert brk.severity == "warning" and brk.plaintext_ports == (8080,) and "port 8080" in brk.message
    assert (brk.code, brk.object_kind) == ("MR0103", "Deployment")
