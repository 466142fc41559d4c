"""A failing Kubernetes API (the stub's fault modes) through the real `kubernetes` client.

Pagination that loops or expires, 401 everywhere or from the middle of a run, 403 for some,
a list that hangs or trickles, malformed and huge lists. Each must end as a gap that keeps what
was listed, or (when nothing can be used) as one line and exit 5 -- and never hang. The
command-level cases run `meshreport snapshot` against a real Prometheus holding bookinfo's hour,
so "what was collected is kept" includes the metrics.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared helpers package

from helpers.hang import FAULT_SECONDS, no_hang  # noqa: E402
from helpers.k8s_stub import StubCluster, StubServer, write_kubeconfig  # noqa: E402
from helpers.prometheus import backfill, running_prometheus  # noqa: E402
from test_kubernetes import collect, fixture_objects  # noqa: E402

from meshreport.cli import main  # noqa: E402
from meshreport.collect.kubernetes import MAX_RELISTS  # noqa: E402
from meshreport.snapshot import store  # noqa: E402
from meshreport.synthetic import meshes  # noqa: E402

WINDOW = meshes.BOOKINFO_WINDOW
END = str(int(WINDOW.end))


def stub(**kw) -> StubCluster:
    return StubCluster(objects=fixture_objects(), **kw)


def config_gaps(gaps, what: str | None = None):
    return [g for g in gaps if g.phase == "config" and (what is None or g.what == what)]


# --- pagination ---------------------------------------------------------------------------------


def test_a_continue_token_seen_before_stops_the_list_and_keeps_its_pages():
    cluster = stub(faults={"services": "continue-loop"})
    with no_hang():  # the stub repeats its token forever
        r = collect(cluster, page_size=2)
    [gap] = config_gaps(r.gaps, "services")
    assert "pagination loop" in gap.reason and "kept" in gap.reason
    assert r.counts["services"] == 3  # both pages kept, the object on both once
    service_lists = [q for q in cluster.requests if q.path == "/api/v1/services"]
    assert len(service_lists) == 2  # the second page sent the token again: stop
    assert r.counts["pods"] > 0  # the rest of the cluster was still collected


def test_410_on_a_continue_token_relists_from_the_start():
    complete = collect(stub(), page_size=1).counts["services"]
    cluster = stub(faults={"services": "gone"}, gone_times=1)
    r = collect(cluster, page_size=1)
    assert not config_gaps(r.gaps, "services")
    assert r.counts["services"] == complete  # the whole list, not the first page
    starts = [q for q in cluster.requests if q.path == "/api/v1/services" and "continue" not in q.query]
    assert len(starts) == 2


def test_410_every_time_is_bounded_and_a_gap():
    cluster = stub(faults={"services": "gone-always"})
    r = collect(cluster, page_size=1)
    [gap] = config_gaps(r.gaps, "services")
    assert f"expired (410 Gone) {MAX_RELISTS + 1} times" in gap.reason
    starts = [q for q in cluster.requests if q.path == "/api/v1/services" and "continue" not in q.query]
    assert len(starts) == MAX_RELISTS + 1
    assert r.counts["services"] == 1  # the last attempt's first page


def test_a_later_page_failing_keeps_the_first_pages():
    r = collect(stub(faults={"pods": "500-later"}), page_size=2)
    [gap] = config_gaps(r.gaps, "pods")
    assert gap.reason.startswith("list incomplete after 2 objects: HTTP 500")
    assert r.counts["pods"] == 2


def test_malformed_items_are_skipped_with_a_gap():
    complete = collect(stub()).counts["services"]
    r = collect(stub(faults={"services": "malformed"}))
    [gap] = config_gaps(r.gaps, "services")
    assert gap.reason.startswith("4 malformed list item(s) skipped")
    assert r.counts["services"] == complete


def test_an_api_server_gone_mid_run_is_one_gap_and_keeps_what_was_listed():
    cluster = stub(reset_after=10)
    with no_hang():
        r = collect(cluster)
    [gap] = config_gaps(r.gaps, "cluster")
    assert gap.reason.startswith("the API server stopped answering (3 requests in a row: connection")
    assert "; not collected: " in gap.reason and "and every kind after it" in gap.reason
    assert r.objects and r.counts["namespaces"] > 0  # listed before it went away
    assert len(cluster.requests) == 10 + 3  # three tries without an answer, then no more


# --- the command: exit codes, one line, metrics kept ----------------------------------------------


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    work = tmp_path_factory.mktemp("bookinfo-prom-k8s")
    om = work / "mesh.om"
    meshes.write_openmetrics(meshes.bookinfo_mesh(), om, WINDOW.start, WINDOW.end, step=60, preroll=120)
    backfill(om, work / "data")
    with running_prometheus(None, work) as url:
        yield url


def snapshot(prometheus: str, cluster: StubCluster, tmp_path: Path, capsys, *more: str) -> tuple[int, str]:
    """`meshreport snapshot` against the stub; fails (tests/helpers/hang.py) if it outlives NO_HANG."""
    out = tmp_path / "s.mrsnap"
    with StubServer(cluster) as s:
        kc = write_kubeconfig(tmp_path / "kc", {"prod": (s.url, "t")})
        argv = [
            "snapshot", "--prometheus", prometheus, "--window", "1h", "--end", END, "-n", "bookinfo", "-q",
            "--context", "prod", "--kubeconfig", str(kc), "-o", str(out), *more,
        ]  # fmt: skip
        with no_hang(), pytest.raises(SystemExit) as ei:
            main(argv)
    return ei.value.code, capsys.readouterr().err


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("meshreport: error:")]


def metrics_kept(path: Path) -> bool:
    snap = store.read(path)
    return len(snap.queries) == 40 and sum(len(q.series) for q in snap.queries if q.key.startswith("graph/")) > 0


#: (stub settings, extra flags, environment, the gap's `what`, a part of its reason)
GAP_CASES = {
    "slow-list": ({"faults": {"pods": "hang"}, "hang_seconds": FAULT_SECONDS}, ["--kubernetes-timeout", "1s"], {},
                  "pods", "no complete answer within the request deadline (1s)"),
    "trickling-list": ({"faults": {"services": "trickle"}, "trickle_seconds": 0.3}, ["--kubernetes-timeout", "1s"],
                       {}, "services", "no complete answer within the request deadline (1s)"),
    "continue-loop": ({"faults": {"pods": "continue-loop"}}, [], {}, "pods", "pagination loop"),
    "401-mid-run": ({"unauthorized_after": 12}, [], {}, "cluster", "refused the credentials (HTTP 401"),
    "403-some": ({"forbidden_namespaces": {"bookinfo"}}, [], {}, "namespace/bookinfo", "forbidden (403)"),
    "malformed-list": ({"faults": {"services": "malformed"}}, [], {}, "services", "malformed list item(s) skipped"),
    "huge-list": ({"faults": {"pods": "huge"}, "huge_bytes": 3 * 1024 * 1024}, [],
                  {"MESHREPORT_MAX_RESPONSE_MB": "2"}, "pods", "answer larger than 2 MB"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(GAP_CASES))
def test_a_failing_list_is_a_gap_and_the_metrics_and_other_config_are_kept(
    prometheus, tmp_path, capsys, monkeypatch, case
):
    knobs, flags, env, what, reason = GAP_CASES[case]
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    code, err = snapshot(prometheus, stub(**knobs), tmp_path, capsys, "--max-gaps", "0", *flags)
    assert code == 4, err
    [line] = error_lines(err)
    assert "more than --max-gaps 0" in line and "Traceback" not in err
    snap = store.read(tmp_path / "s.mrsnap")
    gaps = config_gaps(snap.gaps, what)
    assert gaps and reason in gaps[0].reason, snap.gaps
    assert metrics_kept(tmp_path / "s.mrsnap")
    assert any(o.kind == "Deployment" for o in snap.objects)  # the config that could be listed


def test_one_slow_list_costs_one_deadline_not_four_timeouts(prometheus, tmp_path, capsys):
    cluster = stub(faults={"pods": "hang"}, hang_seconds=FAULT_SECONDS)
    code, err = snapshot(prometheus, cluster, tmp_path, capsys, "--kubernetes-timeout", "2s")
    assert code == 0, err
    # bookinfo, istio-system: once each, no retry after the deadline
    assert len([q for q in cluster.requests if q.path.endswith("/pods")]) == 2


def test_credentials_refused_on_every_call_is_exit_5(prometheus, tmp_path, capsys):
    code, err = snapshot(prometheus, stub(tokens={"other"}), tmp_path, capsys)
    assert code == 5, err
    [line] = error_lines(err)
    assert "Kubernetes API of cluster prod refused the credentials (HTTP 401" in line
    assert not (tmp_path / "s.mrsnap").exists()


def test_the_run_deadline_covers_the_kubernetes_api_too(prometheus, tmp_path, capsys):
    cluster = stub(faults={"pods": "hang"}, hang_seconds=FAULT_SECONDS)
    code, err = snapshot(
        prometheus, cluster, tmp_path, capsys, "--kubernetes-timeout", "60s", "--deadline", "6s", "--max-gaps", "0"
    )
    assert code == 4, err
    snap = store.read(tmp_path / "s.mrsnap")
    [gap] = config_gaps(snap.gaps, "cluster")
    assert "run's deadline (6s)" in gap.reason and "not collected: pods" in gap.reason
    assert metrics_kept(tmp_path / "s.mrsnap")


def test_a_token_the_api_server_echoes_never_reaches_a_gap_or_stderr(prometheus, tmp_path, capsys):
    token = "k8s-s3cr3t-token-value"
    cluster = stub(forbidden_resources={"customresourcedefinitions"}, echo_auth=True)
    out = tmp_path / "s.mrsnap"
    with StubServer(cluster) as s:
        kc = write_kubeconfig(tmp_path / "kc", {"prod": (s.url, token)})
        argv = [
            "snapshot", "--prometheus", prometheus, "--window", "1h", "--end", END, "-n", "bookinfo",
            "--context", "prod", "--kubeconfig", str(kc), "-o", str(out), "--max-gaps", "0",
        ]  # fmt: skip
        with pytest.raises(SystemExit) as ei:
            main(argv)
    err = capsys.readouterr().err
    assert ei.value.code == 4, err
    [gap] = config_gaps(store.read(out).gaps, "customresourcedefinitions.apiextensions.k8s.io")
    assert "HTTP 403" in gap.reason and "Authorization: Bearer ***" in gap.reason
    import gzip

    assert token not in err and token not in gzip.decompress(out.read_bytes()).decode()
    assert any(token in q.authorization for q in cluster.requests)
    # refused credentials echoed back: the one line of exit 5 does not carry them either
    cluster = stub(tokens={"other"}, echo_auth=True)
    with StubServer(cluster) as s:
        kc = write_kubeconfig(tmp_path / "kc", {"prod": (s.url, token)})
        with pytest.raises(SystemExit) as ei:
            main([*argv[:-2], "--kubeconfig", str(kc)])
    err = capsys.readouterr().err
    assert ei.value.code == 5 and "refused the credentials" in err and "Bearer ***" in err
    assert token not in err


@pytest.mark.parametrize("flag", ["--kubernetes-timeout", "--deadline", "--prometheus-timeout"])
def test_a_deadline_of_zero_is_a_usage_error_before_anything_is_asked(tmp_path, capsys, flag):
    argv = ["snapshot", "--prometheus", "http://127.0.0.1:9", "-n", "x", "-o", str(tmp_path / "s.mrsnap"), flag, "0s"]
    with pytest.raises(SystemExit) as ei:
        main(argv)
    err = capsys.readouterr().err
    assert ei.value.code == 2, err
    [line] = error_lines(err)
    assert f"{flag} must be more than 0" in line
