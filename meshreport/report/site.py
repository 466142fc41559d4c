"""The static HTML site: index.html, one page per namespace, add-on pages and the shared CSS.

jinja2 autoescaping is on for every template: names and label values come from the cluster.
Pictures are embedded with <object> so that their nodes link to the service pages; the SVG is
Graphviz's drawing of labels escaped in topology.py (no markup of the cluster's reaches it), and
its links are relative paths inside the site. Service pages (`services/<ns>/*.html`) name only
their own namespace in the navigation: thousands of them must stay small.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import jinja2

from meshreport.report import lean
from meshreport.report.model import ReportModel
from meshreport.report.topology import legend_shapes, legend_statuses
from meshreport.resources import templates_dir

#: Copied into the site root next to the pages: the stylesheet and the table sorter.
STYLESHEETS = ("report.css", "sort.js")


def environment() -> jinja2.Environment:
    """One jinja2 environment for the site and the PDF; autoescape on, undefined is an error."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
        keep_trailing_newline=True,
    )
    env.globals["lean"] = lean  # the big tables' rows and the sparklines (report/lean.py)
    env.globals["node_statuses"] = legend_statuses()  # the pictures' status symbols and borders
    return env


def render_page(env: jinja2.Environment, template: str, model: ReportModel, *, root: str, active: str, **extra) -> str:
    return env.get_template(template).render(model=model, root=root, active=active, shapes=legend_shapes(), **extra)


def write_site(model: ReportModel, out_dir: Path, env: jinja2.Environment | None = None) -> list[Path]:
    """Write the HTML pages and stylesheet into `out_dir`; returns the files written."""
    env = env or environment()
    written: list[Path] = []

    def put(rel: str, text: str) -> None:
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)

    for css in STYLESHEETS:
        shutil.copyfile(templates_dir() / css, out_dir / css)
        written.append(out_dir / css)
    put("index.html", render_page(env, "index.html", model, root="", active="index"))
    for ns in model.namespaces:
        put(ns.page, render_page(env, "namespace.html", model, root="../", active=ns.page, ns=ns))
    for page in model.pages:
        put(f"{page.id}.html", render_page(env, "page.html", model, root="", active=page.id, page=page))
    by_page = {ns.page: ns for ns in model.namespaces}
    service = env.get_template("service.html")
    shapes = legend_shapes()
    for svc in model.services:
        ns = by_page.get(svc.ns_page)
        # The navigation names only the page's own namespace: thousands of pages must stay small.
        put(
            svc.path,
            service.render(
                model=model, root="../../", active="", shapes=shapes, svc=svc, nav_namespaces=[ns] if ns else []
            ),
        )
    return written
