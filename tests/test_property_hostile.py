"""Property-style: randomly mutated manifests and snapshots (seeded, so a failure replays) fed to
`validate`, `graph` and `render`. Whatever the mutation, the command ends with exit 0, 3, 4 or 5 and
says why in one-line messages: never an internal error (exit 1), never a traceback.

Mutations: a wrong-typed, null, huge or hostile-text value at a random place of a manifest or of a
snapshot's config objects; hostile label values and NaN/inf/negative sample values in a snapshot's
series; dropped queries; truncated and bit-flipped files. MESHREPORT_PROPERTY_CASES scales the run
(default keeps it under a minute); MESHREPORT_PROPERTY_SEED picks another seed.
"""

from __future__ import annotations

import copy
import json
import os
import random
from pathlib import Path

import pytest
import yaml

from meshreport import pipeline
from meshreport.cli import main
from meshreport.snapshot.model import Series

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "bookinfo.mrsnap"
MANIFESTS = sorted((ROOT / "tests" / "fixtures" / "istio-samples" / "bookinfo").rglob("*.yaml"))
SEED = int(os.environ.get("MESHREPORT_PROPERTY_SEED", "17"))
CASES = int(os.environ.get("MESHREPORT_PROPERTY_CASES", "60"))
ALLOWED = {0, 3, 4, 5}

HOSTILE_TEXT = [
    "evil\nline",
    "\x1b[31mred\x1b[0m",
    "nul\x00byte",
    "![x](https://e.vil/p.png)",
    "[link](http://e.vil)",
    "<script>alert(1)</script>",
    "a|b|c",
    "\u202egnp.exe",
    "&amp; &lt;",
    "{{ .Values.x }}",
    "",
    "x" * 3000,
    "\ud800",
]
HOSTILE_VALUES = [7, -1, 1.5, True, None, [], {}, [1], {"a": 1}, "oops", 10**30, [[[]]], {"": None}, *HOSTILE_TEXT]


def _paths(node, prefix=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node[:3]):
            yield (*prefix, i)
            yield from _paths(v, (*prefix, i))


def _mutate_doc(rng: random.Random, doc: dict) -> None:
    """One random change at a random place: a hostile value, or the key removed."""
    paths = [p for p in _paths(doc) if p[0] not in ("apiVersion", "kind")]
    if not paths:
        return
    path = rng.choice(paths)
    node = doc
    for p in path[:-1]:
        node = node[p]
    if isinstance(node, dict) and rng.random() < 0.15:
        del node[path[-1]]
    else:
        node[path[-1]] = copy.deepcopy(rng.choice(HOSTILE_VALUES))


def _safe_text(value):
    """yaml.safe_dump cannot write a lone surrogate: keep it out of YAML files (snapshots keep it)."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_safe_text(k): _safe_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_safe_text(v) for v in value]
    return value


def _run(capsys, args: list[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    _, err = capsys.readouterr()
    code = exc.value.code if isinstance(exc.value.code, int) else 1
    return code, err


def _holds(code: int, err: str) -> bool:
    return code in ALLOWED and "Traceback" not in err and "internal error" not in err


class Tally:
    def __init__(self) -> None:
        self.cases = 0
        self.failures: list[str] = []

    def check(self, what: str, code: int, err: str) -> None:
        self.cases += 1
        if not _holds(code, err):
            self.failures.append(f"{what}: exit {code}: {err.strip()[-300:]}")


def _manifest_text(rng: random.Random) -> str:
    docs = [d for f in rng.sample(MANIFESTS, 3) for d in yaml.safe_load_all(f.read_text()) if isinstance(d, dict)]
    for _ in range(rng.randint(1, 4)):
        _mutate_doc(rng, rng.choice(docs))
    text = yaml.safe_dump_all(_safe_text(docs))
    roll = rng.random()
    if roll < 0.1:
        text = text[: rng.randrange(len(text))]  # cut anywhere
    elif roll < 0.15:
        text = text.replace("7\n", "9" * 5000 + "\n", 1)  # beyond Python's int parsing limit
    return text


def test_mutated_manifests_to_validate(tmp_path, capsys):
    rng = random.Random(SEED)
    tally = Tally()
    formats = list(pipeline.FINDINGS_FORMATS)
    for i in range(CASES * 2):
        f = tmp_path / f"m{i}.yaml"
        f.write_text(_manifest_text(rng))
        fmt = rng.choice(formats)
        code, err = _run(capsys, ["validate", "-f", str(f), "--format", fmt, "-o", str(tmp_path / f"out{i}")])
        tally.check(f"seed {SEED} case {i} ({fmt})", code, err)
    print(f"validate over mutated manifests: {tally.cases - len(tally.failures)}/{tally.cases} hold")
    assert not tally.failures, "\n".join(tally.failures[:10])


def _mutated_snapshot(rng: random.Random, base) -> object:
    snap = copy.deepcopy(base)
    for _ in range(rng.randint(1, 5)):
        roll = rng.random()
        if roll < 0.45:
            q = rng.choice([q for q in snap.queries if q.series] or snap.queries)
            if q.series:
                s = rng.choice(q.series)
                if rng.random() < 0.6 and s.labels:
                    key = rng.choice(sorted(s.labels))
                    if rng.random() < 0.2:
                        del s.labels[key]
                    else:
                        s.labels[key] = rng.choice(HOSTILE_TEXT)
                else:
                    bad = rng.choice([float("nan"), float("inf"), -1.0, 1e308, -1e308, 0.0])
                    if s.points:
                        s.points = [(t, bad) for t, _ in s.points]
                    else:
                        q.series[q.series.index(s)] = Series(dict(s.labels), value=bad)
        elif roll < 0.85 and snap.objects:
            o = rng.choice(snap.objects)
            _mutate_doc(rng, o.body)
        elif snap.queries:
            snap.queries.remove(rng.choice(snap.queries))
    return snap


def _base_snapshot():
    snap = pipeline.load(SAMPLE)
    for q in snap.queries:
        _ = q.series  # build the deferred series, so copies are independent
    return snap


def test_mutated_snapshots_to_validate_graph_and_render(tmp_path, capsys):
    rng = random.Random(SEED + 1)
    base = _base_snapshot()
    tally = Tally()
    renders = max(2, CASES // 15)
    for i in range(CASES):
        snap = _mutated_snapshot(rng, base)
        path = tmp_path / f"s{i}.mrsnap"
        try:
            pipeline.save(snap, path)
        except (ValueError, TypeError, UnicodeEncodeError):
            continue  # not a snapshot the collector could have written (e.g. a lone surrogate)
        fmt = rng.choice(["json", "cytoscape", "dot"])
        code, err = _run(capsys, ["graph", str(path), "--format", fmt, "-o", str(tmp_path / f"g{i}")])
        tally.check(f"seed {SEED + 1} case {i} graph ({fmt})", code, err)
        code, err = _run(capsys, ["validate", str(path), "--format", rng.choice(["text", "sarif", "junit"])])
        tally.check(f"seed {SEED + 1} case {i} validate", code, err)
        if i < renders:
            code, err = _run(capsys, ["render", str(path), "--no-pdf", "-o", str(tmp_path / f"r{i}")])
            tally.check(f"seed {SEED + 1} case {i} render", code, err)
            if code == 0:
                for svg in (tmp_path / f"r{i}").rglob("*.svg"):
                    import xml.dom.minidom

                    xml.dom.minidom.parse(str(svg))  # every picture is well-formed XML
    print(f"graph/validate/render over mutated snapshots: {tally.cases - len(tally.failures)}/{tally.cases} hold")
    assert not tally.failures, "\n".join(tally.failures[:10])


def test_damaged_snapshot_files(tmp_path, capsys):
    rng = random.Random(SEED + 2)
    data = SAMPLE.read_bytes()
    tally = Tally()
    for i in range(CASES // 2):
        damaged = bytearray(data)
        if i % 2:
            damaged = damaged[: rng.randrange(len(damaged))]
        else:
            for _ in range(rng.randint(1, 8)):
                damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
        path = tmp_path / f"d{i}.mrsnap"
        path.write_bytes(bytes(damaged))
        cmd = rng.choice([["graph", str(path)], ["validate", str(path)]])
        code, err = _run(capsys, cmd)
        tally.check(f"seed {SEED + 2} case {i} {cmd[0]}", code, err)
    print(f"damaged snapshot files: {tally.cases - len(tally.failures)}/{tally.cases} hold")
    assert not tally.failures, "\n".join(tally.failures[:10])


def test_json_manifest_with_hostile_numbers(tmp_path, capsys):
    """JSON input: numbers YAML would not write (1e999 is inf, a 5000-digit integer)."""
    text = json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": []}})
    for i, bad in enumerate(["1e999", "-1e999", "9" * 5000, "NaN"]):
        f = tmp_path / f"n{i}.json"
        f.write_text(text.replace("[]", f'[{{"port": {bad}}}]'))
        code, err = _run(capsys, ["validate", "-f", str(f)])
        assert _holds(code, err), (bad, code, err)
