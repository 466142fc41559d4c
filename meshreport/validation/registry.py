"""The rule registry: a rule is a code, a severity, a doc and a check, declared once.

Rule modules register with the `@rule` decorator at import time; `rules/__init__.py` imports
them all. Several rules may share a code (istioctl's IST0101 covers many references).

Traffic rules (`traffic_rule`) have no check: the analysis raises them from the window's traffic
(validation/traffic.py), and they are registered here so the codes table, `--fail-on`, suppressions
and SARIF treat them like any other finding. `validate` never runs them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from meshreport.validation.model import SEVERITIES, Hit

if TYPE_CHECKING:
    from meshreport.snapshot.model import ConfigObject
    from meshreport.validation.index import Context

Check = Callable[["ConfigObject", "Context"], Iterator[Hit]]


@dataclass(frozen=True)
class Rule:
    code: str
    kinds: tuple[str, ...]
    severity: str
    title: str
    doc: str
    check: Check | None  # None: a traffic rule, raised by the analysis (never by the runner)
    equivalents: tuple[str, ...] = ()
    default: bool = True  # False: opt-in (istioctl does not run it by default); `--enable CODE` runs it
    #: a traffic rule's name and module (a checked rule takes both from its function)
    traffic: tuple[str, str] | None = None

    @property
    def name(self) -> str:
        """The check function's name: unique, stable, used in docs and SARIF rule ids."""
        if self.traffic is not None:
            return self.traffic[0]
        assert self.check is not None
        return self.check.__name__

    @property
    def module(self) -> str:
        if self.traffic is not None:
            return self.traffic[1]
        assert self.check is not None
        return self.check.__module__.rsplit(".", 1)[-1]


_RULES: list[Rule] = []
_BY_KIND: dict[str, list[Rule]] = {}


def rule(
    *,
    code: str,
    kinds: tuple[str, ...],
    severity: str,
    title: str,
    doc: str,
    equivalents: tuple[str, ...] = (),
    default: bool = True,
) -> Callable[[Check], Check]:
    """Register a check. The function yields `Hit`s for the object it is given.

    `kinds` are object kinds, except that a Gateway API Gateway is `K8sGateway` (index.rule_kind).
    """
    if severity not in SEVERITIES:
        raise ValueError(f"rule {code}: severity must be one of {SEVERITIES}, not {severity!r}")
    if not doc.strip() or not title.strip():
        raise ValueError(f"rule {code}: title and doc are required")

    def decorate(fn: Check) -> Check:
        r = Rule(
            code=code,
            kinds=tuple(kinds),
            severity=severity,
            title=title,
            doc=" ".join(doc.split()),
            check=fn,
            equivalents=tuple(equivalents),
            default=default,
        )
        if any(x.name == r.name and x.module == r.module for x in _RULES):
            return fn  # module re-imported (e.g. importlib.reload in tests): keep the first
        _RULES.append(r)
        for k in r.kinds:
            _BY_KIND.setdefault(k, []).append(r)
        return fn

    return decorate


def traffic_rule(
    *, code: str, name: str, module: str, kinds: tuple[str, ...], severity: str, title: str, doc: str
) -> Rule:
    """Register a rule the analysis raises from traffic (no check; `rules_for` never returns it)."""
    if severity not in SEVERITIES:
        raise ValueError(f"rule {code}: severity must be one of {SEVERITIES}, not {severity!r}")
    r = Rule(code, tuple(kinds), severity, title, " ".join(doc.split()), None, traffic=(name, module))
    for x in _RULES:
        if x.name == r.name and x.module == r.module:
            return x
    _RULES.append(r)
    return r


def all_rules() -> list[Rule]:
    """Every registered rule, sorted by code then name (docs, SARIF, listing)."""
    _load()
    return sorted(_RULES, key=lambda r: (r.code, r.name))


def rules_for(kind: str) -> list[Rule]:
    _load()
    return _BY_KIND.get(kind, [])


def rules_by_code() -> dict[str, list[Rule]]:
    out: dict[str, list[Rule]] = {}
    for r in all_rules():
        out.setdefault(r.code, []).append(r)
    return out


def _load() -> None:
    import meshreport.validation.rules  # noqa: F401  (registers every rule module)
    import meshreport.validation.traffic  # noqa: F401  (registers the traffic rules)
