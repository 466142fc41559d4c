"""Write a whole report (pictures, site, PDF) from a snapshot and its analysis into a folder.

No querying, no analysis and no publishing here: `meshreport.pipeline.render` wraps this in an
atomic publish.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from meshreport.analysis import Analysis
from meshreport.graph.model import TrafficGraph
from meshreport.report import (
    inventory,  # noqa: F401  (registers the Istio configuration section)
    mtls,  # noqa: F401  (registers the Mutual TLS section)
    run_trends,  # noqa: F401  (registers "Trends across runs")
    since,  # noqa: F401  (registers "Since the previous report")
    topology,
)
from meshreport.report.deep_links import LinkBases
from meshreport.report.model import ReportModel, build_model
from meshreport.report.pdf import PRINT_DIR, write_pdf
from meshreport.report.single import write_single_file
from meshreport.report.site import environment, write_site
from meshreport.snapshot.model import Snapshot

MTLS_JSON = "mtls.json"


@dataclass
class ReportFiles:
    """What was written, relative paths under the output folder."""

    index: Path
    pdf: Path | None
    pages: list[Path] = field(default_factory=list)
    images: list[Path] = field(default_factory=list)
    engines: dict[str, str] = field(default_factory=dict)


def _draw(pic: topology.Picture, svg: Path, png: Path | None) -> str:
    """Draw one picture; "" when it worked, else why not, with a placeholder SVG saying so written in
    its place (Graphviz failed or crashed, or wrote an SVG that is not XML)."""
    try:
        topology.render_files(pic, svg, png)
    except subprocess.CalledProcessError as e:
        why = (e.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        code = f"killed by signal {-e.returncode}" if e.returncode < 0 else f"exit {e.returncode}"
        reason = f"Graphviz failed, {code}" + (f": {why[0][:120]}" if why else "")
    else:
        if topology.well_formed(svg):
            return ""
        reason = "Graphviz wrote an SVG that is not well-formed XML"
    if png is not None:
        png.unlink(missing_ok=True)
    topology.unavailable_svg(svg, reason)
    return reason


def write_pictures(
    model: ReportModel, graph: TrafficGraph, out_dir: Path, *, pdf: bool = True
) -> tuple[list[Path], dict[str, str]]:
    """One SVG for the mesh and one per namespace, laid out by the real Graphviz; with a PDF, big
    pictures the PDF shows also get a PNG from the same layout, which it embeds instead of the SVG.

    The PNGs go into PRINT_DIR, which `write_pdf` removes once they are in the PDF: the site
    shows the SVGs, and at 10,000 workloads the PNGs were 18 MB of a 75 MB site."""
    written: list[Path] = []
    engines: dict[str, str] = {}
    printed = {id(model.mesh_image)} | {id(ns.image) for ns in model.print_namespaces}
    # Pictures live in img/: a node links to its page one folder up.
    links = {s.node_id: "../" + s.path for s in model.services}
    for ref in model.images() if model.has_traffic else []:
        pic = (
            topology.mesh_picture(graph, links)
            if ref.namespace is None
            else topology.namespace_picture(graph, ref.namespace, links)
        )
        svg = out_dir / ref.path
        svg.parent.mkdir(parents=True, exist_ok=True)
        big = pic.nodes > topology.PRINT_VECTOR_MAX_NODES
        png_rel = Path(PRINT_DIR) / Path(ref.path).with_suffix(".png").name
        png = out_dir / png_rel if pdf and big and id(ref) in printed else None
        if png is not None:
            png.parent.mkdir(parents=True, exist_ok=True)
        failed = _draw(pic, svg, png)
        written.append(svg)
        if failed:
            # said in the report where the picture would be; every table is still there
            ref.note = f"This picture could not be drawn ({failed}); the tables list every workload and edge."
            engines[ref.path] = "failed"
            continue
        if png is not None:
            ref.print_path = str(png_rel)
        engines[ref.path] = pic.engine + (" (namespaces)" if pic.aggregated else "")
        notes = []
        if pic.edges_omitted:
            notes.append(
                f"Showing the {pic.edges_total - pic.edges_omitted} most failing and busiest of {pic.edges_total} "
                f"edges; {pic.edges_omitted} edges and {pic.nodes_omitted} nodes without them are left out "
                "(the tables list them all)."
            )
        if not pic.edge_labels:
            notes.append("Too many edges to label them; their rates are in the tables and the edges' tooltips.")
        ref.note = " ".join(notes)
    return written, engines


def write_report(
    snapshot: Snapshot,
    analysis: Analysis,
    out_dir: Path,
    *,
    pdf: bool = True,
    title: str = "Service mesh report",
    now: float | None = None,
    health_rules: list | None = None,
    links: LinkBases | None = None,
    single_file: bool = False,
) -> ReportFiles:
    """Model once, then pictures, HTML and (optionally) the PDF into `out_dir`.

    `health_rules`: the rules the analysis's health used (they name each unhealthy status's tolerance).
    `links`: Kiali, Grafana and Jaeger base URLs for the service pages' deep links (None: no links).
    `single_file`: also write report.html, the whole site in one self-contained file.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    model = build_model(snapshot, analysis, title=title, now=now, health_rules=health_rules, pdf=pdf, links=links)
    images, engines = write_pictures(model, analysis.graph, out_dir, pdf=pdf)
    env = environment()
    pages = write_site(model, out_dir, env)
    if single_file:
        pages.append(write_single_file(model, out_dir, env))
    pdf_path = write_pdf(model, out_dir, env) if pdf else None
    if analysis.mtls is not None:
        # The mTLS comparison for machines (CI, dashboards), beside the pages that show it.
        (out_dir / MTLS_JSON).write_text(json.dumps(analysis.mtls.as_dict(), indent=2) + "\n", encoding="utf-8")
    return ReportFiles(index=out_dir / "index.html", pdf=pdf_path, pages=pages, images=images, engines=engines)
