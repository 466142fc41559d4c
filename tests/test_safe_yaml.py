"""meshreport.safe_yaml: aliases cannot turn a small YAML file into an unbounded document."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/ holds the shared helpers package

from helpers.bombs import laughs  # noqa: E402
from helpers.hang import limit_address_space, run_child  # noqa: E402

from meshreport import safe_yaml  # noqa: E402
from meshreport.errors import EXIT_INPUT, InputError  # noqa: E402
from meshreport.safe_yaml import YamlLimitError  # noqa: E402


def test_billion_laughs_is_refused_before_it_is_built():
    text = laughs()
    assert len(text) < 2000
    with pytest.raises(YamlLimitError, match=r"bomb.yaml:1: YAML document too large .* MESHREPORT_MAX_YAML_NODES"):
        list(safe_yaml.documents(text, "bomb.yaml"))


def test_limit_error_is_input_error_and_yaml_error():
    with pytest.raises(InputError):
        safe_yaml.load(laughs())
    with pytest.raises(yaml.YAMLError):
        safe_yaml.load(laughs())


def test_recursive_alias_is_refused():
    with pytest.raises(YamlLimitError, match="refers to itself"):
        safe_yaml.load("a: &a [1, *a]\n")


def test_shared_aliases_below_the_limit_load(monkeypatch):
    text = laughs(levels=3, width=10)  # ~1,100 nodes expanded
    assert safe_yaml.load(text)["data"]["l3"][0][0][0] == ["lol"]
    monkeypatch.setenv("MESHREPORT_MAX_YAML_NODES", "500")
    with pytest.raises(YamlLimitError, match="over 500 nodes"):
        safe_yaml.load(text)
    monkeypatch.setenv("MESHREPORT_MAX_YAML_NODES", "lots")
    with pytest.raises(InputError, match="not a whole number"):
        safe_yaml.load(text)


def test_plain_load_matches_pyyaml():
    text = "a: 1\nb: [x, {c: 2024-01-01}]\nd: !!str 5\n"
    assert safe_yaml.load(text) == yaml.safe_load(text)
    assert safe_yaml.load("") is None


#: The most memory a refused YAML bomb may take (the child's own peak RSS): the cap stops it before
#: it is built, so it stays near the interpreter's own. Time is benchmarks/hostile_limits.py's.
PEAK_MB = 400


@pytest.mark.parametrize("where", ["-f", "--mesh-config", "--config"])
def test_validate_refuses_a_bomb_in_bounded_memory(tmp_path, where):
    """The whole command, as CI runs it on a pull request's files: exit 5 with one line, in bounded
    memory (the child is killed at tests/helpers/hang.NO_HANG if it hangs)."""
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(laughs())
    args = {
        "-f": ["-f", str(bomb)],
        "--mesh-config": ["-f", str(bomb.with_name("ok.yaml")), "--mesh-config", str(bomb)],
        "--config": ["-f", str(bomb.with_name("ok.yaml")), "--config", str(bomb)],
    }[where]
    bomb.with_name("ok.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
    child = run_child(
        [sys.executable, "-c", "from meshreport.cli import main; main()", "validate", *args],
        tmp_path / "stderr",
        # 1 GiB of address space: expanding the document would end in MemoryError ("out of memory",
        # a different message) instead of exhausting the machine
        preexec_fn=limit_address_space(1024),
    )
    assert child.returncode == EXIT_INPUT, child.stderr
    assert child.stderr.count("\n") == 1 and "too large once its aliases are expanded" in child.stderr
    assert child.peak_mb < PEAK_MB, f"{child.peak_mb:.0f} MB"
