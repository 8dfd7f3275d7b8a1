"""Encoding: ``encode_core`` packs one core's configuration into its image, and
``CoreImage``, what an image holds (``same_config`` compares two configurations)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, fields

import numpy as np
from bitstring import Array, Bits, pack

from firmware_models import MODELS as FIRMWARE

from ...hardware.chip import CoreConfig
from ...hardware.routing import RoutingTable
from ...hardware.spec import CoreSpec, SpecError
from ...hardware.synapses import SynapseMemory
from ...hardware.validation import validate_core
from .layout import (CAPACITY_FIELDS, HEADER, HEADER_FORMAT, MAGIC, MAX_IMAGE_BITS,
                     MODE_FIELDS, MODELS, U16, U32, VERSION, WIDTH_FIELDS, ImageError,
                     body_widths, image_size_bits)


@dataclass(frozen=True, eq=False)
class CoreImage:
    """What an image holds. ``==`` compares every array element by element."""

    spec: CoreSpec
    config: CoreConfig
    core_id: int
    mesh: tuple[int, int]

    def __eq__(self, other):
        if not isinstance(other, CoreImage):
            return NotImplemented
        return (self.spec == other.spec and self.core_id == other.core_id
                and tuple(self.mesh) == tuple(other.mesh)
                and same_config(self.config, other.config))

    __hash__ = None

    def to_bytes(self) -> bytes:
        return encode_core(self.spec, self.config, self.core_id, self.mesh)


def _same_arrays(a, b, names) -> bool:
    return all(np.array_equal(np.asarray(getattr(a, n)), np.asarray(getattr(b, n)))
               for n in names)


def same_config(a: CoreConfig, b: CoreConfig) -> bool:
    """Whether two configs hold the same values (``None`` tables count as empty)."""
    pa, sa, ra = normalised(a)
    pb, sb, rb = normalised(b)
    return (type(pa) is type(pb) and int(a.lfsr_seed) == int(b.lfsr_seed)
            and _same_arrays(pa, pb, [f.name for f in fields(pa)])
            and _same_arrays(sa, sb, ("row_start", "slot", "w", "w_exp"))
            and np.array_equal(sa.targets_of_words(), sb.targets_of_words())
            and _same_arrays(ra, rb, ("route_start", "core", "axon", "delay")))


def normalised(config: CoreConfig):
    """(params, synapses, routes) with ``None`` tables replaced as ``Chip`` does."""
    params = config.params
    synapses = config.synapses if config.synapses is not None else SynapseMemory.empty(0)
    routes = config.routes if config.routes is not None else RoutingTable.empty(params.n)
    return params, synapses, routes


def _check_csr(starts: np.ndarray, items: int, what: str, rows: str) -> None:
    starts = np.asarray(starts)
    if starts.ndim != 1 or starts.size < 1 or starts[0] != 0 or starts[-1] != items \
            or np.any(np.diff(starts) < 0):
        raise SpecError(f"{what}: {rows} must start at 0, never decrease and end at {items}")


def _packed(values, bits: int, signed: bool) -> Bits:
    """``values`` at ``bits`` bits each (nothing when ``bits`` is 0: every value is 0)."""
    if bits == 0:
        return Bits()
    return Array(f"{'i' if signed else 'u'}{bits}",
                 np.asarray(values, dtype=np.int64).tolist()).data


def encode_core(spec: CoreSpec, config: CoreConfig, core_id: int,
                mesh: tuple[int, int]) -> bytes:
    """The image of ``config`` as core ``core_id`` of a ``mesh = (width, height)`` chip.

    Refuses (``SpecError``) anything the core cannot hold, and (``ImageError``) specs or
    meshes the header cannot describe.
    """
    width, height = (int(v) for v in mesh)
    where = f"core {core_id}"
    if not (1 <= width <= U16 and 1 <= height <= U16):
        raise ImageError(f"{where}: mesh {width}×{height} cannot be stored (each side "
                         f"1..{U16})")
    if isinstance(core_id, (bool, np.bool_)) or not isinstance(core_id, (int, np.integer)) \
            or not 0 <= core_id < width * height:
        raise ImageError(f"core {core_id!r} is not on the {width}×{height} mesh")
    core_id = int(core_id)
    for name in CAPACITY_FIELDS:
        if getattr(spec, name) > U32:
            raise ImageError(f"{where}: CoreSpec.{name}={getattr(spec, name)} cannot be "
                             f"stored (at most {U32})")
    params, synapses, routes = normalised(config)
    model = FIRMWARE[spec.dialect]
    if not isinstance(params, model.params_type):
        raise ImageError(f"{where}: a {spec.dialect} core stores "
                         f"{model.params_type.__name__}, got {type(params).__name__}")
    seed = config.lfsr_seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) \
            or not 0 < seed <= U32:
        raise SpecError(f"{where}: lfsr_seed must be in 1..2**32-1 (zero locks the LFSR), "
                        f"got {seed!r}")
    _check_csr(synapses.row_start, synapses.words, f"{where} synapse memory", "row_start")
    if not synapses.slot.shape == synapses.w.shape == (synapses.words,) \
            or synapses.w_exp.shape != (synapses.n_axons,):
        raise SpecError(f"{where} synapse memory: slot, w ({synapses.words} words) and "
                        f"w_exp ({synapses.n_axons} axons) differ in length")
    _check_csr(routes.route_start, routes.entries, f"{where} routing table", "route_start")
    if not routes.core.shape == routes.axon.shape == routes.delay.shape:
        raise SpecError(f"{where} routing table: core, axon and delay differ in length")
    validate_core(spec, model, params, synapses, routes, core_id, width * height)

    widths = body_widths(spec, (width, height))
    slots, axons, words, entries = params.n, synapses.n_axons, synapses.words, routes.entries
    total = image_size_bits(spec, (width, height), slots, axons, words, entries)
    if total > MAX_IMAGE_BITS:
        raise ImageError(f"{where}: the image would be {total} bits; CRC32 detects every "
                         f"1- and 2-bit error only up to {MAX_IMAGE_BITS} bits")
    header = dict(magic=MAGIC, version=VERSION, length=total // 8,
                  model=MODELS.index(spec.dialect),
                  mesh_width=width, mesh_height=height, core_id=core_id, slots=slots,
                  axons=axons, words=words, entries=entries, lfsr_seed=int(seed))
    header.update({name: getattr(spec, name) for name in CAPACITY_FIELDS + WIDTH_FIELDS})
    header.update({name: codes.index(getattr(spec, name)) for name, codes in MODE_FIELDS})
    parts = [pack(HEADER_FORMAT, *(header[name] for name, _ in HEADER))]
    for name, fmt in widths.params.items():
        parts.append(_packed(getattr(params, name), fmt.bits, fmt.signed))
    parts += [_interleaved([(np.diff(synapses.row_start), widths.row_length, False),
                            (synapses.w_exp, widths.w_exp, False)]),
              _interleaved([(synapses.slot, widths.slot, False), (synapses.w, widths.w, True),
                            (synapses.targets_of_words(), widths.target, False)]),
              _packed(np.diff(routes.route_start), widths.fanout, False),
              _interleaved([(routes.core, widths.core, False),
                            (routes.axon, widths.axon, False),
                            (routes.delay, widths.delay, False)])]
    body = Bits.from_joined(parts)
    body = Bits.from_joined([body, Bits.from_zeros(-len(body) % 8)]).tobytes()
    image = body + zlib.crc32(body).to_bytes(4, "big")
    assert len(image) * 8 == total, (len(image) * 8, total)
    return image


def _interleaved(columns) -> Bits:
    """Records of several fields, one record after another (field order within each).

    Each record is one unsigned number: its fields (two's complement when signed)
    concatenated, the first field most significant. Zero-width fields take no bits.
    """
    kept = [(np.asarray(v, dtype=np.int64), b) for v, b, _ in columns if b > 0]
    if not kept or kept[0][0].size == 0:
        return Bits()
    total = sum(b for _, b in kept)
    dtype = np.int64 if total <= 63 else object  # wider records: Python integers
    record = np.zeros(kept[0][0].size, dtype=dtype)
    for values, bits in kept:
        record = (record << bits) | (values.astype(dtype) & ((1 << bits) - 1))
    return Array(f"u{total}", record.tolist()).data
