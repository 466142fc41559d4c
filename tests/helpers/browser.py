"""Open every page of a rendered report in the real headless Chromium (through Playwright, with the
system's browser: nothing is downloaded) and report what a reader would trip over.

`check_site(out_dir)` returns a list of problems (empty when the site is fine):
- a console error or an uncaught exception;
- a request for anything outside the report folder (each one is blocked and named);
- a blank page;
- a link or anchor that does not resolve;
- at 420 px wide, an element wider than the viewport that is not inside a scrolling table box;
- axe-core WCAG 2 A/AA violations;
- a script payload that ran (hostile names set `document.title` to `pwned` when they run).
`nu_html_check(paths)` runs the Nu Html Checker (vnu.jar, java) and returns its error messages.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlparse

REPO = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO / ".venv" / "node" / "node_modules"
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
VNU = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip

#: Elements wider than the viewport at phone width, except what scrolls inside a .table-box.
_OVERFLOW_JS = """() => {
  const w = document.documentElement.clientWidth;
  const bad = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('.table-box')) continue;
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > w + 1) bad.push(el.tagName + '.' + el.className + ' ' + Math.round(r.right));
  }
  const sw = document.documentElement.scrollWidth;
  if (sw > w + 1) bad.push('page scrolls sideways: ' + sw);
  return bad.slice(0, 5);
}"""


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        exe = shutil.which(name)
        if exe:
            return exe
    raise AssertionError("Chromium (or Chrome) must be installed for the browser checks: scripts/setup --test")


def tools_present() -> None:
    """Fail loudly (never skip) when scripts/setup --test has not installed the checkers."""
    missing = [str(p) for p in (AXE, VNU) if not p.is_file()]
    if shutil.which("java") is None:
        missing.append("java")
    assert not missing, f"run scripts/setup --test: missing {', '.join(missing)}"


def _ids(path: Path, cache: dict[Path, set[str]]) -> set[str]:
    if path not in cache:
        cache[path] = set(re.findall(r'\bid="([^"]+)"', path.read_text(encoding="utf-8")))
    return cache[path]


def check_site(out_dir: Path, *, axe: bool = True, only_self: bool = False, dark: bool = False) -> list[str]:
    """`only_self`: a page may request nothing but itself (a self-contained file); `dark`: axe
    runs again with `prefers-color-scheme: dark`."""
    from playwright.sync_api import sync_playwright

    tools_present()
    root = out_dir.resolve()
    problems: list[str] = []
    ids: dict[Path, set[str]] = {}
    pages = sorted(root.rglob("*.html"))
    assert pages, f"no HTML pages under {root}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), headless=True, args=ARGS)
        try:
            for path in pages:
                problems += _check_page(browser, root, path, ids, axe, only_self, dark)
        finally:
            browser.close()
    return problems


def _check_page(
    browser, root: Path, path: Path, ids: dict[Path, set[str]], axe: bool, only_self: bool = False, dark: bool = False
) -> list[str]:
    rel = path.relative_to(root)
    problems: list[str] = []
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.on("console", lambda m: problems.append(f"{rel}: console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"{rel}: uncaught {e}"))

    def route(r):
        url = r.request.url
        local = Path(unquote(urlparse(url).path)).resolve() if url.startswith("file:") else None
        if only_self and local != path.resolve():
            problems.append(f"{rel}: request outside the file: {url[:120]}")
            r.abort()
        elif local is not None and (local == root or root in local.parents):
            r.continue_()
        else:
            problems.append(f"{rel}: request outside the report folder: {url[:120]}")
            r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri(), wait_until="load")
    if page.title() == "pwned" or page.evaluate("() => window.pwned !== undefined"):
        problems.append(f"{rel}: a payload ran")
    if len(page.inner_text("body").strip()) < 100:
        problems.append(f"{rel}: blank page")
    for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
        problems += [f"{rel}: {m}" for m in _link_problems(path, href, ids)]
    if axe:
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa'], preload: false})).violations"
            ".map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))"
        )
        problems += [f"{rel}: axe {v}" for v in result]
        if dark:
            page.emulate_media(color_scheme="dark")
            result = page.evaluate(
                "async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa'], preload: false})).violations"
                ".map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))"
            )
            problems += [f"{rel}: axe (dark) {v}" for v in result]
            page.emulate_media(color_scheme="light")
    page.set_viewport_size({"width": 420, "height": 900})
    page.wait_for_timeout(50)
    problems += [f"{rel}: wider than 420 px: {b}" for b in page.evaluate(_OVERFLOW_JS)]
    ctx.close()
    return problems


def _link_problems(page: Path, href: str, ids: dict[Path, set[str]]) -> list[str]:
    if re.match(r"[a-z][a-z0-9+.-]*:", href) or href.startswith("//"):
        return [f"external link {href[:80]}"]
    target, _, frag = href.partition("#")
    dest = (page.parent / unquote(target)).resolve() if target else page
    if not dest.is_file():
        return [f"broken link {href}"]
    if frag and dest.suffix == ".html" and unquote(frag) not in _ids(dest, ids):
        return [f"broken anchor {href}"]
    return []


def nu_html_check(paths: list[Path]) -> list[str]:
    """The Nu Html Checker's errors (warnings are not failures) for `paths`."""
    tools_present()
    res = subprocess.run(
        ["java", "-jar", str(VNU), "--errors-only", "--format", "json", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(res.stderr or "{}").get("messages", [])
    return [f"{Path(urlparse(m.get('url', '')).path).name}:{m.get('lastLine')}: {m.get('message')}" for m in messages]
