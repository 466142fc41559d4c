"""Recall and precision of `meshreport validate` against istioctl analyze's expectations. Run by hand:

    .venv/bin/python benchmarks/istio_parity.py [--verbose]

Each case of tests/fixtures/istio-analyzers/cases.yaml (one test of Istio's analyzers_test.go) runs
`meshreport validate --format json --fail-on none -f FILE... [--mesh-config FILE]` as a child process,
the command line the held-out comparison uses. Prints a per-code table; --verbose lists every miss
and extra. The test suite runs the same cases in-process (tests/validation/test_istio_parity.py).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from helpers.istio_parity import run_all  # noqa: E402


def _run(argv: list[str]) -> str:
    exe = shutil.which("meshreport", path=str(Path(sys.executable).parent)) or "meshreport"
    done = subprocess.run([exe, *argv], capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise SystemExit(f"meshreport {' '.join(argv)} exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--verbose", action="store_true", help="list every missed and extra finding")
    args = ap.parse_args()
    t0 = time.monotonic()
    score = run_all(_run)
    print(score.table())
    if args.verbose:
        for case, k in score.misses:
            print(f"miss  {case}: {k[0]} {k[1]} {k[3] + '/' if k[3] else ''}{k[2]}")
        for case, k in score.extras:
            print(f"extra {case}: {k[0]} {k[1]} {k[3] + '/' if k[3] else ''}{k[2]}")
    print(f"{time.monotonic() - t0:.1f}s")


if __name__ == "__main__":
    main()
