"""Decoding: ``decode_core`` reads an image back into a ``CoreImage``.

It refuses, with one line naming the source, an image whose magic, version, length or
CRC is wrong (``_check_frame``), before it trusts any count; then counts beyond the
capacities and any value the core cannot hold.
"""

from __future__ import annotations

import zlib
from dataclasses import fields

import numpy as np
from bitstring import Bits, Reader

from firmware_models import MODELS as FIRMWARE

from ...hardware.chip import CoreConfig
from ...hardware.routing import RoutingTable
from ...hardware.spec import CoreSpec, SpecError
from ...hardware.synapses import SynapseMemory
from ...hardware.validation import validate_core
from .encoding import CoreImage
from .layout import (CAPACITY_FIELDS, HEADER, HEADER_BITS, HEADER_FORMAT, MAGIC, MIN_BITS,
                     MODE_FIELDS, MODELS, VERSION, WIDTH_FIELDS, ImageError, body_widths,
                     image_size_bits)


def _split_records(records: np.ndarray, columns) -> list[np.ndarray]:
    """Undo ``_interleaved``: per field its values as int64, signed fields sign-extended."""
    out = []
    shift = sum(b for b, _ in columns)
    for bits, signed in columns:
        shift -= bits
        if bits == 0:
            out.append(np.zeros(records.size, dtype=np.int64))
            continue
        values = ((records >> shift) & ((1 << bits) - 1)).astype(np.int64)
        if signed:
            values = values - ((values >> (bits - 1)) << bits)
        out.append(values)
    return out


# ----------------------------------------------------------------- decode

def _fail(source: str, message: str):
    raise ImageError(f"{source}: {message}")


def _read_header(data: bytes) -> dict:
    values = Reader(Bits.from_bytes(data[:HEADER_BITS // 8])).read_list(HEADER_FORMAT)
    return {name: value for (name, _), value in zip(HEADER, values, strict=True)}


def _check_frame(data: bytes, source: str) -> None:
    """Magic, version, length and CRC: everything checked before any count is trusted."""
    got = len(data) * 8
    if data[:4] != MAGIC:
        if len(data) < 4 and MAGIC.startswith(data):
            _fail(source, f"truncated: expected at least {MIN_BITS} bits, got {got}")
        _fail(source, f"not a neurochip core image: magic {data[:4]!r}, expected {MAGIC!r}")
    if len(data) < 6:
        _fail(source, f"truncated: expected at least {MIN_BITS} bits, got {got}")
    version = int.from_bytes(data[4:6], "big")
    if version != VERSION:
        _fail(source, f"unsupported image format version {version} (this neurochip reads "
                      f"version {VERSION})")
    if got < MIN_BITS:
        _fail(source, f"truncated: expected at least {MIN_BITS} bits, got {got}")
    length = int.from_bytes(data[6:10], "big")
    if length * 8 > got:
        _fail(source, f"truncated: expected {length * 8} bits (the length in its header), "
                      f"got {got}")
    if length < len(data):
        _fail(source, f"{len(data) - length} trailing bytes after the image (its header "
                      f"gives {length} bytes, got {len(data)})")
    stored = int.from_bytes(data[-4:], "big")
    computed = zlib.crc32(data[:-4])
    if stored != computed:
        _fail(source, f"CRC mismatch: stored 0x{stored:08x}, computed 0x{computed:08x} "
                      f"(the image is corrupted)")


def _spec_from_header(h: dict, source: str) -> CoreSpec:
    values = {name: h[name] for name in CAPACITY_FIELDS + WIDTH_FIELDS}
    values["dialect"] = MODELS[h["model"]]
    for name, codes in MODE_FIELDS:
        if h[name] >= len(codes):
            _fail(source, f"{name} code {h[name]} unknown (codes 0..{len(codes) - 1}: "
                          f"{', '.join(codes)})")
        values[name] = codes[h[name]]
    try:
        return CoreSpec(**values)
    except SpecError as error:
        _fail(source, f"header: {error}")


def decode_core(data: bytes, source: str = "<bytes>") -> CoreImage:
    """The ``CoreImage`` in ``data``; ``ImageError`` (naming ``source``) if it is not one."""
    data = bytes(data)
    _check_frame(data, source)
    h = _read_header(data)
    if h["model"] >= len(MODELS):
        _fail(source, f"firmware model code {h['model']} unknown (known: "
                      f"{', '.join(f'{i} {m}' for i, m in enumerate(MODELS))})")
    spec = _spec_from_header(h, source)
    width, height = h["mesh_width"], h["mesh_height"]
    if width < 1 or height < 1:
        _fail(source, f"mesh {width}×{height}: each side must be at least 1")
    core_id = h["core_id"]
    if core_id >= width * height:
        _fail(source, f"core {core_id} is not on the {width}×{height} mesh")
    slots, axons, words, entries = h["slots"], h["axons"], h["words"], h["entries"]
    for count, what, capacity in ((slots, "neuron slots", "n_slots"),
                                  (axons, "axons", "n_axons"),
                                  (words, "synapse words", "synapse_words"),
                                  (entries, "routing entries", "routing_entries")):
        if count > getattr(spec, capacity):
            _fail(source, f"counts beyond capacity: {count} {what}, capacity {capacity}="
                          f"{getattr(spec, capacity)}")
    widths = body_widths(spec, (width, height))
    expected = image_size_bits(spec, (width, height), slots, axons, words, entries)
    if expected != h["length"] * 8:
        _fail(source, f"inconsistent header: its counts need {expected} bits, its length "
                      f"is {h['length'] * 8} bits")

    reader = Reader(Bits.from_bytes(data[:-4]), HEADER_BITS)

    def read(n: int, bits: int, signed: bool = False) -> np.ndarray:
        if bits == 0 or n == 0:
            return np.zeros(n, dtype=np.int64)
        values = reader.read_array(f"{'i' if signed else 'u'}{bits}", n).tolist()
        return np.array(values, dtype=np.int64 if bits <= 63 else object)

    def read_records(n: int, columns) -> list[np.ndarray]:
        return _split_records(read(n, sum(b for b, _ in columns)), columns)

    model = FIRMWARE[spec.dialect]
    values = {name: read(slots, fmt.bits, fmt.signed) for name, fmt in widths.params.items()}
    if {f.name for f in fields(model.params_type)} - set(values):
        # fields the spec gives no bits (the LIF leak mantissas with leak_bits = 0): the
        # record's defaults (m = 1)
        params = model.params_type.make(slots, **values)
    else:
        params = model.params_type(**values)
    row_length, w_exp = read_records(axons, [(widths.row_length, False),
                                             (widths.w_exp, False)])
    slot, w, target = read_records(words, [(widths.slot, False), (widths.w, True),
                                           (widths.target, False)])
    fanout = read(slots, widths.fanout)
    core, axon, delay = read_records(entries, [(widths.core, False), (widths.axon, False),
                                               (widths.delay, False)])
    if reader.remaining >= 8 or reader.read_bits(reader.remaining).count(1):
        _fail(source, "padding before the CRC is not zero bits")
    if int(row_length.sum()) != words:
        _fail(source, f"synapse rows hold {int(row_length.sum())} words, the header says "
                      f"{words}")
    if int(fanout.sum()) != entries:
        _fail(source, f"slots' routing counts add up to {int(fanout.sum())} entries, the "
                      f"header says {entries}")
    # through from_lists, so the arrays have the dtypes every SynapseMemory has
    synapses = SynapseMemory.from_lists(axons, np.repeat(np.arange(axons), row_length),
                                        slot, w, w_exp, target if widths.target else None)
    routes = RoutingTable.from_lists(slots, np.repeat(np.arange(slots), fanout), axon, delay,
                                     core)
    try:
        validate_core(spec, model, params, synapses, routes, core_id, width * height)
    except SpecError as error:
        _fail(source, str(error))
    if h["lfsr_seed"] == 0:
        _fail(source, "lfsr_seed 0 (zero locks the LFSR)")
    return CoreImage(spec, CoreConfig(params, synapses, routes, h["lfsr_seed"]), core_id,
                     (width, height))
