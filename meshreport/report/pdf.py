"""report.pdf: the site's content laid out for A4 by WeasyPrint (no JavaScript, no network).

The print document references the SVG pictures already written into the output folder; a
URL fetcher that only serves files under that folder (and data: URIs) keeps the render
offline and stops a crafted reference from reading anything else.
"""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import jinja2
import weasyprint

from meshreport.report.model import ReportModel
from meshreport.report.site import environment, render_page
from meshreport.resources import templates_dir

PDF_NAME = "report.pdf"
#: Pictures drawn for the PDF only (PNG from the SVG's layout); removed once the PDF is written.
PRINT_DIR = ".print"


class LocalOnlyFetcher(weasyprint.URLFetcher):
    """Serve `file:` URLs under the allowed folders and `data:` URIs; refuse everything else."""

    def __init__(self, *roots: Path) -> None:
        super().__init__(allowed_protocols=("file", "data"))
        self.roots = [r.resolve() for r in roots]

    def fetch(self, url, headers=None):
        if url.startswith("file:"):
            path = Path(unquote(urlparse(url).path)).resolve()
            if not any(path == r or r in path.parents for r in self.roots):
                raise ValueError(f"refusing to read {path}: outside the report folder")
        return super().fetch(url, headers)


#: An href that does not point into the document itself. Values are our autoescaped output, so
#: they never contain a quote.
_OUTSIDE_HREF = re.compile(r' href="(?!#)[^"]*"')


def print_html(model: ReportModel, env: jinja2.Environment | None = None) -> str:
    """The print document; links that leave it are dropped: resolved against the staging folder
    they became `file://` links into a folder that no longer exists once the report is published."""
    html = render_page(env or environment(), "print.html", model, root="", active="print")
    return _OUTSIDE_HREF.sub("", html)


def render_document(model: ReportModel, out_dir: Path, env: jinja2.Environment | None = None) -> weasyprint.Document:
    """The print document laid out by WeasyPrint with `out_dir` as base (pictures) and the templates'
    print.css: the pages `write_pdf` writes (tests read their boxes: no table wider than the page)."""
    out_dir = out_dir.resolve()
    html = print_html(model, env)
    css = weasyprint.CSS(filename=str(templates_dir() / "print.css"))
    # WeasyPrint logs every unsupported CSS property at WARNING; they are expected, not news.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    doc = weasyprint.HTML(
        string=html,
        base_url=out_dir.as_uri() + "/",
        url_fetcher=LocalOnlyFetcher(out_dir, templates_dir()),
    )
    return doc.render(stylesheets=[css])


def write_pdf(model: ReportModel, out_dir: Path, env: jinja2.Environment | None = None) -> Path:
    """Lay out the print document (`render_document`) and write it as report.pdf into `out_dir`."""
    out_dir = out_dir.resolve()
    target = out_dir / PDF_NAME
    render_document(model, out_dir, env).write_pdf(str(target))
    shutil.rmtree(out_dir / PRINT_DIR, ignore_errors=True)  # embedded now; the site shows the SVGs
    return target
