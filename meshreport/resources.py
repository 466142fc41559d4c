"""Where the shipped templates are: inside the wheel, or templates/ in a source checkout."""

from __future__ import annotations

from pathlib import Path


def templates_dir() -> Path:
    """In a wheel, templates/ is installed as the data package `meshreport.templates`; in a
    checkout (and editable installs, which point at the checkout) it is the top-level folder."""
    try:
        import meshreport.templates as shipped  # type: ignore[import-not-found]

        return Path(next(iter(shipped.__path__)))
    except ImportError:
        return Path(__file__).resolve().parent.parent / "templates"
