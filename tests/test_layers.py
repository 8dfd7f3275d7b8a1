"""The package's layer rule and its import graph, read from the source (tools/layers.py)."""

import subprocess
import sys
from pathlib import Path

import pytest

from tools import layers

ROOT = Path(__file__).resolve().parent.parent


def test_the_project_keeps_its_layers_and_has_no_import_cycle():
    edges = layers.project_edges()
    assert edges, "no imports found: the checker reads nothing"
    assert layers.violations(edges) == []
    assert layers.cycles(edges) == []


def test_no_module_or_function_is_too_long_to_hold_in_ones_head():
    assert layers.oversized() == []


def test_the_checker_runs_from_the_command_line():
    done = subprocess.run([sys.executable, "-m", "tools.layers", "--sizes"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 problems" in done.stdout


def _tree(tmp_path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


@pytest.fixture
def small_tree(tmp_path):
    return _tree(tmp_path, {
        "firmware_models/__init__.py": "",
        "neurochip/__init__.py": "from .hardware.core import Core\n",
        "neurochip/hardware/__init__.py": "",
        "neurochip/hardware/core.py": "import numpy\nfrom . import spec\n",
        "neurochip/hardware/spec.py": "",
        "neurochip/formats/__init__.py": "",
        "neurochip/formats/netlist.py": "from ..hardware.spec import X\n",
        "neurochip/lab/__init__.py": "",
        "neurochip/lab/compare.py": "def f():\n    from ..formats import netlist\n",
        "neurochip/cli/__init__.py": "",
        "neurochip/cli/app.py": "from neurochip.lab.compare import f\n",
    })


def test_a_clean_tree_passes(small_tree):
    edges = layers.project_edges(small_tree)
    assert {(e.importer, e.imported) for e in edges} >= {
        ("neurochip.hardware.core", "neurochip.hardware.spec"),
        ("neurochip.formats.netlist", "neurochip.hardware.spec"),
        ("neurochip.lab.compare", "neurochip.formats.netlist"),   # a lazy import counts
        ("neurochip.cli.app", "neurochip.lab.compare")}
    assert layers.violations(edges) == [] and layers.cycles(edges) == []


def test_an_upward_import_is_named_with_its_line(small_tree):
    (small_tree / "neurochip/hardware/spec.py").write_text(
        "x = 1\n\ndef g():\n    from neurochip.formats.netlist import X\n")
    problems = layers.violations(layers.project_edges(small_tree))
    assert problems == ["neurochip.hardware.spec:4: layer neurochip.hardware imports "
                        "neurochip.formats.netlist of the higher layer neurochip.formats"]


def test_importing_the_cli_or_firmware_importing_the_hardware_is_refused(small_tree):
    (small_tree / "neurochip/lab/compare.py").write_text("from ..cli import app\n")
    (small_tree / "firmware_models/model.py").write_text("import neurochip.hardware.core\n")
    problems = layers.violations(layers.project_edges(small_tree))
    assert len(problems) == 2
    assert any("neurochip.lab imports neurochip.cli.app" in p for p in problems)
    assert any("firmware_models.model:1: layer firmware_models imports" in p for p in problems)


def test_a_cycle_within_a_layer_is_found(small_tree):
    (small_tree / "neurochip/hardware/spec.py").write_text("from .core import Core\n")
    assert layers.cycles(layers.project_edges(small_tree)) == [
        ["neurochip.hardware.core", "neurochip.hardware.spec"]]


def test_long_modules_and_functions_are_reported(small_tree):
    body = "\n".join(f"    x{i} = {i}" for i in range(layers.MAX_FUNCTION_LINES))
    (small_tree / "neurochip/hardware/spec.py").write_text(f"def long():\n{body}\n")
    (small_tree / "neurochip/hardware/core.py").write_text("x = 1\n" * 601)
    problems = layers.oversized(small_tree)
    assert "neurochip/hardware/core.py: 601 lines (at most 600)" in problems
    assert any("spec.py:1: long is 81 lines" in p for p in problems)
