"""A whole chip's images: ``write_chip_images`` stores one image per core plus a JSON
manifest, ``load_chip_configs`` / ``load_chip`` check them against it and boot the chip."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import numpy as np

from ...hardware.chip import Chip, ChipSpec, CoreConfig
from ...hardware.spec import CoreSpec, SpecError
from ...hardware.timing import TimingTable
from .decoding import decode_core
from .encoding import encode_core, normalised
from .layout import VERSION, ImageError

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "neurochip core images"


def image_name(core: int) -> str:
    return f"core-{core:04d}.ncim"


def write_chip_images(chip_spec: ChipSpec, configs: dict[int, CoreConfig], directory,
                      overwrite: bool = False) -> list[Path]:
    """One image per configured core (``core-XXXX.ncim``) and ``manifest.json``.

    Cores missing from ``configs`` are empty, as in ``Chip``. Refuses an existing
    non-empty ``directory`` unless ``overwrite`` (which removes the images and manifest
    found there, and nothing else). Returns the paths written, manifest last.
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ImageError(f"{directory}: exists and is not a directory")
    if directory.exists() and any(directory.iterdir()) and not overwrite:
        raise ImageError(f"{directory}: directory exists and is not empty; pass "
                         f"overwrite=True to replace its images")
    mesh = (chip_spec.width, chip_spec.height)
    images = {}
    for core in sorted(configs):
        if configs[core] is None:
            continue
        images[int(core)] = encode_core(chip_spec.core, configs[core], core, mesh)
    axons = {c: normalised(configs[c])[1].n_axons for c in images}
    for c in images:
        routes = normalised(configs[c])[2]
        for entry in range(routes.entries):
            dst, axon = int(routes.core[entry]), int(routes.axon[entry])
            if axon >= axons.get(dst, 0):
                slot = int(np.searchsorted(routes.route_start, entry, "right") - 1)
                raise SpecError(f"core {c}, slot {slot} entry "
                                f"{entry - int(routes.route_start[slot])}: axon {axon} on "
                                f"core {dst}, which has {axons.get(dst, 0)} axons in its "
                                f"synapse memory")
    directory.mkdir(parents=True, exist_ok=True)
    if overwrite:
        for old in [*directory.glob("core-*.ncim"), directory / MANIFEST]:
            if old.is_file():
                old.unlink()
    written = []
    for c, data in images.items():
        path = directory / image_name(c)
        path.write_bytes(data)
        written.append(path)
    manifest = {
        "format": MANIFEST_FORMAT, "version": VERSION, "model": chip_spec.core.dialect,
        "mesh": {"width": chip_spec.width, "height": chip_spec.height},
        "core_spec": {f.name: getattr(chip_spec.core, f.name) for f in fields(CoreSpec)},
        "timing": {f.name: int(getattr(chip_spec.timing, f.name))
                   for f in fields(TimingTable)},
        "clock_hz": chip_spec.clock_hz,
        "files": [{"core": c, "file": image_name(c), "bytes": len(data),
                   "crc32": f"0x{int.from_bytes(data[-4:], 'big'):08x}"}
                  for c, data in images.items()],
    }
    path = directory / MANIFEST
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    written.append(path)
    return written


def load_chip_configs(directory) -> tuple[ChipSpec, dict[int, CoreConfig]]:
    """The chip spec and per-core configs of an image directory, every image checked
    against the manifest (mesh, spec, core id, size and CRC) and no stray images."""
    directory = Path(directory)
    path = directory / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise ImageError(f"{path}: no manifest (not a directory written by "
                         f"write_chip_images)") from None
    except (OSError, ValueError) as error:
        raise ImageError(f"{path}: cannot read the manifest: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise ImageError(f"{path}: not a neurochip image manifest")
    if manifest.get("version") != VERSION:
        raise ImageError(f"{path}: unsupported manifest version {manifest.get('version')!r} "
                         f"(this neurochip reads version {VERSION})")
    try:
        core_spec = CoreSpec(**manifest["core_spec"])
        chip_spec = ChipSpec(manifest["mesh"]["width"], manifest["mesh"]["height"], core_spec,
                             TimingTable(**manifest["timing"]), float(manifest["clock_hz"]))
        files = [(int(f["core"]), str(f["file"]), int(f["bytes"]), str(f["crc32"]))
                 for f in manifest["files"]]
    except (KeyError, TypeError, ValueError) as error:
        raise ImageError(f"{path}: malformed manifest: {error!r}") from None
    if manifest.get("model") != core_spec.dialect:
        raise ImageError(f"{path}: firmware model {manifest.get('model')!r} is not supported "
                         f"here (the core spec's dialect is {core_spec.dialect!r})")
    mesh = (chip_spec.width, chip_spec.height)
    listed = {name for _, name, _, _ in files}
    stray = sorted(p.name for p in directory.glob("core-*.ncim") if p.name not in listed)
    if stray:
        raise ImageError(f"{directory / stray[0]}: image not listed in the manifest")
    configs: dict[int, CoreConfig] = {}
    for core, name, size, crc in files:
        if Path(name).name != name:
            raise ImageError(f"{path}: file name {name!r} is not in the directory")
        if core in configs:
            raise ImageError(f"{path}: core {core} is listed twice")
        image_path = directory / name
        try:
            data = image_path.read_bytes()
        except OSError as error:
            raise ImageError(f"{image_path}: cannot read: {error.strerror}") from None
        image = decode_core(data, str(image_path))
        where = f"{image_path}: "
        if image.core_id != core:
            raise ImageError(f"{where}holds core {image.core_id}, the manifest lists it as "
                             f"core {core}")
        if tuple(image.mesh) != mesh:
            raise ImageError(f"{where}mesh {image.mesh[0]}×{image.mesh[1]}, the manifest's "
                             f"is {mesh[0]}×{mesh[1]}")
        if image.spec != core_spec:
            differ = [f.name for f in fields(CoreSpec)
                      if getattr(image.spec, f.name) != getattr(core_spec, f.name)]
            raise ImageError(f"{where}CoreSpec differs from the manifest's in "
                             f"{', '.join(differ)}")
        stored = f"0x{int.from_bytes(data[-4:], 'big'):08x}"
        if len(data) != size or stored != crc:
            raise ImageError(f"{where}{len(data)} bytes with CRC {stored}, the manifest "
                             f"lists {size} bytes with CRC {crc} (a different image)")
        configs[core] = image.config
    return chip_spec, configs


def load_chip(directory) -> Chip:
    """Boot a chip from an image directory written by ``write_chip_images``."""
    chip_spec, configs = load_chip_configs(directory)
    try:
        return Chip(chip_spec, configs)
    except SpecError as error:
        raise ImageError(f"{directory}: {error}") from None
