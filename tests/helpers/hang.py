"""Bounds for the tests that would hang if a deadline or a cap failed, without timing healthy runs.

A fault (a server that hangs, trickles or answers late) lasts FAULT_SECONDS, far longer than any
healthy run of these tests takes even on a loaded machine (NO_HANG); `no_hang` fails the test when
its block outlives NO_HANG, so passing proves the code did not wait for the fault to end. How fast a
healthy run is belongs to benchmarks/ (benchmarks/hostile_limits.py), not here.

Child processes (`run_child`) are measured by the kernel: their own peak memory and CPU time.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

#: Longer than any healthy run of a fault test on a loaded 2-core machine.
NO_HANG = 90.0
#: How long an injected fault holds: several times NO_HANG, so a run that waited for it is caught.
FAULT_SECONDS = 600.0


class Hung(Exception):
    """The block ran past its bound: a deadline or a loop check did not hold."""


@contextmanager
def no_hang(seconds: float = NO_HANG) -> Iterator[None]:
    """Raise `Hung` in the main thread if the block is still running after `seconds`. SIGALRM
    interrupts a blocking socket read or lock wait, so a hung call fails instead of holding the suite."""

    def fire(signum: int, frame: object) -> None:
        raise Hung(f"still running after {seconds:.0f} s: a deadline or a loop check did not hold")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass(frozen=True)
class Child:
    """How a child process ended and what the kernel counted for it alone."""

    returncode: int
    stderr: str
    peak_mb: float  # its own peak resident memory (ru_maxrss), not any earlier child's
    cpu_seconds: float  # user + system


def run_child(
    argv: list[str], stderr_file: Path, timeout: float = NO_HANG, preexec_fn: Callable[[], None] | None = None
) -> Child:
    """Run `argv`, kill it after `timeout` seconds (then its exit code is -9), and wait for it with
    wait4 so its own rusage comes back (RUSAGE_CHILDREN would mix in every earlier child)."""
    with open(stderr_file, "wb") as err:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, preexec_fn=preexec_fn
        )
    killer = threading.Timer(timeout, proc.kill)
    killer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        killer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Child(
        proc.returncode,
        stderr_file.read_text(errors="replace"),
        usage.ru_maxrss / 1024.0,
        usage.ru_utime + usage.ru_stime,
    )


def limit_address_space(megabytes: int) -> Callable[[], None]:
    """A preexec_fn: the child's address space capped, so a runaway ends in MemoryError, not the OOM killer."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (megabytes << 20, megabytes << 20))

    return apply
