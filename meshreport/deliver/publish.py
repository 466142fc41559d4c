"""Atomic output: build into a temporary folder next to the target, then swap it in by renames.

A run that fails half way leaves the last good report exactly as it was. The temporary folder
lives in the target's parent so the final rename never crosses a file system. A marker file
tells our reports apart from folders we must not replace (a typo in `-o` must not delete data).
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from meshreport.errors import OutputError, UsageError
from meshreport.output import current_umask

MARKER = ".meshreport-report"


def check_target(target: Path) -> None:
    if not target.exists() and not target.is_symlink():
        return
    if target.is_symlink() or not target.is_dir():
        raise UsageError(f"{target}: exists and is not a folder; choose another output folder")
    if (target / MARKER).is_file() or not any(target.iterdir()):
        return
    raise UsageError(
        f"{target}: folder exists and is not a meshreport report; refusing to replace it "
        "(choose an empty or new output folder)"
    )


@contextmanager
def publish_dir(target: str | Path) -> Iterator[Path]:
    """Yield an empty staging folder; on normal exit it replaces `target`, on error it is removed."""
    target = Path(target).absolute()
    check_target(target)
    # The name is chosen before the folder is made, so an interrupt at any moment (Ctrl-C, or
    # SIGTERM, which meshreport.cli turns into SystemExit: both BaseException) leaves nothing behind.
    staging = target.parent / f".{target.name}.new-{secrets.token_hex(6)}"
    ours = True
    try:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            staging.mkdir(mode=0o700)
        except FileExistsError:
            ours = False  # 48 random bits collided: someone else's folder, never removed
            raise OutputError(f"cannot write {target}: {staging.name} exists") from None
        except OSError as e:
            raise OutputError(f"cannot write {target}: {e.strerror or e}") from None
        yield staging
        try:
            (staging / MARKER).write_text("This folder was written by meshreport and is replaced on the next run.\n")
            os.chmod(staging, 0o777 & ~current_umask())  # made 0700 while incomplete; a report is shared
            _swap_in(staging, target)
        except OSError as e:
            raise OutputError(f"cannot write {target}: {e.strerror or e}") from None
    except BaseException:
        if ours:
            shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap_in(staging: Path, target: Path) -> None:
    """Move the old report aside, rename the new one in, then delete the old one.

    Between the two renames the target name is briefly absent; it is never half written.
    If the second rename fails, the old report is moved back.
    """
    old: Path | None = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        old.rmdir()
        os.rename(target, old)
    try:
        os.rename(staging, target)
    except BaseException:
        if old is not None:
            os.rename(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
