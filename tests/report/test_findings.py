"""Config-validation findings in the report: the findings page, namespace lists, counts, escaping, PDF."""

from __future__ import annotations

import re
import subprocess

from report_mesh import EVIL, analysis_of, build_small_graph, build_small_snapshot

from meshreport.report.model import build_model
from meshreport.report.site import environment, write_site
from meshreport.validation import check
from meshreport.validation.suppress import Suppression

ESCAPED = "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;"


def test_findings_page_groups_by_severity_code_and_namespace(small_report):
    out, _ = small_report
    html = (out / "findings.html").read_text()
    assert '<a href="findings.html" class="active">Findings</a>' in html
    assert "4 config objects validated: 2 errors, 0 warnings, 0 info; 1 suppressed." in html
    errors = html.split('id="sev-error"')[1]
    group = errors.split('id="code-IST0101"')[1].split("</div>")[0]
    assert "Referenced host not found" in group  # the code's title
    assert "KIA1101" in group  # equivalents
    assert '<a href="namespaces/shop.html">shop</a>' in group
    assert 'id="sev-warning"' not in html  # no active warnings: no empty group
    # The suppressed warning is listed apart, collapsed, with its reason.
    suppressed = html.split('<details class="suppressed"')[1]
    assert "Suppressed findings (1)" in suppressed and "DestinationRule shop/quiet" in suppressed
    assert "annotation galley.istio.io/analyze-suppress" in suppressed
    assert "IST0174" not in html.split('<details class="suppressed"')[0]


def test_hostile_finding_message_and_object_name_are_text(small_report):
    out, _ = small_report
    for page in ("findings.html", "namespaces/shop.html"):
        html = (out / page).read_text()
        assert "<script>" not in html
        assert f"VirtualService shop/{ESCAPED}" in html  # object name
        assert f"Referenced host not found: &#34;{ESCAPED}&#34;" in html  # message


def test_namespace_pages_and_index_show_findings(small_report):
    out, _ = small_report
    shop = (out / "namespaces/shop.html").read_text().split('id="findings"')[1]
    assert "IST0101" in shop and "Referenced host not found" in shop
    assert "DestinationRule shop/quiet" not in shop  # suppressed findings stay on the findings page
    edge = (out / "namespaces/edge.html").read_text().split('id="findings"')[1]
    assert "No active findings" in edge
    index = (out / "index.html").read_text()
    card = re.search(
        r'<div class="card lvl-failure">\s*<div class="card-value">2</div>\s*<div class="card-label">Findings', index
    )
    assert card, "findings card with the active count, coloured by the worst severity"
    # Findings by severity, each count linking to its part of the findings page.
    counts = index.split('id="findings"')[1].split("</ul>")[0]
    assert '<a href="findings.html#sev-error">2</a>' in counts and "IST0101" in counts
    assert re.search(r"Suppressed</span> 1", counts)
    # Health counts per kind from the graph's health appender, linking to their lists.
    table = index.split('class="data health-counts"')[1].split("</table>")[0]
    assert 'href="health.html#failure-workload">1</a>' in table
    assert 'href="health.html#degraded-workload">3</a>' in table
    assert 'href="health.html#failure-service">1</a>' in table
    health = (out / "health.html").read_text()
    for anchor in ("failure-workload", "degraded-workload", "failure-service"):
        assert f'id="{anchor}"' in health


def test_findings_in_the_pdf(small_report):
    out, files = small_report
    text = subprocess.run(
        ["pdftotext", "-layout", str(files.pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Findings" in text and "IST0101" in text
    flat = " ".join(text.split())
    assert "Referenced host not found" in flat
    assert "<script>document.title='pwned'</script>" in flat  # shown as text, not run
    # Suppressed and info findings are counted in the PDF, listed only in the site.
    assert "2 errors, 0 warnings, 0 info; 1 suppressed" in flat
    assert "DestinationRule shop/quiet" not in flat


def test_user_suppressions_and_counts(tmp_path):
    snap = build_small_snapshot()
    known = [Suppression(code, "VirtualService shop/*", "known", origin="config") for code in ("IST0101", "IST0106")]
    result = check(snap.objects, None, known)
    m = build_model(snap, analysis_of(snap, build_small_graph(), result))
    assert m.findings_page.counts == {"error": 0, "warning": 0, "info": 0, "suppressed": 3}
    assert m.namespaces[0].findings == []
    stat = next(s for s in m.stats if s.label == "Findings")
    assert stat.value == "0" and stat.level == "healthy" and "3 suppressed" in stat.hint
    write_site(m, tmp_path, environment())
    html = (tmp_path / "findings.html").read_text()
    assert "No active findings." in html and "config: known" in html


def test_metrics_only_snapshot_says_config_was_not_collected(tmp_path):
    snap = build_small_snapshot()
    snap.objects = []
    m = build_model(snap, analysis_of(snap, build_small_graph()))
    assert not m.findings_page.collected
    assert next(s for s in m.stats if s.label == "Findings").value == "–"
    write_site(m, tmp_path, environment())
    page = (tmp_path / "findings.html").read_text()
    assert "Config was not collected for this snapshot" in page
    assert "Config was not collected" in (tmp_path / "namespaces/shop.html").read_text()
    assert EVIL not in page
