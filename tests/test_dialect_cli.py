"""``--dialect`` on ``neurochip run`` and ``compile``, ``--dialects`` on ``compare``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from neurochip.cli.app import main

EXAMPLE = str(Path(__file__).resolve().parent.parent / "examples" / "balanced.toml")


@pytest.mark.parametrize("dialect, registers", [
    ("lif", {"v", "i", "theta"}), ("loihi", {"v", "u"}), ("xylo", {"v", "isyn1"})])
def test_run_in_a_dialect_saves_its_registers(tmp_path, capsys, dialect, registers):
    out = tmp_path / "rec.npz"
    assert main(["run", EXAMPLE, "--dialect", dialect, "--ticks", "100", "--quiet",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "emulator: " in printed and "spikes in 100 ticks" in printed
    saved = np.load(out)
    assert {k.split(".", 1)[1] for k in saved.files if k.startswith("registers.")} == registers


def test_run_dialect_takes_the_chip_widths_unless_given(tmp_path, capsys):
    assert main(["run", EXAMPLE, "--dialect", "loihi", "--ticks", "50"]) == 0
    report = capsys.readouterr().out
    assert "T_ref" in report   # the report of what Loihi cannot hold
    assert main(["run", EXAMPLE, "--dialect", "xylo", "--v-bits", "12", "--ticks", "50",
                 "--quiet"]) == 0


def test_unknown_dialect_is_a_usage_error(capsys):
    assert main(["run", EXAMPLE, "--dialect", "truenorth"]) == 2
    assert "argument --dialect: invalid choice: 'truenorth' (choose from 'lif', 'loihi', " \
        "'xylo')" in capsys.readouterr().err


def test_compare_puts_dialects_side_by_side(capsys):
    assert main(["compare", EXAMPLE, "--dialects", "lif,loihi,xylo", "--ticks", "100",
                 "--quiet", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    labels = [c["label"] for c in data["configs"]]
    assert labels == ["v16 i16 w8 floor", "loihi v24 i24 w9", "xylo v16 i16 w8"]
    assert [c["spec"]["dialect"] for c in data["configs"]] == ["lif", "loihi", "xylo"]


def test_compare_refuses_an_unknown_dialect(capsys):
    assert main(["compare", EXAMPLE, "--dialects", "lif,spinnaker"]) == 2
    assert "expected a comma-separated list from lif,loihi,xylo, got 'lif,spinnaker'" in \
        capsys.readouterr().err


def test_compile_writes_dialect_images(tmp_path, capsys):
    out = tmp_path / "images"
    assert main(["compile", EXAMPLE, "--dialect", "loihi", "-o", str(out), "--quiet"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model"] == "loihi" and manifest["core_spec"]["dialect"] == "loihi"
    assert manifest["core_spec"]["v_bits"] == 24
    assert main(["inspect", str(out / "core-0000.ncim")]) == 0
    assert "firmware model loihi" in capsys.readouterr().out


def test_a_register_the_dialect_lacks_is_named_not_faked(tmp_path, capsys):
    out = tmp_path / "rec.npz"
    assert main(["run", EXAMPLE, "--dialect", "xylo", "--ticks", "50", "--out", str(out)]) == 0
    assert "not recorded: theta (no such register in the xylo dialect)" in \
        capsys.readouterr().out
    assert not any(k.endswith(".theta") for k in np.load(out).files)


@pytest.mark.parametrize("dialect, register", [("loihi", ".u"), ("xylo", ".isyn1")])
def test_a_dialect_runs_the_same_on_both_backends(tmp_path, dialect, register):
    """Loihi and Xylo have compiled backends (tests/test_compiled_xylo.py for Xylo): the
    CLI's run is the same on both, spike counts and every register."""
    saved = {}
    for backend in ("numpy", "compiled"):
        saved[backend] = tmp_path / f"{backend}.npz"
        assert main(["run", EXAMPLE, "--dialect", dialect, "--ticks", "100", "--quiet",
                     "--backend", backend, "--out", str(saved[backend])]) == 0
    numpy_run, compiled_run = (np.load(saved[b]) for b in ("numpy", "compiled"))
    assert sorted(numpy_run.files) == sorted(compiled_run.files)
    assert any(k.endswith(register) for k in numpy_run.files)
    for key in numpy_run.files:
        assert np.array_equal(numpy_run[key], compiled_run[key]), key
