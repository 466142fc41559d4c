"""deliver.runs: the runs of an archive, oldest first, from names only."""

from __future__ import annotations

import pytest

from meshreport.deliver.runs import last_runs, list_runs
from meshreport.errors import InputError


def test_runs_sorted_by_name_latest_and_odd_entries_skipped(tmp_path):
    for name in ("2026-12-03T0300Z", "2026-12-01T0300Z", "2026-12-02T0300Z"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "snapshot.mrsnap").write_bytes(b"x")
    (tmp_path / "latest").symlink_to(tmp_path / "2026-12-03T0300Z")
    (tmp_path / "empty").mkdir()  # no snapshot: not a run
    (tmp_path / "two").mkdir()  # two snapshots: ambiguous, not a run
    (tmp_path / "two" / "a.mrsnap").write_bytes(b"x")
    (tmp_path / "two" / "b.mrsnap").write_bytes(b"x")
    (tmp_path / "2026-11-30.mrsnap").write_bytes(b"x")  # a bare snapshot file is a run too
    (tmp_path / "link.mrsnap").symlink_to(tmp_path / "2026-11-30.mrsnap")  # links are never followed
    runs = list_runs(tmp_path)
    assert [r.name for r in runs] == ["2026-11-30", "2026-12-01T0300Z", "2026-12-02T0300Z", "2026-12-03T0300Z"]
    assert runs[1].snapshot == tmp_path / "2026-12-01T0300Z" / "snapshot.mrsnap"
    assert [r.name for r in last_runs(tmp_path, 2)] == ["2026-12-02T0300Z", "2026-12-03T0300Z"]


def test_empty_or_missing_archive(tmp_path):
    with pytest.raises(InputError, match="no runs with a snapshot"):
        last_runs(tmp_path, 2)
    with pytest.raises(InputError, match="not a folder"):
        list_runs(tmp_path / "nope")
