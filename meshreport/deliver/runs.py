"""The runs of a report archive, oldest first, as far as comparisons and trends need them.

An archive is a folder of runs: each run is a sub-folder holding the snapshot it was rendered
from (`*.mrsnap` beside the report), or a `.mrsnap` file directly in the folder. Runs are named
so that their names sort by time (dated names like `2026-12-05T0300Z`); `latest` (a link to the
newest run) is skipped. Reads only names, never snapshot contents, so listing is cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from meshreport.errors import InputError

SNAPSHOT_SUFFIX = ".mrsnap"
SKIPPED = ("latest",)


@dataclass(frozen=True)
class Run:
    name: str
    snapshot: Path


def _snapshot_in(folder: Path) -> Path | None:
    found = sorted(p for p in folder.glob(f"*{SNAPSHOT_SUFFIX}") if p.is_file() and not p.is_symlink())
    return found[0] if len(found) == 1 else None


def list_runs(archive: str | Path) -> list[Run]:
    """Every run with exactly one snapshot, oldest first (by name)."""
    root = Path(archive)
    if not root.is_dir():
        raise InputError(f"{archive}: not a folder (an archive is a folder of runs)")
    runs = []
    try:
        entries = sorted(root.iterdir(), key=lambda p: p.name)
    except OSError as e:
        raise InputError(f"{archive}: cannot list: {e.strerror or e}") from None
    for p in entries:
        if p.name.startswith(".") or p.name in SKIPPED or p.is_symlink():
            continue
        if p.is_dir():
            snap = _snapshot_in(p)
            if snap is not None:
                runs.append(Run(p.name, snap))
        elif p.is_file() and p.name.endswith(SNAPSHOT_SUFFIX):
            runs.append(Run(p.name[: -len(SNAPSHOT_SUFFIX)], p))
    return runs


def last_runs(archive: str | Path, n: int) -> list[Run]:
    """The newest `n` runs, oldest first; an error when the archive holds fewer than `min(n, 1)`."""
    runs = list_runs(archive)
    if not runs:
        raise InputError(f"{archive}: no runs with a snapshot ({SNAPSHOT_SUFFIX}) in this archive")
    return runs[-n:]
