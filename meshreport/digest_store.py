"""A run's digest kept beside its report (`digest.json.gz`), so the next run compares without
re-reading, re-building and re-validating the previous snapshot.

A digest depends on how the snapshot was analysed (graph type, service nodes, namespaces, health
rules, suppressions, mesh config, meshreport's version): the file carries a key of those, and a
reader asking with another key gets None and analyses the snapshot instead. A file that is not
one we wrote (malformed, too big once inflated) also reads as None: the snapshot is the truth.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

from meshreport.digest import Digest, EdgeFacts, NodeFacts
from meshreport.output import write_output
from meshreport.snapshot.model import SourceRef, Window
from meshreport.trend import RunPoint, Totals
from meshreport.validation.model import Finding

FILE_NAME = "digest.json.gz"
SCHEMA = "meshreport/digest"
VERSION = 1
#: Inflated size a digest may have; a 10,000-workload mesh's is about 40 MB.
MAX_BYTES = 512 * 1024 * 1024


def analysis_key(parts: dict[str, Any]) -> str:
    """A stable hash of what the digest depends on (`parts` is JSON-able)."""
    text = json.dumps({"digest": VERSION, **parts}, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _finding(f: Finding) -> list[Any]:
    src = [f.source.file, f.source.line] if f.source is not None else None
    return [f.code, f.severity, f.kind, f.name, f.namespace, f.cluster, f.message, list(f.equivalents), src,
            f.path, f.doc, f.suppressed, f.rule]  # fmt: skip


def _finding_of(x: list[Any]) -> Finding:
    code, sev, kind, name, ns, cluster, msg, eq, src, path, doc, sup, rule = x
    source = SourceRef(str(src[0]), int(src[1])) if src else None
    return Finding(code, sev, kind, name, ns, cluster, msg, tuple(eq), source, path, doc, sup, rule)


def to_doc(d: Digest, key: str) -> dict[str, Any]:
    """The digest as JSON-ready data (lists, not objects: a 10,000-workload digest stays small)."""
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "key": key,
        "window": [d.window.start, d.window.end],
        "schemaVersion": d.schema_version,
        "graphType": d.graph_type,
        "namespaces": list(d.namespaces),
        "clusters": list(d.clusters),
        "nodes": [[nid, n.node_type, n.namespace, n.name, n.rate, n.error_pct, n.status] for nid, n in d.nodes.items()],
        "edges": [
            [e.source, e.dest, e.protocol, e.rate, e.error_pct, e.p95, e.mtls, e.status] for e in d.edges.values()
        ],
        "findings": None if d.findings is None else [_finding(f) for f in d.findings],
        "objects": None if d.objects is None else [[*k, body] for k, body in d.objects.items()],
        "gaps": [[*k, reason] for k, reason in d.gaps.items()],
    }


def from_doc(doc: dict[str, Any]) -> Digest:
    """The digest `to_doc` wrote; KeyError, TypeError or ValueError when the data is not one."""
    d = Digest(
        window=Window(float(doc["window"][0]), float(doc["window"][1])),
        schema_version=int(doc["schemaVersion"]),
        graph_type=str(doc["graphType"]),
        namespaces=tuple(doc["namespaces"]),
        clusters=tuple(doc["clusters"]),
    )
    d.nodes = {x[0]: NodeFacts(*x[1:]) for x in doc["nodes"]}
    d.edges = {(x[0], x[1], x[2]): EdgeFacts(*x) for x in doc["edges"]}
    if doc["findings"] is not None:
        d.findings = [_finding_of(x) for x in doc["findings"]]
    if doc["objects"] is not None:
        d.objects = {(x[0], x[1], x[2], x[3]): x[4] for x in doc["objects"]}
    d.gaps = {(x[0], x[1], x[2], x[3]): x[4] for x in doc["gaps"]}
    return d


def write(d: Digest, key: str, path: Path) -> None:
    """Write the digest (gzip JSON) safely (meshreport.output: a temporary file and a rename)."""
    data = gzip.compress(json.dumps(to_doc(d, key), separators=(",", ":")).encode(), compresslevel=5)
    write_output(path, data)


def read(path: Path, key: str) -> Digest | None:
    """The digest stored at `path` when it was made with `key`; None otherwise (missing, other key,
    not ours, bigger than MAX_BYTES inflated)."""
    try:
        if path.is_symlink() or not path.is_file():
            return None
        with gzip.open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            return None
        doc = json.loads(raw)
        if not isinstance(doc, dict) or doc.get("schema") != SCHEMA or doc.get("version") != VERSION:
            return None
        if doc.get("key") != key:
            return None
        return from_doc(doc)
    except (OSError, EOFError, ValueError, KeyError, TypeError, IndexError, RecursionError):
        return None


# --- The run's trend point (`trend.json`): a few numbers per namespace, read for every trend ------

TREND_FILE = "trend.json"
TREND_SCHEMA = "meshreport/run-trend"
MAX_TREND_BYTES = 16 * 1024 * 1024


def write_point(p: RunPoint, key: str, path: Path) -> None:
    """The run's trend totals (requests/s, error share, p95 per scope); the run's name is its folder's."""
    doc = {
        "schema": TREND_SCHEMA,
        "version": VERSION,
        "key": key,
        "end": p.end,
        "scopes": {s: [t.requests, t.error_pct, t.p95] for s, t in p.scopes.items()},
    }
    write_output(path, json.dumps(doc, separators=(",", ":")) + "\n")


def read_point(path: Path, name: str, key: str) -> RunPoint | None:
    """The stored trend point when it was made with `key`; None otherwise."""
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_TREND_BYTES:
            return None
        doc = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or doc.get("schema") != TREND_SCHEMA or doc.get("version") != VERSION:
            return None
        if doc.get("key") != key:
            return None
        scopes = {str(s): Totals(float(v[0]), _num(v[1]), _num(v[2])) for s, v in doc["scopes"].items()}
        return RunPoint(name, float(doc["end"]), scopes)
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError):
        return None


def _num(v: Any) -> float | None:
    return None if v is None else float(v)
