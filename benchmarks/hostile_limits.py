"""Hostile inputs that hit a cap: how fast and how small the refusal is. Run by hand:

    .venv/bin/python benchmarks/hostile_limits.py [--repeat 1]

Each case runs the real command in a child process and reports its exit code, wall and CPU seconds
and its own peak memory (wait4's rusage). Targets (issue #17): exit 5 "within seconds and a few
hundred MB". The tests (tests/snapshot/test_store_limits.py, tests/test_safe_yaml.py) assert the exit
code, the one-line message and a memory bound, not the time, which belongs here.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the bomb builders the tests use

from helpers.bombs import SNAPSHOT_HEAD, gzip_bomb, laughs  # noqa: E402


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def cases(work: Path) -> dict[str, list[str]]:
    snap = [
        ("snapshot: one 300 MB JSON string (streamed)", gzip_bomb(work / "s.mrsnap", SNAPSHOT_HEAD, b"A", 300, b'"}')),
        ("snapshot: 300 MB of zeros (not JSON)", gzip_bomb(work / "z.mrsnap", b"", b"\0", 300, b"")),
        ("snapshot: 6 gzip members, 300 MB", gzip_bomb(work / "m.mrsnap", b"", b"0", 300, b"", 6)),
    ]
    out = {name: ["graph", str(path)] for name, path in snap}
    out["YAML: billion laughs, validate -f"] = ["validate", "-f", str(_write(work / "lol.yaml", laughs()))]
    return out


def run(args: list[str]) -> tuple[int, float, float, float, str]:
    """(exit code, wall s, CPU s, peak MB, first line of stderr) of one child."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from meshreport.cli import main; main()", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    line = err.strip().splitlines()[0] if err.strip() else ""
    return proc.returncode, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, line


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1)
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name, args in cases(Path(tmp)).items():
            for _ in range(opts.repeat):
                code, wall, cpu, peak, line = run(args)
                print(f"{name:45} exit {code}  cpu {cpu:5.2f} s  wall {wall:5.2f} s  peak {peak:5.0f} MB")
            print(f"{'':45} {line[:110]}")


if __name__ == "__main__":
    main()
