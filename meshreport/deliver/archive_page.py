"""The archive's index.html: every run, newest first, with its headline numbers and links.

Rendered with the report's jinja environment (autoescape on): titles and gap reasons in a
summary come from the cluster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from meshreport import __version__
from meshreport.deliver.headline import headline

if TYPE_CHECKING:
    from meshreport.deliver.archive import Run


def render_index(runs: list[Run], latest: str | None) -> str:
    from meshreport.report.site import environment

    rows = [
        {
            "id": r.id,
            "latest": r.id == latest,
            "h": headline(r.summary),
            "has_pdf": (r.path / "report.pdf").is_file(),
            "has_snapshot": (r.path / "snapshot.mrsnap").is_file(),
        }
        for r in runs
    ]
    title = rows[0]["h"].title if rows else "Service mesh reports"
    return environment().get_template("archive.html").render(rows=rows, title=title, version=__version__)
