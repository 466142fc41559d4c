"""The archive's index.html: every run, newest first, with its headline numbers and links.

Rendered with the report's jinja environment (autoescape on): titles and gap reasons in a
summary come from the cluster.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from meshreport import __version__
from meshreport.report.headline import headline


def render_index(runs: list[tuple[str, Path, dict[str, Any] | None]], latest: str | None) -> str:
    """`runs`: (run id, its folder, its summary.json or None), newest first."""
    from meshreport.report.site import environment

    rows = [
        {
            "id": run_id,
            "latest": run_id == latest,
            "h": headline(summary),
            "has_pdf": (path / "report.pdf").is_file(),
            "has_snapshot": (path / "snapshot.mrsnap").is_file(),
            "has_changes": (path / "changes.json").is_file(),
        }
        for run_id, path, summary in runs
    ]
    title = rows[0]["h"].title if rows else "Service mesh reports"
    return environment().get_template("archive.html").render(rows=rows, title=title, version=__version__)
