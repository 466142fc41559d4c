"""Machine outputs of validation findings: text (like istioctl), json, yaml, sarif 2.1.0, junit, markdown,
and GitLab Code Quality JSON (codequality).

Every writer is a pure function of a ValidationResult and returns a string; the command writes
it. All formats count suppressed findings; `show` filters what is listed (never what fails).
With a `Baseline` (validate --baseline), every active finding is marked new or existing: SARIF
`baselineState` new/unchanged, a `baseline` field in JSON/YAML, `[new]` in text, a column in
Markdown, a testcase property and message prefix in JUnit.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree as ET

import yaml

from meshreport import __version__
from meshreport.report.findings import summary_text
from meshreport.validation.model import SEVERITIES, Finding, ValidationResult, at_or_above
from meshreport.validation.registry import Rule, rules_by_code
from meshreport.visible import one_line

FORMATS = ("text", "json", "yaml", "sarif", "junit", "markdown", "codequality")
INFO_URI = "https://github.com/meshreport/meshreport"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL_WORD = {"error": "Error", "warning": "Warning", "info": "Info"}
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


@dataclass(frozen=True)
class Baseline:
    """Which active findings a baseline did not have (by identity), and how many it had that are gone."""

    new: frozenset[int] = field(default_factory=frozenset)  # id() of the new Finding objects
    resolved: int = 0
    name: str = "baseline"

    @classmethod
    def of(cls, new: list[Finding], resolved: int, name: str = "baseline") -> Baseline:
        return cls(frozenset(id(f) for f in new), resolved, name)

    def state(self, f: Finding) -> str | None:
        """`new` or `existing` for an active finding; None for a suppressed one (not compared)."""
        if f.suppressed is not None:
            return None
        return "new" if id(f) in self.new else "existing"

    def summary(self, result: ValidationResult) -> str:
        n = sum(1 for f in result.active if id(f) in self.new)
        return f"{n} new since the {self.name}, {len(result.active) - n} existing, {self.resolved} resolved"


def render(
    result: ValidationResult,
    fmt: str,
    *,
    show: str = "info",
    show_suppressed: bool = False,
    baseline: Baseline | None = None,
) -> str:
    """The findings in `fmt`. `show` is the lowest severity listed; suppressed ones only with `show_suppressed`
    (SARIF and JUnit always carry them in their own suppressed/skipped form, so they count them).
    `baseline` marks findings new or existing."""
    try:
        writer = _WRITERS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}") from None
    return writer(result, show, show_suppressed, baseline)


def shown(result: ValidationResult, show: str, show_suppressed: bool) -> list[Finding]:
    return [f for f in result.findings if at_or_above(f.severity, show) and (f.suppressed is None or show_suppressed)]


def summary_line(result: ValidationResult) -> str:
    line = f"Summary: {summary_text(result.counts())} ({result.objects} objects checked)"
    if result.expired:
        line += f"; {len(result.expired)} expired suppression{'s' if len(result.expired) != 1 else ''}"
    return line


def doc_uri(code: str) -> str | None:
    """Where the source tool documents the code."""
    if code.startswith("IST"):
        return f"https://istio.io/latest/docs/reference/config/analysis/{code.lower()}/"
    if code.startswith("KIA"):
        return f"https://kiali.io/docs/features/validations/#{code.lower()}"
    return None


# -- text ---------------------------------------------------------------------------------------


def _location(f: Finding) -> str:
    return f" {f.source.file}:{f.source.line}" if f.source else ""


def text_line(f: Finding, baseline: Baseline | None = None) -> str:
    """`Error [IST0101] (VirtualService bookinfo/reviews reviews.yaml:12) Referenced host not found: "reviewz"`.

    Always one line: names and messages carry untrusted text, whose line breaks, ANSI escapes and
    other control characters are shown as `\\n`, `\\x1b` (meshreport.visible)."""
    line = f"{_LEVEL_WORD[f.severity]} [{f.code}] ({f.origin}{_location(f)}) {f.message}"
    if f.suppressed:
        line += f" [suppressed: {f.suppressed}]"
    if baseline is not None and baseline.state(f) == "new":
        line = "[new] " + line
    return one_line(line)


def _text(result: ValidationResult, show: str, show_suppressed: bool, baseline: Baseline | None) -> str:
    lines = [text_line(f, baseline) for f in shown(result, show, show_suppressed)]
    if not lines:
        lines.append("No validation issues found.")
    for e in result.expired:
        lines.append(
            one_line(f"Expired suppression {e.code}={e.resource} (expired {e.expires}; no longer applied): {e.reason}")
        )
    lines.append(summary_line(result))
    if baseline is not None:
        lines.append(f"Baseline: {baseline.summary(result)}")
    return "\n".join(lines) + "\n"


# -- json / yaml --------------------------------------------------------------------------------


def finding_dict(f: Finding, baseline: Baseline | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {
        "code": f.code,
        "severity": f.severity,
        "kind": f.kind,
        "name": f.name,
        "namespace": f.namespace,
        "cluster": f.cluster,
        "message": f.message,
    }
    if f.source:
        d["source"] = {"file": f.source.file, "line": f.source.line}
    if f.path:
        d["path"] = f.path
    d["equivalents"] = list(f.equivalents)
    d["doc"] = f.doc
    if uri := doc_uri(f.code):
        d["documentationUrl"] = uri
    if f.suppressed:
        d["suppressed"] = f.suppressed
    if baseline is not None and (state := baseline.state(f)):
        d["baseline"] = state
    return d


def _json(result: ValidationResult, show: str, show_suppressed: bool, baseline: Baseline | None) -> str:
    return json.dumps([finding_dict(f, baseline) for f in shown(result, show, show_suppressed)], indent=2) + "\n"


def _yaml(result: ValidationResult, show: str, show_suppressed: bool, baseline: Baseline | None) -> str:
    items = [finding_dict(f, baseline) for f in shown(result, show, show_suppressed)]
    return yaml.safe_dump(items, sort_keys=False, allow_unicode=True, width=1000) if items else "[]\n"


# -- sarif --------------------------------------------------------------------------------------


def _sarif_rule(code: str, rules: list[Rule]) -> dict[str, Any]:
    first = rules[0]
    titles = sorted({r.title for r in rules})
    docs = "\n\n".join(f"**{r.title}** ({', '.join(r.kinds)}): {r.doc}" for r in rules)
    d: dict[str, Any] = {
        "id": code,
        "name": "".join(w[:1].upper() + w[1:] for w in first.title.replace(":", " ").split() if w.isalnum()),
        "shortDescription": {"text": titles[0] if len(titles) == 1 else f"{code}: {'; '.join(titles)}"[:1000]},
        "fullDescription": {"text": " ".join(r.doc for r in rules)},
        "help": {"text": " ".join(r.doc for r in rules), "markdown": docs},
        "defaultConfiguration": {"level": _SARIF_LEVEL[first.severity]},
        "properties": {
            "tags": sorted({"istio", "service-mesh", *(k for r in rules for k in r.kinds)}),
            "equivalents": sorted({e for r in rules for e in r.equivalents}),
        },
    }
    if uri := doc_uri(code):
        d["helpUri"] = uri
    return d


def k8s_uri(f: Finding) -> str:
    """Stable URI for an object that did not come from a file: `k8s://cluster/namespace/Kind/name`
    (each part percent-encoded)."""
    ns = f"{quote(f.namespace, safe='')}/" if f.namespace else ""
    return f"k8s://{quote(f.cluster, safe='')}/{ns}{quote(f.kind, safe='')}/{quote(f.name, safe='')}"


def file_uri(path: str) -> str:
    """A file path as a SARIF artifact URI: a relative (or absolute) URI reference, percent-encoded
    (RFC 3986), so spaces, `#`, `?`, `%` and control characters in a name cannot change what it points at."""
    return quote(path.replace("\\", "/"), safe="/")


def _fingerprint(f: Finding) -> str:
    return hashlib.sha256(f"{f.code}|{f.resource_key}|{f.path or ''}|{f.message}".encode()).hexdigest()[:32]


def _sarif(result: ValidationResult, show: str, show_suppressed: bool, baseline: Baseline | None) -> str:
    catalogue = rules_by_code()
    listed = [f for f in result.findings if at_or_above(f.severity, show)]
    codes = sorted({f.code for f in listed})
    index = {c: i for i, c in enumerate(codes)}
    results = []
    for f in listed:
        if f.source:
            phys = {
                "artifactLocation": {"uri": file_uri(f.source.file)},
                "region": {"startLine": max(1, f.source.line)},
            }
        else:
            phys = {"artifactLocation": {"uri": k8s_uri(f)}, "region": {"startLine": 1}}
        r: dict[str, Any] = {
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": _SARIF_LEVEL[f.severity],
            "message": {"text": f"{f.origin}: {f.message}"},
            "locations": [
                {
                    "physicalLocation": phys,
                    "logicalLocations": [
                        {
                            "name": f.name,
                            "fullyQualifiedName": f.resource_key,
                            "kind": "resource",
                        }
                    ],
                }
            ],
            "partialFingerprints": {"meshreportFinding/v1": _fingerprint(f)},
            "properties": {"kind": f.kind, "namespace": f.namespace, "equivalents": list(f.equivalents)},
        }
        if f.path:
            r["properties"]["path"] = f.path
        if f.suppressed:
            kind = "inSource" if f.suppressed.startswith("annotation") else "external"
            r["suppressions"] = [{"kind": kind, "state": "accepted", "justification": f.suppressed}]
        if baseline is not None and (state := baseline.state(f)):
            r["baselineState"] = "new" if state == "new" else "unchanged"
        results.append(r)
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "meshreport",
                        "version": __version__,
                        "informationUri": INFO_URI,
                        "rules": [_sarif_rule(c, _fired(c, listed, catalogue)) for c in codes],
                    }
                },
                "automationDetails": {"id": "meshreport/validate/"},
                "results": results,
                "properties": {"counts": result.counts(), "objects": result.objects},
            }
        ],
    }
    if baseline is not None:
        doc["runs"][0]["properties"]["baseline"] = {"summary": baseline.summary(result), "resolved": baseline.resolved}
    return json.dumps(doc, indent=2) + "\n"


def _fired(code: str, findings: list[Finding], catalogue: dict[str, list[Rule]]) -> list[Rule]:
    """The rules of `code` that produced these findings (several rules share a code), in registry order."""
    names = {f.rule for f in findings if f.code == code}
    rules = [r for r in catalogue.get(code, []) if r.name in names] or catalogue.get(code, [])
    if rules:
        return rules
    f = next(f for f in findings if f.code == code)
    return [Rule(code=code, kinds=(f.kind,), severity=f.severity, title=code, doc=f.doc or code, check=_fired)]


# -- junit --------------------------------------------------------------------------------------


def _junit(result: ValidationResult, show: str, show_suppressed: bool, baseline: Baseline | None) -> str:
    """One testsuite per namespace; one testcase per (code, object) with at most one failure.

    With a baseline, a testcase with a new finding has the property `baseline=new` (else
    `existing`) and its failure message starts with `[new]`."""
    cases: dict[tuple[str, str, str], list[Finding]] = {}
    for f in result.findings:
        if f.suppressed is None and not at_or_above(f.severity, show):
            continue
        cases.setdefault((f.namespace or "(cluster)", f.code, f.origin), []).append(f)
    root = ET.Element("testsuites", name="meshreport validate")
    suites: dict[str, ET.Element] = {}
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for (ns, code, origin), fs in sorted(cases.items()):
        suite = suites.get(ns)
        if suite is None:
            suite = suites[ns] = ET.SubElement(root, "testsuite", name=xml_text(ns))
        case = ET.SubElement(suite, "testcase", classname=xml_text(ns), name=xml_text(f"{code} {origin}"))
        active = [f for f in fs if f.suppressed is None]
        body = "\n".join(text_line(f, baseline) for f in fs) + f"\n\n{xml_text(fs[0].doc)}"
        if uri := doc_uri(code):
            body += f"\n{uri}"
        if active:
            worst = min(active, key=lambda f: SEVERITIES.index(f.severity))
            message = worst.message
            if baseline is not None:
                is_new = any(baseline.state(f) == "new" for f in active)
                props = ET.SubElement(case, "properties")
                ET.SubElement(props, "property", name="baseline", value="new" if is_new else "existing")
                message = ("[new] " if is_new else "[existing] ") + message
            el = ET.SubElement(case, "failure", message=one_line(message), type=worst.severity)
            el.text = body
        else:
            ET.SubElement(case, "skipped", message=one_line(f"suppressed: {fs[0].suppressed}"))
    if not cases:
        suite = suites["meshreport"] = ET.SubElement(root, "testsuite", name="meshreport")
        ET.SubElement(suite, "testcase", classname="meshreport", name=f"validate ({result.objects} objects)")
    for suite in suites.values():
        tcs = suite.findall("testcase")
        n = {"tests": len(tcs), "failures": sum(1 for t in tcs if t.find("failure") is not None)}
        n["skipped"] = sum(1 for t in tcs if t.find("skipped") is not None)
        for k, v in n.items():
            suite.set(k, str(v))
            totals[k] += v
        suite.set("errors", "0")
    for k, v in totals.items():
        root.set(k, str(v))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# -- markdown -----------------------------------------------------------------------------------

MAX_ROWS = 500  # keeps a GitHub job summary well under its 1 MiB limit


def md_escape(text: str) -> str:
    """Untrusted text as inert Markdown on one line (tables included): no HTML, no links or images
    (`[`, `]` escaped, bare URLs not linked), no table-breaking pipes, control characters shown visibly."""
    t = one_line(text.replace("\n", " "))
    t = t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    t = _MD_SPECIAL.sub(r"\\\g<0>", t)
    return _AUTOLINK.sub("\\g<1>\u200b", t)


_MD_SPECIAL = re.compile(r"[\\|\[\]]")
# GitHub links bare `https://x` and `www.x`: a zero-width space after the scheme's colon or `www` stops it.
_AUTOLINK = re.compile(r"(?i)(\b(?:https?|ftp|mailto):|\bwww)(?=[./])")


def xml_text(text: str) -> str:
    """Text XML 1.0 can hold: characters it forbids (most C0 controls, U+FFFE/FFFF, lone surrogates)
    are shown as escapes (`\\x1b`), since a JUnit file with one of them is not XML at all."""
    return _XML_INVALID.sub(lambda m: repr(m.group())[1:-1], text)


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _markdown(result: ValidationResult, show: str, show_suppressed: bool, baseline: Baseline | None) -> str:
    c = result.counts()
    out = ["## meshreport validation", ""]
    out.append("| errors | warnings | info | suppressed | objects |")
    out.append("|---:|---:|---:|---:|---:|")
    out.append(f"| {c['error']} | {c['warning']} | {c['info']} | {c['suppressed']} | {result.objects} |")
    out.append("")
    if baseline is not None:
        out += [f"**Baseline:** {md_escape(baseline.summary(result))}", ""]
    rows = shown(result, show, show_suppressed)
    if baseline is not None:
        rows = sorted(rows, key=lambda f: baseline.state(f) != "new")  # new ones first, stable
    if rows:
        extra = " baseline |" if baseline is not None else ""
        out.append(f"| severity | code | resource | location | message |{extra}")
        out.append("|---|---|---|---|---|" + ("---|" if baseline is not None else ""))
        for f in rows[:MAX_ROWS]:
            loc = f"{f.source.file}:{f.source.line}" if f.source else ""
            sev = _LEVEL_WORD[f.severity] + (" (suppressed)" if f.suppressed else "")
            line = f"| {sev} | {f.code} | {md_escape(f.origin)} | {md_escape(loc)} | {md_escape(f.message)} |"
            if baseline is not None:
                state = baseline.state(f)
                line += f" {'**new**' if state == 'new' else state or ''} |"
            out.append(line)
        if len(rows) > MAX_ROWS:
            out.append("")
            out.append(f"_{len(rows) - MAX_ROWS} more findings not shown; see the JSON or SARIF output._")
        out.append("")
        out.append("<details><summary>What the codes mean</summary>")
        out.append("")
        seen: dict[str, str] = {}
        for f in rows[:MAX_ROWS]:
            seen.setdefault(f.code, f.doc)
        for code, doc in sorted(seen.items()):
            out.append(f"- **{code}**: {md_escape(doc)}")
        out.append("")
        out.append("</details>")
    else:
        out.append("No validation issues found.")
    if result.expired:
        out.append("")
        out.append("### Expired suppressions")
        out.append("")
        for e in result.expired:
            out.append(f"- `{md_escape(e.code)}={md_escape(e.resource)}` expired {e.expires}: {md_escape(e.reason)}")
    return "\n".join(out) + "\n"


# -- GitLab Code Quality ------------------------------------------------------------------------

#: GitLab's scale is info, minor, major, critical, blocker; an error fails the job (--fail-on), so it
#: ranks above warnings without claiming the blocker level GitLab keeps for outages.
_CODEQUALITY_SEVERITY = {"error": "major", "warning": "minor", "info": "info"}


def _codequality(result: ValidationResult, show: str, show_suppressed: bool, baseline: Baseline | None) -> str:
    """The subset of the Code Climate spec GitLab reads (artifacts:reports:codequality).

    Suppressed findings are left out whatever `show_suppressed` says: the format has no way to mark
    them, and GitLab would show them as open issues in the merge request. An object read from a live
    cluster has no file, so its path is its k8s:// URI (GitLab lists it without a link)."""
    issues = []
    for f in result.active:
        if not at_or_above(f.severity, show):
            continue
        path, line = (f.source.file, max(1, f.source.line)) if f.source else (k8s_uri(f), 1)
        description = f"[{f.code}] {f.origin}: {f.message}"
        if baseline is not None and baseline.state(f) == "new":
            description = "[new] " + description
        issues.append(
            {
                "description": description,
                "check_name": f.code,
                "fingerprint": _fingerprint(f),
                "severity": _CODEQUALITY_SEVERITY[f.severity],
                "location": {"path": path, "lines": {"begin": line}},
            }
        )
    return json.dumps(issues, indent=2) + "\n"


_WRITERS: dict[str, Callable[[ValidationResult, str, bool, Baseline | None], str]] = {
    "text": _text,
    "json": _json,
    "yaml": _yaml,
    "sarif": _sarif,
    "junit": _junit,
    "markdown": _markdown,
    "codequality": _codequality,
}
