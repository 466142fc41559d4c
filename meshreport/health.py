"""Health as Kiali computes it: request health from error ratios, workload status from replicas.

Reference: Kiali business/health_calculator.go, models/health_status.go, frontend types/Health.ts.
Everything here is a pure function of plain data, so the graph's health appender and the report's
tables compute the same status from the same numbers.

- Request health: per direction (inbound/outbound) and protocol, the error ratio of the codes a
  tolerance matches, compared with that tolerance's degraded/failure percentages. Tolerances come
  from the first matching rate rule (user rules, then Kiali's defaults) or from the object's
  `health.kiali.io/rate` annotation, which replaces them entirely.
- Workload status: desired/current/available replicas and synced proxies (rules 1-7).
- Entity health: workload = worst(status, requests); app = worst(requests, each workload's
  status); service = requests only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from meshreport.errors import UsageError

FAILURE = "Failure"
DEGRADED = "Degraded"
NOT_READY = "Not Ready"
HEALTHY = "Healthy"
NA = "NA"

#: Kiali's merge priority (models/health_status.go): the higher one wins.
PRIORITY = {FAILURE: 4, DEGRADED: 3, NOT_READY: 2, HEALTHY: 1, NA: 0}

INBOUND = "inbound"
OUTBOUND = "outbound"
DIRECTIONS = (INBOUND, OUTBOUND)

RATE_ANNOTATION = "health.kiali.io/rate"

#: {direction: {protocol: {code: rate}}}, Kiali's `requests` shape.
Requests = dict[str, dict[str, dict[str, float]]]


def worst(*statuses: str) -> str:
    """The status with the highest priority (NA when none given)."""
    return max(statuses, key=PRIORITY.__getitem__, default=NA)


def _worse(a: str, b: str) -> str:
    """worst(a, b): the entity functions merge statuses two at a time, and for two values
    max() with a key costs several times this comparison."""
    return b if PRIORITY[b] > PRIORITY[a] else a


# --- tolerances and rate rules ---------------------------------------------------------------


def _anchor(pattern: str) -> str:
    """Kiali anchors every health regex with ^ and $ unless already there; empty means any."""
    if pattern == "":
        pattern = ".*"
    if not pattern.startswith("^"):
        pattern = "^" + pattern
    if not pattern.endswith("$"):
        pattern = pattern + "$"
    return pattern


def code_pattern(code: str) -> str:
    """A tolerance code as a regex: every X/x is a digit (`5XX` -> `^5\\d\\d$`)."""
    return _anchor(code.replace("X", "\\d").replace("x", "\\d"))


@lru_cache(maxsize=4096)
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


@dataclass(frozen=True)
class Tolerance:
    """One tolerance: codes matching `code` over all codes of `protocol` in `direction`.

    The strings are the user's patterns as written; matching uses the anchored forms, compiled
    once, and remembers answers (a graph asks the same few codes and protocols many times).
    """

    code: str
    degraded: float
    failure: float
    protocol: str = ""
    direction: str = ""
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def applies(self, direction: str, protocol: str) -> bool:
        key = (direction, protocol)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = bool(
                _compile(_anchor(self.direction)).search(direction)
                and _compile(_anchor(self.protocol)).search(protocol)
            )
        return hit

    def matches_code(self, code: str) -> bool:
        hit = self._memo.get(code)
        if hit is None:
            hit = self._memo[code] = bool(_compile(code_pattern(self.code)).search(code))
        return hit

    def status(self, ratio: float) -> str:
        """Kiali's ascending threshold check on an error percentage."""
        if ratio <= 0:
            return HEALTHY
        if ratio >= self.failure:
            return FAILURE
        if ratio >= self.degraded:
            return DEGRADED
        return HEALTHY

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "protocol": self.protocol,
            "direction": self.direction,
            "degraded": self.degraded,
            "failure": self.failure,
        }


@dataclass(frozen=True)
class RateRule:
    """A `health_config.rate` entry: which objects it covers and their tolerances."""

    tolerances: tuple[Tolerance, ...]
    namespace: str = ""
    kind: str = ""
    name: str = ""
    _patterns: list = field(default_factory=list, init=False, repr=False, compare=False)

    def checks(self) -> tuple[tuple[int, re.Pattern[str]], ...]:
        """(field index, regex) of the patterns that can fail: 0 namespace, 1 kind, 2 name.

        Empty patterns match anything and are skipped (Kiali's default rule has none).
        """
        if not self._patterns:
            self._patterns.append(
                tuple(
                    (i, _compile(_anchor(p)))
                    for i, p in enumerate((self.namespace, self.kind, self.name))
                    if p not in ("", ".*")
                )
            )
        return self._patterns[0]

    def applies(self, namespace: str, kind: str, name: str) -> bool:
        values = (namespace, kind, name)
        return all(rx.search(values[i]) for i, rx in self.checks())


#: Kiali's default rule (config.go AddHealthDefault), always appended after the user's rules.
DEFAULT_RULE = RateRule(
    tolerances=(
        Tolerance(code="5XX", protocol="http", direction=".*", degraded=0, failure=10),
        Tolerance(code="4XX", protocol="http", direction=".*", degraded=10, failure=20),
        Tolerance(code="^[1-9]$|^1[0-6]$", protocol="grpc", direction=".*", degraded=0, failure=10),
        Tolerance(code="^-$", protocol="http|grpc", direction=".*", degraded=0, failure=10),
    )
)

_RULE_KEYS = {"namespace", "kind", "name", "tolerance"}
_TOLERANCE_KEYS = {"code", "protocol", "direction", "degraded", "failure"}


def rules_from_config(section: Mapping[str, Any] | None) -> list[RateRule]:
    """The config file's `health:` section (Kiali's `health_config` shape) as rules.

    `{rate: [{namespace, kind, name, tolerance: [{code, protocol, direction, degraded, failure}]}]}`;
    Kiali's default rule is appended last. A bad rule raises UsageError with one line naming it.
    """
    if section is None:
        return [DEFAULT_RULE]
    if not isinstance(section, Mapping):
        raise UsageError("config health: must be a mapping with a 'rate' list")
    unknown = set(section) - {"rate"}
    if unknown:
        raise UsageError(f"config health: unknown key(s) {', '.join(sorted(map(str, unknown)))} (expected 'rate')")
    raw_rules = section.get("rate") or []
    if not isinstance(raw_rules, list):
        raise UsageError("config health.rate: must be a list of rules")
    rules = [_rule_from(r, f"health.rate[{i}]") for i, r in enumerate(raw_rules)]
    return rules + [DEFAULT_RULE]


def _rule_from(raw: Any, where: str) -> RateRule:
    if not isinstance(raw, Mapping):
        raise UsageError(f"config {where}: must be a mapping with namespace/kind/name/tolerance")
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise UsageError(f"config {where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    fields = {k: _regex_field(raw.get(k), f"{where}.{k}") for k in ("namespace", "kind", "name")}
    tols = raw.get("tolerance") or []
    if not isinstance(tols, list):
        raise UsageError(f"config {where}.tolerance: must be a list")
    tolerances = tuple(_tolerance_from(t, f"{where}.tolerance[{j}]") for j, t in enumerate(tols))
    return RateRule(tolerances=tolerances, **fields)


def _tolerance_from(raw: Any, where: str) -> Tolerance:
    if not isinstance(raw, Mapping):
        raise UsageError(f"config {where}: must be a mapping with code/protocol/direction/degraded/failure")
    unknown = set(raw) - _TOLERANCE_KEYS
    if unknown:
        raise UsageError(f"config {where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    code = raw.get("code")
    if isinstance(code, int) and not isinstance(code, bool):
        code = str(code)  # YAML reads `code: 404` as a number
    code = _regex_field(code, f"{where}.code", transform=code_pattern)
    thresholds = {}
    for k in ("degraded", "failure"):
        v = raw.get(k)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise UsageError(f"config {where}.{k}: must be a percentage >= 0, got {v!r}")
        thresholds[k] = float(v)
    return Tolerance(
        code=code,
        protocol=_regex_field(raw.get("protocol"), f"{where}.protocol"),
        direction=_regex_field(raw.get("direction"), f"{where}.direction"),
        **thresholds,
    )


def _regex_field(value: Any, where: str, transform=_anchor) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise UsageError(f"config {where}: must be a string (a regular expression), got {value!r}")
    try:
        re.compile(transform(value))
    except re.error as e:
        raise UsageError(f"config {where}: bad regular expression {value!r}: {e}") from None
    return value


def parse_rate_annotation(value: str | None) -> tuple[Tolerance, ...]:
    """Tolerances from a `health.kiali.io/rate` annotation; invalid parts are skipped.

    Format `code,degraded,failure,protocol,direction` with `;` between tolerances. A part needs
    exactly 5 fields, numeric thresholds with degraded <= failure, and valid regexes.
    """
    if not value:
        return ()
    out = []
    for part in value.split(";"):
        fields = [f.strip() for f in part.split(",")]
        if len(fields) != 5:
            continue
        code, degraded, failure, protocol, direction = fields
        try:
            d, f = float(degraded), float(failure)
            re.compile(code_pattern(code))
            re.compile(_anchor(protocol))
            re.compile(_anchor(direction))
        except (ValueError, re.error):
            continue
        if d != d or f != f or d < 0 or d > f:  # NaN, negative, or inverted thresholds
            continue
        out.append(Tolerance(code=code, degraded=d, failure=f, protocol=protocol, direction=direction))
    return tuple(out)


def resolve_tolerances(
    rules: Iterable[RateRule],
    namespace: str,
    kind: str,
    name: str,
    annotations: Mapping[str, str] | None = None,
) -> tuple[Tolerance, ...]:
    """The tolerances for one object: a valid annotation wins, else the first matching rule."""
    if annotations:
        from_annotation = parse_rate_annotation(annotations.get(RATE_ANNOTATION))
        if from_annotation:
            return from_annotation
    rules = list(rules) or [DEFAULT_RULE]
    for rule in rules:
        if rule.applies(namespace, kind, name):
            return rule.tolerances
    return rules[-1].tolerances


class ToleranceResolver:
    """`resolve_tolerances` for many objects against the same rules, remembering answers.

    Only the rules up to the first unconditional one can decide, and they read only some of
    (namespace, kind, name): answers are keyed by those fields alone, so with Kiali's default
    rule every object shares one answer. Annotations are parsed once per distinct value.
    """

    def __init__(self, rules: Iterable[RateRule]) -> None:
        self.rules = list(rules) or [DEFAULT_RULE]
        used: set[int] = set()
        for rule in self.rules:
            checks = rule.checks()
            used.update(i for i, _ in checks)
            if not checks:
                break
        self._used = (0 in used, 1 in used, 2 in used)
        # No field read: the first rule is unconditional and answers for every object.
        self._fixed = self.rules[0].tolerances if not used else None
        self._by_fields: dict[tuple[str, str, str], tuple[Tolerance, ...]] = {}
        self._by_annotation: dict[Any, tuple[Tolerance, ...]] = {}

    def resolve(
        self, namespace: str, kind: str, name: str, annotations: Mapping[str, str] | None = None
    ) -> tuple[Tolerance, ...]:
        """Same answer as resolve_tolerances(self.rules, namespace, kind, name, annotations).

        Also the instance's __call__; hot loops call `resolve` (a plain method call is cheaper).
        """
        if annotations:
            value = annotations.get(RATE_ANNOTATION)
            if value:
                parsed = self._by_annotation.get(value)
                if parsed is None:
                    parsed = self._by_annotation[value] = parse_rate_annotation(value)
                if parsed:
                    return parsed
        if self._fixed is not None:
            return self._fixed
        use_ns, use_kind, use_name = self._used
        key = (namespace if use_ns else "", kind if use_kind else "", name if use_name else "")
        found = self._by_fields.get(key)
        if found is None:
            found = self._by_fields[key] = resolve_tolerances(self.rules, namespace, kind, name)
        return found

    __call__ = resolve


# --- request health --------------------------------------------------------------------------


@dataclass
class RequestHealth:
    """The status of one object's traffic and the error ratio (percent) that decided it."""

    status: str
    error_ratio: float = 0.0


#: How request and edge health find the tolerances that count a code set as errors: `matching`,
#: or a remembering wrapper of it (the graph's health appender keeps one per graph).
Matcher = Callable[[tuple["Tolerance", ...], str, str, Mapping[str, float]], tuple]


def matching(
    tolerances: tuple[Tolerance, ...], direction: str, protocol: str, codes: Mapping[str, float]
) -> tuple[tuple[Tolerance, tuple[str, ...]], ...]:
    """[(tolerance, codes it counts as errors)]: tolerances that apply to (direction, protocol)
    and match at least one of the codes."""
    found = []
    for t in tolerances:
        if t.applies(direction, protocol):
            matched = tuple(c for c in codes if t.matches_code(c))
            if matched:
                found.append((t, matched))
    return tuple(found)


def request_health(requests: Requests, tolerances: tuple[Tolerance, ...], match: Matcher = matching) -> RequestHealth:
    """Kiali's health calculator: worst status over (direction, protocol, tolerance).

    Directions are never summed together. Traffic with no applicable tolerance is Healthy; no
    traffic at all is NA. A rule without tolerances falls back to the 4xx+5xx ratio over both
    directions (>= 10% Failure, >= 0.1% Degraded).
    """
    if not tolerances:
        return _fallback_health(requests)
    seen_traffic = False
    best_status, best_ratio, best_p = NA, 0.0, 0
    for direction in DIRECTIONS:
        protos = requests.get(direction)
        if not protos:
            continue
        for protocol, codes in protos.items():
            total = sum(codes.values())
            if total <= 0:
                continue
            seen_traffic = True
            # Tolerances matching none of the codes have ratio 0: Healthy, never the worst.
            for tol, matched in match(tolerances, direction, protocol, codes):
                # map rather than a generator: no frame per tolerance, the same sum
                ratio = sum(map(codes.__getitem__, matched)) / total * 100.0
                status = tol.status(ratio)
                p = PRIORITY[status]
                if p > best_p or (p == best_p and ratio > best_ratio):
                    best_status, best_ratio, best_p = status, ratio, p
    if not seen_traffic:
        return RequestHealth(NA, 0.0)
    if best_status == NA:
        return RequestHealth(HEALTHY, 0.0)
    return RequestHealth(best_status, best_ratio)


_HTTP_ERROR = re.compile(r"^[45]\d\d$")


def _fallback_health(requests: Requests) -> RequestHealth:
    total = errors = 0.0
    for direction in DIRECTIONS:
        for codes in (requests.get(direction) or {}).values():
            for code, v in codes.items():
                total += v
                if _HTTP_ERROR.match(code):
                    errors += v
    if total <= 0:
        return RequestHealth(NA, 0.0)
    ratio = errors / total * 100.0
    if ratio >= 10:
        return RequestHealth(FAILURE, ratio)
    if ratio >= 0.1:
        return RequestHealth(DEGRADED, ratio)
    return RequestHealth(HEALTHY, ratio)


def edge_matches(
    source_tolerances: tuple[Tolerance, ...],
    dest_tolerances: tuple[Tolerance, ...],
    protocol: str,
    codes: Mapping[str, float],
) -> tuple:
    """`matching` for an edge: the source's outbound tolerances, then the dest's inbound ones."""
    return matching(source_tolerances, OUTBOUND, protocol, codes) + matching(dest_tolerances, INBOUND, protocol, codes)


def edge_status(
    protocol: str,
    codes: Mapping[str, float],
    source_tolerances: tuple[Tolerance, ...],
    dest_tolerances: tuple[Tolerance, ...],
    matches: Callable[..., tuple] = edge_matches,
) -> str:
    """Edge health (Kiali appender/health.go): the source's outbound and the dest's inbound tolerances.

    NA when the edge carries no traffic; Healthy when no tolerance matches the protocol.
    `matches` is `edge_matches` or a remembering wrapper of it.
    """
    total = sum(codes.values())
    if total <= 0:
        return NA
    status, best = HEALTHY, PRIORITY[HEALTHY]
    for tol, matched in matches(source_tolerances, dest_tolerances, protocol, codes):
        s = tol.status(sum(map(codes.__getitem__, matched)) / total * 100.0)
        if PRIORITY[s] > best:
            status, best = s, PRIORITY[s]
    return status


def add_request(requests: Requests, direction: str, protocol: str, code: str, rate: float) -> None:
    """Accumulate one rate into a `requests` structure."""
    codes = requests.setdefault(direction, {}).setdefault(protocol, {})
    codes[code] = codes.get(code, 0.0) + rate


# --- workload status -------------------------------------------------------------------------


def workload_status(desired: int, current: int, available: int, synced_proxies: int = -1) -> str:
    """Kiali's WorkloadStatusHealth, rules 1-7 in order."""
    if desired == 0:
        return NOT_READY
    if desired > 0 and current > 0 and available > 0 and (current < desired or available < desired):
        return DEGRADED
    if desired > 0 and available == 0:
        return FAILURE
    if desired == available and available != current:
        return FAILURE  # pending pods
    if synced_proxies >= 0 and synced_proxies < desired:
        return DEGRADED  # unsynced proxies
    if desired == current == available:
        return HEALTHY
    return DEGRADED


@dataclass
class WorkloadStatus:
    """Replica counts of one workload; `synced_proxies` is -1 when not checked (no sidecar)."""

    name: str
    desired_replicas: int
    current_replicas: int
    available_replicas: int
    synced_proxies: int = -1

    @property
    def status(self) -> str:
        return workload_status(
            self.desired_replicas, self.current_replicas, self.available_replicas, self.synced_proxies
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "desiredReplicas": self.desired_replicas,
            "currentReplicas": self.current_replicas,
            "availableReplicas": self.available_replicas,
            "syncedProxies": self.synced_proxies,
        }


# --- entity health ---------------------------------------------------------------------------


@dataclass
class Health:
    """The health of one app, workload or service, with the inputs that produced it.

    `requests` is Kiali's {direction: {protocol: {code: rate}}}; `workload_statuses` holds the
    one workload's status (kind workload) or every backing workload's (kind app). The entity
    functions below pass the fields by position: a graph builds one per node, and keyword
    arguments nearly double what that costs.
    """

    kind: str
    status: str
    requests: Requests = field(default_factory=dict)
    request_status: str = NA
    error_ratio: float = 0.0
    workload_statuses: list[WorkloadStatus] = field(default_factory=list)
    annotations: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Kiali's healthData shape, plus the computed `status`."""
        d: dict[str, Any] = {
            "requests": {
                INBOUND: self.requests.get(INBOUND, {}),
                OUTBOUND: self.requests.get(OUTBOUND, {}),
                "healthAnnotations": dict(self.annotations),
            }
        }
        if self.kind == "workload":
            d["workloadStatus"] = self.workload_statuses[0].to_dict() if self.workload_statuses else None
        elif self.kind == "app":
            d["workloadStatuses"] = [w.to_dict() for w in self.workload_statuses]
        d["status"] = {"status": self.status, "errorRatio": self.error_ratio}
        return d


def _health_annotations(annotations: Mapping[str, str] | None) -> dict[str, str]:
    if annotations and RATE_ANNOTATION in annotations:
        return {RATE_ANNOTATION: annotations[RATE_ANNOTATION]}
    return {}


def workload_health(
    requests: Requests,
    status: WorkloadStatus | None,
    tolerances: tuple[Tolerance, ...],
    annotations: Mapping[str, str] | None = None,
    *,
    rh: RequestHealth | None = None,
) -> Health:
    """Workload = worst(workload status, request status).

    `rh` is request_health(requests, tolerances) when the caller already has it.
    """
    if rh is None:
        rh = request_health(requests, tolerances)
    overall = _worse(rh.status, status.status) if status is not None else rh.status
    return Health(
        "workload",
        overall,
        requests,
        rh.status,
        rh.error_ratio,
        [status] if status is not None else [],
        _health_annotations(annotations),
    )


def app_health(
    requests: Requests,
    statuses: Iterable[WorkloadStatus],
    tolerances: tuple[Tolerance, ...],
    *,
    rh: RequestHealth | None = None,
) -> Health:
    """App = worst(request status, each backing workload's status).

    `rh` is request_health(requests, tolerances) when the caller already has it (a one-node
    app's requests are its node's).
    """
    statuses = list(statuses)
    if rh is None:
        rh = request_health(requests, tolerances)
    overall = rh.status
    for w in statuses:
        overall = _worse(overall, w.status)
    return Health("app", overall, requests, rh.status, rh.error_ratio, statuses, {})


def service_health(
    requests: Requests,
    tolerances: tuple[Tolerance, ...],
    annotations: Mapping[str, str] | None = None,
    *,
    rh: RequestHealth | None = None,
) -> Health:
    """Service = request status only. `rh` as in `workload_health`."""
    if rh is None:
        rh = request_health(requests, tolerances)
    return Health("service", rh.status, requests, rh.status, rh.error_ratio, [], _health_annotations(annotations))
