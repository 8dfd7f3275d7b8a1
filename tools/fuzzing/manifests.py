"""Boot-manifest fuzz cases: a valid image directory (``examples/balanced.json``
compiled onto a 2×1 mesh), its ``manifest.json`` mutated (structure-aware or byte-level),
then ``load_chip`` -- which must boot or refuse with an ``ImageError``."""

from __future__ import annotations

import json
import random
import shutil
import tempfile
from pathlib import Path

from .mutate import mutate_doc, mutate_numbers, mutate_text

KINDS = ("structure", "numbers", "bytes")
_TEMPLATE: dict[str, Path] = {}


def template() -> Path:
    """The valid image directory every case starts from (built once per process)."""
    if "dir" not in _TEMPLATE:
        from neurochip.compiler.pipeline import compile_netlist, roomy_core_spec
        from neurochip.formats.image import write_chip_images
        from neurochip.formats.netlist import load_netlist
        from neurochip.hardware.chip import ChipSpec

        from .netlists import EXAMPLE_JSON
        compiled = compile_netlist(load_netlist(EXAMPLE_JSON),
                                   ChipSpec(2, 1, core=roomy_core_spec(64, 2)))
        out = Path(tempfile.mkdtemp(prefix="neurochip-fuzz-images-"))
        write_chip_images(compiled.chip.spec, dict(enumerate(compiled.chip.configs)), out,
                          overwrite=True)
        _TEMPLATE["dir"] = out
    return _TEMPLATE["dir"]


def case_for(seed: int, index: int) -> tuple[str, str]:
    """Case ``index`` of campaign ``seed``: its kind and the manifest text."""
    rng = random.Random(f"manifest:{seed}:{index}")
    kind = KINDS[index % len(KINDS)]
    text = (template() / "manifest.json").read_text()
    if kind == "numbers":
        return kind, json.dumps(mutate_numbers(rng, json.loads(text)))
    if kind == "structure":
        return kind, json.dumps(mutate_doc(rng, json.loads(text), complex_ok=False))
    for _ in range(rng.randint(1, 3)):
        text = mutate_text(rng, text)
    return kind, text


def cases(seed: int, count: int, start: int = 0):
    for index in range(start, start + count):
        yield f"manifest {seed}:{index} {KINDS[index % len(KINDS)]}", (seed, index)


def run_key(key) -> None:
    """Build case ``key`` in a copy of the template directory and boot it."""
    from neurochip.formats.image import load_chip

    from .netlists import _deep_ok
    with _deep_ok():
        _, text = case_for(*key)
    with tempfile.TemporaryDirectory() as tmp:
        for path in template().iterdir():
            shutil.copy(path, tmp)
        (Path(tmp) / "manifest.json").write_text(text, encoding="utf-8",
                                                 errors="surrogatepass")
        load_chip(tmp)
