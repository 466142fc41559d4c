"""Reading a hostile `.mrsnap`: a small file that inflates enormously ends in exit 5 within seconds
and bounded memory, whichever reading path it takes."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from meshreport.errors import EXIT_INPUT, InputError
from meshreport.snapshot import store

HEAD = b'{"format":"meshreport-snapshot","schema_version":3,"window":{"start":0,"end":60},"collector":"'


def bomb(path: Path, head: bytes, fill: bytes, megabytes: int, tail: bytes, members: int = 1) -> Path:
    """A gzip file of `head`, `megabytes` MB of `fill` and `tail` (in `members` gzip members)."""
    block = fill * (1 << 20)
    with open(path, "wb") as f:
        for _ in range(members):
            c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            f.write(c.compress(head))
            for _ in range(megabytes // members):
                f.write(c.compress(block))
            f.write(c.compress(tail) + c.flush())
    return path


CASES = {
    # one JSON string far larger than anything meshreport writes, in a document that streams
    "giant-string": (HEAD, b"A", 300, b'"}', 1, "one JSON value over"),
    # not JSON at all: the whole-document fallback used to inflate it without a limit
    "zeros": (b"", b"\0", 300, b"", 1, "too large to read whole"),
    # several gzip members: the fallback path again, members counted together
    "members": (b"", b"0", 300, b"", 6, "too large to read whole"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_inflation_bomb_is_exit_5_fast_and_bounded(tmp_path, case):
    head, fill, mb, tail, members, message = CASES[case]
    path = bomb(tmp_path / "bomb.mrsnap", head, fill, mb, tail, members)
    assert path.stat().st_size < 1 << 20
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", "from meshreport.cli import main; main()", "graph", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit_memory,
    )
    assert proc.returncode == EXIT_INPUT, proc.stderr
    assert message in proc.stderr and proc.stderr.count("\n") == 1
    assert time.monotonic() - t0 < 30


def _limit_memory() -> None:
    """1.25 GiB of address space for the child: over it, MemoryError ("out of memory") fails the test."""
    resource.setrlimit(resource.RLIMIT_AS, (1280 << 20, 1280 << 20))


def test_total_text_limit_is_overridable(tmp_path, monkeypatch):
    # A document that streams (over the whole-text limit) and is over the total limit.
    monkeypatch.setattr(store, "WHOLE_TEXT_LIMIT", 1 << 10)
    path = bomb(tmp_path / "big.mrsnap", b'{"format":"meshreport-snapshot","namespaces":[', b" ", 3, b"]}")
    monkeypatch.setenv("MESHREPORT_MAX_SNAPSHOT_MB", "2")
    with pytest.raises(InputError, match="more than 2 MB of text .*MESHREPORT_MAX_SNAPSHOT_MB"):
        store.read(path)
    monkeypatch.setenv("MESHREPORT_MAX_SNAPSHOT_MB", "two")
    with pytest.raises(InputError, match="not a whole number"):
        store.read(path)


def test_deeply_nested_json_is_input_error(tmp_path):
    path = tmp_path / "deep.mrsnap"
    path.write_bytes(zlib.compress(b"[" * 200_000 + b"]" * 200_000, wbits=16 + zlib.MAX_WBITS))
    with pytest.raises(InputError, match="not valid JSON|nested too deeply"):
        store.read(path)
