"""Reading a hostile `.mrsnap`: a small file that inflates enormously ends in exit 5 with one line,
in bounded memory, whichever reading path it takes (and does not hang: the child is killed at
tests/helpers/hang.NO_HANG). How fast is measured by benchmarks/hostile_limits.py."""

from __future__ import annotations

import sys
import zlib
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared helpers package

from helpers.bombs import SNAPSHOT_HEAD as HEAD  # noqa: E402
from helpers.bombs import gzip_bomb as bomb  # noqa: E402
from helpers.hang import limit_address_space, run_child  # noqa: E402

from meshreport.errors import EXIT_INPUT, InputError  # noqa: E402
from meshreport.snapshot import store  # noqa: E402

CASES = {
    # one JSON string far larger than anything meshreport writes, in a document that streams
    "giant-string": (HEAD, b"A", 300, b'"}', 1, "one JSON value over"),
    # not JSON at all: the whole-document fallback used to inflate it without a limit
    "zeros": (b"", b"\0", 300, b"", 1, "too large to read whole"),
    # several gzip members: the fallback path again, members counted together
    "members": (b"", b"0", 300, b"", 6, "too large to read whole"),
}


#: The most memory a refused bomb may take (the child's own peak RSS; measured 340-390 MB): far
#: below the 2.3-4 GB these files took before the caps. Time is benchmarks/hostile_limits.py's.
PEAK_MB = 512


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_inflation_bomb_is_exit_5_and_bounded(tmp_path, case):
    head, fill, mb, tail, members, message = CASES[case]
    path = bomb(tmp_path / "bomb.mrsnap", head, fill, mb, tail, members)
    assert path.stat().st_size < 1 << 20
    child = run_child(
        [sys.executable, "-c", "from meshreport.cli import main; main()", "graph", str(path)],
        tmp_path / "stderr",
        preexec_fn=limit_address_space(1280),  # over it: MemoryError ("out of memory"), not exit 5
    )
    assert child.returncode == EXIT_INPUT, child.stderr  # -9: killed at NO_HANG, it hung
    assert message in child.stderr and child.stderr.count("\n") == 1
    assert child.peak_mb < PEAK_MB, f"{child.peak_mb:.0f} MB"


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
