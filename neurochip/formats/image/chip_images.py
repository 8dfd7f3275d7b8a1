"""A whole chip's images: ``write_chip_images`` stores one image per core plus a JSON
manifest, ``load_chip_configs`` / ``load_chip`` check them against it and boot the chip."""

from __future__ import annotations

import json
import re
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
        if path.is_file() and path.stat().st_size > MAX_MANIFEST_BYTES:
            raise ImageError(f"{path}: {path.stat().st_size} bytes, more than a manifest "
                             f"can be ({MAX_MANIFEST_BYTES})")
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise ImageError(f"{path}: no manifest (not a directory written by "
                         f"write_chip_images)") from None
    except RecursionError:
        raise ImageError(f"{path}: cannot read the manifest: nested too deeply") from None
    except (OSError, ValueError) as error:
        if isinstance(error, ImageError):
            raise
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ImageError(f"{path}: cannot read the manifest: {text[:120]}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise ImageError(f"{path}: not a neurochip image manifest")
    version = manifest.get("version")
    if type(version) is not int or version != VERSION:
        raise ImageError(f"{path}: unsupported manifest version {_short(version)} "
                         f"(this neurochip reads version {VERSION})")
    chip_spec, files = _manifest_spec(manifest, path)
    core_spec = chip_spec.core
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
            raise ImageError(f"{path}: file name {_short(name)} is not in the directory")

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


MAX_MANIFEST_BYTES = 1 << 26   # 64 MiB: a manifest lists at most 2^32 files of ~100 bytes
_U32 = (1 << 32) - 1
MANIFEST_KEYS = ("format", "version", "model", "mesh", "core_spec", "timing", "clock_hz",
                 "files")
MAX_CLOCK_HZ = 1e15


def _short(value, limit: int = 60) -> str:
    if isinstance(value, int) and value.bit_length() > 200:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    try:
        text = repr(value)
    except (RecursionError, ValueError):
        text = f"a nested {type(value).__name__}"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _refuse(path, field: str, problem: str, value=None) -> ImageError:
    got = "" if value is None else f" (got {_short(value)})"
    return ImageError(f"{path}: {field}: {problem}{got}")


def _table(value, path, field: str, keys: tuple[str, ...]) -> dict:
    """An object with exactly ``keys``: a missing or unknown key is refused by name."""
    if not isinstance(value, dict):
        raise _refuse(path, field, "must be an object", value)
    for key in keys:
        if key not in value:
            raise _refuse(path, f"{field}.{key}" if field else key, "missing required key")
    for key in value:
        if key not in keys:
            shown = key if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,39}", key) else _short(key, 40)
            raise _refuse(path, f"{field}.{shown}" if field else shown,
                          f"unknown key (known: {', '.join(keys)})")
    return value


def _int(value, path, field: str, lo: int, hi: int) -> int:
    """An integer (not a bool) in ``lo..hi``."""
    if type(value) is not int or not lo <= value <= hi:
        raise _refuse(path, field, f"must be an integer in {lo}..{hi}", value)
    return value


def _spec_fields(raw: dict, path) -> dict:
    """Every ``CoreSpec`` field, type-checked and bounded to what its header field holds."""
    widths = {"i_bits": (2, 32), "v_bits": (3, 32), "theta_bits": (1, 32),
              "ref_bits": (1, 16), "w_bits": (2, 16), "w_exp_bits": (0, 4),
              "delay_bits": (1, 8), "shift_bits": (1, 5), "noise_bits_max": (0, 31),
              "leak_bits": (0, 16)}
    out = {}
    for f in fields(CoreSpec):
        value, where = raw[f.name], f"core_spec.{f.name}"
        if f.name in widths:
            out[f.name] = _int(value, path, where, *widths[f.name])
        elif f.type in (int, "int"):
            out[f.name] = _int(value, path, where, 1, _U32)
        elif not isinstance(value, str):
            raise _refuse(path, where, "must be a string", value)
        else:
            out[f.name] = value
    return out


def _manifest_spec(manifest: dict, path) -> tuple[ChipSpec, list]:
    """The chip spec and the file entries of a manifest, every field checked by name:
    no field is defaulted, no bool is a number, every integer fits its field."""
    _table(manifest, path, "", MANIFEST_KEYS)
    if not isinstance(manifest["model"], str):
        raise _refuse(path, "model", "must be a string", manifest["model"])
    mesh = _table(manifest["mesh"], path, "mesh", ("width", "height"))
    width = _int(mesh["width"], path, "mesh.width", 1, (1 << 16) - 1)
    height = _int(mesh["height"], path, "mesh.height", 1, (1 << 16) - 1)
    raw = _table(manifest["core_spec"], path, "core_spec",
                 tuple(f.name for f in fields(CoreSpec)))
    timing_raw = _table(manifest["timing"], path, "timing",
                        tuple(f.name for f in fields(TimingTable)))
    timing = {name: _int(value, path, f"timing.{name}", 1 if name.startswith("hop") else 0,
                         _U32) for name, value in timing_raw.items()}
    clock = manifest["clock_hz"]
    if type(clock) not in (int, float) or not 0 < clock <= MAX_CLOCK_HZ:
        raise _refuse(path, "clock_hz", f"must be a number of hertz in (0, {MAX_CLOCK_HZ:g}]",
                      clock)
    try:
        core_spec = CoreSpec(**_spec_fields(raw, path))
        chip_spec = ChipSpec(width, height, core_spec, TimingTable(**timing), float(clock))
    except (SpecError, ValueError) as error:
        raise ImageError(f"{path}: {error}") from None
    entries = manifest["files"]
    if not isinstance(entries, list):
        raise _refuse(path, "files", "must be a list", entries)
    if len(entries) > width * height:
        raise _refuse(path, "files", f"lists {len(entries)} images for {width * height} "
                                     f"cores")
    files = []
    for j, f in enumerate(entries):
        where = f"files[{j}]"
        _table(f, path, where, ("core", "file", "bytes", "crc32"))
        core = _int(f["core"], path, f"{where}.core", 0, width * height - 1)
        size = _int(f["bytes"], path, f"{where}.bytes", 0, _U32)
        for key in ("file", "crc32"):
            if not isinstance(f[key], str):
                raise _refuse(path, f"{where}.{key}", "must be a string", f[key])
        if not re.fullmatch(r"core-[0-9]{4,10}\.ncim", f["file"]):
            raise _refuse(path, f"{where}.file", "is not an image name (core-NNNN.ncim)",
                          f["file"])
        if not re.fullmatch(r"0x[0-9a-f]{8}", f["crc32"]):
            raise _refuse(path, f"{where}.crc32", "must be 0x and 8 hex digits", f["crc32"])
        files.append((core, f["file"], size, f["crc32"]))
    return chip_spec, files


def load_chip(directory) -> Chip:
    """Boot a chip from an image directory written by ``write_chip_images``."""
    chip_spec, configs = load_chip_configs(directory)
    try:
        return Chip(chip_spec, configs)
    except SpecError as error:
        raise ImageError(f"{directory}: {error}") from None
