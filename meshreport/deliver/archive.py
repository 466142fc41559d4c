"""The dated report archive that `meshreport run --archive DIR` keeps (layout: docs/archive.md).

    DIR/.meshreport-archive        marks the folder as ours (we prune only inside such a folder)
    DIR/<run id>/                  one complete report: index.html, report.pdf, summary.json,
                                   snapshot.mrsnap, ... (run id: window end, 2026-01-31T020000Z)
    DIR/latest -> <run id>         relative symlink to the newest complete run
    DIR/index.html, DIR/runs.json  every run with its headline numbers (page; machine list)

A run is built in a hidden staging folder inside DIR and renamed into place only when complete,
so a failed run leaves every earlier run, `latest` and the index as they were. `latest` and the
index files are replaced by rename; a name there that is not what we wrote (a folder instead of
a symlink, a symlink instead of a file) stops the run rather than being written through.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from meshreport.deliver.publish import MARKER as REPORT_MARKER
from meshreport.errors import OutputError, UsageError
from meshreport.output import current_umask

ARCHIVE_MARKER = ".meshreport-archive"
LATEST = "latest"
INDEX_FILES = ("index.html", "runs.json")
RUNS_SCHEMA = "meshreport/archive-runs"
RUNS_SCHEMA_VERSION = 1
SNAPSHOT_FILE = "snapshot.mrsnap"
SUMMARY_FILE = "summary.json"
CHANGES_FILE = "changes.json"
#: A summary bigger than this is not one we wrote; it is shown as missing.
MAX_SUMMARY_BYTES = 4 * 1024 * 1024
#: Renders index.html from (run id, folder, summary or None), newest first, and the latest run id.
IndexRenderer = Callable[[list[tuple[str, Path, "dict[str, Any] | None"]], "str | None"], str]
RUN_ID = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{6}Z(-\d+)?$")


@dataclass(frozen=True)
class Run:
    id: str
    path: Path
    summary: dict[str, Any] | None


def run_id_for(end: float) -> str:
    """The id (and folder name) of a run whose window ends at `end`: sortable, no colons."""
    return datetime.fromtimestamp(end, tz=timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")


class Archive:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).absolute()

    def check(self) -> None:
        """Refuse a target that is not an archive we made (a typo must not prune someone's files)."""
        r = self.root
        if not r.exists() and not r.is_symlink():
            return
        if not r.is_dir():
            raise UsageError(f"{r}: exists and is not a folder; choose another --archive folder")
        if (r / ARCHIVE_MARKER).is_file() or not any(r.iterdir()):
            return
        raise UsageError(
            f"{r}: folder exists and is not a meshreport archive; refusing to write into it "
            "(choose an empty or new --archive folder)"
        )

    def runs(self) -> list[Run]:
        """Complete runs, oldest first (staging folders and foreign entries are not runs)."""
        if not self.root.is_dir():
            return []
        out = []
        for p in sorted(self.root.iterdir(), key=lambda p: p.name):
            if RUN_ID.match(p.name) and not p.is_symlink() and (p / REPORT_MARKER).is_file():
                out.append(Run(p.name, p, _read_summary(p / SUMMARY_FILE)))
        return out

    def latest(self) -> str | None:
        """The run id `latest` points to, when it points to a complete run."""
        link = self.root / LATEST
        if not link.is_symlink():
            return None
        target = os.readlink(link)
        return target if RUN_ID.match(target) and (self.root / target / REPORT_MARKER).is_file() else None

    @contextmanager
    def new_run(self, run_id: str, *, keep: int = 0, index: IndexRenderer | None = None) -> Iterator[Path]:
        """Yield an empty staging folder; on normal exit it becomes run `run_id` (or `run_id-N`
        when taken), `latest` points to it, runs beyond the newest `keep` (0: all) are deleted and
        the index is rewritten. On error the staging folder is removed and nothing else changes."""
        if not RUN_ID.match(run_id):
            raise ValueError(f"bad run id {run_id!r}")
        self.check()
        self._check_own_names()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".run-{run_id}.new-", dir=self.root))
        except OSError as e:
            raise OutputError(f"cannot write {self.root}: {e.strerror or e}") from None
        try:
            yield staging
            try:
                _write_new(staging / REPORT_MARKER, "A run of a meshreport archive; pruned by --keep.\n")
                os.chmod(staging, 0o777 & ~current_umask())  # mkdtemp makes it 0700; a report is shared
                final = self._free_name(run_id)
                os.rename(staging, final)
            except OSError as e:
                raise OutputError(f"cannot write {self.root}: {e.strerror or e}") from None
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        try:
            marker = self.root / ARCHIVE_MARKER
            if not marker.is_file():
                _write_new(marker, "This folder is a meshreport report archive (docs/archive.md).\n")
            self._point_latest(final.name)
            self.prune(keep)
            self.write_index(index)
        except OSError as e:
            raise OutputError(
                f"run {final.name} is in {self.root}, but the archive could not be updated: {e.strerror or e}"
            ) from None

    def _free_name(self, run_id: str) -> Path:
        n = 0
        while True:
            candidate = self.root / (run_id if n == 0 else f"{run_id}-{n}")
            if not candidate.exists() and not candidate.is_symlink():
                return candidate
            n += 1

    def _check_own_names(self) -> None:
        link = self.root / LATEST
        if (link.exists() or link.is_symlink()) and not link.is_symlink():
            raise UsageError(f"{link}: exists and is not a symlink; refusing to replace it")
        for name in INDEX_FILES:
            p = self.root / name
            if p.is_symlink() or (p.exists() and not p.is_file()):
                raise UsageError(f"{p}: exists and is not a regular file; refusing to replace it")

    def _point_latest(self, run_id: str) -> None:
        tmp = self.root / f".{LATEST}.new-{os.getpid()}"
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        os.symlink(run_id, tmp)
        os.replace(tmp, self.root / LATEST)

    def prune(self, keep: int) -> list[str]:
        """Delete the oldest complete runs beyond the newest `keep` (never the `latest` one)."""
        if keep <= 0:
            return []
        latest = self.latest()
        runs = self.runs()
        doomed = [r for r in runs[: max(0, len(runs) - keep)] if r.id != latest]
        for r in doomed:
            shutil.rmtree(r.path)
        return [r.id for r in doomed]

    def write_index(self, render: IndexRenderer | None = None) -> None:
        """runs.json and (with `render`) index.html from every run's summary.json, each replaced by rename."""
        self._check_own_names()
        runs = list(reversed(self.runs()))
        latest = self.latest()
        doc = {
            "schema": RUNS_SCHEMA,
            "schemaVersion": RUNS_SCHEMA_VERSION,
            "latest": latest,
            "runs": [
                {
                    "id": r.id,
                    "path": f"{r.id}/",
                    "summary": f"{r.id}/{SUMMARY_FILE}" if r.summary is not None else None,
                    "snapshot": f"{r.id}/{SNAPSHOT_FILE}" if (r.path / SNAPSHOT_FILE).is_file() else None,
                    "changes": f"{r.id}/{CHANGES_FILE}" if (r.path / CHANGES_FILE).is_file() else None,
                    "window": (r.summary or {}).get("window"),
                }
                for r in runs
            ],
        }
        replace_file(self.root / "runs.json", json.dumps(doc, indent=2) + "\n")
        if render is not None:
            replace_file(self.root / "index.html", render([(r.id, r.path, r.summary) for r in runs], latest))


def replace_file(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it over `path` (a regular file or nothing)."""
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise UsageError(f"{path}: exists and is not a regular file; refusing to replace it")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.new-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_new(path: Path, text: str) -> None:
    """Create `path` (never through a symlink or over anything already there) with `text`."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def _read_summary(path: Path) -> dict[str, Any] | None:
    """A run's summary.json as a mapping, or None when missing, too big or not a JSON object."""
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_SUMMARY_BYTES:
            return None
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None
