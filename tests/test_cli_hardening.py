"""The CLI reproducers of the hardening campaign: each is one line on stderr and exit
code 2, no traceback, nothing written (run in process through ``main``; the real command
in a subprocess is tests/test_cli.py and tests/test_cli_friendly.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from neurochip.cli.app import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "balanced.json"
BRAILLE = ROOT / "tests" / "data" / "nir" / "snntorch" / "braille_bias_zero.nir"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(EXAMPLE, tmp_path / "net.json")
    (tmp_path / "deep.toml").write_text("a = " + "[" * 1000 + "]" * 1000 + "\n")
    big = EXAMPLE.read_text().replace('"size": 80', '"size": 2147483647', 1)
    (tmp_path / "huge.json").write_text(big)
    corrupt = bytearray(BRAILLE.read_bytes())   # the heap corruption that hung h5py
    assert corrupt[2576] == 0x06
    corrupt[2576] = 0x46
    (tmp_path / "corrupt.nir").write_bytes(bytes(corrupt))
    (tmp_path / "images").mkdir()
    return tmp_path


@pytest.mark.parametrize("argv, said", [
    (["run", "net.json", "--ticks", str(10 ** 20)], "argument --ticks: expected a positive "
                                                    "integer up to 2147483647"),
    (["run", "net.json", "--mesh", "100000x100000"], "expected a mesh of at most 16384 cores"),
    (["run", "huge.json", "--ticks", "5"], "huge.json"),
    (["run", "deep.toml", "--ticks", "5"], "deep.toml"),
    (["run", "corrupt.nir", "--ticks", "5"], "corrupt.nir"),
    (["run", "net.json", "--v-bits", "0", "--ticks", "5"], "--v-bits must be an integer in "
                                                           "3..32, got 0"),
    (["compare", "net.json", "--v-bits", "8,,16"], "expected comma-separated integers"),
    (["run", "net.json", "--dt", "0.5", "--ticks", "5"], "--dt: for NIR graphs only"),
    (["run", "net.json", "--reset", "value", "--ticks", "5"], "--reset: for NIR graphs only"),
    (["inspect", "images"], "'images' is a folder, not a file"),
    (["run", "net.json", "--out", "nowhere/r.npz", "--ticks", "5"], "no folder"),
    ([], "name a command"),
])
def test_each_reproducer_is_one_line_and_exit_code_2(folder, capsys, argv, said):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert said in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (folder / "nowhere").exists() and not (folder / "r.npz").exists()
