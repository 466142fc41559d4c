"""One Settings object for every command: config file, `MESHREPORT_*` environment and flags.

Precedence is flag > environment > config file > default, decided per setting, so a CronJob can
keep its connection in a mounted file and a person can still override one value on the command
line. Every setting is declared once in `SETTINGS` (key, type, default, doc); the environment
variable name is derived from the key (`prometheus.auth.token` -> `MESHREPORT_PROMETHEUS_AUTH_TOKEN`)
so the three sources cannot drift apart. Sections other modules own (`health:`, `validation:`,
...) are handed over raw through `Settings.section()`.

Secrets (`secret=True`) are never part of `redacted()`, which is the only view of the settings
that may be logged or written into a snapshot.
"""

from __future__ import annotations

import copy
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from meshreport import safe_yaml
from meshreport.errors import InputError, UsageError
from meshreport.safe_yaml import YamlLimitError

ENV_PREFIX = "MESHREPORT_"
CONFIG_ENV = "MESHREPORT_CONFIG"
REDACTED = "***"

_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")
#: Longest duration a setting takes (100 years): nan, inf and 1e400 are not durations.
MAX_DURATION_S = 100 * 365 * 86400.0
#: Latest window end (2200-01-01T00:00:00Z), see `parse_end`.
MAX_END_S = 7258118400.0
_UNIT_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}


@dataclass(frozen=True)
class Setting:
    """One setting. `kind` is str, int, bool, duration (seconds), list (of str) or map (str->str)."""

    key: str
    kind: str
    default: Any
    doc: str
    flag: str | None = None
    secret: bool = False

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.key.upper().replace(".", "_")


SETTINGS: list[Setting] = [
    Setting(
        "prometheus.url",
        "str",
        None,
        "Prometheus HTTP API base URL (Prometheus, Thanos, Mimir, Cortex, "
        "VictoriaMetrics). Credentials in the URL are accepted but never recorded.",
        "--prometheus",
    ),
    Setting(
        "prometheus.auth.type",
        "str",
        None,
        "none, basic or bearer. When unset it follows from what is "
        "given: a token or token file means bearer, a username means basic.",
        "--prometheus-auth-type",
    ),
    Setting("prometheus.auth.token", "str", None, "Bearer token.", "--prometheus-token", secret=True),
    Setting(
        "prometheus.auth.token_file",
        "str",
        None,
        "File holding the bearer token (e.g. a projected service-account token); read when collection starts.",
        "--prometheus-token-file",
    ),
    Setting("prometheus.auth.username", "str", None, "Basic auth user name.", "--prometheus-username"),
    Setting("prometheus.auth.password", "str", None, "Basic auth password.", "--prometheus-password", secret=True),
    Setting(
        "prometheus.auth.ca_file",
        "str",
        None,
        "PEM file with the CA bundle to verify Prometheus' certificate.",
        "--prometheus-ca-file",
    ),
    Setting(
        "prometheus.auth.cert_file", "str", None, "Client certificate (PEM) for mutual TLS.", "--prometheus-cert-file"
    ),
    Setting("prometheus.auth.key_file", "str", None, "Client key (PEM) for mutual TLS.", "--prometheus-key-file"),
    Setting(
        "prometheus.auth.insecure_skip_verify",
        "bool",
        False,
        "Do not verify Prometheus' TLS certificate (a warning is printed once).",
        "--prometheus-insecure-skip-verify",
    ),
    Setting(
        "prometheus.custom_headers",
        "map",
        {},
        "Headers added to every request, e.g. X-Scope-OrgID for a Mimir/Cortex tenant. Values are treated as secrets.",
        "--prometheus-header",
        secret=True,
    ),
    Setting(
        "prometheus.query_scope",
        "map",
        {},
        "Label matchers injected into every query (Kiali's "
        "query_scope), e.g. mesh_id or cluster on a shared multi-cluster Prometheus.",
        "--query-scope",
    ),
    Setting(
        "prometheus.timeout",
        "duration",
        30.0,
        "Deadline of each query: connecting, the headers and the whole body together (a trickling answer "
        "ends there); also sent to Prometheus as `timeout`.",
        "--prometheus-timeout",
    ),
    Setting(
        "prometheus.retries",
        "int",
        2,
        "Retries of a failed query (timeouts, 5xx, 429, connection errors) before it becomes a gap.",
        "--prometheus-retries",
    ),
    Setting(
        "prometheus.retry_backoff",
        "duration",
        1.0,
        "First backoff between retries; doubles each time.",
        "--prometheus-retry-backoff",
    ),
    Setting("prometheus.concurrency", "int", 8, "Queries run at the same time.", "--concurrency"),
    Setting(
        "prometheus.batch_namespaces",
        "int",
        10,
        "Namespaces answered by one request (the same query for each, split by namespace; a request "
        "over Prometheus' sample limit or the answer size limit is split in halves). 1: one request per namespace.",
        "--batch-namespaces",
    ),
    Setting(
        "prometheus.scrape_interval",
        "duration",
        None,
        "Scrape interval to use instead of asking Prometheus "
        "(/api/v1/status/config), which Thanos, Mimir and VictoriaMetrics do not answer. Default: ask, "
        "else assume 15s.",
        "--scrape-interval",
    ),
    Setting("window", "duration", 86400.0, "Length of the report window, e.g. 1h, 24h, 7d.", "--window"),
    Setting("end", "str", None, "End of the window: RFC 3339 or unix seconds. Default: now.", "--end"),
    Setting(
        "namespaces", "list", [], "Namespaces to collect (comma-separated in flag and environment).", "--namespaces"
    ),
    Setting(
        "aggregate",
        "list",
        [],
        "Metric labels to collect request aggregates for (Kiali's aggregateNode appender, e.g. "
        "request_operation); `graph --aggregate` draws them.",
        "--aggregate",
    ),
    Setting(
        "all_namespaces",
        "bool",
        False,
        "Collect every namespace Prometheus has Istio metrics for in the window.",
        "--all-namespaces",
    ),
    Setting(
        "deadline",
        "duration",
        1800.0,
        "Deadline of a whole collection (Prometheus and the Kubernetes API together): queries and lists "
        "not done by then become gaps, and what was collected is kept.",
        "--deadline",
    ),
    Setting(
        "kubernetes.timeout",
        "duration",
        60.0,
        "Deadline of each request to the Kubernetes API (connecting, the headers and the whole body "
        "together); a list that takes longer becomes a gap.",
        "--kubernetes-timeout",
    ),
    Setting(
        "max_gaps",
        "int",
        None,
        "Exit with code 4 when collection ends with more gaps than this (the "
        "snapshot is still written). Default: no limit.",
        "--max-gaps",
    ),
]

#: `meshreport run` (collect, render, publish) and `meshreport send` (email).
RUN_SETTINGS = [
    Setting(
        "output", "str", None, "Report folder, replaced atomically by each run (instead of an archive).", "--output"
    ),
    Setting(
        "archive.dir",
        "str",
        None,
        "Dated report archive: one folder per run, a `latest` link, an index page (docs/archive.md).",
        "--archive",
    ),
    Setting("archive.keep", "int", 30, "Runs the archive keeps; older ones are deleted (0 keeps all).", "--keep"),
    Setting(
        "archive.trend_runs",
        "int",
        14,
        'Runs the "Trends across runs" lines cover, this one included (archive only; 0 or 1: no trends).',
        "--trend-runs",
    ),
    Setting(
        "baseline",
        "str",
        None,
        'Snapshot of the previous report to compare with ("Since the previous report"); default with an '
        "archive: its previous run (docs/compare.md).",
        "--baseline",
    ),
    Setting(
        "fail_on_regression",
        "bool",
        False,
        "Exit 3 after publishing when a health, error share, p95 or mTLS regression beyond the compare thresholds "
        "appears since the previous report.",
        "--fail-on-regression",
    ),
    Setting(
        "fail_on_new",
        "str",
        "none",
        "Exit 3 after publishing when a finding not in the previous report is at or above this severity "
        "(error, warning, info, none).",
        "--fail-on-new",
    ),
    Setting(
        "title", "str", "Service mesh report", "Title on every page, in the email subject and the index.", "--title"
    ),
    Setting(
        "graph_type",
        "str",
        "versionedApp",
        "Kiali graph type of the report: app, versionedApp, workload, service.",
        "--graph-type",
    ),
    Setting("pdf", "bool", True, "Write report.pdf (needed for the email attachment).", "--pdf"),
    Setting(
        "single_file",
        "bool",
        False,
        "Also write report.html: the whole site in one self-contained file (email, CI artifact viewers).",
        "--single-file",
    ),
    Setting(
        "fail_on",
        "list",
        [],
        "Gates that make the run exit 3 after the report is published: error, warning, info (findings), failure, "
        "degraded (health), error-share>N%, p95>DURATION (docs/ci.md).",
        "--fail-on",
    ),
    Setting("outputs.sarif", "bool", False, "Also write findings.sarif (SARIF 2.1.0, for code scanning).", "--sarif"),
    Setting("outputs.junit", "bool", False, "Also write findings.xml (JUnit XML).", "--junit"),
    Setting(
        "outputs.codequality",
        "bool",
        False,
        "Also write gl-code-quality-report.json (GitLab Code Quality, for merge-request annotations).",
        "--codequality",
    ),
    Setting(
        "outputs.markdown",
        "bool",
        False,
        "Also write summary.md: headline numbers and findings in Markdown, under 1 MiB (CI step summaries).",
        "--markdown",
    ),
    Setting(
        "mesh_config", "str", None, "MeshConfig YAML for validation [the snapshot's istio ConfigMap].", "--mesh-config"
    ),
    Setting(
        "config.from_files",
        "list",
        [],
        "Read config from these YAML files or folders instead of the Kubernetes API "
        "(CLUSTER=PATH: its objects belong to CLUSTER).",
        "--from-files",
    ),
    Setting("config.skip", "bool", False, "Do not collect config (metrics only, no findings).", "--no-config"),
    Setting("kubernetes.contexts", "list", [], "Kubeconfig contexts to collect config from.", "--context"),
    Setting("kubernetes.kubeconfig", "str", None, "Kubeconfig file [KUBECONFIG or ~/.kube/config].", "--kubeconfig"),
    Setting("kubernetes.in_cluster", "bool", False, "Use the pod's service account (CronJob).", "--in-cluster"),
    Setting(
        "kubernetes.secret_names",
        "bool",
        False,
        "Also list Secret names (metadata only) for gateway certificate checks; needs the opt-in role.",
        "--secret-names",
    ),
    Setting(
        "kubernetes.gateway_certs",
        "bool",
        False,
        "Also read Secrets named by Gateways, keeping only certificate facts; needs both opt-in roles.",
        "--gateway-certs",
    ),
    Setting(
        "links.kiali",
        "str",
        None,
        "Kiali's URL with its web root (e.g. https://kiali.example.com/kiali): service pages link to the "
        "service, workload or app in Kiali for the report's window.",
        "--kiali-url",
    ),
    Setting(
        "links.grafana",
        "str",
        None,
        "Grafana's URL: service pages link to Istio's Service and Workload dashboards for the report's window.",
        "--grafana-url",
    ),
    Setting(
        "links.grafana_service_dashboard",
        "str",
        None,
        "Path of the Istio Service Dashboard in Grafana [/d/LJ_uJAvmk/istio-service-dashboard, Istio's uid].",
        "--grafana-service-dashboard",
    ),
    Setting(
        "links.grafana_workload_dashboard",
        "str",
        None,
        "Path of the Istio Workload Dashboard in Grafana [/d/UbsSZTDik/istio-workload-dashboard, Istio's uid].",
        "--grafana-workload-dashboard",
    ),
    Setting(
        "links.jaeger",
        "str",
        None,
        "Jaeger UI's URL: service pages link to a trace search for the service and the report's window.",
        "--jaeger-url",
    ),
]

EMAIL_SETTINGS = [
    Setting(
        "email.to",
        "list",
        [],
        "Recipients of the report email (comma-separated in flag and environment).",
        "--email-to",
    ),
    Setting("email.from", "str", "meshreport@localhost", "Sender address.", "--email-from"),
    Setting(
        "email.subject",
        "str",
        "{title}: {failing} failing, {errors} config errors ({end})",
        "Subject template; fields: {title} {start} {end} {window} {failing} {degraded} {errors} {warnings} "
        "{findings} {error_share} {request_rate} {gaps}.",
        "--email-subject",
    ),
    Setting("email.smtp.host", "str", None, "SMTP server host name.", "--smtp-host"),
    Setting(
        "email.smtp.port",
        "int",
        None,
        "SMTP port [465 with implicit TLS, else 587 with STARTTLS, else 25].",
        "--smtp-port",
    ),
    Setting("email.smtp.tls", "str", "starttls", "starttls, tls (implicit, usually port 465) or none.", "--smtp-tls"),
    Setting(
        "email.smtp.ca_file", "str", None, "PEM CA bundle to verify the SMTP server [system CAs].", "--smtp-ca-file"
    ),
    Setting("email.smtp.username", "str", None, "SMTP user name (AUTH only over TLS).", "--smtp-username"),
    Setting("email.smtp.password", "str", None, "SMTP password.", "--smtp-password", secret=True),
    Setting(
        "email.smtp.password_file",
        "str",
        None,
        "File holding the SMTP password (a mounted Secret); read when sending.",
        "--smtp-password-file",
    ),
    Setting(
        "email.smtp.timeout",
        "duration",
        120.0,
        "Deadline of the whole SMTP conversation, connect to the last reply (each read times out by it too).",
        "--smtp-timeout",
    ),
    Setting(
        "email.max_attachment",
        "int",
        10 * 1024 * 1024,
        "Largest PDF attached, in bytes; a bigger one is replaced by a note in the body (default 10 MiB).",
        "--max-attachment",
    ),
    Setting("email.report_url", "str", None, "Link to the published report, shown in the email body.", "--report-url"),
]

SETTINGS += RUN_SETTINGS + EMAIL_SETTINGS

#: Sections whose every key is declared above: unknown keys there are typos and are refused.
STRICT_SECTIONS = ("prometheus", "email", "archive", "outputs", "kubernetes", "links")


def register(setting: Setting) -> None:
    """Declare a setting from another module (keeps one list, one precedence rule, one doc)."""
    if any(s.key == setting.key for s in SETTINGS):
        raise ValueError(f"setting {setting.key} is already declared")
    SETTINGS.append(setting)


def setting(key: str) -> Setting:
    for s in SETTINGS:
        if s.key == key:
            return s
    raise KeyError(key)


class Settings:
    """Resolved settings. Read values with `settings["prometheus.url"]` or `settings.get(...)`."""

    def __init__(
        self,
        values: dict[str, Any],
        origins: dict[str, str],
        raw: dict[str, Any],
        config_file: str | None = None,
    ) -> None:
        self._values = values
        self._origins = origins
        self._raw = raw
        self.config_file = config_file

    @classmethod
    def load(
        cls,
        *,
        config_file: str | os.PathLike | None = None,
        env: Mapping[str, str] | None = None,
        flags: Mapping[str, Any] | None = None,
    ) -> Settings:
        """Resolve every setting. `flags` maps setting keys to values; None means "not given".

        `config_file` defaults to `$MESHREPORT_CONFIG`. Flag values may already be typed (click
        did it) or be strings; both are checked the same way.
        """
        env = os.environ if env is None else env
        flags = {k: v for k, v in (flags or {}).items() if v is not None}
        for k in flags:
            setting(k)  # unknown keys are a programming error, not a user one
        path = str(config_file) if config_file else (env.get(CONFIG_ENV) or None)
        raw = _read_config(path) if path else {}
        values: dict[str, Any] = {}
        origins: dict[str, str] = {}
        for s in SETTINGS:
            found, file_value = _lookup(raw, s.key)
            if s.key in flags:
                values[s.key] = _convert(s, flags[s.key], _flag_origin(s))
                origins[s.key] = "flag"
            elif env.get(s.env, "") != "":
                values[s.key] = _convert(s, env[s.env], s.env)
                origins[s.key] = "env"
            elif found and file_value is not None:
                values[s.key] = _convert(s, file_value, f"{path}: {s.key}")
                origins[s.key] = "file"
            else:
                values[s.key] = copy.deepcopy(s.default)
                origins[s.key] = "default"
        return cls(values, origins, raw, path)

    def with_flags(self, flags: Mapping[str, Any]) -> Settings:
        """A copy where the given (non-None) flag values win, for options a command parses itself."""
        values = dict(self._values)
        origins = dict(self._origins)
        for k, v in flags.items():
            if v is None:
                continue
            s = setting(k)
            values[k] = _convert(s, v, _flag_origin(s))
            origins[k] = "flag"
        return Settings(values, origins, self._raw, self.config_file)

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._values.get(key, default)

    def origin(self, key: str) -> str:
        """Where a value came from: flag, env, file or default (shown in `--help`-style docs/logs)."""
        return self._origins[key]

    def section(self, name: str) -> dict[str, Any]:
        """The raw config-file section `name:` (e.g. `health`, `validation`), {} when absent.

        Returned as a deep copy so a caller cannot change what another one sees.
        """
        value = self._raw.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise UsageError(f"{self.config_file}: section {name!r} must be a mapping")
        return copy.deepcopy(value)

    def secrets(self) -> list[str]:
        """Every secret value in effect (for redacting messages): tokens, passwords, header values."""
        out: list[str] = []
        for s in SETTINGS:
            v = self._values.get(s.key)
            if not s.secret or v in (None, "", {}):
                continue
            out.extend(str(x) for x in v.values()) if isinstance(v, dict) else out.append(str(v))
        return [x for x in out if x]

    def redacted(self) -> dict[str, Any]:
        """Settings safe to log or record: secrets become `***`, URL credentials are removed."""
        out: dict[str, Any] = {}
        for s in SETTINGS:
            v = self._values.get(s.key)
            if s.secret and v not in (None, "", {}):
                v = {k: REDACTED for k in v} if isinstance(v, dict) else REDACTED
            elif s.key == "prometheus.url" and v:
                v = strip_credentials(v)
            out[s.key] = v
        return out


def strip_credentials(url: str) -> str:
    """`https://user:pw@host/p?x=1` -> `https://host/p`: what a snapshot or log may show."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid url>"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def http_url(url: str, what: str) -> str:
    """`url` if it is an http(s) URL with a host and a valid port, else a usage error naming `what`
    (`http://[::1` or port 99999 make urllib raise ValueError only when the port is first read)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a port outside 0-65535 or not a number
    except ValueError as e:
        raise UsageError(f"{what}: not a valid URL ({str(e).rstrip('.')})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or port == 0:
        shown = strip_credentials(url)
        raise UsageError(f"{what}: expected an http(s) URL with a host and port 1-65535, got {shown!r}")
    return url


def parse_duration(text: str | float | int, what: str = "duration") -> float:
    """`90s`, `30m`, `24h`, `7d`, `1w`, `1h30m` or plain seconds -> seconds (float)."""
    if isinstance(text, bool):
        raise UsageError(f"{what}: expected a duration like 30s, 24h or 7d, got {text!r}")
    if isinstance(text, (int, float)):
        seconds = float(text)
    else:
        t = str(text).strip()
        try:
            seconds = float(t)
        except ValueError:
            pos, seconds = 0, 0.0
            for m in _DURATION_RE.finditer(t):
                if m.start() != pos:
                    break
                seconds += float(m.group(1)) * _UNIT_S[m.group(2)]
                pos = m.end()
            if pos != len(t) or not t:
                raise UsageError(f"{what}: expected a duration like 30s, 24h or 7d, got {text!r}") from None
    if not math.isfinite(seconds) or seconds > MAX_DURATION_S:
        raise UsageError(f"{what}: expected a duration up to 100y, got {text!r}")
    if seconds < 0:
        raise UsageError(f"{what}: must not be negative, got {text!r}")
    return seconds


def _flag_origin(s: Setting) -> str:
    return s.flag or s.key


def _read_config(path: str) -> dict[str, Any]:
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise InputError(f"{path}: no such config file") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read config file: {e.strerror}") from None
    try:
        doc = safe_yaml.load(text, str(path))
    except YamlLimitError:
        raise
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise InputError(f"{path}: config file is not valid YAML{where}") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise InputError(f"{path}: config file must be a YAML mapping at the top level")
    _check_strict(doc, path)
    return doc


def _check_strict(doc: dict[str, Any], path: str) -> None:
    known = {s.key for s in SETTINGS}
    for section in STRICT_SECTIONS:
        if section in doc and doc[section] is not None:
            for key in _leaf_keys(doc[section], section, known):
                if key not in known:
                    raise UsageError(f"{path}: unknown setting {key!r} (see docs/configuration.md)")


def _leaf_keys(node: Any, prefix: str, known: set[str]) -> list[str]:
    if prefix in known or not isinstance(node, dict):
        return [prefix]
    out: list[str] = []
    for k, v in node.items():
        out.extend(_leaf_keys(v, f"{prefix}.{k}", known))
    return out


def _lookup(raw: dict[str, Any], key: str) -> tuple[bool, Any]:
    node: Any = raw
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _convert(s: Setting, value: Any, origin: str) -> Any:
    """Check and convert one value; errors name where the value came from (never its content if secret)."""
    shown = REDACTED if s.secret else repr(value)
    try:
        if s.kind == "str":
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise ValueError
            return str(value)
        if s.kind == "int":
            if isinstance(value, bool) or (isinstance(value, str) and len(value.strip()) > 18):
                raise ValueError
            n = int(value)
            if n < 0 or (s.key.endswith(".port") and not 0 < n < 65536):
                raise ValueError
            return n
        if s.kind == "bool":
            if isinstance(value, bool):
                return value
            t = str(value).strip().lower()
            if t in _TRUE:
                return True
            if t in _FALSE:
                return False
            raise ValueError
        if s.kind == "duration":
            return parse_duration(value, origin)
        if s.kind == "list":
            items = value.split(",") if isinstance(value, str) else list(value)
            return [str(x).strip() for x in items if str(x).strip()]
        if s.kind == "map":
            return _to_map(value)
    except UsageError:
        raise
    except (ValueError, TypeError):
        raise UsageError(f"{origin}: invalid {s.kind} value {shown}") from None
    raise AssertionError(f"unknown setting kind {s.kind}")


def _to_map(value: Any) -> dict[str, str]:
    """A mapping, or `k=v,k2=v2` (environment), or a list of `k=v` / `Name: value` (repeated flags)."""
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    items = value.split(",") if isinstance(value, str) else list(value)
    out: dict[str, str] = {}
    for item in items:
        item = str(item).strip()
        if not item:
            continue
        sep = min((i for i in (item.find("="), item.find(":")) if i > 0), default=-1)
        if sep < 0:
            raise ValueError(item)
        out[item[:sep].strip()] = item[sep + 1 :].strip()
    return out


def parse_end(text: str | float | int, what: str = "--end") -> float:
    """RFC 3339 (`2024-01-01T02:00:00Z`, with offset) or unix seconds -> unix seconds."""
    from datetime import datetime, timezone

    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return _end_in_range(float(text), repr(text), what)
    t = str(text).strip()
    try:
        return _end_in_range(float(t), repr(t), what)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(t[:-1] + "+00:00" if t.endswith(("Z", "z")) else t)
    except ValueError:
        raise UsageError(f"{what}: expected RFC 3339 (2024-01-01T00:00:00Z) or unix seconds, got {t!r}") from None
    if dt.tzinfo is None:
        raise UsageError(f"{what}: {t!r} has no time zone; add Z or an offset like +02:00")
    try:
        seconds = dt.astimezone(timezone.utc).timestamp()
    except (OverflowError, ValueError):
        raise UsageError(f"{what}: {t!r} is out of range") from None
    return _end_in_range(seconds, repr(t), what)


def _end_in_range(seconds: float, shown: str, what: str) -> float:
    """A window end must be a real time Prometheus can answer for: after 1970, before 2200
    (Prometheus' timestamps are int64 milliseconds; dates and pictures need a real calendar year)."""
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_END_S:
        raise UsageError(f"{what}: expected a time between 1970 and 2200, got {shown}")
    return seconds


def resolve_window(settings: Settings, now: float | None = None):
    """The Window the settings ask for: `window` long, ending at `end` (default: now, whole seconds)."""
    import time

    from meshreport.snapshot.model import Window

    duration = settings["window"]
    if duration < 1:
        raise UsageError("--window must be at least 1s")
    end_text = settings["end"]
    end = parse_end(end_text) if end_text else float(int(time.time() if now is None else now))
    start = end - float(int(round(duration)))
    if start < 0:
        raise UsageError(f"--window {duration:g}s before --end would start before 1970")
    return Window(start=start, end=end)
