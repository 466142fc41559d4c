"""YAML from untrusted places (pull-request manifests, ConfigMaps, annotations, server replies)
parsed with a bound on what aliases can make of it.

PyYAML builds a document of nested aliases ("billion laughs") instantly, because each alias is
the same Python object again; the damage comes later, from any code that walks or copies it
(the secret-stripping copy took 23.8 GB for a 1 KB file). So each document's node graph is
measured before it is constructed: the number of nodes it has with every alias expanded must
stay under `max_nodes()` (MESHREPORT_MAX_YAML_NODES, default 1,000,000; a 10,000-object
manifest folder has a few hundred thousand per file at most), and an alias inside itself
(a recursive document) is refused. Measuring visits each distinct node once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import yaml

from meshreport.errors import InputError

DEFAULT_MAX_NODES = 1_000_000
ENV_MAX_NODES = "MESHREPORT_MAX_YAML_NODES"


SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Loader(SafeLoader):  # type: ignore[misc,valid-type]
    """Safe loading, but timestamps stay strings: the API server treats them as strings, and JSON must."""


Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


class YamlLimitError(InputError, yaml.YAMLError):
    """A document too big once its aliases are expanded, or recursive. Also a `yaml.YAMLError`, so
    code that treats unparsable YAML as a finding (an annotation value) treats this one alike."""


def max_nodes() -> int:
    """The limit, from the environment (read on each call so a test or a run can change it)."""
    text = os.environ.get(ENV_MAX_NODES, "")
    if not text:
        return DEFAULT_MAX_NODES
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"{ENV_MAX_NODES}={text!r}: not a whole number") from None
    if value < 1:
        raise InputError(f"{ENV_MAX_NODES}={text!r}: must be at least 1")
    return value


def check_node(root: yaml.Node, origin: str, limit: int | None = None) -> None:
    """Raise YamlLimitError when `root` expands to more than `limit` nodes or contains itself."""
    limit = max_nodes() if limit is None else limit
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    # Iterative post-order walk: (node, children pushed yet?).
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        key = id(node)
        if expanded:
            on_path.discard(key)
            total = 1 + sum(sizes[id(c)] for c in _children(node))
            if total > limit:
                raise YamlLimitError(
                    f"{origin}: YAML document too large once its aliases are expanded "
                    f"(over {limit:,} nodes; raise {ENV_MAX_NODES} if it is genuine)"
                )
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise YamlLimitError(f"{origin}: YAML document refers to itself through an alias (recursive)")
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            ckey = id(child)
            if ckey in on_path:
                raise YamlLimitError(f"{origin}: YAML document refers to itself through an alias (recursive)")
            if ckey not in sizes:
                stack.append((child, False))


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        yield from node.value
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            yield k
            yield v


def documents(text: str, origin: str, loader_class: type = Loader) -> Iterator[tuple[yaml.Node, Any]]:
    """(node, constructed document) for each document of `text`, each checked before it is built.
    YAML syntax errors propagate as `yaml.YAMLError` for the caller to word."""
    loader = loader_class(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            check_node(node, f"{origin}:{node.start_mark.line + 1}")
            yield node, loader.construct_document(node)
    finally:
        loader.dispose()


def load(text: str, origin: str = "YAML") -> Any:
    """The first document of `text` (None when empty), like `yaml.safe_load` but bounded."""
    for _, doc in documents(text, origin, SafeLoader):
        return doc
    return None
