"""What the Dockerfile installs is a complete meshreport (no Docker daemon runs here, so the image's
own steps are replayed): a build context holding only the files its COPY lines name is built into a
wheel with pip, installed on its own, and renders the bundled sample from outside the repository.
A package file, template or sample the wheel misses would break the image the same way."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def _copy_sources() -> list[str]:
    sources = []
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("COPY "):
            parts = line.split()[1:]
            assert not any(p.startswith("--") for p in parts), line  # no --from/--chown to replay
            sources += parts[:-1]
    return sources


def _apt_packages() -> set[str]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    m = re.search(r"apt-get install -y --no-install-recommends ([^&]+)", text)
    assert m, "the Dockerfile installs its system packages with apt-get"
    return set(m.group(1).split())


def test_the_image_installs_what_setup_installs_for_rendering():
    setup = (ROOT / "scripts" / "setup").read_text()
    needed = {"graphviz", "fontconfig", "fonts-dejavu-core", "libpango-1.0-0", "libpangoft2-1.0-0"}
    assert needed <= _apt_packages()
    for pkg in needed:  # the same list scripts/setup checks for a rendering install
        assert pkg in setup, pkg


def test_the_image_build_context_makes_a_working_install(tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    for src in _copy_sources():
        path = ROOT / src
        assert path.exists(), f"Dockerfile copies {src}, which is not in the repository"
        if path.is_dir():
            shutil.copytree(path, ctx / src, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, ctx / src)
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check", "--no-deps", "-w", wheels, ctx],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = wheels.glob("meshreport-*.whl")
    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps", "--target", target,
         wheel],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-2000:]
    sample = target / "meshreport" / "samples" / "bookinfo.mrsnap"
    assert sample.is_file()
    run_dir = tmp_path / "elsewhere"
    run_dir.mkdir()
    code = (
        "import sys, meshreport; assert meshreport.__file__.startswith(sys.argv[1]), meshreport.__file__; "
        "from meshreport.cli import main; sys.argv = ['meshreport', *sys.argv[2:]]; main()"
    )
    out = run_dir / "report"
    render = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); {code}", str(target),
         "render", str(sample), "-o", str(out), "--no-pdf"],
        capture_output=True, text=True, timeout=300, cwd=run_dir,
    )  # fmt: skip
    assert render.returncode == 0, render.stderr[-2000:]
    assert (out / "index.html").is_file() and (out / "report.css").is_file()
    assert "productpage" in (out / "index.html").read_text()
