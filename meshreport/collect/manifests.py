"""Config from YAML files, folders and stdin: the CI case, before a deploy.

Each object keeps the file and line where it starts, so findings can point at it (SARIF, CI
annotations). Lines come from the YAML composer's node marks, so they are exact for
multi-document files, Helm-template output (`---` with `# Source:` comments) and `List` items.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from meshreport import safe_yaml
from meshreport.collect.kinds import is_cluster_scoped, keep_object
from meshreport.collect.least_data import reduce
from meshreport.errors import InputError
from meshreport.safe_yaml import YamlLimitError
from meshreport.snapshot.model import ConfigObject, Gap, Snapshot, Source, SourceRef, Window

SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"
STDIN_NAME = "<stdin>"
DEFAULT_WINDOW_S = 600.0
#: `what` of the gap a config-only snapshot records (a choice, so it does not count against --max-gaps).
METRICS_NOT_COLLECTED = "metrics"


def load_paths(paths: Iterable[str], *, default_namespace: str = "default") -> list[ConfigObject]:
    """Every object in the given files, folders (recursive) and `-` (stdin), in a stable order."""
    objects: list[ConfigObject] = []
    for name, text in _read_inputs(list(paths)):
        objects.extend(parse_text(text, name, default_namespace=default_namespace))
    return objects


def parse_text(text: str, file: str, *, default_namespace: str = "default") -> list[ConfigObject]:
    """Objects in one YAML (or JSON) text; `file` is what their SourceRef names."""
    objects: list[ConfigObject] = []
    for node, doc in _documents(text, file):
        if doc is None:
            continue  # empty document: Helm emits them for templates that render nothing
        line = node.start_mark.line + 1
        if not isinstance(doc, dict):
            raise InputError(f"{file}:{line}: not a Kubernetes object (expected a mapping with apiVersion and kind)")
        if _is_list(doc):
            for item_node, item in _list_items(node, doc):
                item_line = item_node.start_mark.line + 1 if item_node is not None else line
                if item is None:
                    continue
                if not isinstance(item, dict):
                    raise InputError(f"{file}:{item_line}: List item is not a Kubernetes object")
                if keep_object(str(item.get("kind")), item):
                    objects.append(_to_object(item, file, item_line, default_namespace))
        elif keep_object(str(doc.get("kind")), doc):
            objects.append(_to_object(doc, file, line, default_namespace))
    return objects


def config_snapshot_from_files(
    paths: Iterable[str],
    *,
    now: float | None = None,
    window_s: float = DEFAULT_WINDOW_S,
    default_namespace: str = "default",
) -> Snapshot:
    """A config-only snapshot: the objects, and a recorded gap saying metrics were not collected."""
    paths = list(paths)
    objects = load_paths(paths, default_namespace=default_namespace)
    end = time.time() if now is None else now
    namespaces = sorted(
        {o.namespace for o in objects if o.namespace} | {o.name for o in objects if o.kind == "Namespace"}
    )
    files = sorted({o.source.file for o in objects if o.source is not None})
    kinds: dict[str, int] = {}
    for o in objects:
        kinds[o.kind] = kinds.get(o.kind, 0) + 1
    return Snapshot(
        window=Window(start=end - window_s, end=end),
        source=Source(kind="files", description=f"config from {len(files)} file(s): {', '.join(paths)}"),
        namespaces=namespaces,
        objects=objects,
        gaps=[
            Gap(phase="metrics", what=METRICS_NOT_COLLECTED, reason="not collected: config-only snapshot from files")
        ],
        collector={"config": {"inputs": paths, "files": files, "objects": len(objects), "kinds": kinds}},
    )


def _read_inputs(paths: list[str]) -> Iterator[tuple[str, str]]:
    if not paths:
        raise InputError("no input files given")
    for p in paths:
        if p == STDIN:
            try:
                yield STDIN_NAME, sys.stdin.read()
            except UnicodeDecodeError as e:
                raise InputError(f"{STDIN_NAME}: not UTF-8 text ({e.reason})") from None
            continue
        path = Path(p)
        if path.is_dir():
            found = sorted(_walk(path))
            for f in found:
                yield str(f), _read_file(f)
        elif path.exists():
            yield p, _read_file(path)
        else:
            raise InputError(f"{p}: no such file or directory")


def _walk(folder: Path) -> Iterator[Path]:
    """YAML/JSON files below `folder`, skipping hidden files and folders (.git, .github caches)."""
    for f in folder.rglob("*"):
        rel = f.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if f.is_file() and f.suffix.lower() in SUFFIXES:
            yield f


def _read_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from None


def _documents(text: str, file: str) -> Iterator[tuple[yaml.Node, Any]]:
    """(node, constructed document) pairs; a syntax error becomes one InputError with file:line."""
    try:
        yield from safe_yaml.documents(text, file)
    except YamlLimitError:
        raise
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"{file}:{mark.line + 1}" if mark is not None else file
        problem = e.problem or e.context or "syntax error"
        raise InputError(f"{where}: invalid YAML: {problem}") from None
    except yaml.YAMLError as e:
        raise InputError(f"{file}: invalid YAML: {str(e).splitlines()[0]}") from None


def _is_list(doc: dict[str, Any]) -> bool:
    kind = doc.get("kind")
    return isinstance(kind, str) and kind.endswith("List") and isinstance(doc.get("items"), list)


def _list_items(node: yaml.Node, doc: dict[str, Any]) -> Iterator[tuple[yaml.Node | None, Any]]:
    item_nodes: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == "items" and isinstance(value, yaml.SequenceNode):
                item_nodes = list(value.value)
    for i, item in enumerate(doc["items"]):
        yield (item_nodes[i] if i < len(item_nodes) else None), item


def _to_object(doc: dict[str, Any], file: str, line: int, default_namespace: str) -> ConfigObject:
    where = f"{file}:{line}"
    api_version, kind = doc.get("apiVersion"), doc.get("kind")
    if not isinstance(kind, str) or not kind:
        raise InputError(f"{where}: object has no kind")
    if not isinstance(api_version, str) or not api_version:
        raise InputError(f"{where}: {kind} has no apiVersion")
    meta = doc.get("metadata")
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise InputError(f"{where}: {kind} metadata is not a mapping")
    name = meta.get("name") or meta.get("generateName")
    if not isinstance(name, str) or not name:
        raise InputError(f"{where}: {kind} has no metadata.name")
    ns = meta.get("namespace")
    if ns is not None and not isinstance(ns, str):
        raise InputError(f"{where}: {kind} {name} metadata.namespace is not a string")
    if is_cluster_scoped(kind):
        ns = None
    elif not ns:
        # kubectl apply and istioctl analyze put objects without a namespace into the default one.
        ns = default_namespace
    body = reduce(doc)
    if ns is not None:
        body["metadata"]["namespace"] = ns
    return ConfigObject(
        api_version=api_version, kind=kind, name=name, namespace=ns, body=body, source=SourceRef(file=file, line=line)
    )
