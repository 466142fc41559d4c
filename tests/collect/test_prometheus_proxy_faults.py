"""Fault injection between meshreport and a real Prometheus (tests/helpers/fault_proxy.py).

Bookinfo's hour is backfilled into a real Prometheus; a proxy in front of it answers some
queries the way failing servers and middleboxes do. Each case asserts the exit code, the one
line on stderr and that what could be collected was kept (the snapshot is written with the
`bookinfo` namespace's series) or, when nothing could be, that nothing was written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from meshreport.cli import main
from meshreport.snapshot import store
from meshreport.synthetic import meshes

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared helpers package
from helpers.fault_proxy import FaultProxy  # noqa: E402
from helpers.hang import FAULT_SECONDS, no_hang  # noqa: E402
from helpers.prometheus import backfill, running_prometheus  # noqa: E402

WINDOW = meshes.BOOKINFO_WINDOW
END = str(int(WINDOW.end))


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    work = tmp_path_factory.mktemp("bookinfo-prom")
    om = work / "mesh.om"
    meshes.write_openmetrics(meshes.bookinfo_mesh(), om, WINDOW.start, WINDOW.end, step=60, preroll=120)
    backfill(om, work / "data")
    with running_prometheus(None, work) as url:
        yield url


def run(argv: list[str], capsys) -> tuple[int, str]:
    """The command's exit code and stderr; fails (tests/helpers/hang.py) if it outlives NO_HANG."""
    with no_hang(), pytest.raises(SystemExit) as ei:
        main(argv)
    return ei.value.code, capsys.readouterr().err


def snapshot_argv(url: str, out: Path, *more: str) -> list[str]:
    return [
        "snapshot", "--prometheus", url, "--window", "1h", "--end", END, "-n", "bookinfo,istio-system",
        "--no-config", "-o", str(out), "--prometheus-retry-backoff", "0.01", "--prometheus-retries", "0",
        "--prometheus-timeout", "2s", "-q", *more,
    ]  # fmt: skip


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("meshreport: error:")]


def istio_system_requests(mode: str):
    """The fault for the request-count queries of istio-system; everything else passes through."""

    def rule(path: str, params: dict[str, str]) -> str | None:
        q = params.get("query", "")
        return (
            mode if path.startswith("/api/v1/query") and "istio-system" in q and "istio_requests_total" in q else None
        )

    return rule


def everything(mode: str):
    return lambda path, params: mode


#: (fault, extra flags, environment, gap reason expected)
GAP_CASES = [
    ("trickle", [], {}, "no complete answer within the request deadline (2s)"),
    ("trickle-headers", [], {}, "no complete answer within the request deadline (2s)"),
    ("hang", [], {}, "no complete answer within the request deadline (2s)"),
    ("reset", [], {}, "connection"),
    ("500", [], {}, "HTTP 500: injected failure"),
    ("not-json", [], {}, "answer is not JSON (application/json"),
    ("bad-items", [], {}, "malformed answer: result item 0 is a int, not a series"),
    ("huge", [], {"MESHREPORT_MAX_RESPONSE_MB": "1"}, "answer larger than 1 MB (MESHREPORT_MAX_RESPONSE_MB)"),
    ("html", [], {}, "answer is not JSON (text/html): <html><body><form>Sign in</form></body></html>"),
    ("redirect-loop", [], {}, "redirects"),
]


@pytest.mark.parametrize("mode,flags,env,reason", GAP_CASES, ids=[c[0] for c in GAP_CASES])
def test_a_failing_query_is_a_gap_and_the_rest_is_kept(
    prometheus, tmp_path, capsys, monkeypatch, mode, flags, env, reason
):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    out = tmp_path / "s.mrsnap"
    with FaultProxy(prometheus, istio_system_requests(mode), trickle_seconds=0.3, hang_seconds=FAULT_SECONDS) as proxy:
        code, err = run(snapshot_argv(proxy.url, out, "--max-gaps", "0", *flags), capsys)
    assert code == 4, err
    [line] = error_lines(err)
    assert "more than --max-gaps 0" in line and "the snapshot was still written" in line
    assert "Traceback" not in err
    snap = store.read(out)
    gaps = [g for g in snap.gaps if g.phase == "metrics"]
    assert gaps and {g.namespace for g in gaps} == {"istio-system"}
    assert all(reason in g.reason for g in gaps), gaps[0].reason
    assert all("\n" not in g.reason for g in gaps)
    # everything else was kept: every bookinfo query, with bookinfo's traffic in it
    kept = [q for q in snap.queries if q.namespace == "bookinfo"]
    assert len(kept) == 40 and sum(len(q.series) for q in kept if q.key.startswith("graph/")) > 0
    assert any(q.namespace == "istio-system" for q in snap.queries)


def test_the_run_deadline_ends_a_collection_and_keeps_what_was_collected(prometheus, tmp_path, capsys):
    out = tmp_path / "s.mrsnap"
    with FaultProxy(prometheus, istio_system_requests("hang"), hang_seconds=FAULT_SECONDS) as proxy:
        code, err = run(
            # one request per namespace: a request for both that hangs until the run's deadline
            # would take bookinfo's answers with it
            snapshot_argv(
                proxy.url,
                out,
                "--prometheus-timeout",
                "60s",
                "--deadline",
                "4s",
                "--max-gaps",
                "0",
                "--batch-namespaces",
                "1",
            ),
            capsys,
        )
    assert code == 4, err
    assert len(error_lines(err)) == 1
    snap = store.read(out)
    gaps = [g for g in snap.gaps if g.phase == "metrics"]
    assert gaps and all("the run's deadline (4s)" in g.reason for g in gaps)
    assert len([q for q in snap.queries if q.namespace == "bookinfo"]) == 40


@pytest.mark.parametrize(
    "mode,message",
    [
        ("trickle-headers", "cannot reach Prometheus at http://127.0.0.1"),
        ("redirect-loop", "Exceeded 5 redirects"),
        ("hang", "no complete answer within the request deadline (2s)"),
    ],
)
def test_an_endpoint_failing_from_the_start_is_one_line_and_exit_5(prometheus, tmp_path, capsys, mode, message):
    out = tmp_path / "s.mrsnap"
    with FaultProxy(prometheus, everything(mode), trickle_seconds=0.3, hang_seconds=FAULT_SECONDS) as proxy:
        code, err = run(snapshot_argv(proxy.url, out), capsys)
    assert code == 5, err
    [line] = error_lines(err)
    assert message in line
    assert "Traceback" not in err and not out.exists()


def test_https_to_a_plain_http_server_is_a_tls_error(prometheus, tmp_path, capsys):
    out = tmp_path / "s.mrsnap"
    with FaultProxy(prometheus) as proxy:
        code, err = run(snapshot_argv(proxy.url.replace("http://", "https://"), out), capsys)
    assert code == 5, err
    [line] = error_lines(err)
    assert "TLS error" in line and not out.exists()


def test_live_render_honours_max_gaps(prometheus, tmp_path, capsys, monkeypatch):
    """`render --prometheus` used to ignore MESHREPORT_MAX_GAPS: the report is written, then exit 4."""
    monkeypatch.setenv("MESHREPORT_MAX_GAPS", "0")
    out = tmp_path / "report"
    with FaultProxy(prometheus, istio_system_requests("500")) as proxy:
        argv = [
            "render", "--prometheus", proxy.url, "--window", "1h", "--end", END, "-n", "bookinfo,istio-system",
            "--prometheus-retries", "0", "--no-pdf", "-o", str(out),
        ]  # fmt: skip
        code, err = run(argv, capsys)
    assert code == 4, err
    [line] = error_lines(err)
    assert "more than --max-gaps 0" in line and "the report was still written" in line
    assert (out / "index.html").is_file()


def test_graph_exports_of_a_snapshot_with_gaps_say_so(prometheus, tmp_path, capsys):
    snap_path = tmp_path / "s.mrsnap"
    with FaultProxy(prometheus, istio_system_requests("500")) as proxy:
        code, err = run(snapshot_argv(proxy.url, snap_path), capsys)
    assert code == 0, err
    gaps = [g for g in store.read(snap_path).gaps if g.phase == "metrics"]
    for fmt in ("json", "cytoscape", "dot"):
        out = tmp_path / f"g.{fmt}"
        code, err = run(["graph", str(snap_path), "--format", fmt, "-o", str(out)], capsys)
        assert code == 0, err
        notes = [line for line in err.splitlines() if line.startswith("meshreport: note:")]
        assert len(notes) == 1 and f"the snapshot has {len(gaps)} gap(s)" in notes[0] and "HTTP 500" in notes[0]
        text = out.read_text()
        if fmt == "dot":
            assert text.startswith(f"// incomplete: the snapshot has {len(gaps)} gap(s)")
        else:
            listed = json.loads(text)["gaps"]
            assert len(listed) == len(gaps) and {g["namespace"] for g in listed} == {"istio-system"}
            assert all("HTTP 500" in g["reason"] for g in listed)
    # live: MESHREPORT_MAX_GAPS applies, after the graph is written
    with FaultProxy(prometheus, istio_system_requests("500")) as proxy:
        argv = [
            "graph", "--prometheus", proxy.url, "--window", "1h", "--end", END, "-n", "bookinfo,istio-system",
            "--prometheus-retries", "0", "--max-gaps", "0", "-o", str(tmp_path / "live.json"),
        ]  # fmt: skip
        code, err = run(argv, capsys)
    assert code == 4 and "the graph was still written" in err
    assert json.loads((tmp_path / "live.json").read_text())["gaps"]
