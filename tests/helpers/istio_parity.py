"""Score `meshreport validate` against istioctl analyze's own expectations (tests/fixtures/istio-analyzers).

Each case is one test of Istio's analyzers_test.go: its input files, optional mesh config / mesh networks,
the codes its analyzer can emit and the findings istioctl expects. A case runs the command line the
held-out comparison uses (`validate --format json --fail-on none -f FILE... [--mesh-config FILE]`) and its
findings are matched as a multiset on (code, kind, name, namespace), restricted to what the analyzer can
emit: istioctl's tests run one analyzer at a time, so a finding of another analyzer says nothing here.
An expectation without a namespace comes from an input without one, which meshreport places in `default`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "istio-analyzers"

Key = tuple[str, str, str, str]  # code, kind, name, namespace ("" when the input had none)


@dataclass(frozen=True)
class Case:
    name: str
    analyzer: str
    codes: tuple[str, ...]  # what the analyzer emits: CODE, or CODE:reftype (see findings_of)
    inputs: tuple[Path, ...]
    mesh_config: Path | None
    mesh_networks: Path | None
    expected: tuple[Key, ...]
    skip: str | None = None

    def argv(self) -> list[str]:
        """The validate command line for this case (without the program name)."""
        out = ["validate", "--format", "json", "--fail-on", "none"]
        for p in self.inputs:
            out += ["-f", str(p)]
        for p in (self.mesh_config, self.mesh_networks):
            if p is not None:
                out += ["--mesh-config", str(p)]
        return out


@dataclass
class Score:
    """Matched, missed and extra findings, per code."""

    tp: Counter = field(default_factory=Counter)
    fn: Counter = field(default_factory=Counter)
    fp: Counter = field(default_factory=Counter)
    misses: list[tuple[str, Key]] = field(default_factory=list)  # (case, finding)
    extras: list[tuple[str, Key]] = field(default_factory=list)

    @staticmethod
    def ratio(num: int, den: int) -> float:
        return num / den if den else 1.0

    @property
    def recall(self) -> float:
        return self.ratio(sum(self.tp.values()), sum(self.tp.values()) + sum(self.fn.values()))

    @property
    def precision(self) -> float:
        return self.ratio(sum(self.tp.values()), sum(self.tp.values()) + sum(self.fp.values()))

    def per_code(self) -> list[tuple[str, int, int, int]]:
        """(code, matched, missed, extra) for every code seen."""
        codes = sorted(set(self.tp) | set(self.fn) | set(self.fp))
        return [(c, self.tp[c], self.fn[c], self.fp[c]) for c in codes]

    def table(self) -> str:
        lines = [f"{'code':8} {'match':>5} {'miss':>5} {'extra':>5} {'recall':>7} {'prec':>7}"]
        for c, tp, fn, fp in self.per_code():
            lines.append(f"{c:8} {tp:5d} {fn:5d} {fp:5d} {self.ratio(tp, tp + fn):7.1%} {self.ratio(tp, tp + fp):7.1%}")
        lines.append(f"overall recall {self.recall:.1%}, precision {self.precision:.1%}")
        return "\n".join(lines)


def load_cases(root: Path = FIXTURES) -> list[Case]:
    doc = yaml.safe_load((root / "cases.yaml").read_text(encoding="utf-8"))
    data = root / "testdata"
    out = []
    for c in doc["cases"]:
        out.append(
            Case(
                name=c["name"],
                analyzer=c["analyzer"],
                codes=tuple(c["codes"]),
                inputs=tuple(data / p for p in c["inputs"]),
                mesh_config=data / c["mesh_config"] if c.get("mesh_config") else None,
                mesh_networks=data / c["mesh_networks"] if c.get("mesh_networks") else None,
                expected=tuple(
                    (e["code"], e["kind"], e["name"], e.get("namespace") or "") for e in c["expected"] or ()
                ),
                skip=c.get("skip"),
            )
        )
    return out


def findings_of(json_text: str, scope: Iterable[str]) -> list[Key]:
    """The findings of a `--format json` output that `scope` covers.

    A scope entry is a code, or `CODE:reftype` for a code several analyzers share: IST0101's message
    `Referenced <reftype> not found: ...` names what was looked up (gateway, host, selector, ...), which
    tells the analyzer that wrote it apart from the others."""
    codes = {s for s in scope if ":" not in s}
    reftypes = {tuple(s.split(":", 1)) for s in scope if ":" in s}

    def covered(f: dict) -> bool:
        return f["code"] in codes or any(
            f["code"] == c and str(f.get("message", "")).startswith(f"Referenced {r} not found") for c, r in reftypes
        )

    return [(f["code"], f["kind"], f["name"], f.get("namespace") or "") for f in json.loads(json_text) if covered(f)]


def score_case(score: Score, case: Case, actual: list[Key]) -> None:
    """Match a case's findings against its expectations and add the outcome to `score`."""
    left = Counter(actual)
    for e in case.expected:
        hit = next((k for k in _aliases(e) if left[k] > 0), None)
        if hit is None:
            score.fn[e[0]] += 1
            score.misses.append((case.name, e))
        else:
            left[hit] -= 1
            score.tp[e[0]] += 1
    for k, n in left.items():
        if n > 0:
            score.fp[k[0]] += n
            score.extras.extend((case.name, k) for _ in range(n))


def _aliases(e: Key) -> tuple[Key, ...]:
    """An expectation without a namespace matches meshreport's `default` placement too."""
    return (e, (*e[:3], "default")) if e[3] == "" else (e,)


def run_all(run: Callable[[list[str]], str], cases: Iterable[Case] | None = None) -> Score:
    """Run every case that istioctl runs by default through `run(argv) -> stdout` and score it."""
    score = Score()
    for case in cases if cases is not None else load_cases():
        if case.skip:
            continue
        score_case(score, case, findings_of(run(case.argv()), case.codes))
    return score
