"""Fault handling of the Prometheus collector against small local HTTP servers.

Nothing listening, 500 for one namespace, answers after the timeout, 401/403, TLS: each must end
as a gap (collection goes on) or as one line with exit code 5 -- and never leak a secret.
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared helpers package

from helpers.hang import FAULT_SECONDS, no_hang  # noqa: E402

from meshreport.cli import main  # noqa: E402
from meshreport.snapshot import store

TOKEN = "s3cr3t-token-value"
PASSWORD = "pa55-word-value"
TENANT = "tenant-secret-id"
END = "1704074400"  # 2024-01-01T02:00:00Z


class Stub:
    """A Prometheus API look-alike. `rule(path, params, headers)` may return (status, body, delay)."""

    def __init__(
        self, rule=None, scrape_interval: str | None = "15s", series_for=None, tls: ssl.SSLContext | None = None
    ):
        self.rule = rule
        self.scrape_interval = scrape_interval
        self.series_for = series_for or (lambda promql: [])
        self.requests: list[tuple[str, dict, dict]] = []
        self.inflight = 0
        self.max_inflight = 0
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                params = {k: v if len(v) > 1 else v[0] for k, v in parse_qs(parts.query).items()}
                headers = dict(self.headers)
                with stub.lock:
                    stub.requests.append((parts.path, params, headers))
                    stub.inflight += 1
                    stub.max_inflight = max(stub.max_inflight, stub.inflight)
                try:
                    status, body, delay = stub.answer(parts.path, params, headers)
                    if delay:
                        time.sleep(delay)
                    data = json.dumps(body).encode()
                    try:
                        self.send_response(status)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Content-Length", str(len(data)))
                        self.end_headers()
                        self.wfile.write(data)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                finally:
                    with stub.lock:
                        stub.inflight -= 1

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, path, params, headers):
        if self.rule is not None:
            got = self.rule(path, params, headers)
            if got is not None:
                return got
        ok = lambda data: (200, {"status": "success", "data": data}, 0)  # noqa: E731
        if path == "/api/v1/status/buildinfo":
            return ok({"version": "2.42.0-stub"})
        if path == "/api/v1/status/config":
            if self.scrape_interval is None:
                return 404, {"status": "error", "error": "not found"}, 0
            return ok({"yaml": f"global:\n  scrape_interval: {self.scrape_interval}\n"})
        if path.startswith("/api/v1/label/"):
            return ok(["bookinfo", "shop", "unknown"] if "namespace" in path else ["istio_requests_total"])
        if path == "/api/v1/query":
            series = self.series_for(params["query"])
            return ok({"resultType": "vector", "result": [{"metric": m, "value": [float(END), v]} for m, v in series]})
        if path == "/api/v1/query_range":
            series = self.series_for(params["query"])
            result = [{"metric": m, "values": [[float(END), v]]} for m, v in series]
            return ok({"resultType": "matrix", "result": result})
        return 404, {"status": "error", "error": "no such path"}, 0

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def queries(self, ns: str | None = None) -> list[str]:
        return [
            p["query"]
            for path, p, _ in self.requests
            if path.startswith("/api/v1/query") and (ns is None or f'"{ns}"' in p["query"])
        ]


def one_series(promql: str):
    return [({"destination_workload": "reviews-v1"}, "1.5")]


def run(argv: list[str], capsys) -> tuple[int, str]:
    """The command's exit code and stderr; fails (tests/helpers/hang.py) if it outlives NO_HANG."""
    with no_hang(), pytest.raises(SystemExit) as ei:
        main(argv)
    return ei.value.code, capsys.readouterr().err


def base(url: str, out, *more: str) -> list[str]:
    return [
        "snapshot",
        "--prometheus",
        url,
        "--window",
        "1h",
        "--end",
        END,
        "-o",
        str(out),
        "--prometheus-retry-backoff",
        "0.01",
        *more,
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_nothing_listening_is_one_line_and_exit_5(tmp_path, capsys):
    out = tmp_path / "s.mrsnap"
    code, err = run(base(f"http://127.0.0.1:{free_port()}", out, "-n", "bookinfo"), capsys)
    assert code == 5
    lines = [line for line in err.splitlines() if line.startswith("meshreport: error:")]
    assert len(lines) == 1 and "cannot reach Prometheus" in lines[0] and "connection refused" in lines[0]
    assert "Traceback" not in err
    assert not out.exists()


def test_500_for_one_namespace_becomes_gaps_and_collection_goes_on(tmp_path, capsys):
    def rule(path, params, headers):
        if path.startswith("/api/v1/query") and "shop" in params["query"]:  # alone or in a batch
            # The error body echoes the auth header: the collector must not repeat it.
            return 500, {"status": "error", "errorType": "internal", "error": f"boom {headers.get('Authorization')}"}, 0
        return None

    out = tmp_path / "s.mrsnap"
    with Stub(rule, series_for=one_series) as stub:
        code, err = run(base(stub.url, out, "-n", "bookinfo,shop", "--prometheus-token", TOKEN), capsys)
    assert code == 0, err
    snap = store.read(out)
    metric_gaps = [g for g in snap.gaps if g.phase == "metrics"]
    planned = len(stub.queries("bookinfo"))
    assert {g.namespace for g in metric_gaps} == {"shop"}
    assert len(metric_gaps) == planned == 40
    assert all("HTTP 500" in g.reason and "after 3 attempts" in g.reason for g in metric_gaps)
    assert all(TOKEN not in g.reason and "***" in g.reason for g in metric_gaps)
    # default retries=2: each request for both namespaces was tried three times, then split in
    # halves: every shop query alone was tried three times, bookinfo ones once
    assert len(stub.queries("shop")) == 3 * 40
    assert len([q for q in stub.queries() if "bookinfo|shop" in q or "(?:" in q]) == 3 * 40
    assert {q.namespace for q in snap.queries} == {"bookinfo"} and len(snap.queries) == 40
    assert all(len(q.series) == 1 for q in snap.queries)
    assert any(g.phase == "config" for g in snap.gaps)
    assert TOKEN.encode() not in out.read_bytes() and TOKEN not in err
    # the stub saw the token on every request
    assert all(h.get("Authorization") == f"Bearer {TOKEN}" for _, _, h in stub.requests)


def test_max_gaps_exceeded_exits_4_and_still_writes(tmp_path, capsys):
    def rule(path, params, headers):
        if path.startswith("/api/v1/query") and "shop" in params["query"] and "trend" not in path:
            if "histogram_quantile(0.99" in params["query"]:
                return 503, {"status": "error", "errorType": "unavailable", "error": "overloaded"}, 0
        return None

    out = tmp_path / "s.mrsnap"
    with Stub(rule) as stub:
        code, err = run(base(stub.url, out, "-n", "bookinfo,shop", "--max-gaps", "1"), capsys)
        assert code == 4, err
        assert "2 gaps, more than --max-gaps 1" in err
        snap = store.read(out)
        assert sorted(g.what for g in snap.gaps if g.phase == "metrics") == [
            "appender/responseTime/0.99/incoming",
            "appender/responseTime/0.99/outgoing",
        ]
        code, err = run(base(stub.url, out, "-n", "bookinfo,shop", "--max-gaps", "2"), capsys)
        assert code == 0, err


def test_answer_after_timeout_becomes_gap(tmp_path, capsys):
    def rule(path, params, headers):
        if path.startswith("/api/v1/query") and "slow" in params["query"] and "istio_requests_total" in params["query"]:
            return 200, {"status": "success", "data": {"resultType": "vector", "result": []}}, FAULT_SECONDS
        return None

    out = tmp_path / "s.mrsnap"
    with Stub(rule) as stub:
        code, err = run(
            base(stub.url, out, "-n", "slow,fast", "--prometheus-timeout", "0.3", "--prometheus-retries", "1"), capsys
        )
    assert code == 0, err
    snap = store.read(out)
    gaps = [g for g in snap.gaps if g.phase == "metrics"]
    assert gaps and {g.namespace for g in gaps} == {"slow"}
    assert all("request deadline (0.3s)" in g.reason or "0.3s timeout" in g.reason for g in gaps)
    assert {g.what for g in gaps} >= {"graph/istio_requests_total/incoming", "trend/requests"}
    assert all(q.namespace == "fast" or "istio_requests_total" not in q.promql for q in snap.queries)
    # the per-query timeout is also passed to Prometheus (and `run` proved no answer was waited for)
    assert all(p.get("timeout") == "0.3s" for path, p, _ in stub.requests if path == "/api/v1/query")


@pytest.mark.parametrize("status", [401, 403])
def test_unauthorized_is_one_line_exit_5_without_secret(tmp_path, capsys, status):
    def rule(path, params, headers):
        return status, {"status": "error", "error": f"denied {headers.get('Authorization')}"}, 0

    out = tmp_path / "s.mrsnap"
    with Stub(rule) as stub:
        code, err = run(
            base(stub.url, out, "-A", "--prometheus-username", "alice", "--prometheus-password", PASSWORD), capsys
        )
    assert code == 5
    assert f"HTTP {status}" in err and "Traceback" not in err
    assert PASSWORD not in err
    assert len([line for line in err.splitlines() if "error:" in line]) == 1
    assert not out.exists()


def test_401_on_queries_after_good_probe_stops_the_run(tmp_path, capsys):
    def rule(path, params, headers):
        if path.startswith("/api/v1/query"):
            return 401, {"status": "error", "error": "token expired"}, 0
        return None

    out = tmp_path / "s.mrsnap"
    with Stub(rule) as stub:
        code, err = run(base(stub.url, out, "-n", "bookinfo", "--concurrency", "2"), capsys)
    assert code == 5 and "HTTP 401" in err
    assert len(stub.queries()) < 40  # stopped early instead of 40 x retries


def test_headers_scope_env_and_concurrency_limit(tmp_path, capsys, monkeypatch):
    def rule(path, params, headers):
        if path.startswith("/api/v1/query"):
            return (200, {"status": "success", "data": {"resultType": "vector", "result": []}}, 0.02)
        return None

    monkeypatch.setenv("MESHREPORT_PROMETHEUS_CUSTOM_HEADERS", f"X-Scope-OrgID={TENANT}")
    monkeypatch.setenv("MESHREPORT_PROMETHEUS_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("MESHREPORT_PROMETHEUS_CONCURRENCY", "3")
    out = tmp_path / "s.mrsnap"
    with Stub(rule) as stub:
        code, err = run(base(stub.url, out, "-A", "--query-scope", "mesh_id=mesh-1"), capsys)
    assert code == 0, err
    assert 1 < stub.max_inflight <= 3
    assert all(
        h.get("X-Scope-OrgID") == TENANT and h.get("Authorization") == f"Bearer {TOKEN}" for _, _, h in stub.requests
    )
    queries = stub.queries()
    # discovered bookinfo and shop ("unknown" is not a namespace), both answered by one request per query
    assert len(queries) == 40 and all("bookinfo|shop" in q or "(?:" in q for q in queries)
    assert all(q.count("{") == q.count('{mesh_id="mesh-1",') for q in queries)
    label_calls = [p for path, p, _ in stub.requests if path.startswith("/api/v1/label/")]
    assert label_calls and all('mesh_id="mesh-1"' in str(p["match[]"]) for p in label_calls)
    raw = out.read_bytes()
    snap = store.read(out)
    assert snap.namespaces == ["bookinfo", "shop"]
    assert TENANT not in err and TOKEN not in err
    import gzip

    text = gzip.decompress(raw).decode()
    assert TENANT not in text and TOKEN not in text


def test_window_shorter_than_two_scrapes_is_refused(tmp_path, capsys):
    out = tmp_path / "s.mrsnap"
    with Stub(scrape_interval="1m") as stub:
        code, err = run(base(stub.url, out, "-n", "bookinfo") + ["--window", "90s"], capsys)
        assert code == 2
        assert "shorter than twice the scrape interval (60s, read from Prometheus)" in err
        assert "--window 120s" in err
        assert not stub.queries()
    with Stub(scrape_interval=None) as stub:
        code, err = run(base(stub.url, out, "-n", "bookinfo") + ["--window", "20s"], capsys)
        assert code == 2 and "(15s, assumed; Prometheus did not tell it)" in err
        code, err = run(base(stub.url, out, "-n", "bookinfo") + ["--window", "20s", "--scrape-interval", "5s"], capsys)
        assert code == 0, err
        assert store.read(out).collector["metrics"]["scrape_interval_source"] == "setting"


def test_no_istio_metrics_is_a_diagnostic_with_causes(tmp_path, capsys):
    def rule(path, params, headers):
        if path.startswith("/api/v1/label/"):
            return 200, {"status": "success", "data": []}, 0
        return None

    out = tmp_path / "s.mrsnap"
    with Stub(rule) as stub:
        code, err = run(base(stub.url, out, "-A"), capsys)
        assert code == 0, err
        snap = store.read(out)
        assert snap.namespaces == [] and snap.queries == []
        [d] = snap.diagnostics
        assert d.code == "no-istio-metrics" and len(d.causes) == 4
        assert any("sidecar" in c for c in d.causes) and any("relabel" in c for c in d.causes)
        # named namespaces with istio metrics elsewhere: a different diagnostic
        code, err = run(base(stub.url, out, "-n", "bookinfo"), capsys)
    snap = store.read(out)
    assert [d.code for d in snap.diagnostics] == ["no-istio-metrics"]


def test_records_queries_window_source_and_warnings(tmp_path, capsys):
    def rule(path, params, headers):
        if path == "/api/v1/query" and "trend" not in params["query"] and "istio_tcp_sent" in params["query"]:
            body = {
                "status": "success",
                "warnings": ["partial response: store eu-1 unavailable"],
                "data": {"resultType": "vector", "result": [{"metric": {"a": "b"}, "value": [1, "NaN"]}]},
            }
            return 200, body, 0
        return None

    out = tmp_path / "s.mrsnap"
    with Stub(rule, series_for=one_series) as stub:
        code, err = run(
            base("http://bob:" + PASSWORD + "@" + stub.url[len("http://") :], out, "-n", "bookinfo"), capsys
        )
        sent = stub.requests
    assert code == 0, err
    snap = store.read(out)
    assert snap.window.end == float(END) and snap.window.duration == 3600
    assert snap.source.kind == "prometheus" and snap.source.prometheus_url == stub.url
    assert snap.source.versions == {"prometheus": "2.42.0-stub"}
    assert all(h.get("Authorization", "").startswith("Basic ") for _, _, h in sent)
    by_key = {q.key: q for q in snap.queries}
    inc = by_key["graph/istio_requests_total/incoming"]
    assert inc.kind == "instant" and inc.time == float(END) and inc.promql.startswith("round(sum(rate(")
    assert inc.series[0].value == 1.5
    trend = by_key["trend/requests"]
    assert trend.kind == "range" and trend.step == 30 and trend.start == float(END) - 3600 + 30
    assert trend.series[0].points == [(float(END), 1.5)]
    warned = [q for q in snap.queries if "warnings" in q.params]
    assert {q.key for q in warned} == {
        f"graph/istio_tcp_sent_bytes_total/{r}" for r in ("unserviced", "incoming", "outgoing")
    } | {f"appender/securityPolicy/istio_tcp_sent_bytes_total/{r}" for r in ("incoming", "outgoing")}
    assert "partial response" in warned[0].params["warnings"]
    m = snap.collector["metrics"]
    assert m["query_count"] == 40 and m["failed_queries"] == 0 and m["queries_with_warnings"] == 5
    assert PASSWORD not in gzip_text(out) and PASSWORD not in err
    # A partial answer keeps its series and is a gap: they may be incomplete.
    partial = [g for g in snap.gaps if g.phase == "metrics"]
    assert sorted((g.what, g.namespace) for g in partial) == sorted((q.key, "bookinfo") for q in warned)
    assert all(g.reason.startswith("partial answer") and "store eu-1 unavailable" in g.reason for g in partial)
    assert "meshreport: queries: 40 queries, 5 gaps" in err  # no TTY: one line per phase


def gzip_text(path) -> str:
    import gzip

    return gzip.decompress(path.read_bytes()).decode()


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem"),
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return d


def test_tls_ca_file_verifies_and_skip_verify_warns_once(tmp_path, capsys, tls_files):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tls_files / "cert.pem", tls_files / "key.pem")
    out = tmp_path / "s.mrsnap"
    with Stub(tls=ctx) as stub:
        code, err = run(base(stub.url, out, "-n", "bookinfo", "--prometheus-retries", "0"), capsys)
        assert code == 5 and "TLS error" in err  # self-signed, not trusted
        code, err = run(
            base(stub.url, out, "-n", "bookinfo", "--prometheus-ca-file", str(tls_files / "cert.pem")), capsys
        )
        assert code == 0, err and "warning" not in err
        code, err = run(base(stub.url, out, "-n", "bookinfo", "--prometheus-insecure-skip-verify"), capsys)
        assert code == 0, err
        assert err.count("warning: TLS certificate of") == 1


def test_istio_metrics_elsewhere_but_not_in_named_namespaces(tmp_path, capsys):
    def rule(path, params, headers):
        if path == "/api/v1/label/__name__/values":
            return 200, {"status": "success", "data": ["istio_requests_total", "istio_tcp_sent_bytes_total"]}, 0
        return None

    out = tmp_path / "s.mrsnap"
    with Stub(rule) as stub:  # every query answers an empty result
        code, err = run(base(stub.url, out, "-n", "bokinfo"), capsys)
    assert code == 0, err
    [d] = store.read(out).diagnostics
    assert d.code == "no-traffic-in-namespaces"
    assert "istio_requests_total" in d.message and "bokinfo" in d.message
    assert any("misspelt" in c for c in d.causes)


def test_every_query_failing_is_exit_5_not_a_snapshot_of_gaps(tmp_path, capsys):
    def rule(path, params, headers):
        if path.startswith("/api/v1/query"):  # e.g. a URL missing the /prometheus path prefix
            return 404, {"status": "error", "error": "page not found"}, 0
        return None

    out = tmp_path / "s.mrsnap"
    with Stub(rule) as stub:
        code, err = run(base(stub.url, out, "-n", "bookinfo"), capsys)
        assert len(stub.queries()) == 40  # 404 is not retried
    assert code == 5 and "no query to Prometheus" in err and "HTTP 404" in err
    assert not out.exists()


def test_echoed_basic_auth_header_never_reaches_stderr(tmp_path, capsys):
    """A server that echoes request headers: the encoded credentials are as secret as the password."""

    def rule(path, params, headers):
        return 401, {"status": "error", "error": f"denied, you sent {headers.get('Authorization')}"}, 0

    encoded = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    with Stub(rule) as stub:
        code, err = run(
            base(
                stub.url,
                tmp_path / "s.mrsnap",
                "-A",
                "--prometheus-username",
                "alice",
                "--prometheus-password",
                PASSWORD,
            ),
            capsys,
        )
    assert code == 5 and "HTTP 401" in err
    assert PASSWORD not in err and encoded not in err


def test_token_with_trailing_newline_is_never_printed(tmp_path, capsys, monkeypatch):
    """A token from a Secret mounted as an environment variable keeps its newline; whatever message
    the HTTP stack makes of it, the token is not in it."""
    token = "s3cr3t-token-value"
    monkeypatch.setenv("MESHREPORT_PROMETHEUS_AUTH_TOKEN", token + "\n")
    with Stub(lambda path, params, headers: (401, {"status": "error", "error": str(headers)}, 0)) as stub:
        code, err = run(base(stub.url, tmp_path / "s.mrsnap", "-A"), capsys)
    assert code in (2, 5), err
    assert token not in err and "Traceback" not in err


# Long-term stores answer the Prometheus API with extras: Thanos a `warnings` list when a store
# did not answer and partial_response is on (the default), Mimir `warnings` and `infos`
# annotations, VictoriaMetrics cluster `"isPartial": true`. Partial answers are gaps; infos are not.
THANOS_PARTIAL = {
    "status": "success",
    "data": {
        "resultType": "vector",
        "result": [{"metric": {"destination_workload": "reviews-v1"}, "value": [1704074400, "1.5"]}],
    },
    "warnings": [
        'fetch series for {region="eu-1"} 10.0.3.4:10901: receive series from Addr: 10.0.3.4:10901 '
        'LabelSets: {region="eu-1"}: rpc error: code = Unavailable desc = connection error'
    ],
}
MIMIR_INFO = {
    "status": "success",
    "data": {"resultType": "vector", "result": [{"metric": {"destination_workload": "reviews-v1"}, "value": [1, "2"]}]},
    "infos": ['PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "x"'],
}
VM_PARTIAL = {
    "status": "success",
    "isPartial": True,
    "data": {"resultType": "vector", "result": [{"metric": {"destination_workload": "reviews-v1"}, "value": [1, "3"]}]},
}


@pytest.mark.parametrize(
    ("body", "partial", "reason"),
    [(THANOS_PARTIAL, True, "rpc error: code = Unavailable"), (MIMIR_INFO, False, ""), (VM_PARTIAL, True, "isPartial")],
    ids=["thanos-partial-response", "mimir-infos", "victoriametrics-ispartial"],
)
def test_partial_answers_of_long_term_stores_are_gaps(tmp_path, capsys, body, partial, reason):
    def rule(path, params, headers):
        if path == "/api/v1/query" and "istio_requests_total" in params["query"] and "shop" in params["query"]:
            return 200, body, 0
        return None

    out = tmp_path / "s.mrsnap"
    with Stub(rule, series_for=one_series) as stub:
        code, err = run(base(stub.url, out, "-n", "bookinfo,shop"), capsys)
    assert code == 0, err
    snap = store.read(out)
    gaps = [g for g in snap.gaps if g.phase == "metrics"]
    # the answer was for both namespaces at once, so a partial one is a gap for both of them
    answered = {q.key for q in snap.queries if q.key.startswith("graph/istio_requests_total")}
    assert answered == {f"graph/istio_requests_total/{r}" for r in ("unserviced", "incoming", "outgoing")}
    if partial:
        assert {(g.what, g.namespace) for g in gaps} >= {(k, ns) for k in answered for ns in ("bookinfo", "shop")}
        assert all(g.reason.startswith("partial answer, series may be missing") and reason in g.reason for g in gaps)
    else:
        assert gaps == []
    got = next(q for q in snap.queries if q.key == "graph/istio_requests_total/incoming" and q.namespace == "bookinfo")
    assert got.series == []  # the stub's series name no namespace: they belong to neither query


def test_explain_lists_the_slowest_requests_and_progress_shows_bytes(tmp_path, capsys):
    def rule(path, params, headers):
        if path == "/api/v1/query" and "histogram_quantile(0.99" in params["query"]:
            return 200, {"status": "success", "data": {"resultType": "vector", "result": []}}, 0.3
        return None

    out = tmp_path / "s.mrsnap"
    with Stub(rule, series_for=one_series) as stub:
        with pytest.raises(SystemExit) as ei:
            main(base(stub.url, out, "-n", "bookinfo,shop", "--explain"))
    got = capsys.readouterr()
    assert ei.value.code == 0, got.err
    snap = store.read(out)
    m = snap.collector["metrics"]
    assert m["request_count"] == 40 and m["bytes_read"] > 0
    assert "meshreport: queries: 80 queries, 0 gaps, 0 series, 40 requests, read 0.0 MB in" in got.err
    lines = got.out.splitlines()
    assert lines[0].split() == ["seconds", "prometheus", "MB", "series", "query", "(namespaces)"]
    assert len(lines) == 11 and "appender/responseTime/0.99/" in lines[1] and "(bookinfo, shop)" in lines[1]
    # the slowest two requests are the two slowed ones, for both namespaces at once
    from meshreport import pipeline

    top = pipeline.slowest_requests(snap, 2)
    assert {r["key"] for r in top} == {"appender/responseTime/0.99/incoming", "appender/responseTime/0.99/outgoing"}
    assert all(r["namespaces"] == ["bookinfo", "shop"] and r["seconds"] >= 0.3 for r in top)
