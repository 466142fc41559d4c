"""Agreement with istioctl analyze, finding for finding, on Istio's own analyzer test inputs.

Runs every case of tests/fixtures/istio-analyzers (analyzers_test.go's grid) through the real
`meshreport validate --format json --fail-on none -f ...` command line, in-process, and holds recall and
precision on (code, kind, name, namespace) at 97 % or more. benchmarks/istio_parity.py prints the table.
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared helpers package
from helpers.istio_parity import Score, load_cases, run_all  # noqa: E402

from meshreport.cli import main  # noqa: E402

TARGET = 0.97


@pytest.fixture(scope="module")
def score() -> Score:
    def run(argv: list[str]) -> str:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 0, f"validate {argv} exited {e.value.code}"
        return out.getvalue()

    return run_all(run)


def test_cases_load_and_cover_the_grid():
    cases = load_cases()
    assert len(cases) >= 100
    assert all(p.is_file() for c in cases for p in c.inputs)
    assert sum(len(c.expected) for c in cases if not c.skip) > 200


def test_recall_against_istioctl(score):
    assert score.recall >= TARGET, f"recall {score.recall:.1%}\n{score.table()}\nmissed: {score.misses}"


def test_precision_against_istioctl(score):
    assert score.precision >= TARGET, f"precision {score.precision:.1%}\n{score.table()}\nextra: {score.extras}"
