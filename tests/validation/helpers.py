"""Build ConfigObjects from inline YAML (with file:line sources) and run validation on them."""

from __future__ import annotations

import textwrap

import yaml

from meshreport.snapshot.model import ConfigObject, SourceRef
from meshreport.validation import validate
from meshreport.validation.meshconfig import MeshConfig
from meshreport.validation.model import Finding


def objects(text: str, file: str = "test.yaml", cluster: str = "Kubernetes") -> list[ConfigObject]:
    """Parse a multi-document YAML string; each object's source line is its document's first line."""
    text = textwrap.dedent(text)
    out: list[ConfigObject] = []
    loader = yaml.SafeLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            doc = loader.construct_document(node)
            if not isinstance(doc, dict):
                continue
            meta = doc.get("metadata") or {}
            kind = doc["kind"]
            ns = meta.get("namespace")
            if ns is None and kind not in ("Namespace", "ClusterRole", "MutatingWebhookConfiguration"):
                ns = "default"
            out.append(
                ConfigObject(
                    api_version=doc.get("apiVersion", "v1"),
                    kind=kind,
                    name=meta["name"],
                    namespace=ns,
                    body=doc,
                    cluster=cluster,
                    source=SourceRef(file, node.start_mark.line + 1),
                )
            )
    finally:
        loader.dispose()
    return out


def run(text: str, mesh: dict | None = None) -> list[Finding]:
    return validate(objects(text), MeshConfig.from_dict(mesh) if mesh is not None else None)


def codes(findings: list[Finding], kind: str | None = None, name: str | None = None) -> list[str]:
    return [f.code for f in findings if (kind is None or f.kind == kind) and (name is None or f.name == name)]


def find(findings: list[Finding], code: str, name: str | None = None) -> list[Finding]:
    return [f for f in findings if f.code == code and (name is None or f.name == name)]
