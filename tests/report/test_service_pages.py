"""Service pages: a page per app, workload and service, linked from tables and picture nodes and back;
safe file names and escaped content for hostile names; the Istio objects that apply; mTLS; deep links."""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from report_mesh import EVIL, QUOTE_AMP, T0, build_small_graph_with_health, build_small_snapshot

from meshreport import pipeline
from meshreport.analysis import Analysis
from meshreport.cli import main
from meshreport.errors import UsageError
from meshreport.graph.model import Node, TrafficGraph
from meshreport.report.deep_links import LinkBases, node_links
from meshreport.report.service_pages import page_paths, safe_names
from meshreport.settings import Settings
from meshreport.snapshot.model import Window
from meshreport.snapshot.store import read

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "bookinfo.mrsnap"
SAFE = re.compile(r"^[A-Za-z0-9._-]+$")
LINKS = LinkBases(
    kiali="https://kiali.example.com/kiali", grafana="https://grafana.example.com/", jaeger="http://jaeger.local:16686"
)


def _text(html: str) -> str:
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def _hrefs(html: str) -> list[str]:
    return [unquote(h).replace("&amp;", "&") for h in re.findall(r'\bhref="([^"]+)"', html)]


def _resolves(page: Path, href: str) -> bool:
    target = href.split("#", 1)[0]
    return (page.parent / target).resolve().is_file()


@pytest.fixture(scope="module")
def bookinfo(tmp_path_factory):
    snap = read(SAMPLE)
    analysis = pipeline.analyse(snap, pipeline.AnalysisOptions.for_report())
    out = tmp_path_factory.mktemp("svc") / "bookinfo"
    pipeline.render(snap, analysis, out, pipeline.RenderOptions(pdf=False, now=snap.window.end))
    return out


def test_bookinfo_has_a_page_per_app_and_service_linked_both_ways(bookinfo):
    pages = sorted(p.relative_to(bookinfo).as_posix() for p in (bookinfo / "services").rglob("*.html"))
    assert "services/bookinfo/app-reviews-v2.html" in pages and "services/bookinfo/svc-reviews.html" in pages
    assert "services/istio-system/app-istio-ingressgateway-latest.html" in pages
    assert len(pages) == 18
    ns_page = bookinfo / "namespaces/bookinfo.html"
    ns_html = ns_page.read_text()
    for rel in pages:
        page = bookinfo / rel
        html = page.read_text()
        # every link on the page resolves; the page links back to its namespace and the overview
        assert all(_resolves(page, h) for h in _hrefs(html) if not h.startswith("#")), rel
        if rel.startswith("services/bookinfo/"):
            assert '<a href="../../namespaces/bookinfo.html">bookinfo</a>' in html
            # and the namespace page's workload table links to it
            assert f'href="../{rel}"' in ns_html, rel
    # the overview's tables link to the pages too
    assert 'href="services/bookinfo/' in (bookinfo / "index.html").read_text()


def test_a_service_page_lists_its_traffic_both_ways(bookinfo):
    svc = (bookinfo / "services/bookinfo/svc-reviews.html").read_text()
    inbound, outbound = svc.split('id="out"', 1)
    assert '<a href="app-productpage-v1.html">productpage v1</a>' in inbound
    for v in ("v1", "v2", "v3"):
        assert f'<a href="app-reviews-{v}.html">reviews {v}</a>' in outbound
    v2 = (bookinfo / "services/bookinfo/app-reviews-v2.html").read_text()
    inbound, outbound = v2.split('id="out"', 1)
    assert '<a href="svc-reviews.html">reviews</a>' in inbound and '<a href="svc-ratings.html">ratings</a>' in outbound
    # a service with one backend is folded into its caller's row: the backend's page shows that caller
    details = (bookinfo / "services/bookinfo/app-details-v1.html").read_text().split('id="out"', 1)[0]
    assert '<a href="app-productpage-v1.html">productpage v1</a>' in details
    # every traffic number column, sortable without per-cell data
    head = "<th>Rate (req/s)<th>4xx %<th>5xx %<th>p50<th>p95<th>p99<th>mTLS<th>Codes / flags"
    assert head in v2
    assert 'class="data edges sortable lean"' in v2
    # health with the reason the rule fired (reviews v2's own inbound is clean: the cause is outbound)
    assert "▲ Degraded : outbound http 5xx 5.0 % (degraded at > 0 %) · in 3.50 req/s, 4xx 0 %, 5xx 0 %" in _text(v2)


def test_pages_list_the_istio_objects_that_apply_and_their_findings(bookinfo):
    text = _text((bookinfo / "services/bookinfo/app-productpage-v1.html").read_text())
    assert "PeerAuthentication bookinfo/productpage-permissive : selects app=productpage" in text
    assert "PeerAuthentication bookinfo/default : namespace-wide" in text
    assert "DestinationRule bookinfo/productpage : host productpage" in text
    assert "VirtualService bookinfo/bookinfo : routes to productpage from gateway bookinfo-gateway" in text
    # configured mode and the object that decides it
    assert "productpage-v1: PERMISSIVE , decided by PeerAuthentication bookinfo/productpage-permissive" in text
    details = _text((bookinfo / "services/bookinfo/app-details-v1.html").read_text())
    assert "DestinationRule bookinfo/details" in details and "IST0173" in details
    assert "VirtualService bookinfo/bookinfo" not in details  # bound to the gateway, routes elsewhere
    google = _text((bookinfo / "services/bookinfo/svc-googleapis.html").read_text())
    assert "VirtualService bookinfo/rewrite-port-for-googleapis : hosts include www.googleapis.com" in google


def test_picture_nodes_link_to_the_pages(bookinfo):
    svg = (bookinfo / "img/ns-bookinfo.svg").read_text()
    links = re.findall(r'xlink:href="([^"]+)"', svg)
    assert "../services/bookinfo/app-reviews-v2.html" in links
    assert all((bookinfo / "img" / link).resolve().is_file() for link in links)
    assert 'target="_top"' in svg
    # tooltips name the node, not its DOT id
    assert 'xlink:title="reviews v2 (bookinfo): app' in svg
    html = (bookinfo / "namespaces/bookinfo.html").read_text()
    assert '<object data="../img/ns-bookinfo.svg" type="image/svg+xml" aria-label=' in html


def test_hostile_names_give_safe_file_names_and_escaped_pages(tmp_path):
    snap = build_small_snapshot()
    out = tmp_path / "hostile"
    pipeline.render(
        snap, Analysis.of(build_small_graph_with_health()), out, pipeline.RenderOptions(pdf=False, now=T0 + 7200)
    )
    files = list((out / "services").rglob("*"))
    pages = [p for p in files if p.is_file()]
    assert len(pages) == 7
    for p in pages:
        assert p.resolve().parent.parent == (out / "services").resolve()
        assert SAFE.match(p.name), p.name
    evil = next(p for p in pages if "script" in p.name)
    html = evil.read_text()
    assert EVIL not in html and "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in html
    quote = next(p for p in pages if "hi" in p.name).read_text()
    assert QUOTE_AMP not in quote and "say &#34;hi&#34; &amp; &lt;b&gt;bye&lt;/b&gt;" in quote
    svg = (out / "img/ns-shop.svg").read_text()
    assert "<script" not in svg and "pwned" in svg  # the name is there, as text


def _node(nid: str, ns: str, **kw) -> Node:
    return Node(id=nid, node_type=kw.pop("node_type", "workload"), cluster="c", namespace=ns, **kw)


def test_file_names_never_escape_collide_or_lose_case():
    g = TrafficGraph(graph_type="workload", timestamp=T0, duration=60, namespaces=["ns", "../x"])
    names = ["../../etc/passwd", "a/b", "a_b", "Web", "web", "ünïcödé", ".", "..", "x" * 300, "<b>"]
    for i, name in enumerate(names):
        g.add_node(_node(f"w{i}", "ns", workload=name))
    g.add_node(_node("o", "../x", workload="ok"))
    paths = page_paths(g, ["ns", "../x"])
    files = list(paths.values())
    assert len(set(f.lower() for f in files)) == len(files) == len(names) + 1
    for f in files:
        top, ns_dir, name = f.split("/")
        assert top == "services" and SAFE.match(ns_dir) and SAFE.match(name) and name.endswith(".html")
        assert ns_dir not in (".", "..") and not name.startswith(".")
    assert paths["w3"] == "services/ns/wl-Web.html"  # a safe name is kept as it is
    assert paths["w4"].startswith("services/ns/wl-web-")  # the same name but for case gets a hash
    assert paths["o"].startswith("services/x-")  # `../x` became a folder of its own
    # names that differ only in what was dropped still get distinct files
    assert safe_names([("k1", "a/b"), ("k2", "a_b")]) != {"k1": "a_b", "k2": "a_b"}


def test_deep_links_are_built_for_the_window_and_encoded():
    w = Window(T0, T0 + 3600)
    svc = _node("s", "shop", node_type="service", service="my svc")
    links = {x.tool: x.url for x in node_links(LINKS, svc, w)}
    kiali = urlsplit(links["Kiali"])
    assert kiali.scheme == "https" and kiali.netloc == "kiali.example.com"
    assert kiali.path == "/kiali/console/namespaces/shop/services/my%20svc"
    q = parse_qs(kiali.query)
    assert q == {"duration": ["3600"], "from": [str(int(T0 * 1000))], "to": [str(int((T0 + 3600) * 1000))],
                 "clusterName": ["c"]}  # fmt: skip
    grafana = urlsplit(links["Grafana"])
    assert grafana.path == "/d/LJ_uJAvmk/istio-service-dashboard"
    assert parse_qs(grafana.query)["var-service"] == ["my svc.shop.svc.cluster.local"]
    assert parse_qs(grafana.query)["from"] == [str(int(T0 * 1000))]
    jaeger = urlsplit(links["Jaeger"])
    assert jaeger.netloc == "jaeger.local:16686" and jaeger.path == "/search"
    jq = parse_qs(jaeger.query)
    assert jq["service"] == ["my svc.shop"] and jq["lookback"] == ["custom"]
    assert jq["start"] == [str(int(T0 * 1_000_000))] and jq["end"] == [str(int((T0 + 3600) * 1_000_000))]
    wl = _node("w", "shop", workload="api-v1", app="api", version="v1")
    wl_links = {x.tool: x.url for x in node_links(LINKS, wl, w)}
    assert "/console/namespaces/shop/workloads/api-v1?" in wl_links["Kiali"]
    g = urlsplit(wl_links["Grafana"])
    assert g.path == "/d/UbsSZTDik/istio-workload-dashboard"
    assert parse_qs(g.query)["var-workload"] == ["api-v1"] and parse_qs(g.query)["var-namespace"] == ["shop"]
    app = _node("a", "shop", node_type="app", app="api", version="v1", workload="api-v1")
    assert "/console/namespaces/shop/applications/api?" in node_links(LINKS, app, w)[0].url
    # names from the cluster cannot break out of their path segment or query value
    evil = _node("e", "a/b", workload="../x?y=1#z&")
    kiali_evil = node_links(LinkBases(kiali="https://k"), evil, w)[0].url
    assert kiali_evil.startswith("https://k/console/namespaces/a%2Fb/workloads/..%2Fx%3Fy%3D1%23z%26?duration=")
    assert node_links(LinkBases(), svc, w) == []


def test_deep_links_on_pages_only_when_configured(tmp_path, bookinfo):
    snap = read(SAMPLE)
    analysis = pipeline.analyse(snap, pipeline.AnalysisOptions.for_report())
    out = tmp_path / "linked"
    pipeline.render(snap, analysis, out, pipeline.RenderOptions(pdf=False, now=snap.window.end, links=LINKS))
    html = (out / "services/bookinfo/svc-reviews.html").read_text()
    hrefs = [h for h in _hrefs(html) if h.startswith("http")]
    assert len(hrefs) == 3 and 'rel="noopener noreferrer"' in html
    assert hrefs[0].startswith("https://kiali.example.com/kiali/console/namespaces/bookinfo/services/reviews?")
    assert "var-service=reviews.bookinfo.svc.cluster.local" in hrefs[1]
    assert "service=reviews.bookinfo" in hrefs[2]
    # unconfigured: no page links out of the report
    for page in (bookinfo / "services").rglob("*.html"):
        assert not [h for h in _hrefs(page.read_text()) if re.match(r"[a-z]+:", h)], page


def test_link_settings_are_checked():
    ok = Settings.load(env={}, flags={"links.kiali": "https://kiali.example.com/kiali"})
    assert pipeline.link_bases(ok) == LinkBases(kiali="https://kiali.example.com/kiali")
    assert pipeline.link_bases(Settings.load(env={})) is None
    for bad in ("javascript:alert(1)", "kiali.example.com", "https://user:pw@kiali.example.com", "https://k/?a=1"):
        with pytest.raises(UsageError, match="links.kiali"):
            pipeline.link_bases(Settings.load(env={}, flags={"links.kiali": bad}))
    env = {"MESHREPORT_LINKS_GRAFANA": "https://g", "MESHREPORT_LINKS_GRAFANA_SERVICE_DASHBOARD": "/d/abc/svc"}
    assert pipeline.link_bases(Settings.load(env=env)).grafana_service_dashboard == "/d/abc/svc"


def test_render_flag_adds_links_and_a_bad_url_is_exit_2(tmp_path):
    with pytest.raises(SystemExit) as e:
        main(["render", str(SAMPLE), "-o", str(tmp_path / "r"), "--no-pdf", "--jaeger-url", "ftp://x"])
    assert e.value.code == 2 and not (tmp_path / "r").exists()
    with pytest.raises(SystemExit) as e:
        main(["render", str(SAMPLE), "-o", str(tmp_path / "r"), "--no-pdf", "--jaeger-url", "https://j.example"])
    assert e.value.code in (0, None)
    html = (tmp_path / "r/services/bookinfo/app-reviews-v1.html").read_text()
    assert "https://j.example/search?service=reviews.bookinfo&amp;start=" in html


def test_mtls_answers_on_the_workload_page(tmp_path):
    for argv in (["synth", "mtls", "-o", str(tmp_path / "m.mrsnap")], ["render", str(tmp_path / "m.mrsnap"), "-o",
                 str(tmp_path / "out"), "--no-pdf", "--graph-type", "workload"]):  # fmt: skip
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code in (0, None)
    page = tmp_path / "out/services/billing/wl-invoices-v1.html"
    text = _text(page.read_text())
    assert "Mutual TLS" in text and "Blocks STRICT" in text and "jobs/nightly-export-v1" in text
    assert re.search(r"invoices-v1: PERMISSIVE , decided by PeerAuthentication billing/default", text), text
    assert re.search(r"Inbound over mTLS: requests \d+(\.\d)? %", text), text
