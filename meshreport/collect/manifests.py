"""Config from YAML files, folders and stdin: the CI case, before a deploy.

Each object keeps the file and line where it starts, so findings can point at it (SARIF, CI
annotations). Lines come from the YAML composer's node marks, so they are exact for
multi-document files, Helm-template output (`---` with `# Source:` comments) and `List` items.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from meshreport import safe_yaml
from meshreport.collect.kinds import is_cluster_scoped, keep_object
from meshreport.collect.least_data import reduce
from meshreport.errors import InputError
from meshreport.safe_yaml import YamlLimitError
from meshreport.snapshot.model import ConfigObject, Gap, Snapshot, Source, SourceRef, Window
from meshreport.visible import one_line

SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"
STDIN_NAME = "<stdin>"
DEFAULT_WINDOW_S = 600.0
#: `what` of the gap a config-only snapshot records (a choice, so it does not count against --max-gaps).
METRICS_NOT_COLLECTED = "metrics"
#: apiVersion groups of files that sit beside manifests but are not Kubernetes objects.
NOT_API_GROUPS = ("kustomize.config.k8s.io/", "config.kubernetes.io/", "skaffold/")
#: The CLUSTER of a `CLUSTER=PATH` input: an Istio cluster id (values.global.multiCluster.clusterName,
#: the `source_cluster` label of the metrics) or a kubeconfig context name; never holds `/` or `=`.
_CLUSTER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,252}")


def split_input(arg: str) -> tuple[str | None, str]:
    """`CLUSTER=PATH` -> (CLUSTER, PATH): the objects in PATH belong to that cluster (config of a
    multi-cluster mesh, one folder per cluster, like `--context` does for the API). Any other argument,
    and one that names an existing file or folder as written, is a plain path (cluster None): command
    lines that worked before keep their meaning, and `./a=b.yaml` reads a file whose name holds `=`."""
    cluster, sep, path = arg.partition("=")
    if not sep or not path or not _CLUSTER.fullmatch(cluster) or os.path.lexists(arg):
        return None, arg
    return cluster, path


def load_paths(paths: Iterable[str], *, default_namespace: str = "default") -> list[ConfigObject]:
    """Every object in the given files, folders (recursive) and `-` (stdin), in a stable order.

    What is not a Kubernetes object is skipped (see `read_paths`); an InputError only when nothing
    at all could be read."""
    return read_paths(paths, default_namespace=default_namespace)[0]


def read_paths(
    paths: Iterable[str], *, default_namespace: str = "default", cluster: str | None = None
) -> tuple[list[ConfigObject], list[Gap]]:
    """The objects in the given files, folders (recursive) and `-`, and one config gap (its `what` is
    `file:line`) per document or file that was skipped: not a Kubernetes object (a Helm Chart.yaml,
    values, a kustomization, an unrendered template), an object without a name, invalid YAML, an
    unreadable file or folder. Real repositories mix these with manifests; one of them must not stop
    the rest being validated. Raises InputError when something was skipped and no object was read.

    An input written `CLUSTER=PATH` (`split_input`) gives its objects that cluster; the others get
    `cluster`, else the model's default (Istio's default cluster id)."""
    objects: list[ConfigObject] = []
    skipped: list[Gap] = []
    for owner, name, text in _read_inputs(list(paths), skipped):
        found = parse_text(text, name, default_namespace=default_namespace, skipped=skipped)
        owner = owner if owner is not None else cluster
        if owner is not None:
            for o in found:
                o.cluster = owner
        objects.extend(found)
    if skipped and not objects:
        first = skipped[0]
        more = f" ({len(skipped) - 1} more skipped)" if len(skipped) > 1 else ""
        why = first.reason.removesuffix("; skipped")
        raise InputError(f"{first.what}: {why}; no Kubernetes object could be read{more}")
    return objects, skipped


def parse_text(
    text: str, file: str, *, default_namespace: str = "default", skipped: list[Gap] | None = None
) -> list[ConfigObject]:
    """Objects in one YAML (or JSON) text; `file` is what their SourceRef names.

    A document that is not a usable Kubernetes object is appended to `skipped` as a gap and the rest
    still read; without a `skipped` list it is an InputError (file:line and why)."""
    objects: list[ConfigObject] = []

    def skip(line: int | None, why: str) -> None:
        where = f"{file}:{line}" if line is not None else file
        if skipped is None:
            raise InputError(f"{where}: {why}")
        skipped.append(Gap(phase="config", what=where, reason=f"{why}; skipped"))

    try:
        for node, doc in _documents(text, file):
            if doc is None:
                continue  # empty document: Helm emits them for templates that render nothing
            line = node.start_mark.line + 1
            if not isinstance(doc, dict):
                skip(line, "not a Kubernetes object (expected a mapping with apiVersion and kind)")
                continue
            items = _list_items(node, doc) if _is_list(doc) else [(node, doc)]
            for item_node, item in items:
                item_line = item_node.start_mark.line + 1 if item_node is not None else line
                if item is None:
                    continue
                if not isinstance(item, dict):
                    skip(item_line, "List item is not a Kubernetes object")
                    continue
                why = _not_an_object(item)
                if why:
                    skip(item_line, why)
                elif keep_object(str(item.get("kind")), item):
                    obj = _to_object(item, file, item_line, default_namespace, skip)
                    if obj is not None:
                        objects.append(obj)
    except _BadYaml as e:
        if skipped is None:
            raise InputError(e.message) from None
        why = e.message.removeprefix(f"{file}:").split(": ", 1)
        line = int(why[0]) if len(why) == 2 and why[0].isdigit() else None
        reason = why[-1] if line is not None else e.message.removeprefix(f"{file}: ")
        if "{{" in text:
            reason += " (a Helm or Go template? render it first, e.g. with helm template)"
        skip(line, reason)
    return objects


def _not_an_object(doc: dict[str, Any]) -> str:
    """Why a mapping is not a Kubernetes object the tool can read, or "" when it is one."""
    api_version, kind = doc.get("apiVersion"), doc.get("kind")
    if isinstance(api_version, str) and api_version.startswith(NOT_API_GROUPS):
        return f"a {kind or api_version.split('/')[0]} file, not a Kubernetes object"
    if kind is None and api_version is None:
        return "not a Kubernetes object (no apiVersion and kind; a values or settings file?)"
    if kind is None:
        if "name" in doc and "version" in doc:
            return "a Helm Chart.yaml, not a Kubernetes object (no kind)"
        return "not a Kubernetes object (no kind)"
    if not isinstance(kind, str) or not kind:
        return "object kind is not a string"
    if not isinstance(api_version, str) or not api_version:
        return f"{one_line(kind)} has no apiVersion"
    return ""


def config_snapshot_from_files(
    paths: Iterable[str],
    *,
    now: float | None = None,
    window_s: float = DEFAULT_WINDOW_S,
    default_namespace: str = "default",
    cluster: str | None = None,
) -> Snapshot:
    """A config-only snapshot: the objects, and a recorded gap saying metrics were not collected.
    `cluster` owns the objects of inputs not written `CLUSTER=PATH` (see `read_paths`)."""
    paths = list(paths)
    objects, skipped = read_paths(paths, default_namespace=default_namespace, cluster=cluster)
    end = time.time() if now is None else now
    namespaces = sorted(
        {o.namespace for o in objects if o.namespace} | {o.name for o in objects if o.kind == "Namespace"}
    )
    files = sorted({o.source.file for o in objects if o.source is not None})
    kinds: dict[str, int] = {}
    for o in objects:
        kinds[o.kind] = kinds.get(o.kind, 0) + 1
    clusters = sorted({o.cluster for o in objects if o.cluster}) if any(split_input(p)[0] for p in paths) else []
    return Snapshot(
        window=Window(start=end - window_s, end=end),
        source=Source(
            kind="files", clusters=clusters, description=f"config from {len(files)} file(s): {', '.join(paths)}"
        ),
        namespaces=namespaces,
        objects=objects,
        gaps=[
            Gap(phase="metrics", what=METRICS_NOT_COLLECTED, reason="not collected: config-only snapshot from files"),
            *skipped,
        ],
        collector={"config": {"inputs": paths, "files": files, "objects": len(objects), "kinds": kinds}},
    )


def _read_inputs(args: list[str], skipped: list[Gap]) -> Iterator[tuple[str | None, str, str]]:
    """(cluster, name, text) of every input; a file or folder that cannot be read is a gap in `skipped`.
    A path that does not exist at all is a mistake on the command line: an InputError."""
    if not args:
        raise InputError("no input files given")
    for arg in args:
        cluster, p = split_input(arg)
        if p == STDIN:
            try:
                yield cluster, STDIN_NAME, sys.stdin.read()
            except UnicodeDecodeError as e:
                skipped.append(Gap(phase="config", what=STDIN_NAME, reason=f"not UTF-8 text ({e.reason}); skipped"))
            continue
        path = Path(p)
        if path.is_dir():
            for f in sorted(_walk(path, skipped)):
                text = _read_file(f, skipped)
                if text is not None:
                    yield cluster, str(f), text
        elif path.exists():
            text = _read_file(path, skipped)
            if text is not None:
                yield cluster, p, text
        else:
            raise InputError(f"{one_line(arg)}: no such file or directory")


def _walk(folder: Path, skipped: list[Gap]) -> Iterator[Path]:
    """YAML/JSON files below `folder`, skipping hidden files and folders (.git, .github caches).
    A sub-folder that cannot be listed is a gap, never silently left out; links to folders are
    not followed (no loops)."""

    def unreadable(e: OSError) -> None:
        skipped.append(Gap(phase="config", what=str(e.filename or folder), reason=f"cannot list folder: {e.strerror}"))

    for root, dirs, files in os.walk(folder, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            f = Path(root, name)
            if not name.startswith(".") and f.suffix.lower() in SUFFIXES and f.is_file():
                yield f


def _read_file(path: Path, skipped: list[Gap]) -> str | None:
    def skip(why: str) -> None:
        skipped.append(Gap(phase="config", what=str(path), reason=f"{why}; skipped"))

    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        skip(f"not UTF-8 text ({e.reason} at byte {e.start})")
    except OSError as e:
        skip(f"cannot read: {e.strerror}")
    return None


def _documents(text: str, file: str) -> Iterator[tuple[yaml.Node, Any]]:
    """(node, constructed document) pairs; a syntax error becomes one _BadYaml with file:line (the
    documents before it were read). A size limit (safe_yaml) stays an InputError: hostile, not odd."""
    try:
        yield from safe_yaml.documents(text, file)
    except YamlLimitError:
        raise
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"{file}:{mark.line + 1}" if mark is not None else file
        problem = e.problem or e.context or "syntax error"
        raise _BadYaml(f"{where}: invalid YAML: {problem}") from None
    except yaml.YAMLError as e:
        raise _BadYaml(f"{file}: invalid YAML: {str(e).splitlines()[0]}") from None
    except ValueError as e:  # e.g. an integer of more than 4300 digits (Python's int() limit)
        raise _BadYaml(f"{file}: invalid YAML: {one_line(str(e).split(';')[0])}") from None


class _BadYaml(Exception):
    """A YAML syntax or value error in one text; `message` starts with file:line."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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


def _to_object(
    doc: dict[str, Any], file: str, line: int, default_namespace: str, skip: Callable[[int | None, str], None]
) -> ConfigObject | None:
    """The ConfigObject of one document (its kind and apiVersion already checked), or None after
    `skip` was told why it has no usable name or namespace."""
    api_version, kind = doc["apiVersion"], one_line(doc["kind"])
    meta = doc.get("metadata")
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        skip(line, f"{kind} metadata is not a mapping")
        return None
    name = meta.get("name") or meta.get("generateName")
    if name is None or name == "":
        skip(line, f"{kind} has no metadata.name")
        return None
    if not isinstance(name, str):
        skip(line, f"{kind} metadata.name is not a string")
        return None
    ns = meta.get("namespace")
    if ns is not None and not isinstance(ns, str):
        skip(line, f"{kind} {one_line(name)} metadata.namespace is not a string")
        return None
    if is_cluster_scoped(doc["kind"]):
        ns = None
    elif not ns:
        # kubectl apply and istioctl analyze put objects without a namespace into the default one.
        ns = default_namespace
    body = reduce(doc)
    if ns is not None:
        body["metadata"]["namespace"] = ns
    return ConfigObject(
        api_version=api_version,
        kind=doc["kind"],
        name=name,
        namespace=ns,
        body=body,
        source=SourceRef(file=file, line=line),
    )
