"""Read and write `.mrsnap` files: gzip-compressed JSON with a `schema_version`.

Written packed (schema 3: each query's series column-wise in deflated arrays, see packed.py);
read packed (deflated or not) or expanded (schema 1, and later queries that carry plain
`series`), so older snapshots keep rendering and diffing. A file's text is parsed whole when it
is small enough (a 10,000-workload mesh is), else streamed query by query. Reading is strict: a
truncated, non-gzip, wrong-version or malformed file raises `InputError` with one line naming
the file and the problem, so the CLI exits 5 and never shows a traceback. A packed query's label
ids are resolved when its series are first read; a bad id raises the same kind of one-line error
then.
"""

from __future__ import annotations

import codecs
import gzip
import io
import json
import os
import re
import zlib
from collections.abc import Callable
from dataclasses import asdict
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from meshreport.errors import InputError
from meshreport.snapshot.builder import SeriesBuilder
from meshreport.snapshot.model import (
    READABLE_VERSIONS,
    SCHEMA_VERSION,
    ConfigObject,
    Diagnostic,
    Gap,
    QueryResult,
    Series,
    Snapshot,
    Source,
    SourceRef,
    Window,
)
from meshreport.snapshot.packed import ZLIB, PackedError, PackedSeries, StringTable, pack

if TYPE_CHECKING:
    from meshreport.snapshot.table import SeriesTable

FORMAT = "meshreport-snapshot"


def to_dict(snap: Snapshot, packed: bool = True, codec: str | None = ZLIB) -> dict[str, Any]:
    """The JSON document for a snapshot (documented in docs/snapshot-format.md).

    `packed=False` writes every series as a plain JSON object, for people and tools reading
    the file directly (jq); meshreport reads both. `codec=None` leaves packed arrays
    uncompressed, as schema 2 wrote them.
    """
    table = StringTable() if packed else None
    queries = [_query_to_dict(q, table, codec) for q in snap.queries]
    doc: dict[str, Any] = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "window": {
            "start": snap.window.start,
            "end": snap.window.end,
            "duration": snap.window.duration,
        },
        "source": asdict(snap.source),
        "namespaces": list(snap.namespaces),
    }
    if table is not None:
        doc["strings"] = table.values
    return {
        **doc,
        "queries": queries,
        "objects": [_object_to_dict(o) for o in snap.objects],
        "gaps": [asdict(g) for g in snap.gaps],
        "diagnostics": [asdict(d) for d in snap.diagnostics],
        "collector": snap.collector,
    }


def _query_to_dict(q: QueryResult, table: StringTable | None, codec: str | None) -> dict[str, Any]:
    d: dict[str, Any] = {
        "key": q.key,
        "namespace": q.namespace,
        "promql": q.promql,
        "kind": q.kind,
        "time": q.time,
    }
    if q.kind == "range":
        d["start"] = q.start
        d["step"] = q.step
    if q.params:
        d["params"] = q.params
    if table is not None:
        built = q.__dict__.get("_source")
        if isinstance(built, SeriesBuilder):  # collected straight into arrays: never built as Series
            d["packed"] = built.pack_into(table, codec)
        else:
            d["packed"] = pack(q.series, q.kind, table, codec)
        return d
    series = []
    for s in q.series:
        if s.points is not None:
            series.append({"labels": s.labels, "points": [[t, v] for t, v in s.points]})
        else:
            series.append({"labels": s.labels, "value": s.value})
    d["series"] = series
    return d


def _object_to_dict(o: ConfigObject) -> dict[str, Any]:
    d: dict[str, Any] = {
        "apiVersion": o.api_version,
        "kind": o.kind,
        "name": o.name,
        "namespace": o.namespace,
        "cluster": o.cluster,
        "body": o.body,
    }
    if o.source is not None:
        d["source"] = {"file": o.source.file, "line": o.source.line}
    return d


def write(snap: Snapshot, path: str | Path, packed: bool = True) -> None:
    """Write through `meshreport.output`: atomic for a regular file, so a crash mid-write never
    leaves a half file under the final name; a device, FIFO or `-` is written directly."""
    from meshreport.output import open_output

    data = json.dumps(to_dict(snap, packed), separators=(",", ":"), sort_keys=False).encode()
    with open_output(path) as raw:
        # mtime=0 keeps the file byte-identical for identical snapshots (samples, goldens).
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="", compresslevel=6) as gz:
            gz.write(data)


def read(path: str | Path) -> Snapshot:
    path = Path(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise InputError(f"{path}: no such snapshot file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a snapshot file") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read snapshot: {e.strerror}") from None
    if raw[:2] != b"\x1f\x8b":
        raise InputError(f"{path}: not a meshreport snapshot (not gzip-compressed)")
    text = _small_text(raw)
    if text is None:
        streamed = _StreamedDocument.load(raw, str(path))
        if streamed is not None:
            doc, queries, strings = streamed
            return _snapshot_from(doc, str(path), queries, strings)
        # Anything unusual (or broken) takes the whole-document path, which names the problem;
        # it holds the whole text, so it stops at FALLBACK_TEXT_LIMIT.
        text = _whole_text(raw, str(path))
    try:
        doc = _parse(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: snapshot is not valid JSON ({e})") from None
    except RecursionError:
        raise InputError(f"{path}: snapshot is not a meshreport snapshot (JSON nested too deeply)") from None
    del raw, text  # the conversion reuses their memory
    return from_dict(doc, str(path))


def _parse(text: bytes | bytearray) -> Any:
    """The document, parsed by orjson (a 10,000-workload file: 0.35 s instead of 0.65 s) or,
    for what orjson refuses (the NaN and Infinity tokens expanded series may hold, lone
    surrogates, broken JSON), by `json`, which accepts what it always accepted and names the
    problem as it always did. orjson reads integers beyond 64 bits as floats; Kubernetes and
    Prometheus never write such numbers."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        doc = json.loads(text)
    if _may_hold_surrogates(text):
        doc = scrub_surrogates(doc)
    return doc


def _may_hold_surrogates(data: bytes | bytearray) -> bool:
    """Whether JSON text may decode to a lone surrogate: a `\\ud800`-style escape, or the bytes
    UTF-8 would use for one (0xED 0xA0-0xBF), which `json` decodes with "surrogatepass". Both
    readers ask this of their bytes, so a snapshot's strings come out the same either way; a
    false alarm (a Hangul syllable, a paired escape) costs only a scrub that changes nothing."""
    return b"\\ud" in data or b"\\uD" in data or b"\xed" in data


def scrub_surrogates(value: Any) -> Any:
    """The value with every lone surrogate (a `\\ud800` JSON escape without its pair, or the
    bytes 0xED 0xA0 0x80 that encode one; no collector writes either and UTF-8 cannot hold them)
    replaced by U+FFFD, so no output, hash or file name built from a snapshot's strings fails to
    encode. Pairs (emoji) are joined as they should be."""
    if isinstance(value, str):
        if value.isascii():
            return value
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [scrub_surrogates(x) for x in value]
    if isinstance(value, dict):
        return {scrub_surrogates(k): scrub_surrogates(x) for k, x in value.items()}
    return value


#: A file whose text is at most this long is parsed in one call (`_parse`), the fastest way; a
#: longer one is streamed query by query (`_StreamedDocument`) so its text is never in memory
#: whole. A 10,000-workload snapshot is about 60 MB of text.
WHOLE_TEXT_LIMIT = 256 << 20


def _small_text(raw: bytes) -> bytearray | None:
    """The file's text when it is one well-formed gzip member of at most WHOLE_TEXT_LIMIT bytes;
    None otherwise (bigger, broken, or several members), leaving the file to the other paths.

    Inflation stops one step past the limit, so finding a file too big costs a bounded amount."""
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    text = bytearray()
    try:
        _inflate(inflate, raw, text, WHOLE_TEXT_LIMIT)
    except zlib.error:
        return None
    if len(text) > WHOLE_TEXT_LIMIT or not inflate.eof or inflate.unused_data:
        return None
    return text


#: Inflation steps: zlib's one-call inflation of N bytes holds its output twice (its blocks, then
#: the joined result), so a 256 MB text cost 512 MB; step by step into one buffer it costs 256 MB.
INFLATE_STEP = 16 << 20


def _inflate(inflate: Any, data: bytes, out: bytearray, limit: int) -> bytes:
    """Inflate one gzip member from `data` into `out`, INFLATE_STEP bytes at a time, stopping once
    `out` holds more than `limit` bytes; the input after the member (`unused_data`) is returned."""
    while not inflate.eof and len(out) <= limit:
        chunk = inflate.decompress(data, INFLATE_STEP)
        if not chunk and inflate.unconsumed_tail == data:
            break  # truncated: the caller finds `inflate.eof` false
        data = inflate.unconsumed_tail
        out += chunk
    return inflate.unused_data


#: The most text the whole-document fallback inflates: meshreport writes files the streamed
#: reader takes, so only broken or foreign files come this way.
FALLBACK_TEXT_LIMIT = 256 << 20


def _whole_text(raw: bytes, origin: str) -> bytearray:
    """All members of the gzip file, inflated to at most FALLBACK_TEXT_LIMIT bytes (a 4 MB file
    that inflated without a limit died of MemoryError)."""
    out = bytearray()
    data = raw
    try:
        while data:
            inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
            data = _inflate(inflate, data, out, FALLBACK_TEXT_LIMIT)
            if len(out) > FALLBACK_TEXT_LIMIT:
                raise InputError(
                    f"{origin}: snapshot too large to read whole (over {FALLBACK_TEXT_LIMIT >> 20} MB of text) and not "
                    "in the layout meshreport writes, so it cannot be read in parts"
                )
            if not inflate.eof:
                raise EOFError
    except (EOFError, zlib.error):
        raise InputError(f"{origin}: snapshot is truncated or corrupt (gzip stream broken)") from None
    return out


def max_text() -> int:
    """How much text a snapshot may inflate to (MESHREPORT_MAX_SNAPSHOT_MB, default 4096 MB)."""
    text = os.environ.get(ENV_MAX_SNAPSHOT_MB, "")
    if not text:
        return DEFAULT_MAX_SNAPSHOT_MB << 20
    if not text.isdigit() or int(text) < 1:
        raise InputError(f"{ENV_MAX_SNAPSHOT_MB}={text!r}: not a whole number of megabytes")
    return int(text) << 20


def from_dict(doc: Any, origin: str = "snapshot") -> Snapshot:
    """Validate and convert; every problem names its JSON path."""
    return _snapshot_from(doc, origin, None)


def _snapshot_from(
    doc: Any, origin: str, converted: list[QueryResult] | None, strings: list[str] | None = None
) -> Snapshot:
    """from_dict, with the queries possibly converted already (while streaming the file).

    `strings` is the list the streamed queries' packed series resolve label ids against: it is
    filled here, once the whole document (and so its string table) has been read.
    """
    v = _Validator(origin)
    v.obj(doc, "$")
    if doc.get("format") != FORMAT:
        v.fail("$.format", f"expected {FORMAT!r}")
    version = doc.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        v.fail("$.schema_version", "missing or not an integer")
    if version not in READABLE_VERSIONS:
        readable = ", ".join(map(str, READABLE_VERSIONS))
        raise InputError(
            f"{origin}: snapshot schema_version {version} is not supported by this meshreport "
            f"(reads versions {readable}); re-collect it or use a matching meshreport"
        )
    w = v.obj(doc.get("window"), "$.window")
    window = Window(start=v.num(w.get("start"), "$.window.start"), end=v.num(w.get("end"), "$.window.end"))
    if window.end <= window.start:
        v.fail("$.window", "end must be after start")
    s = v.obj(doc.get("source"), "$.source")
    source = Source(
        kind=v.str_(s.get("kind"), "$.source.kind"),
        prometheus_url=v.opt_str(s.get("prometheus_url"), "$.source.prometheus_url"),
        clusters=[v.str_(c, "$.source.clusters[]") for c in v.list_(s.get("clusters", []), "$.source.clusters")],
        versions={
            str(k): v.str_(x, f"$.source.versions.{k}")
            for k, x in v.obj(s.get("versions", {}), "$.source.versions").items()
        },
        description=v.str_(s.get("description", ""), "$.source.description"),
    )
    namespaces = [v.str_(n, "$.namespaces[]") for n in v.list_(doc.get("namespaces"), "$.namespaces")]
    table = v.list_(doc.get("strings", []), "$.strings")
    if not _STR.issuperset(map(type, table)):
        v.fail("$.strings", "not a list of strings")
    if converted is not None:
        queries = converted
        if strings is not None:
            strings.extend(table)  # scrubbed by the streamed reader, as every value it returns
    else:
        queries = _queries_from(v, v.list_(doc.get("queries", []), "$.queries"), table)
    objects = [
        _plain_object(o) or _object_from(v, o, f"$.objects[{i}]")
        for i, o in enumerate(v.list_(doc.get("objects", []), "$.objects"))
    ]
    _share_strings([o.body for o in objects])
    gaps = []
    for i, g in enumerate(v.list_(doc.get("gaps", []), "$.gaps")):
        p = f"$.gaps[{i}]"
        g = v.obj(g, p)
        gaps.append(
            Gap(
                phase=v.str_(g.get("phase"), p + ".phase"),
                what=v.str_(g.get("what"), p + ".what"),
                reason=v.str_(g.get("reason"), p + ".reason"),
                namespace=v.opt_str(g.get("namespace"), p + ".namespace"),
                cluster=v.opt_str(g.get("cluster"), p + ".cluster"),
            )
        )
    diagnostics = []
    for i, d in enumerate(v.list_(doc.get("diagnostics", []), "$.diagnostics")):
        p = f"$.diagnostics[{i}]"
        d = v.obj(d, p)
        diagnostics.append(
            Diagnostic(
                code=v.str_(d.get("code"), p + ".code"),
                message=v.str_(d.get("message"), p + ".message"),
                causes=[v.str_(c, p + ".causes[]") for c in v.list_(d.get("causes", []), p + ".causes")],
            )
        )
    collector = v.obj(doc.get("collector", {}), "$.collector")
    return Snapshot(
        window=window,
        source=source,
        namespaces=namespaces,
        queries=queries,
        objects=objects,
        gaps=gaps,
        diagnostics=diagnostics,
        collector=collector,
        schema_version=version,
    )


def _share_strings(bodies: list[dict]) -> None:
    """Equal string values in the objects' bodies become one string object (in place; keys are
    shared by the JSON decoder already). A 10,000-workload mesh's ~47,000 objects hold ~930,000
    strings with ~96,000 distinct values: sharing them takes ~0.3 s and leaves ~60 MB more room
    for the analysis (its peak: 494 -> 435 MB). A loop, not recursion: any nesting depth."""
    memo: dict[str, str] = {}
    share = memo.setdefault
    stack: list[Any] = list(bodies)
    while stack:
        c = stack.pop()
        if type(c) is dict:
            for k, x in c.items():
                t = type(x)
                if t is str:
                    c[k] = share(x, x)
                elif t is dict or t is list:
                    stack.append(x)
        else:
            for i, x in enumerate(c):
                t = type(x)
                if t is str:
                    c[i] = share(x, x)
                elif t is dict or t is list:
                    stack.append(x)


def _queries_from(v: _Validator, raw: list, strings: list[str]) -> list[QueryResult]:
    """Every query of a document; equal label values of expanded series become one string.

    A label value that is not a string (or cannot be hashed) sends every query through the
    checks without sharing, which name it."""
    memo: dict[str, str] = {}
    try:
        queries = [_query_from(v, q, f"$.queries[{i}]", memo, strings) for i, q in enumerate(raw)]
        if _STR.issuperset(map(type, memo)):
            return queries
    except TypeError:
        pass
    return [_query_from(v, q, f"$.queries[{i}]", strings=strings) for i, q in enumerate(raw)]


def _query_from(
    v: _Validator, q: Any, p: str, memo: dict[str, str] | None = None, strings: list[str] | None = None
) -> QueryResult:
    q = v.obj(q, p)
    kind = v.str_(q.get("kind"), p + ".kind")
    if kind not in ("instant", "range"):
        v.fail(p + ".kind", "must be 'instant' or 'range'")
    fields = {
        "key": v.str_(q.get("key"), p + ".key"),
        "promql": v.str_(q.get("promql"), p + ".promql"),
        "namespace": v.opt_str(q.get("namespace"), p + ".namespace"),
        "kind": kind,
        "time": v.num(q.get("time"), p + ".time"),
        "start": v.num(q.get("start"), p + ".start") if kind == "range" else None,
        "step": v.num(q.get("step"), p + ".step") if kind == "range" else None,
        "params": {str(k): str(x) for k, x in v.obj(q.get("params", {}), p + ".params").items()},
    }
    if "packed" in q:
        try:
            packed = PackedSeries(q["packed"], kind, strings if strings is not None else [])
        except PackedError as e:
            v.fail(f"{p}.{e.where}", e.why)
        return QueryResult.deferred(_Deferred(v, packed, p), **fields)
    series = _well_formed_series(kind, q.get("series"), memo)
    if series is None:
        series = _checked_series(v, kind, q.get("series"), p)
    return QueryResult(series=series, **fields)


class _Deferred:
    """A packed query's series for `QueryResult.deferred`: problems found only while decoding
    (a bad id, bad base64) become the same one-line `InputError` as problems found at read."""

    def __init__(self, v: _Validator, packed: PackedSeries, path: str) -> None:
        self.v, self.packed, self.path = v, packed, path

    def __len__(self) -> int:
        return self.packed.count

    def unpack(self) -> list[Series]:
        try:
            return self.packed.unpack()
        except PackedError as e:
            self.v.fail(f"{self.path}.{e.where}", e.why)

    def table(self, names: tuple[str, ...]) -> SeriesTable:
        try:
            return self.packed.table(names)
        except PackedError as e:
            self.v.fail(f"{self.path}.{e.where}", e.why)


_STR = frozenset({str})
_LIST = frozenset({list})
_PAIR = frozenset({2})
_FLOAT = frozenset({float})
_NUMBER = frozenset({int, float})


def _well_formed_series(kind: str, raw: Any, memo: dict[str, str] | None = None) -> list[Series] | None:
    """The series of a well-formed query, checked by type sets instead of item by item.

    Most of a big snapshot is series; building a JSON path string for every label and point made
    reading cost more than the graph build. None (anything unusual, including NaN/Inf strings)
    sends the query through `_checked_series`, which accepts or names the bad path as always.
    JSON decoding yields exact types, so `type(x) is str` here is `isinstance` there. With `memo`,
    equal label values become one string object: a big mesh repeats a few thousand names in
    millions of labels, and sharing them halves the memory a loaded snapshot takes. The caller
    then checks that every memo key is a string.
    """
    if type(raw) is not list:
        return None
    out: list[Series] = []
    append = out.append
    share = memo.setdefault if memo is not None else None
    for s in raw:
        if type(s) is not dict:
            return None
        labels = s.get("labels")
        if type(labels) is not dict:
            return None
        vals = labels.values()
        if share is not None:
            # Values are type-checked once, on the memo, when the document is complete (a value
            # that cannot be hashed raises TypeError here, and the caller reads the slow way).
            labels.update(zip(labels, map(share, vals, vals), strict=True))
        elif not _STR.issuperset(map(type, vals)):
            return None
        if kind == "range":
            pts = s.get("points")
            if type(pts) is not list or not _LIST.issuperset(map(type, pts)) or not _PAIR.issuperset(map(len, pts)):
                return None
            types = set(map(type, chain.from_iterable(pts)))
            if _FLOAT.issuperset(types):
                append(Series(labels, None, list(map(tuple, pts))))
            elif _NUMBER.issuperset(types):
                append(Series(labels, None, [(float(t), float(x)) for t, x in pts]))
            else:
                return None
        else:
            value = s.get("value")
            tv = type(value)
            if tv is int:
                value = float(value)
            elif tv is not float:
                return None
            append(Series(labels, value))
    return out


def _checked_series(v: _Validator, kind: str, raw: Any, p: str) -> list[Series]:
    """Item-by-item validation: slow, but every problem names its JSON path."""
    series = []
    for i, s in enumerate(v.list_(raw, p + ".series")):
        sp = f"{p}.series[{i}]"
        s = v.obj(s, sp)
        labels = v.obj(s.get("labels"), sp + ".labels")
        for k, x in labels.items():
            v.str_(x, f"{sp}.labels.{k}")
        if kind == "range":
            pts = [
                (v.num(t, sp + ".points[]"), v.num(x, sp + ".points[]"))
                for t, x in (v.pair(pt, sp + ".points[]") for pt in v.list_(s.get("points"), sp + ".points"))
            ]
            series.append(Series(labels=labels, points=pts))
        else:
            series.append(Series(labels=labels, value=v.num(s.get("value"), sp + ".value")))
    return series


def _plain_object(o: Any) -> ConfigObject | None:
    """A well-formed object from a file without source lines, checked by exact types.

    A 10,000-workload snapshot holds ~50,000 objects; validating each field through `_Validator`
    (which builds a JSON path string per field) was a quarter of reading it. None sends anything
    else through `_object_from`, which accepts it or names the bad path as always.
    """
    if type(o) is not dict or "source" in o:
        return None
    api, kind, name, ns = o.get("apiVersion"), o.get("kind"), o.get("name"), o.get("namespace")
    cluster, body = o.get("cluster", "Kubernetes"), o.get("body")
    if type(api) is str and type(kind) is str and type(name) is str and type(cluster) is str and type(body) is dict:
        if ns is None or type(ns) is str:
            return ConfigObject(api, kind, name, ns, body, cluster)
    return None


def _object_from(v: _Validator, o: Any, p: str) -> ConfigObject:
    o = v.obj(o, p)
    src = o.get("source")
    source = None
    if src is not None:
        src = v.obj(src, p + ".source")
        line = src.get("line")
        if not isinstance(line, int) or isinstance(line, bool):
            v.fail(p + ".source.line", "must be an integer")
        source = SourceRef(file=v.str_(src.get("file"), p + ".source.file"), line=line)
    return ConfigObject(
        api_version=v.str_(o.get("apiVersion"), p + ".apiVersion"),
        kind=v.str_(o.get("kind"), p + ".kind"),
        name=v.str_(o.get("name"), p + ".name"),
        namespace=v.opt_str(o.get("namespace"), p + ".namespace"),
        cluster=v.str_(o.get("cluster", "Kubernetes"), p + ".cluster"),
        body=v.obj(o.get("body"), p + ".body"),
        source=source,
    )


class _Validator:
    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, path: str, why: str):
        raise InputError(f"{self.origin}: invalid snapshot at {path}: {why}")

    def obj(self, x: Any, path: str) -> dict:
        if not isinstance(x, dict):
            self.fail(path, "missing or not an object")
        return x

    def list_(self, x: Any, path: str) -> list:
        if not isinstance(x, list):
            self.fail(path, "missing or not a list")
        return x

    def pair(self, x: Any, path: str) -> tuple:
        if not isinstance(x, list) or len(x) != 2:
            self.fail(path, "not a [time, value] pair")
        return x[0], x[1]

    def str_(self, x: Any, path: str) -> str:
        if not isinstance(x, str):
            self.fail(path, "missing or not a string")
        return x

    def opt_str(self, x: Any, path: str) -> str | None:
        return None if x is None else self.str_(x, path)

    def num(self, x: Any, path: str) -> float:
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            # NaN/Inf travel as strings, as Prometheus sends them.
            if isinstance(x, str) and x in ("NaN", "+Inf", "-Inf", "Inf"):
                return float(x)
            self.fail(path, "missing or not a number")
        return float(x)


_WS = " \t\n\r"
_NOT_WS = re.compile(r"[^ \t\n\r]")

#: Limits on what a streamed snapshot may hold (docs/configuration.md): all its text, and one JSON
#: value other than a query or an object (a 1 MB file of one giant string inflated to 1 GiB and
#: took 4 GB while it was scanned again and again).
DEFAULT_MAX_SNAPSHOT_MB = 4096
ENV_MAX_SNAPSHOT_MB = "MESHREPORT_MAX_SNAPSHOT_MB"
VALUE_LIMIT = 128 << 20


class SnapshotTooLarge(InputError):
    """Over a limit while streaming: reported as it is, never retried the whole-document way."""


class _StreamedDocument:
    """Decompress and decode a snapshot query by query, so the whole JSON text is never in memory.

    For files whose text is over WHOLE_TEXT_LIMIT (a 10,000-workload snapshot was 450 MB of JSON
    before schema 3 deflated its arrays; holding its bytes, its text and its objects at once
    took 2.4 GB; a 100,000-workload one is still over 500 MB). Here each query is decoded and
    converted as soon as its text has arrived, and dropped. Only well-formed UTF-8 documents are
    handled: on anything else (a gzip or JSON error, an invalid query) `load` returns None and
    the caller reads the file the whole-document way, which reports the problem exactly as it
    always has.
    """

    CHUNK = 1 << 22

    def __init__(self, raw: bytes, limit: int, origin: str) -> None:
        self.gz = gzip.GzipFile(fileobj=io.BytesIO(raw), mode="rb")
        self.limit, self.origin = limit, origin
        first = self.gz.read(self.CHUNK)
        self.total = len(first)
        if json.detect_encoding(first) != "utf-8":
            raise ValueError("not plain UTF-8")
        self.decoder = codecs.getincrementaldecoder("utf-8")("surrogatepass")
        # Lone surrogates are cleaned as `_parse` cleans them, once the text may hold one.
        self.surrogates, self.tail = _may_hold_surrogates(first), first[-2:]
        self.buf = self.decoder.decode(first, final=not first)
        self.pos = 0
        self.eof = not first
        self.scan = json.JSONDecoder().raw_decode

    @classmethod
    def load(cls, raw: bytes, origin: str) -> tuple[dict, list[QueryResult], list[str]] | None:
        limit = max_text()  # a bad setting is the user's error, not a reason to read another way
        try:
            return cls(raw, limit, origin)._document(origin)
        except SnapshotTooLarge:
            raise
        except (EOFError, zlib.error, OSError, ValueError, TypeError, InputError, _NotStreamable):
            return None

    def _more(self, at_least: int = 0) -> bool:
        """Append decoded text (at least `at_least` characters when there is that much)."""
        if self.eof:
            return False
        if self.pos > self.CHUNK:
            self.buf, self.pos = self.buf[self.pos :], 0
        parts = [self.buf]
        got = 0
        while not self.eof and (got == 0 or got < at_least):
            data = self.gz.read(max(self.CHUNK, at_least - got))
            self.total += len(data)
            if self.total > self.limit:
                raise SnapshotTooLarge(
                    f"{self.origin}: snapshot inflates to more than {self.limit >> 20} MB of text "
                    f"(raise {ENV_MAX_SNAPSHOT_MB} if it is genuine)"
                )
            self.eof = not data
            if not self.surrogates:  # the tail: an escape or a byte sequence may straddle chunks
                self.surrogates = _may_hold_surrogates(data) or _may_hold_surrogates(self.tail + data[:2])
            self.tail = data[-2:]
            text = self.decoder.decode(data, final=self.eof)
            parts.append(text)
            got += len(text)
        self.buf = "".join(parts)
        return True

    def _peek(self) -> str:
        """The next character that is not whitespace, or "" at the end."""
        while True:
            buf, pos = self.buf, self.pos
            n = len(buf)
            if pos < n and buf[pos] in _WS:
                m = _NOT_WS.search(buf, pos)  # one call, not one step per character of a long run
                pos = m.start() if m else n
            self.pos = pos
            if pos < n:
                return buf[pos]
            if not self._more():
                return ""

    def _value(self) -> Any:
        """One JSON value starting at the cursor (after any whitespace); retried with more text
        until it is complete. Its strings are cleaned of lone surrogates as `_parse` cleans them."""
        self._peek()
        while True:
            try:
                value, end = self.scan(self.buf, self.pos)
            except json.JSONDecodeError:
                pending = len(self.buf) - self.pos
                if pending > VALUE_LIMIT:
                    raise SnapshotTooLarge(
                        f"{self.origin}: snapshot holds one JSON value over {VALUE_LIMIT >> 20} MB; "
                        "meshreport never writes such a value"
                    ) from None
                # Twice the text each time (few rescans), but never far past the limit: a 1 GiB
                # string is refused after reading a little over VALUE_LIMIT of it, not 256 MB.
                if not self._more(min(pending, VALUE_LIMIT + 1 - pending)):
                    raise
                continue
            # A number at the very end of the text may continue in the next chunk.
            if end < len(self.buf) or self.eof:
                self.pos = end
                return scrub_surrogates(value) if self.surrogates else value
            self._more()

    def _array(self, convert: Callable[[Any, int], Any]) -> list:
        """The JSON array at the cursor, each element decoded (and converted) on its own."""
        self.pos += 1
        out: list = []
        if self._peek() == "]":
            self.pos += 1
            return out
        while True:
            if len(self.buf) - self.pos < self.CHUNK:
                self._more()  # an element rarely straddles the end of the text: few retries
            out.append(convert(self._value(), len(out)))
            ch = self._peek()
            self.pos += 1
            if ch == "]":
                return out
            if ch != ",":
                raise _NotStreamable

    def _expect(self, ch: str) -> None:
        if self._peek() != ch:
            raise _NotStreamable
        self.pos += 1

    def _document(self, origin: str) -> tuple[dict, list[QueryResult], list[str]]:
        v = _Validator(origin)
        memo: dict[str, str] = {}
        strings: list[str] = []  # filled by the caller from doc["strings"] once the document is read
        doc: dict[str, Any] = {}
        queries: list[QueryResult] | None = None
        self._expect("{")
        if self._peek() == "}":
            raise _NotStreamable
        while True:
            if self._peek() != '"':
                raise _NotStreamable
            key = self._value()
            self._expect(":")
            if key == "queries" and queries is None and self._peek() == "[":
                queries = self._array(lambda q, i: _query_from(v, q, f"$.queries[{i}]", memo, strings))
                doc[key] = []
            elif key == "queries":
                raise _NotStreamable
            elif key == "objects" and self._peek() == "[":
                # Element by element: one 50 MB value would be scanned again each time it
                # outgrew the text read so far.
                doc[key] = self._array(lambda o, i: o)
            else:
                doc[key] = self._value()
            ch = self._peek()
            self.pos += 1
            if ch == "}":
                break
            if ch != ",":
                raise _NotStreamable
        if self._peek() != "" or queries is None or not _STR.issuperset(map(type, memo)):
            raise _NotStreamable
        return doc, queries, strings


class _NotStreamable(Exception):
    """The document is not shaped as `_StreamedDocument` expects: read it the whole-document way."""
