"""Dependencies point one way (docs/architecture.md): every `meshreport` import of every module,
read with `ast` (imports inside functions count too), must be an allowed edge."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "meshreport"

#: The analysis packages: they read a snapshot and produce the Analysis (and its comparison with
#: an earlier one).
ANALYSIS = (
    "meshreport.mesh_index",
    "meshreport.graph",
    "meshreport.health",
    "meshreport.workload_status",
    "meshreport.mtls",
    "meshreport.mtls_traffic",
    "meshreport.node_config",
    "meshreport.validation",
    "meshreport.digest",
    "meshreport.digest_store",
    "meshreport.fielddiff",
    "meshreport.compare",
    "meshreport.trend",
)
#: What every layer may use: the package root (its version), errors, safe output writing, untrusted
#: text made visible, and the mesh's vocabulary (Istio's names; host names, selectors and app/version labels).
BASE = (
    "meshreport",
    "meshreport.errors",
    "meshreport.output",
    "meshreport.visible",
    "meshreport.safe_yaml",
    "meshreport.istio_names",
    "meshreport.hosts",
)

#: layer (module prefix) -> the prefixes it may import. The longest matching layer applies.
ALLOWED: dict[str, tuple[str, ...]] = {
    "meshreport": (),  # the package's __init__: the version only
    "meshreport.errors": (),
    "meshreport.output": ("meshreport.errors",),
    "meshreport.visible": (),
    "meshreport.safe_yaml": ("meshreport.errors",),
    "meshreport.istio_names": (),
    "meshreport.hosts": ("meshreport.istio_names",),
    "meshreport.resources": ("meshreport.templates",),  # the templates' data package inside a wheel
    "meshreport.progress": BASE,
    "meshreport.snapshot": ("meshreport", "meshreport.errors", "meshreport.output", "meshreport.snapshot"),
    "meshreport.settings": (*BASE, "meshreport.snapshot.model"),
    "meshreport.collect": (
        *BASE,
        "meshreport.snapshot",
        "meshreport.collect",
        "meshreport.settings",
        "meshreport.progress",
    ),
    # the evaluator answers the collection plan offline; the meshes read sample manifests like the YAML loader
    "meshreport.synthetic": (
        *BASE,
        "meshreport.snapshot",
        "meshreport.synthetic",
        "meshreport.collect.queries",
        "meshreport.collect.manifests",
        "meshreport.samples",  # the sample manifests' data package inside a wheel
    ),
    **{a: (*BASE, "meshreport.snapshot", *ANALYSIS) for a in ANALYSIS},
    "meshreport.analysis": (
        *BASE,
        "meshreport.graph.model",
        "meshreport.validation.model",
        "meshreport.mtls_traffic",
        "meshreport.node_config",
    ),
    # the report reads an Analysis and the snapshot: result types, rule documentation, never a check
    "meshreport.report": (
        *BASE,
        "meshreport.report",
        "meshreport.resources",
        "meshreport.analysis",
        "meshreport.snapshot.model",
        "meshreport.graph.model",
        "meshreport.validation.model",
        "meshreport.validation.registry",
        "meshreport.validation.summary",
        "meshreport.compare",
        # reasons.py names the tolerance behind a status the analysis decided (never decides one)
        "meshreport.health",
        "meshreport.mtls_traffic",
    ),
    "meshreport.deliver": (*BASE, "meshreport.deliver"),
    "meshreport.pipeline": (
        *BASE,
        "meshreport.analysis",
        "meshreport.collect",
        "meshreport.snapshot",
        "meshreport.settings",
        "meshreport.progress",
        *ANALYSIS,
        "meshreport.report",
        "meshreport.deliver",
    ),
    # commands parse flags, call the pipeline and print; `synth` writes synthetic meshes
    "meshreport.commands": (
        *BASE,
        "meshreport.cli",
        "meshreport.commands",
        "meshreport.pipeline",
        "meshreport.settings",
        "meshreport.progress",
        "meshreport.snapshot.model",
        "meshreport.synthetic",
    ),
    "meshreport.cli": (*BASE, "meshreport.commands"),
}


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every meshreport module the file imports; `from meshreport.x import y` names `meshreport.x.y`
    when y is a module."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == "meshreport")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "meshreport":
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                is_module = (PACKAGE.parent / sub.replace(".", "/")).with_suffix(".py").exists() or (
                    PACKAGE.parent / sub.replace(".", "/") / "__init__.py"
                ).exists()
                out.add(sub if is_module else node.module)
    return out


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _layer(module: str) -> str | None:
    matches = [layer for layer in ALLOWED if _within(module, layer) and (layer != "meshreport" or module == layer)]
    return max(matches, key=len) if matches else None


def _edges() -> list[tuple[str, str]]:
    return [(_module(p), imp) for p in sorted(PACKAGE.rglob("*.py")) for imp in sorted(_imports(p))]


def violations(edges: list[tuple[str, str]]) -> list[str]:
    bad = []
    for mod, imp in edges:
        layer = _layer(mod)
        if layer is None:
            bad.append(f"{mod}: no layer in ALLOWED (add it with the imports it may make)")
        elif not any(imp == a or _within(imp, a) if a != "meshreport" else imp == a for a in ALLOWED[layer]):
            bad.append(f"{mod} -> {imp}")
    return bad


def test_every_import_is_an_allowed_edge():
    assert violations(_edges()) == []


def test_every_module_has_a_layer():
    for p in PACKAGE.rglob("*.py"):
        assert _layer(_module(p)) is not None, _module(p)


@pytest.mark.parametrize(
    "edge",
    [
        ("meshreport.graph.build", "meshreport.collect.queries"),  # analysis never imports collectors
        ("meshreport.report.model", "meshreport.validation"),  # the report never runs validation
        ("meshreport.report.model", "meshreport.validation.runner"),
        ("meshreport.snapshot.model", "meshreport.settings"),  # the contract imports nothing of ours
        ("meshreport.commands.graph", "meshreport.graph.build"),  # commands go through the pipeline
        ("meshreport.validation.index", "meshreport.report.findings"),
        ("meshreport.collect.prometheus", "meshreport.graph.model"),
    ],
)
def test_a_forbidden_edge_is_reported(edge):
    assert violations([edge]) == [f"{edge[0]} -> {edge[1]}"]


def test_the_reader_sees_function_level_imports(tmp_path):
    """An import inside a function is an edge too (lazy imports are how cycles hide)."""
    src = tmp_path / "m.py"
    src.write_text("def f():\n    from meshreport.collect import queries\n    import meshreport.report.model\n")
    assert _imports(src) == {"meshreport.collect.queries", "meshreport.report.model"}
