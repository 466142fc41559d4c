"""`meshreport snapshot` as a user sees it: usage errors, config file + env + flags, the config seam."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from meshreport.cli import main
from meshreport.errors import GapsError
from meshreport.pipeline import check_gaps, merge_config
from meshreport.snapshot import store
from meshreport.snapshot.model import ConfigObject, Gap, Snapshot, Source, Window

END = "1704070800"


@pytest.fixture
def prom():
    """A minimal Prometheus API that records what it was asked (headers, queries)."""
    seen: list[tuple[str, dict, dict]] = []

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            parts = urlsplit(self.path)
            params = {k: v[0] for k, v in parse_qs(parts.query).items()}
            seen.append((parts.path, params, dict(self.headers)))
            if parts.path == "/api/v1/status/buildinfo":
                data = {"version": "2.42.0"}
            elif parts.path == "/api/v1/status/config":
                data = {"yaml": "global:\n  scrape_interval: 30s\n"}
            elif parts.path.startswith("/api/v1/label/"):
                data = ["a", "b"] if "namespace" in parts.path else ["istio_requests_total"]
            elif parts.path == "/api/v1/query_range":
                data = {"resultType": "matrix", "result": []}
            else:
                data = {"resultType": "vector", "result": [{"metric": {"x": "1"}, "value": [1, "2"]}]}
            body = json.dumps({"status": "success", "data": data}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", seen
    srv.shutdown()
    srv.server_close()


def run(argv, capsys):
    with pytest.raises(SystemExit) as ei:
        main(argv)
    return ei.value.code, capsys.readouterr().err


@pytest.mark.parametrize(
    "extra, message",
    [
        ([], "say which namespaces to collect"),
        (["-n", "a", "-A"], "exclude each other"),
        (["-n", "a", "--end", "yesterday"], "--end: expected RFC 3339"),
        (["-n", "a", "--window", "a week"], "--window: expected a duration"),
        (["-n", "a", "--concurrency", "0"], "--concurrency must be at least 1"),
        (["-n", "a", "--aggregate", 'op"}'], "invalid --aggregate"),
    ],
)
def test_usage_errors_are_one_line_exit_2(tmp_path, capsys, prom, extra, message):
    url, seen = prom
    code, err = run(["snapshot", "--prometheus", url, "-o", str(tmp_path / "x.mrsnap"), *extra], capsys)
    assert code == 2, err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "x.mrsnap").exists()


def test_missing_url_and_bad_url(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("MESHREPORT_PROMETHEUS_URL", raising=False)
    code, err = run(["snapshot", "-n", "a", "-o", str(tmp_path / "x.mrsnap")], capsys)
    assert code == 2 and "no Prometheus URL" in err
    code, err = run(["snapshot", "--prometheus", "prom:9090", "-n", "a", "-o", str(tmp_path / "x")], capsys)
    assert code == 2 and "expected an http(s) URL" in err


def test_config_file_env_and_flags_reach_the_collector(tmp_path, capsys, prom, monkeypatch):
    url, seen = prom
    token_file = tmp_path / "token"
    token_file.write_text("file-token-123\n")
    cfg = tmp_path / "meshreport.yaml"
    cfg.write_text(
        f"prometheus:\n  url: {url}\n  auth:\n    token_file: {token_file}\n"
        "  custom_headers:\n    X-Scope-OrgID: from-file\n  query_scope:\n    mesh_id: m-file\n"
        "window: 2h\nnamespaces: [a]\n"
    )
    monkeypatch.setenv("MESHREPORT_CONFIG", str(cfg))
    monkeypatch.setenv("MESHREPORT_PROMETHEUS_QUERY_SCOPE", "mesh_id=m-env")
    out = tmp_path / "s.mrsnap"
    code, err = run(
        ["snapshot", "--end", END, "--prometheus-header", "X-Scope-OrgID: from-flag", "-o", str(out)], capsys
    )
    assert code == 0, err
    snap = store.read(out)
    assert snap.window.duration == 7200 and snap.namespaces == ["a"]  # file
    queries = [p["query"] for path, p, _ in seen if path == "/api/v1/query"]
    assert queries and all('mesh_id="m-env"' in q and "m-file" not in q for q in queries)  # env beats file
    assert all(h["X-Scope-OrgID"] == "from-flag" for _, _, h in seen)  # flag beats file
    assert all(h["Authorization"] == "Bearer file-token-123" for _, _, h in seen)
    assert "file-token-123" not in err
    # the scrape interval was read from Prometheus and the trend step follows the 2h window
    m = snap.collector["metrics"]
    assert m["scrape_interval_s"] == 30 and m["scrape_interval_source"] == "prometheus" and m["trend_step_s"] == 60
    assert [g.what for g in snap.gaps] == ["config"] and "not collected" in snap.gaps[0].reason
    recorded = snap.collector["settings"]
    assert recorded["prometheus.auth.token_file"] == str(token_file) and recorded["window"] == 7200
    assert recorded["prometheus.custom_headers"] == {"X-Scope-OrgID": "***"}


def test_all_namespaces_discovers_and_summary_line(tmp_path, capsys, prom):
    url, seen = prom
    out = tmp_path / "s.mrsnap"
    code, err = run(["snapshot", "--prometheus", url, "-A", "--window", "1h", "--end", END, "-o", str(out)], capsys)
    assert code == 0, err
    assert store.read(out).namespaces == ["a", "b"]
    assert f"meshreport: wrote {out}: 2 namespaces, 80 queries, 1 gaps" in err
    code, err = run(["snapshot", "--prometheus", url, "-A", "--end", END, "-q", "-o", str(out)], capsys)
    assert code == 0 and err == ""


def _snap(**kw) -> Snapshot:
    return Snapshot(window=Window(0, 3600), source=Source(kind="prometheus", prometheus_url="http://p"), **kw)


def test_merge_config_seam_and_gap_counting():
    metrics = _snap(namespaces=["a"], gaps=[Gap("metrics", "graph/x/incoming", "HTTP 500", "a")])
    merged = merge_config(metrics, None)
    assert [g.phase for g in merged.gaps] == ["metrics", "config"]
    check_gaps(merged, 1)  # the placeholder does not count
    with pytest.raises(GapsError, match="2 gaps|1 gaps"):
        check_gaps(merged, 0)

    obj = ConfigObject("v1", "Service", "reviews", "b", {"metadata": {"name": "reviews"}})
    config = Snapshot(
        window=Window(0, 3600),
        source=Source(kind="kubernetes", clusters=["east"], versions={"kubernetes": "1.30"}),
        namespaces=["a", "b"],
        objects=[obj],
        gaps=[Gap("config", "security.istio.io/v1/authorizationpolicies", "forbidden", "b")],
        collector={"api_calls": 12},
    )
    merged = merge_config(_snap(namespaces=["a"]), config)
    assert merged.objects == [obj] and merged.namespaces == ["a", "b"]
    assert merged.source.kind == "mixed" and merged.source.clusters == ["east"]
    assert merged.source.versions == {"kubernetes": "1.30"} and merged.collector["config"] == {"api_calls": 12}
    with pytest.raises(GapsError):
        check_gaps(merged, 0)
