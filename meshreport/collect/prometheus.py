"""Metric collection from a Prometheus HTTP API (Prometheus, Thanos, Mimir, Cortex, VictoriaMetrics).

Talks plain `requests` (the API is four GET endpoints; owning the HTTP layer gives exact control
of timeouts, retries, TLS and error messages). Connection settings mirror Kiali's
`external_services.prometheus`. Faults are recorded, not hidden: a query that still fails after
its retries becomes a `Gap` and collection goes on; only "cannot talk to Prometheus at all"
(unreachable, 401/403) stops the run, with one line and exit code 5.

Secrets (token, password, header values, URL credentials) never reach a message, a log line or
the snapshot: every reason passes through `Redactor`, and the recorded URL has no credentials.
"""

from __future__ import annotations

import base64
import json
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import requests
import urllib3
import yaml

from meshreport import __version__, safe_yaml
from meshreport.collect import http
from meshreport.collect import queries as Q
from meshreport.errors import InputError, UsageError
from meshreport.progress import Progress
from meshreport.settings import Settings, http_url, parse_duration, strip_credentials
from meshreport.snapshot.model import Diagnostic, Gap, QueryResult, Series, Snapshot, Source, Window

DEFAULT_SCRAPE_INTERVAL = 15.0
#: Metrics whose namespace labels tell which namespaces have Istio traffic.
DISCOVERY_METRICS = (Q.REQUESTS, Q.TCP_SENT)
NO_METRICS_CAUSES = [
    "no sidecars injected: workloads without an Envoy sidecar (or ambient waypoint) emit no Istio metrics",
    "no traffic in the window: Istio only reports requests and connections that happened",
    "wrong Prometheus, tenant (X-Scope-OrgID) or query scope: this endpoint does not hold the mesh's metrics",
    "metrics renamed or dropped by a relabelling rule or by Istio Telemetry settings "
    "(meshreport needs istio_requests_total and friends with their standard labels)",
]


@dataclass
class PrometheusConfig:
    """Everything needed to talk to one endpoint; built from Settings, holds secrets (never logged)."""

    url: str
    token: str | None = None
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure_skip_verify: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    query_scope: dict[str, str] = field(default_factory=dict)
    timeout: float = 30.0
    retries: int = 2
    retry_backoff: float = 1.0
    concurrency: int = 8
    scrape_interval: float | None = None

    @classmethod
    def from_settings(cls, s: Settings) -> PrometheusConfig:
        url = s["prometheus.url"]
        if not url:
            raise UsageError("no Prometheus URL: pass --prometheus URL or set MESHREPORT_PROMETHEUS_URL")
        parts = urlsplit(http_url(url, "--prometheus"))
        auth_type = (s["prometheus.auth.type"] or "").lower() or None
        if auth_type not in (None, "none", "basic", "bearer"):
            raise UsageError(f"prometheus.auth.type: expected none, basic or bearer, got {auth_type!r}")
        token = s["prometheus.auth.token"]
        token_file = s["prometheus.auth.token_file"]
        username = s["prometheus.auth.username"]
        password = s["prometheus.auth.password"]
        if parts.username and not username:  # credentials in the URL are basic auth
            username, password = unquote(parts.username), unquote(parts.password or "")
        if token_file and not token and auth_type in (None, "bearer"):
            token = _read_token(token_file)
        if auth_type == "none":
            token = username = password = None
        elif auth_type == "basic":
            token = None
        elif auth_type == "bearer":
            username = password = None
            if not token:
                raise UsageError("prometheus.auth.type is bearer but no token or token file is set")
        if s["prometheus.concurrency"] < 1:
            raise UsageError("--concurrency must be at least 1")
        timeout = s["prometheus.timeout"]
        if timeout <= 0:
            raise UsageError("--prometheus-timeout must be more than 0")
        return cls(
            url=strip_credentials(url).rstrip("/"),
            token=token,
            username=username,
            password=password,
            ca_file=s["prometheus.auth.ca_file"],
            cert_file=s["prometheus.auth.cert_file"],
            key_file=s["prometheus.auth.key_file"],
            insecure_skip_verify=s["prometheus.auth.insecure_skip_verify"],
            headers=dict(s["prometheus.custom_headers"]),
            query_scope=dict(s["prometheus.query_scope"]),
            timeout=timeout,
            retries=s["prometheus.retries"],
            retry_backoff=s["prometheus.retry_backoff"],
            concurrency=s["prometheus.concurrency"],
            scrape_interval=s["prometheus.scrape_interval"],
        )

    def secrets(self) -> list[str]:
        vals = [self.token, self.password, *self.headers.values()]
        if self.password:
            # What the Authorization header carries, which a server may echo back.
            vals.append(base64.b64encode(f"{self.username or ''}:{self.password}".encode()).decode())
        return [v for v in vals if v]


def _read_token(path: str) -> str:
    try:
        token = Path(path).read_text().strip()
    except OSError as e:
        raise InputError(f"{path}: cannot read Prometheus token file: {e.strerror}") from None
    if not token:
        raise InputError(f"{path}: Prometheus token file is empty")
    return token


class Redactor:
    """Replaces every secret value in a text by `***` (longest first, so no fragment survives)."""

    def __init__(self, secrets: list[str]) -> None:
        # Each secret also as it shows up in messages: without surrounding whitespace (a value read
        # with a trailing newline), escaped as repr() shows it, and percent-encoded.
        forms = {f for s in secrets for f in (s, s.strip(), repr(s)[1:-1], quote(s, safe=""))}
        self.secrets = sorted({f for f in forms if len(f) >= 3}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for s in self.secrets:
            text = text.replace(s, "***")
        return text


class QueryError(Exception):
    """A request that failed; `retryable` for timeouts/5xx/429/connection errors."""

    def __init__(self, reason: str, *, retryable: bool, status: int | None = None, connect: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.status = status
        self.connect = connect


class MalformedAnswer(QueryError):
    """A `success` answer whose data is not the shape the API documents: the query becomes a gap."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"malformed answer: {detail}", retryable=False, status=200)


class AuthError(Exception):
    """401/403: every further request would fail the same way."""


class PrometheusClient:
    """HTTP to one Prometheus-API endpoint: auth, TLS, headers, timeouts, retries with backoff.

    Thread-safe: each thread gets its own `requests.Session` (connection pool).
    """

    def __init__(
        self,
        cfg: PrometheusConfig,
        *,
        warn: Callable[[str], None] | None = None,
        run: http.RunDeadline | None = None,
    ) -> None:
        self.cfg = cfg
        self.run = run or http.RunDeadline(None)
        self.redact = Redactor(cfg.secrets())
        self._local = threading.local()
        self.requests_sent = 0
        self._lock = threading.Lock()
        if cfg.insecure_skip_verify:
            import urllib3

            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
            (warn or (lambda m: None))(
                f"TLS certificate of {cfg.url} is not verified (insecure_skip_verify): "
                "anyone on the network path could read or change the metrics"
            )

    def _session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is None:
            s = requests.Session()
            s.headers["User-Agent"] = f"meshreport/{__version__}"
            s.headers.update(self.cfg.headers)
            if self.cfg.token:
                s.headers["Authorization"] = f"Bearer {self.cfg.token}"
            elif self.cfg.username:
                s.auth = (self.cfg.username, self.cfg.password or "")
            if self.cfg.insecure_skip_verify:
                s.verify = False
            elif self.cfg.ca_file:
                s.verify = self.cfg.ca_file
            if self.cfg.cert_file:
                s.cert = (self.cfg.cert_file, self.cfg.key_file) if self.cfg.key_file else self.cfg.cert_file
            s.trust_env = False  # never pick up credentials from ~/.netrc or proxies implicitly
            s.max_redirects = 5
            for adapter in s.adapters.values():
                http.guard(adapter.poolmanager)  # type: ignore[attr-defined]
            self._local.session = s
        return s

    def get(self, path: str, params: dict[str, Any] | list[tuple[str, Any]], *, retries: int | None = None) -> dict:
        """GET `path`, return the JSON `data` (plus `warnings` under `_warnings`). Retries retryable errors."""
        retries = self.cfg.retries if retries is None else retries
        delay = self.cfg.retry_backoff
        attempt = 0
        while True:
            try:
                return self._get_once(path, params)
            except QueryError as e:
                if not e.retryable or attempt >= retries:
                    if attempt:
                        e.reason = f"{e.reason} (after {attempt + 1} attempts)"
                    raise
                if self.run.remaining() <= delay:  # a retry could not finish: the run ends first
                    e.reason = f"{e.reason} (not retried: the run's deadline ({self.run.seconds:g}s) is near)"
                    raise
            attempt += 1
            time.sleep(delay)
            delay *= 2

    def _get_once(self, path: str, params: Any) -> dict:
        url = self.cfg.url + path
        if self.run.passed:
            raise QueryError(self.run.reason(), retryable=False)
        with self._lock:
            self.requests_sent += 1
        timeout = self.cfg.timeout
        try:
            # One deadline for connecting, the headers and the whole body (requests' own timeout
            # is per socket read, which a trickling answer never trips).
            with self.run.request(timeout) as d:
                try:
                    r = self._session().get(url, params=params, timeout=(min(timeout, 10.0), timeout + 1), stream=True)
                    try:
                        raw = b"" if r.status_code in (401, 403) else http.read_body(r.raw, d)
                    finally:
                        r.close()
                except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError):
                    if d.expired:
                        raise d.exceeded() from None
                    raise
        except http.DeadlineExceeded as e:
            raise QueryError(str(e), retryable=not e.by_run) from None
        except http.ResponseTooLarge as e:
            raise QueryError(str(e), retryable=False) from None
        except requests.exceptions.SSLError as e:
            raise QueryError(self.redact(f"TLS error: {_short(e)}"), retryable=False, connect=True) from None
        except requests.exceptions.ConnectTimeout:
            raise QueryError(f"connection timed out after {timeout:g}s", retryable=True, connect=True) from None
        except requests.exceptions.ReadTimeout:
            raise QueryError(f"no answer within the {timeout:g}s timeout", retryable=True) from None
        except requests.exceptions.ConnectionError as e:
            raise QueryError(self.redact(_connection_reason(e)), retryable=True, connect=True) from None
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as e:
            raise QueryError(self.redact(f"request failed: {_short(e)}"), retryable=False) from None
        if r.status_code in (401, 403):
            raise AuthError(
                f"Prometheus at {self.cfg.url} answered HTTP {r.status_code} "
                f"({'unauthorized' if r.status_code == 401 else 'forbidden'}): check the token, "
                "basic auth or client certificate settings"
            )
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            body = None
        if r.status_code != 200 or not isinstance(body, dict) or body.get("status") != "success":
            err = body.get("error") if isinstance(body, dict) else None
            etype = body.get("errorType") if isinstance(body, dict) else None
            detail = str(err)[:300] if err else (raw[:200].decode("utf-8", "replace").strip() or r.reason)
            if body is None and r.status_code == 200:
                ctype = r.headers.get("Content-Type", "no Content-Type")
                detail = f"answer is not JSON ({ctype}): {detail}"
            detail = " ".join(detail.split())
            retryable = r.status_code >= 500 or r.status_code == 429 or etype in ("timeout", "unavailable")
            raise QueryError(self.redact(f"HTTP {r.status_code}: {detail}"), retryable=retryable, status=r.status_code)
        data = body.get("data")
        if isinstance(data, dict) and body.get("warnings"):
            data = dict(data, _warnings=[str(w) for w in body["warnings"]])
        return data if isinstance(data, (dict, list)) else {}

    # --- endpoints ---------------------------------------------------------------------------

    def instant(self, promql: str, at: float) -> tuple[list[Series], list[str]]:
        data = self.get("/api/v1/query", {"query": promql, "time": _ts(at), "timeout": f"{self.cfg.timeout:g}s"})
        return _parse_series(data, "instant"), data.get("_warnings", [])

    def range(self, promql: str, start: float, end: float, step: float) -> tuple[list[Series], list[str]]:
        params = {
            "query": promql,
            "start": _ts(start),
            "end": _ts(end),
            "step": f"{step:g}",
            "timeout": f"{self.cfg.timeout:g}s",
        }
        data = self.get("/api/v1/query_range", params)
        return _parse_series(data, "range"), data.get("_warnings", [])

    def label_values(self, label: str, matches: list[str], start: float, end: float) -> list[str]:
        params = [("match[]", m) for m in matches] + [("start", _ts(start)), ("end", _ts(end))]
        data = self.get(f"/api/v1/label/{label}/values", params)
        return [str(v) for v in data] if isinstance(data, list) else []


def _ts(t: float) -> str:
    return f"{t:.3f}".rstrip("0").rstrip(".")


def _short(e: Exception) -> str:
    text = str(e)
    return text if len(text) <= 200 else text[:200] + "..."


def _connection_reason(e: Exception) -> str:
    text = str(e)
    for needle, reason in (
        ("Connection refused", "connection refused"),
        ("Name or service not known", "host name not found"),
        ("nodename nor servname", "host name not found"),
        ("Temporary failure in name resolution", "host name not found"),
        ("No route to host", "no route to host"),
        ("Network is unreachable", "network unreachable"),
        ("RemoteDisconnected", "connection closed without an answer"),
        ("Connection reset", "connection reset"),
    ):
        if needle in text:
            return reason
    return f"connection failed: {_short(e)}"


def _num(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def _parse_series(data: Any, kind: str) -> list[Series]:
    """Series of a `success` answer; MalformedAnswer when its items are not the documented shape
    (labels string to string, a value `[time, "number"]`, values a list of those)."""
    if not isinstance(data, dict):
        raise MalformedAnswer(f"data is a {type(data).__name__}, not an object")
    rtype, result = data.get("resultType"), data.get("result") or []
    out: list[Series] = []
    if rtype in ("vector", "matrix"):
        if not isinstance(result, list):
            raise MalformedAnswer(f"{rtype} result is a {type(result).__name__}, not a list")
        for i, r in enumerate(result):
            if not isinstance(r, dict):
                raise MalformedAnswer(f"result item {i} is a {type(r).__name__}, not a series")
            labels = r.get("metric") or {}
            if not isinstance(labels, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
            ):
                raise MalformedAnswer(f"result item {i}: labels are not names and strings")
            if rtype == "vector":
                out.append(Series(labels=dict(labels), value=_sample(r.get("value"), i)[1]))
            else:
                values = r.get("values") or []
                if not isinstance(values, list):
                    raise MalformedAnswer(f"result item {i}: values is not a list")
                out.append(Series(labels=dict(labels), points=[_sample(p, i) for p in values]))
    elif rtype == "scalar" and isinstance(result, list) and len(result) == 2:
        out.append(Series(labels={}, value=_sample(result, 0)[1]))
    elif result:
        raise MalformedAnswer(f"unknown resultType {str(rtype)[:40]!r}")
    return out


def _sample(pair: Any, i: int) -> tuple[float, float]:
    """`[time, "value"]` as numbers; the value may be NaN or ±Inf as Prometheus writes them."""
    if not isinstance(pair, list) or len(pair) != 2 or isinstance(pair[0], bool):
        raise MalformedAnswer(f"result item {i}: a sample is not [time, value]")
    try:
        t = float(pair[0])
    except (TypeError, ValueError):
        raise MalformedAnswer(f"result item {i}: sample time {str(pair[0])[:40]!r} is not a number") from None
    if not math.isfinite(t):
        raise MalformedAnswer(f"result item {i}: sample time is not finite")
    return t, _num(pair[1])


# --- collection -------------------------------------------------------------------------------


def scrape_interval_from_config(config_yaml: str) -> float | None:
    """`global.scrape_interval` of a Prometheus config text; Prometheus' own default (1m) when unset."""
    try:
        doc = safe_yaml.load(config_yaml, "Prometheus config") or {}
    except yaml.YAMLError:
        return None
    if not isinstance(doc, dict):
        return None
    g = doc.get("global") or {}
    value = g.get("scrape_interval") if isinstance(g, dict) else None
    if value is None:
        return 60.0
    try:
        return parse_duration(str(value))
    except UsageError:
        return None


@dataclass
class Facts:
    """What the collector learned about the endpoint (recorded under snapshot.collector)."""

    version: str | None = None
    scrape_interval: float = DEFAULT_SCRAPE_INTERVAL
    scrape_interval_source: str = "assumed"


class Collector:
    """One metrics collection over a window: probe, check the window, discover, query, diagnose."""

    def __init__(
        self, cfg: PrometheusConfig, progress: Progress | None = None, run: http.RunDeadline | None = None
    ) -> None:
        self.cfg = cfg
        self.progress = progress or Progress(quiet=True)
        self.client = PrometheusClient(cfg, warn=self.progress.warn, run=run)

    def probe(self) -> Facts:
        """Can we talk to it at all? Unreachable or 401/403 -> InputError (exit 5). Reads version, scrape interval."""
        facts = Facts()
        try:
            info = self.client.get("/api/v1/status/buildinfo", {})
            if isinstance(info, dict) and info.get("version"):
                facts.version = str(info["version"])
        except AuthError as e:
            raise InputError(str(e)) from None
        except QueryError as e:
            if e.connect or e.status is None:
                raise InputError(f"cannot reach Prometheus at {self.cfg.url}: {e.reason}") from None
            # 404 and friends: Thanos/VictoriaMetrics may not serve buildinfo; queries decide.
        if self.cfg.scrape_interval:
            facts.scrape_interval, facts.scrape_interval_source = self.cfg.scrape_interval, "setting"
            return facts
        try:
            conf = self.client.get("/api/v1/status/config", {}, retries=0)
            si = scrape_interval_from_config(conf.get("yaml", "")) if isinstance(conf, dict) else None
            if si:
                facts.scrape_interval, facts.scrape_interval_source = si, "prometheus"
        except AuthError as e:
            raise InputError(str(e)) from None
        except QueryError:
            pass
        return facts

    @staticmethod
    def check_window(window: Window, facts: Facts) -> None:
        """Refuse windows under two scrape intervals: rate() needs two samples, the graph would be empty."""
        if window.duration < 2 * facts.scrape_interval:
            told = {"prometheus": "read from Prometheus", "setting": "from settings"}.get(
                facts.scrape_interval_source, "assumed; Prometheus did not tell it"
            )
            raise UsageError(
                f"window {window.duration:g}s is shorter than twice the scrape interval "
                f"({facts.scrape_interval:g}s, {told}): rate() needs at least two samples per series, "
                f"so every graph would be empty; use --window {math.ceil(2 * facts.scrape_interval):d}s or longer"
            )

    def discover_namespaces(self, window: Window) -> list[str]:
        """Namespaces with Istio traffic in the window (source or destination side)."""
        matches = [_selector(m, self.cfg.query_scope) for m in DISCOVERY_METRICS]
        found: set[str] = set()
        for label in ("destination_workload_namespace", "source_workload_namespace"):
            try:
                found.update(self.client.label_values(label, matches, window.start, window.end))
            except AuthError as e:
                raise InputError(str(e)) from None
            except QueryError as e:
                raise InputError(f"cannot list namespaces from Prometheus at {self.cfg.url}: {e.reason}") from None
        return sorted(n for n in found if n and n != "unknown")

    def run_plan(
        self, plan: list[Q.PlannedQuery], window: Window
    ) -> tuple[list[QueryResult], list[Gap], dict[str, Any]]:
        """Run every planned query (concurrently, up to the limit); failures become gaps."""
        results: dict[int, QueryResult] = {}
        gaps: dict[int, Gap] = {}
        warned: list[int] = []  # list.append is atomic; a shared int += is not

        def one(i: int, pq: Q.PlannedQuery) -> None:
            promql = pq.query.promql()
            try:
                if pq.kind == "range":
                    start, end = Q.range_bounds(window.start, window.end, pq.step or 60)
                    series, warns = self.client.range(promql, start, end, pq.step or 60)
                    qr = QueryResult(pq.key, promql, pq.namespace, "range", end, series, start=start, step=pq.step)
                else:
                    series, warns = self.client.instant(promql, window.end)
                    qr = QueryResult(pq.key, promql, pq.namespace, "instant", window.end, series)
                if warns:
                    qr.params["warnings"] = self.client.redact("; ".join(warns))[:1000]
                    warned.append(i)
                results[i] = qr
            except QueryError as e:
                gaps[i] = Gap(phase="metrics", what=pq.key, namespace=pq.namespace, reason=e.reason)

        started = time.monotonic()
        with self.progress.phase("queries", total=len(plan)) as ph:
            pool = ThreadPoolExecutor(max_workers=self.cfg.concurrency, thread_name_prefix="meshreport-prom")
            try:
                pending = {pool.submit(one, i, pq) for i, pq in enumerate(plan)}
                while pending:
                    done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                    for f in done:
                        exc = f.exception()
                        if isinstance(exc, AuthError):
                            for p in pending:
                                p.cancel()
                            raise InputError(str(exc))
                        if exc is not None:
                            raise exc
                        ph.advance()
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
            nseries = sum(len(r.series) for r in results.values())
            ph.note(queries=len(plan), gaps=len(gaps), series=nseries)
        ordered = [results[i] for i in sorted(results)]
        facts = {
            "query_count": len(plan),
            "failed_queries": len(gaps),
            "queries_with_warnings": len(warned),
            "series": nseries,
            "duration_s": round(time.monotonic() - started, 3),
        }
        return ordered, [gaps[i] for i in sorted(gaps)], facts

    def istio_metric_names(self, window: Window) -> list[str] | None:
        """Istio metric names present in the window, None when the endpoint cannot say."""
        match = Q.add_query_scope('{__name__=~"istio_.*"}', self.cfg.query_scope)
        try:
            return sorted(self.client.label_values("__name__", [match], window.start, window.end))
        except QueryError:
            return None

    def collect(
        self,
        window: Window,
        namespaces: list[str] | None,
        *,
        appenders: bool = True,
        trends: bool = True,
        aggregates: tuple[str, ...] | list[str] = (),
    ) -> Snapshot:
        """Collect the window. `namespaces=None` means every namespace with Istio metrics; `aggregates`:
        labels whose request aggregates the aggregateNode appender needs."""
        t0 = time.monotonic()
        with self.progress.phase("connect") as ph:
            facts = self.probe()
            ph.note(prometheus=facts.version or "version unknown", scrape_interval=f"{facts.scrape_interval:g}s")
        self.check_window(window, facts)
        t_probe = time.monotonic() - t0
        discovered = namespaces is None
        if namespaces is None:
            with self.progress.phase("namespaces") as ph:
                namespaces = self.discover_namespaces(window)
                ph.note(found=len(namespaces))
        plan = Q.collection_plan(
            namespaces,
            window.duration_s,
            scope=self.cfg.query_scope,
            scrape_interval=facts.scrape_interval,
            appenders=appenders,
            trends=trends,
            aggregates=aggregates,
        )
        results, gaps, qfacts = self.run_plan(plan, window) if plan else ([], [], {"query_count": 0})
        if plan and not results:
            # Nothing at all could be collected: an input problem (wrong URL path, broken proxy), not gaps.
            g = gaps[0]
            raise InputError(
                f"no query to Prometheus at {self.cfg.url} succeeded ({len(gaps)} failed; first: {g.what} "
                f"in {g.namespace}: {g.reason})"
            )
        diagnostics = self._diagnose(window, namespaces, results, discovered)
        step = Q.trend_step(window.duration_s, facts.scrape_interval)
        collector = {
            "tool": "meshreport",
            "version": __version__,
            "collected_at": round(time.time(), 3),
            "metrics": {
                "prometheus_url": self.cfg.url,
                "prometheus_version": facts.version,
                "scrape_interval_s": facts.scrape_interval,
                "scrape_interval_source": facts.scrape_interval_source,
                "namespaces_from": "discovery" if discovered else "settings",
                "query_scope": dict(self.cfg.query_scope),
                "concurrency": self.cfg.concurrency,
                "timeout_s": self.cfg.timeout,
                "retries": self.cfg.retries,
                "trend_step_s": step,
                "trend_rate_range_s": Q.trend_rate_range(step, facts.scrape_interval),
                "requests_sent": self.client.requests_sent,
                "probe_s": round(t_probe, 3),
                **qfacts,
                "total_s": round(time.monotonic() - t0, 3),
            },
        }
        source = Source(
            kind="prometheus",
            prometheus_url=self.cfg.url,
            versions={"prometheus": facts.version} if facts.version else {},
            description=f"Prometheus API at {self.cfg.url}",
        )
        return Snapshot(
            window=window,
            source=source,
            namespaces=list(namespaces),
            queries=results,
            gaps=gaps,
            diagnostics=diagnostics,
            collector=collector,
        )

    def _diagnose(
        self, window: Window, namespaces: list[str], results: list[QueryResult], discovered: bool
    ) -> list[Diagnostic]:
        graph_series = sum(len(r.series) for r in results if r.key.startswith("graph/"))
        if graph_series:
            return []
        names = self.istio_metric_names(window)
        if not names:
            return [
                Diagnostic(
                    code="no-istio-metrics",
                    message=(
                        f"Prometheus at {self.cfg.url} has no Istio metrics (istio_*) between "
                        f"{_iso(window.start)} and {_iso(window.end)}."
                    ),
                    causes=list(NO_METRICS_CAUSES),
                )
            ]
        shown = ", ".join(names[:6]) + (" ..." if len(names) > 6 else "")
        return [
            Diagnostic(
                code="no-traffic-in-namespaces",
                message=(
                    f"Istio metrics exist ({shown}) but none for the namespaces "
                    f"{', '.join(namespaces) or '(none)'} in the window."
                ),
                causes=[
                    "the namespace names are misspelt, or their workloads have no sidecars",
                    "no traffic in these namespaces during the window",
                    "the query scope does not match the labels of this mesh",
                ]
                if not discovered
                else list(NO_METRICS_CAUSES),
            )
        ]


def _selector(metric: str, scope: dict[str, str]) -> str:
    """`metric{k="v",...}` for series-selecting endpoints (match[]), with the query scope."""
    if not scope:
        return metric
    return metric + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(scope.items())) + "}"


def _iso(t: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def collect(
    settings: Settings,
    window: Window,
    *,
    progress: Progress | None = None,
    namespaces: list[str] | None = None,
    run: http.RunDeadline | None = None,
) -> Snapshot:
    """Collect metrics for `window` as `settings` say (URL, auth, namespaces or all-namespaces).

    The entry point for `meshreport snapshot` and for the live mode of `render`/`graph`.
    `namespaces` overrides the settings' choice (None: use settings); `run` is the whole
    collection's deadline (None: a new one of the `deadline` setting).
    """
    cfg = PrometheusConfig.from_settings(settings)
    if namespaces is None:
        namespaces = resolve_namespaces(settings)
    aggregates = [a for a in settings.get("aggregate") or [] if a]
    for a in aggregates:
        if not Q.LABEL_NAME.match(a):
            raise UsageError(f"invalid --aggregate {a!r}: expected a Prometheus label name such as request_operation")
    return Collector(cfg, progress, run or run_deadline(settings)).collect(window, namespaces, aggregates=aggregates)


def run_deadline(settings: Settings) -> http.RunDeadline:
    """The deadline of one collection, from the `deadline` setting."""
    seconds = settings["deadline"]
    if seconds is not None and seconds <= 0:
        raise UsageError("--deadline must be more than 0")
    return http.RunDeadline(seconds)


def resolve_namespaces(settings: Settings) -> list[str] | None:
    """The settings' namespace choice: a list, or None for --all-namespaces. Exactly one is needed."""
    ns, all_ns = settings["namespaces"], settings["all_namespaces"]
    if ns and all_ns:
        raise UsageError("--namespaces and --all-namespaces exclude each other")
    if not ns and not all_ns:
        raise UsageError("say which namespaces to collect: --namespaces a,b or --all-namespaces")
    return None if all_ns else list(ns)
