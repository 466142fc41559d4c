"""`--single-file`: the whole site as one self-contained HTML file (report.html), for email and
CI artifact viewers that show one file and fetch nothing.

The site's pages are rendered as usual and their <main> put one after the other, each in a
<section> of its own; the stylesheet and the table sorter are inlined; every picture is inlined as
<svg>. Ids are prefixed per page and per picture (namespace pages share ids like `topology`), links
between pages become in-document anchors, and a link to anything the file does not hold (the PDF,
a full-size picture, the per-service pages, which stay in the site) becomes plain text. Every value in the pages was
escaped when they were rendered (attribute values never contain a quote), and Graphviz escapes
the pictures' text, so the rewriting here only moves our own markup around.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

import jinja2
from markupsafe import Markup

from meshreport.report.model import ReportModel
from meshreport.report.site import render_page
from meshreport.resources import templates_dir

FILE_NAME = "report.html"

_MAIN = re.compile(r'<main id="main">\n?(.*)</main>', re.S)
_ID = re.compile(r'\bid="([^"]*)"')
_HREF = re.compile(r'<a ([^>]*?)href="([^"]*)"([^>]*)>(.*?)</a>', re.S)
#: a picture: an <img>, or #13a's clickable <object> around its <img> fallback (both become inline <svg>)
_IMG = re.compile(r'(?:<object [^>]*>)?<img src="([^"]*)" alt="([^"]*)">(?:</object>)?')
_SVG_START = re.compile(r"<svg\b")
_SVG_URL_REF = re.compile(r'(url\(#|href="#)([^")]*)')


def pages(model: ReportModel) -> list[tuple[str, str, str, dict]]:
    """(site path, title, template, extra) of every page the file holds, in reading order."""
    out = [("index.html", "Overview", "index.html", {})]
    out += [(ns.page, f"Namespace {ns.name}", "namespace.html", {"ns": ns}) for ns in model.namespaces]
    out += [(f"{p.id}.html", p.title, "page.html", {"page": p}) for p in model.pages]
    return out


def write_single_file(model: ReportModel, out_dir: Path, env: jinja2.Environment) -> Path:
    """Write `out_dir/report.html` from the pictures already in `out_dir` (write_pictures)."""
    listed = pages(model)
    anchors = {path: f"p{i}" for i, (path, *_rest) in enumerate(listed)}
    sections = []
    for path, title, template, extra in listed:
        root = "../" * path.count("/")
        html = render_page(env, template, model, root=root, active=path, **extra)
        m = _MAIN.search(html)
        body = m.group(1) if m else ""
        sections.append((anchors[path], title, Markup(_rewrite(body, path, anchors, out_dir))))
    text = env.get_template("single.html").render(
        model=model,
        sections=sections,
        css=Markup((templates_dir() / "report.css").read_text(encoding="utf-8")),
        script=Markup((templates_dir() / "sort.js").read_text(encoding="utf-8")),
    )
    target = out_dir / FILE_NAME
    target.write_text(text, encoding="utf-8")
    return target


def _rewrite(body: str, page: str, anchors: dict[str, str], out_dir: Path) -> str:
    prefix = anchors[page]
    body = _ID.sub(lambda m: f'id="{prefix}-{m.group(1)}"', body)
    counter = iter(range(1_000_000))

    def img(m: re.Match[str]) -> str:
        return _inline_svg(out_dir, _resolve(page, m.group(1)), m.group(2), f"{prefix}-g{next(counter)}")

    def link(m: re.Match[str]) -> str:
        before, href, after, inner = m.groups()
        target = _target(page, href, anchors)
        if target is None:
            return inner  # nothing in this file to go to: the text stays, the link goes
        return f'<a {before}href="{target}"{after}>{inner}</a>'

    body = _HREF.sub(link, body)
    return _IMG.sub(img, body)


def _resolve(page: str, href: str) -> str:
    return posixpath.normpath(posixpath.join(posixpath.dirname(page), href))


def _target(page: str, href: str, anchors: dict[str, str]) -> str | None:
    path, _, frag = href.partition("#")
    dest = page if not path else _resolve(page, path)
    if re.match(r"[a-z][a-z0-9+.-]*:", href) or dest not in anchors:
        return None
    return f"#{anchors[dest]}-{frag}" if frag else f"#{anchors[dest]}"


def _inline_svg(out_dir: Path, rel: str, alt: str, prefix: str) -> str:
    """A picture's SVG as inline markup: its XML prologue and comments dropped, ids prefixed, its
    links unwrapped (they point at pages of the site), named by the picture's alt text."""
    path = out_dir / rel
    if not rel.endswith(".svg") or not path.is_file():
        return f'<span class="muted">({alt})</span>'
    svg = path.read_text(encoding="utf-8")
    start = _SVG_START.search(svg)
    svg = svg[start.start() :] if start else ""
    svg = re.sub(r"<!--.*?-->\n?", "", svg, flags=re.S)
    svg = re.sub(r"</?a\b[^>]*>", "", svg)
    svg = _ID.sub(lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    svg = _SVG_URL_REF.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", svg)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{alt}" ', 1)
