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
from meshreport.collect.batches import Batch, make_batches
from meshreport.collect.decode import Answer, DecodeError, ResponseDecoder
from meshreport.errors import InputError, UsageError
from meshreport.progress import Progress
from meshreport.settings import Settings, http_url, parse_duration, strip_credentials
from meshreport.snapshot.builder import SeriesBuilder
from meshreport.snapshot.model import Diagnostic, Gap, QueryResult, Snapshot, Source, Window

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
    batch_namespaces: int = 10

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
        if s["prometheus.batch_namespaces"] < 1:
            raise UsageError("--batch-namespaces must be at least 1")
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
            batch_namespaces=s["prometheus.batch_namespaces"],
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

    def __init__(
        self, reason: str, *, retryable: bool, status: int | None = None, connect: bool = False, too_big: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.status = status
        self.connect = connect
        self.too_big = too_big  # over Prometheus' sample limit or the size limit: a smaller query may pass


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
        ans, _ = self.request(path, params, retries=retries)
        data = ans.data
        if isinstance(data, dict) and ans.warnings:
            data = dict(data, _warnings=ans.warnings)
        return data if isinstance(data, (dict, list)) else {}

    def request(
        self,
        path: str,
        params: dict[str, Any] | list[tuple[str, Any]],
        *,
        new_sink: Callable[[], Callable[[list[dict]], None]] | None = None,
        retries: int | None = None,
        split_big: bool = False,
    ) -> tuple[Answer, int]:
        """GET `path`, its series streamed into a sink made fresh for every attempt (`new_sink`).

        Returns what is left of the answer and the bytes read. Retries retryable errors; with
        `split_big`, an answer over the size limit or Prometheus' sample limit ends as a QueryError
        with `too_big` (not retried: the caller splits the request).
        """
        retries = self.cfg.retries if retries is None else retries
        delay = self.cfg.retry_backoff
        attempt = 0
        while True:
            sink = new_sink() if new_sink is not None else _drop
            try:
                return self._get_once(path, params, sink, split_big)
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

    def _get_once(
        self, path: str, params: Any, sink: Callable[[list[dict]], None], split_big: bool
    ) -> tuple[Answer, int]:
        url = self.cfg.url + path
        if self.run.passed:
            raise QueryError(self.run.reason(), retryable=False)
        with self._lock:
            self.requests_sent += 1
        timeout = self.cfg.timeout
        head = b""  # the start of the body, for a message when it is not the API's JSON
        size = 0
        ans: Answer | None = None
        problem: DecodeError | None = None
        try:
            # One deadline for connecting, the headers and the whole body (requests' own timeout
            # is per socket read, which a trickling answer never trips).
            with self.run.request(timeout) as d:
                try:
                    r = self._session().get(url, params=params, timeout=(min(timeout, 10.0), timeout + 1), stream=True)
                    try:
                        if r.status_code not in (401, 403):
                            decoder = ResponseDecoder(sink if r.status_code == 200 else _drop)
                            # The read loop: each chunk is decoded, and its series reduced, as it arrives.
                            for chunk in http.iter_body(r.raw, d):
                                size += len(chunk)
                                if len(head) < 1024:
                                    head += chunk[: 1024 - len(head)]
                                decoder.feed(chunk)
                            ans = decoder.close()
                    except DecodeError as e:
                        problem = e
                    finally:
                        r.close()
                except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError):
                    if d.expired:
                        raise d.exceeded() from None
                    raise
        except http.DeadlineExceeded as e:
            raise QueryError(str(e), retryable=not e.by_run) from None
        except http.ResponseTooLarge as e:
            raise QueryError(str(e), retryable=False, too_big=split_big) from None
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
        if r.status_code != 200 or ans is None or ans.status != "success":
            err = ans.error if ans is not None else None
            etype = ans.error_type if ans is not None else None
            detail = str(err)[:300] if err else (head[:200].decode("utf-8", "replace").strip() or r.reason)
            if problem is not None and r.status_code == 200:
                if problem.syntax:
                    ctype = r.headers.get("Content-Type", "no Content-Type")
                    detail = f"answer is not JSON ({ctype}): {detail}"
                else:
                    detail = f"malformed answer: {problem}"
            detail = " ".join(detail.split())
            retryable = r.status_code >= 500 or r.status_code == 429 or etype in ("timeout", "unavailable")
            if r.status_code == 200 and problem is not None:
                retryable = False
            raise QueryError(
                self.redact(f"HTTP {r.status_code}: {detail}"),
                retryable=retryable,
                status=r.status_code,
                too_big=split_big and _sample_limit(str(err or "")),
            )
        return ans, size

    # --- endpoints ---------------------------------------------------------------------------

    def query_params(self, kind: str, promql: str, start: float, end: float, step: float | None) -> dict[str, str]:
        """The parameters of a query; `stats` asks for Prometheus' own timings (others ignore it)."""
        if kind == "range":
            return {
                "query": promql,
                "start": _ts(start),
                "end": _ts(end),
                "step": f"{step:g}",
                "timeout": f"{self.cfg.timeout:g}s",
                "stats": "all",
            }
        return {"query": promql, "time": _ts(end), "timeout": f"{self.cfg.timeout:g}s", "stats": "all"}

    def label_values(self, label: str, matches: list[str], start: float, end: float) -> list[str]:
        params = [("match[]", m) for m in matches] + [("start", _ts(start)), ("end", _ts(end))]
        data = self.get(f"/api/v1/label/{label}/values", params)
        return [str(v) for v in data] if isinstance(data, list) else []


#: Bytes read from the connection at a time (decoded and reduced before the next).
READ_CHUNK = 1 << 18
#: An error answer is a short JSON object; more than this is not read.
ERROR_BODY_LIMIT = 1 << 20


def _drop(series: list[dict]) -> None:
    pass


def _sample_limit(error: str) -> bool:
    """Prometheus' `query.max-samples` (and Thanos/Mimir's sample and chunk limits) in an error message."""
    e = error.lower()
    return (
        "too many samples" in e or "max-samples" in e or "maximum number of samples" in e or "exceeded the limit" in e
    )


def _labels(item: dict) -> dict[str, str]:
    metric = item.get("metric")
    if not metric:
        return {}
    if not isinstance(metric, dict):
        raise DecodeError("a series' metric is not an object")
    if not all(type(v) is str for v in metric.values()):
        raise DecodeError("a series' labels are not names and strings")
    return metric


def _points(item: dict) -> list[tuple[float, float]]:
    values = item.get("values") or []
    try:
        return [(float(t), _num(v)) for t, v in values]
    except (TypeError, ValueError):
        raise DecodeError("a series' values are not [time, value] pairs") from None


def _value(item: dict) -> float:
    pair = item.get("value") or [0, None]
    if not isinstance(pair, list) or len(pair) != 2:
        raise DecodeError("a series' value is not a [time, value] pair")
    return _num(pair[1])


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
        """Run every planned query, several namespaces per request (`batches`), up to the
        concurrency limit; each answer is reduced into its queries' arrays as it is read.

        A batch that fails, or whose answer is over Prometheus' sample limit or the size limit
        (MESHREPORT_MAX_RESPONSE_MB),
        is split in halves and run again, down to one namespace; a single query that still fails
        becomes a gap. A partial answer (Thanos, Mimir: `warnings`) is kept and recorded as a gap too.
        """
        built: dict[int, SeriesBuilder] = {}
        warned: dict[int, str] = {}
        gaps: dict[int, Gap] = {}
        costs: list[list[Any]] = []
        splits: list[dict[str, Any]] = []
        read = [0, 0]  # bytes, series (updated under `lock`)
        lock = threading.Lock()

        def one(batch: Batch) -> list[Batch]:
            """Run one request; return the batches to run instead when it has to be split."""
            promql = batch.promql()
            if batch.kind == "range":
                step = batch.members[0].step or 60
                start, end = Q.range_bounds(window.start, window.end, step)
                path, params = "/api/v1/query_range", self.client.query_params("range", promql, start, end, step)
            else:
                path, params = (
                    "/api/v1/query",
                    self.client.query_params("instant", promql, window.end, window.end, None),
                )
            builders: list[SeriesBuilder] = []

            def new_sink() -> Callable[[list[dict]], None]:
                builders[:] = [SeriesBuilder(batch.kind) for _ in batch.members]
                return _routing_sink(batch, builders)

            t = time.monotonic()
            try:
                ans, size = self.client.request(path, params, new_sink=new_sink, split_big=len(batch.members) > 1)
            except QueryError as e:
                seconds = time.monotonic() - t
                with lock:
                    costs.append(
                        _cost(batch, seconds, None, None, None, "split" if len(batch.members) > 1 else "failed")
                    )
                if len(batch.members) > 1:
                    why = "sample or size limit" if e.too_big else "failed"
                    with lock:
                        splits.append(
                            {"key": batch.key, "namespaces": batch.namespaces, "reason": f"{why}: {e.reason}"}
                        )
                    return batch.halves()
                (i,) = batch.index
                gaps[i] = Gap(phase="metrics", what=batch.key, namespace=batch.namespaces[0], reason=e.reason)
                return []
            seconds = time.monotonic() - t
            if ans.result_type == "scalar" and len(ans.others) == 2 and batch.kind == "instant":
                builders[0].add({}, _num(ans.others[1]))
            nseries = sum(map(len, builders))
            with lock:
                costs.append(_cost(batch, seconds, size, nseries, ans.stats, "ok"))
                read[0] += size
                read[1] += nseries
            warnings = ans.warnings + (["isPartial: a storage node did not answer"] if ans.partial else [])
            note = self.client.redact("; ".join(warnings))[:1000] if warnings else None
            for k, i in enumerate(batch.index):
                built[i] = builders[k]
                if note:
                    warned[i] = note
                    # A partial answer (a store or querier that did not answer): its series are
                    # kept, and the gap says they may be incomplete.
                    gaps[i] = Gap(
                        phase="metrics",
                        what=batch.key,
                        namespace=batch.namespaces[k],
                        reason=f"partial answer, series may be missing: {note}",
                    )
            return []

        started = time.monotonic()
        batches = make_batches(plan, size=self.cfg.batch_namespaces)
        with self.progress.phase("queries", total=len(plan)) as ph:
            pool = ThreadPoolExecutor(max_workers=self.cfg.concurrency, thread_name_prefix="meshreport-prom")
            try:
                pending = {pool.submit(one, b): b for b in batches}
                while pending:
                    done, _ = wait(pending, return_when=FIRST_EXCEPTION)
                    for f in done:
                        batch = pending.pop(f)
                        exc = f.exception()
                        if isinstance(exc, AuthError):
                            for p in pending:
                                p.cancel()
                            raise InputError(str(exc))
                        if exc is not None:
                            raise exc
                        more = f.result()
                        for b in more:
                            pending[pool.submit(one, b)] = b
                        if not more:
                            ph.advance(len(batch.members))
                        with lock:
                            ph.status(f"{_mb(read[0])} read")
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
            nseries = read[1]
            ph.note(queries=len(plan), gaps=len(gaps), series=nseries, requests=len(costs), read=_mb(read[0]))
        ordered: list[QueryResult] = []
        for i in sorted(built):
            pq = plan[i]
            if pq.kind == "range":
                start, end = Q.range_bounds(window.start, window.end, pq.step or 60)
                fields: dict[str, Any] = {"kind": "range", "time": end, "start": start, "step": pq.step}
            else:
                fields = {"kind": "instant", "time": window.end}
            params = {"warnings": warned[i]} if i in warned else {}
            ordered.append(
                QueryResult.deferred(
                    built[i], key=pq.key, promql=pq.query.promql(), namespace=pq.namespace, params=params, **fields
                )
            )
        facts = {
            "query_count": len(plan),
            "failed_queries": sum(1 for i in gaps if i not in built),
            "queries_with_warnings": len(warned),
            "series": nseries,
            "bytes_read": read[0],
            "batch_namespaces": self.cfg.batch_namespaces,
            "request_count": len(costs),
            "splits": splits[:MAX_RECORDED_SPLITS],
            "split_count": len(splits),
            "duration_s": round(time.monotonic() - started, 3),
            "requests": {"columns": list(COST_COLUMNS), "rows": sorted(costs, key=lambda r: -r[2])},
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
        graph_series = sum(r.series_count() for r in results if r.key.startswith("graph/"))
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


#: What the collector facts record of each request (`metrics.requests`), slowest first.
COST_COLUMNS = (
    "key",
    "namespaces",
    "seconds",
    "bytes",
    "series",
    "prometheus_seconds",
    "samples",
    "outcome",
)
MAX_RECORDED_SPLITS = 100


def _cost(
    batch: Batch, seconds: float, size: int | None, series: int | None, stats: dict | None, outcome: str
) -> list[Any]:
    """One row of `metrics.requests`: Prometheus' own time and samples when it sent `stats`."""
    timings = stats.get("timings") if isinstance(stats, dict) else None
    samples = stats.get("samples") if isinstance(stats, dict) else None
    own = timings.get("execTotalTime") if isinstance(timings, dict) else None
    total = samples.get("totalQueryableSamples") if isinstance(samples, dict) else None
    return [
        batch.key,
        batch.namespaces,
        round(seconds, 4),
        size,
        series,
        round(own, 4) if isinstance(own, (int, float)) else None,
        total if isinstance(total, int) else None,
        outcome,
    ]


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def _routing_sink(batch: Batch, builders: list[SeriesBuilder]) -> Callable[[list[dict]], None]:
    """Each answered series into the builder of every namespace query it belongs to."""
    kind = batch.kind
    single = builders[0] if len(builders) == 1 else None

    def sink(items: list[dict]) -> None:
        for x in items:
            labels = _labels(x)
            if kind == "range":
                pts, value = _points(x), 0.0
            else:
                pts, value = None, _value(x)
            if single is not None:
                single.add(labels, value, pts)
            else:
                for k in batch.route(labels):
                    builders[k].add(labels, value, pts)

    return sink


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
