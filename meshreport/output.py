"""Writing one output file (`-o`) safely, the same way for every command.

- `-` is stdout.
- A regular file (or a new name) is written to a temporary file beside it and renamed over it, so a
  full disk or a crash never leaves half a file under the final name. New files get 0666 minus
  the umask, like any other tool's output; an existing file keeps its mode.
- A symlink is written through: its target is replaced, the link stays a link.
- A device, FIFO or other non-regular file (`/dev/null`, `/dev/stdout`, a pipe) is opened and
  written directly: a rename over it would replace the device node with a file.
- A folder is refused. Every failure is an `OutputError`: one line, exit 2.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from meshreport.errors import OutputError

STDOUT = "-"


def current_umask() -> int:
    """The process umask (reading it means setting it; this puts it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def open_output(target: str | Path, *, text: bool = False) -> Iterator[IO]:
    """A file object to write `target`'s content to; the content is in place when the block ends
    without an error, and the old content (if any) is untouched when it ends with one."""
    name = str(target)
    if name == STDOUT:
        stream = sys.stdout if text else sys.stdout.buffer
        yield stream
        stream.flush()
        return
    path = Path(os.path.realpath(name)) if os.path.islink(name) else Path(name)
    try:
        st: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise OutputError(f"cannot write {name}: {e.strerror or e}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError(f"cannot write {name}: is a folder")
    if st is not None and not stat.S_ISREG(st.st_mode):
        with _direct(path, name, text) as fh:
            yield fh
        return
    mode = stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~current_umask()
    with _atomic(path, name, text, mode) as fh:
        yield fh


@contextmanager
def _direct(path: Path, name: str, text: bool) -> Iterator[IO]:
    try:
        fh = open(path, "w" if text else "wb", encoding="utf-8" if text else None)  # noqa: SIM115
    except OSError as e:
        raise OutputError(f"cannot write {name}: {e.strerror or e}") from None
    try:
        with fh:
            yield fh
    except OSError as e:
        raise OutputError(f"cannot write {name}: {e.strerror or e}") from None


@contextmanager
def _atomic(path: Path, name: str, text: bool, mode: int) -> Iterator[IO]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise OutputError(f"cannot write {name}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "w" if text else "wb", encoding="utf-8" if text else None) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
            os.fchmod(fh.fileno(), mode)
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"cannot write {name}: {e.strerror or e}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_output(target: str | Path, data: str | bytes) -> None:
    """Write all of `data` to `target` (see the module docstring for what each kind of path gets).

    Text is written as UTF-8; what UTF-8 cannot hold (a lone surrogate a hostile snapshot's JSON can
    carry) is written as a visible `\\udXXX` escape instead of failing the write."""
    if isinstance(data, str) and not data.isascii():
        data = data.encode("utf-8", "backslashreplace").decode("utf-8")
    with open_output(target, text=isinstance(data, str)) as fh:
        fh.write(data)
