"""Lone surrogates in a snapshot come out as U+FFFD whichever way the file is read.

A snapshot's JSON can hold a lone surrogate two ways: a `\\ud800` escape without its pair, or the
bytes 0xED 0xA0 0x80 that `json` decodes with "surrogatepass". UTF-8 cannot encode either, so one
left in a config object's name, label or YAML value crashed the SARIF writer and the report
(exit 1), and was written through as `\\ud800` into JSON, JUnit and text, when the file was over
the size that is streamed (`store.WHOLE_TEXT_LIMIT`, lowered here instead of writing 256 MB): the
streamed reader cleaned only the string table. Both readers now clean every string the same way.
"""

from __future__ import annotations

import gzip
import json
import xml.dom.minidom
from pathlib import Path

import pytest

from meshreport.cli import main
from meshreport.errors import EXIT_INPUT, InputError
from meshreport.snapshot import store
from meshreport.snapshot.model import Snapshot
from meshreport.synthetic import meshes

FFFD = "\ufffd"
MARK = "SURROGATE"  # replaced in the file's bytes by one of FORMS


def hostile_doc() -> dict:
    """bookinfo with MARK in a VirtualService's name, label (key and value) and hosts (a YAML value
    that also ends up in findings), a Deployment label, a namespace, a gap and an expanded series'
    label."""
    doc = store.to_dict(meshes.bookinfo_snapshot(), packed=False)
    vs = next(o for o in doc["objects"] if o["kind"] == "VirtualService" and o["namespace"] == "bookinfo")
    vs["name"] = vs["body"]["metadata"]["name"] = f"vs{MARK}x"
    vs["body"]["metadata"]["labels"] = {f"team{MARK}": f"t{MARK}z"}
    vs["body"]["spec"]["hosts"] = [f"ghost{MARK}.example"]
    dep = next(o for o in doc["objects"] if o["kind"] == "Deployment")
    dep["body"]["metadata"].setdefault("labels", {})["owner"] = f"o{MARK}"
    doc["namespaces"].append(f"ns{MARK}")
    doc["gaps"].append({"phase": "metrics", "what": f"q{MARK}", "reason": f"refused {MARK}"})
    series = next(s for q in doc["queries"] if q.get("series") for s in q["series"])
    series["labels"]["extra"] = f"l{MARK}"
    return doc


FORMS = {
    "escape": b"\\ud800",  # a lone high surrogate as a JSON escape
    "low-escape": b"\\uDFFF",  # a lone low surrogate, upper-case hex
    "bytes": b"\xed\xa0\x80",  # the UTF-8-style bytes of U+D800, which strict UTF-8 refuses
}


def write(path: Path, doc: dict, form: bytes, indent: int | None = None) -> Path:
    seps = (",", ":") if indent is None else None  # meshreport writes compact JSON
    text = json.dumps(doc, indent=indent, separators=seps).encode().replace(MARK.encode(), form)
    path.write_bytes(gzip.compress(text))
    return path


@pytest.fixture(params=[7, 1 << 22], ids=["tiny-chunks", "default-chunks"])
def streamed(request, monkeypatch):
    """Every file counts as too long to read whole; tiny chunks split escapes and byte sequences."""
    monkeypatch.setattr(store._StreamedDocument, "CHUNK", request.param)
    monkeypatch.setattr(store, "WHOLE_TEXT_LIMIT", 0)


def strings_of(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*strings_of(k), *strings_of(v))]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in strings_of(v)]
    return []


def every_string(snap: Snapshot) -> list[str]:
    out = strings_of([snap.namespaces, [(g.what, g.reason) for g in snap.gaps]])
    out += strings_of([(o.name, o.namespace, o.body) for o in snap.objects])
    out += strings_of([s.labels for q in snap.queries for s in q.series])
    return out


def read_both(path: Path, monkeypatch) -> tuple[Snapshot, Snapshot]:
    whole = store.read(path)
    monkeypatch.setattr(store, "WHOLE_TEXT_LIMIT", 0)
    assert store._StreamedDocument.load(path.read_bytes(), str(path)) is not None  # really streamed
    return whole, store.read(path)


@pytest.mark.parametrize("form", FORMS, ids=list(FORMS))
def test_streamed_read_cleans_config_objects_as_the_whole_read_does(tmp_path, streamed, form):
    path = write(tmp_path / "s.mrsnap", hostile_doc(), FORMS[form])
    assert store._StreamedDocument.load(path.read_bytes(), str(path)) is not None  # really streamed
    snap = store.read(path)
    # must hold: every place the file had a lone surrogate reads as U+FFFD
    vs = next(o for o in snap.objects if o.name.startswith("vs"))
    assert vs.name == f"vs{FFFD}x" == vs.body["metadata"]["name"]
    assert vs.body["metadata"]["labels"] == {f"team{FFFD}": f"t{FFFD}z"}
    assert vs.body["spec"]["hosts"] == [f"ghost{FFFD}.example"]
    assert f"o{FFFD}" in [o.body["metadata"].get("labels", {}).get("owner") for o in snap.objects]
    assert f"ns{FFFD}" in snap.namespaces
    assert (snap.gaps[-1].what, snap.gaps[-1].reason) == (f"q{FFFD}", f"refused {FFFD}")
    assert f"l{FFFD}" in [s.labels.get("extra") for q in snap.queries for s in q.series]
    # must not hold: any string UTF-8 cannot encode
    for s in every_string(snap):
        s.encode("utf-8")


@pytest.mark.parametrize("form", FORMS, ids=list(FORMS))
def test_both_readers_give_the_same_snapshot(tmp_path, monkeypatch, form):
    path = write(tmp_path / "s.mrsnap", hostile_doc(), FORMS[form])
    whole, streamed = read_both(path, monkeypatch)
    assert whole == streamed
    assert f"ns{FFFD}" in whole.namespaces


def test_pairs_and_other_non_ascii_text_are_kept(tmp_path, monkeypatch):
    doc = hostile_doc()
    # an escaped pair (emoji) and a Hangul syllable, whose UTF-8 starts with the byte 0xED
    path = write(tmp_path / "s.mrsnap", doc, "\\ud83d\\ude00 \ud55c".encode())
    whole, streamed = read_both(path, monkeypatch)
    assert whole == streamed
    assert "ns\U0001f600 \ud55c" in streamed.namespaces


def test_pretty_printed_file_is_streamed_too(tmp_path, monkeypatch):
    """Whitespace between values (jq's or json.dumps' layout) no longer sends a big file to the
    whole-document path, which stops at its own limit."""
    path = write(tmp_path / "s.mrsnap", hostile_doc(), FORMS["escape"], indent=1)
    whole, streamed = read_both(path, monkeypatch)
    assert whole == streamed


@pytest.mark.parametrize("bad", [b"\xff", b"\xc3", b"\xed\xa0"], ids=["ff", "cut-sequence", "cut-surrogate"])
def test_other_invalid_utf8_is_the_same_input_error_both_ways(tmp_path, monkeypatch, bad):
    path = write(tmp_path / "s.mrsnap", hostile_doc(), bad)
    with pytest.raises(InputError) as whole:
        store.read(path)
    monkeypatch.setattr(store, "WHOLE_TEXT_LIMIT", 0)
    with pytest.raises(InputError) as streamed:
        store.read(path)
    assert str(whole.value) == str(streamed.value)
    assert "snapshot is not valid JSON" in str(streamed.value) and "\n" not in str(streamed.value)


def run(capsys, args: list[str]) -> int:
    with pytest.raises(SystemExit) as exc:
        main(args)
    _, err = capsys.readouterr()
    assert "internal error" not in err and "Traceback" not in err, err
    return exc.value.code


MACHINE = {"graph.json": ["graph", "--format", "json"]} | {
    f"findings.{fmt}": ["validate", "--format", fmt] for fmt in ("json", "sarif", "junit", "text")
}


def machine_outputs(capsys, path: Path, out: Path) -> dict[str, str]:
    out.mkdir()
    texts = {}
    for name, (cmd, *args) in MACHINE.items():
        code = run(capsys, [cmd, str(path), *args, "-o", str(out / name)])
        assert code in (0, 3), (name, code)  # bookinfo's own findings fail the gate: 3
        texts[name] = (out / name).read_bytes().decode("utf-8")  # strict: no surrogate written
    return texts


@pytest.mark.parametrize("form", ["escape", "bytes"])
def test_streamed_snapshot_outputs_show_fffd_and_match_the_whole_read(tmp_path, monkeypatch, capsys, form):
    path = write(tmp_path / "s.mrsnap", hostile_doc(), FORMS[form])
    whole = machine_outputs(capsys, path, tmp_path / "whole")
    monkeypatch.setattr(store, "WHOLE_TEXT_LIMIT", 0)
    streamed = machine_outputs(capsys, path, tmp_path / "streamed")
    assert streamed == whole
    sarif = json.loads(streamed["findings.sarif"])
    messages = [r["message"]["text"] for run_ in sarif["runs"] for r in run_["results"]]
    assert any(f"ghost{FFFD}.example" in m for m in messages)
    assert any(f"ghost{FFFD}.example" in str(f) for f in json.loads(streamed["findings.json"]))
    assert f"refused {FFFD}" in [g["reason"] for g in json.loads(streamed["graph.json"])["gaps"]]
    junit = xml.dom.minidom.parseString(streamed["findings.junit"].encode())
    assert f"ghost{FFFD}" in junit.documentElement.toxml()
    assert f"ghost{FFFD}" in streamed["findings.text"]
    for text in streamed.values():  # never written through as an escape, visible or JSON
        assert "\\ud800" not in text.lower() and "\\xed" not in text.lower()


def test_streamed_snapshot_renders_the_report(tmp_path, monkeypatch, capsys):
    path = write(tmp_path / "s.mrsnap", hostile_doc(), FORMS["escape"])
    monkeypatch.setattr(store, "WHOLE_TEXT_LIMIT", 0)
    assert run(capsys, ["render", str(path), "--no-pdf", "-o", str(tmp_path / "r")]) == 0
    findings = (tmp_path / "r" / "findings.html").read_bytes().decode("utf-8")
    assert f"ghost{FFFD}.example" in findings and f"vs{FFFD}x" in findings


def test_unreadable_streamed_snapshot_is_exit_5(tmp_path, monkeypatch, capsys):
    path = write(tmp_path / "s.mrsnap", hostile_doc(), b"\xff")
    monkeypatch.setattr(store, "WHOLE_TEXT_LIMIT", 0)
    with pytest.raises(SystemExit) as exc:
        main(["validate", str(path)])
    assert exc.value.code == EXIT_INPUT
    assert capsys.readouterr().err.count("\n") == 1
