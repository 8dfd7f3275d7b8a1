"""Binary core images: one core's configuration packed at its exact bit widths.

An image holds what one core holds (``CoreConfig``: neuron parameters, synapse memory,
routing table, LFSR seed), the ``CoreSpec`` needed to read it back, the core's id and
the mesh it sits on. The layout, bit by bit, is in ``docs/images.md``; in short:

* a byte-aligned header (71 bytes, big-endian): magic ``b"NCIM"``, format version,
  image length, firmware model, every ``CoreSpec`` field, mesh, core id, the counts
  (slots, axons, synapse words, routing entries) and the LFSR seed;
* the parameter block: every field of the dialect's ``param_formats(spec)`` in order
  (the firmware model of ``spec.dialect``, its code in the header), one value per slot
  at that field's width (two's complement when signed);
* the synapse memory: per axon its row length and ``w_exp``, then per word its slot,
  weight and input target (``ceil(log2(targets))`` bits: none for a model with one
  input per slot, so an LIF image is what it always was);
* the routing table: per slot its entry count, then per entry its destination core,
  axon and delay;
* zero bits up to a byte, then the CRC32 (``zlib.crc32``) of every byte before it.

Every body field is as narrow as the spec allows (a slot index is
``ceil(log2(n_slots))`` bits, a row length just wide enough for ``synapse_words``...).

``decode_core`` refuses, with one line naming the source, an image whose magic,
version, length or CRC is wrong, before it trusts any count; then counts beyond the
capacities and any value the core cannot hold. ``write_chip_images`` / ``load_chip``
store and boot a whole chip (one image per core plus a JSON manifest);
``describe_image`` is the readable dump behind ``python -m neurochip.formats.image IMAGE``.
"""

from __future__ import annotations

import json
import sys
import zlib
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
from bitstring import Array, Bits, Reader, pack

from firmware_models import MODELS as FIRMWARE

from ..hardware.chip import Chip, ChipSpec, CoreConfig
from ..hardware.validation import validate_core
from ..hardware.routing import RoutingTable
from ..hardware.spec import CoreSpec, SpecError
from ..hardware.synapses import SynapseMemory
from ..hardware.timing import TimingTable

__all__ = ["CoreImage", "ImageError", "MAGIC", "VERSION", "BodyWidths", "body_widths",
           "decode_core", "describe_image", "encode_core", "image_size_bits", "load_chip",
           "load_chip_configs", "same_config", "write_chip_images"]

MAGIC = b"NCIM"
VERSION = 1
MODELS = ("lif", "loihi", "xylo")  # header model codes: the CoreSpec dialects, fixed here
# Mode codes are fixed here (not taken from the order of the tuples in ``fixed``) so an
# image keeps its meaning whatever that module does.
OVERFLOW_CODES = ("saturate", "wrap")
ROUNDING_CODES = ("floor", "nearest", "zero")
CHECK_CODES = ("off", "count", "strict")

CAPACITY_FIELDS = ("n_slots", "n_axons", "synapse_words", "routing_entries", "max_fanout")
WIDTH_FIELDS = ("i_bits", "v_bits", "theta_bits", "ref_bits", "w_bits", "w_exp_bits",
                "delay_bits", "shift_bits", "noise_bits_max")
MODE_FIELDS = (("overflow", OVERFLOW_CODES), ("rounding", ROUNDING_CODES),
               ("overflow_check", CHECK_CODES))

# (name, bitstring dtype) of every header field, in order.
HEADER = ([("magic", "bytes4"), ("version", "u16"), ("length", "u32"), ("model", "u8")]
          + [(name, "u32") for name in CAPACITY_FIELDS]
          + [(name, "u8") for name in WIDTH_FIELDS]
          + [(name, "u8") for name, _ in MODE_FIELDS]
          + [("mesh_width", "u16"), ("mesh_height", "u16"), ("core_id", "u32"),
             ("slots", "u32"), ("axons", "u32"), ("words", "u32"), ("entries", "u32"),
             ("lfsr_seed", "u32")])
HEADER_FORMAT = ", ".join(dtype for _, dtype in HEADER)
HEADER_BITS = sum(32 if d == "bytes4" else int(d[1:]) for _, d in HEADER)  # 568
CRC_BITS = 32
MIN_BITS = HEADER_BITS + CRC_BITS
# CRC-32's generator (0x104C11DB7) gives x the multiplicative order 2**32 - 1, so every
# 1- and 2-bit error in a codeword (image with its CRC) of up to 2**32 - 1 bits is
# detected. Longer images are refused when encoding.
MAX_IMAGE_BITS = (1 << 32) - 1

U16, U32 = (1 << 16) - 1, (1 << 32) - 1


class ImageError(ValueError):
    """An image (or image directory) that cannot be read or written, on one line."""


# ----------------------------------------------------------------- widths

def _bits_for(largest: int) -> int:
    """Bits of an unsigned field holding 0..largest (0 bits when largest is 0)."""
    return int(largest).bit_length()


@dataclass(frozen=True)
class BodyWidths:
    """Width in bits of every repeated body field, implied by a spec and a mesh."""

    params: dict             # field name -> FieldFormat (param_formats(spec))
    row_length: int          # per axon: 0..synapse_words
    w_exp: int               # per axon
    slot: int                # per word: 0..n_slots-1
    w: int                   # per word, two's complement
    target: int              # per word: 0..targets-1 (0 bits with one target)
    fanout: int              # per slot: 0..max_fanout
    core: int                # per entry: 0..width*height-1
    axon: int                # per entry: 0..n_axons-1
    delay: int               # per entry

    @property
    def param_bits(self) -> int:
        """Bits of one slot's parameters."""
        return sum(f.bits for f in self.params.values())

    @property
    def axon_bits(self) -> int:
        return self.row_length + self.w_exp

    @property
    def word_bits(self) -> int:
        return self.slot + self.w + self.target

    @property
    def entry_bits(self) -> int:
        return self.core + self.axon + self.delay


def body_widths(spec: CoreSpec, mesh: tuple[int, int]) -> BodyWidths:
    """The minimum widths the spec (and the mesh size, for destination cores) imply."""
    width, height = mesh
    model = FIRMWARE[spec.dialect]
    return BodyWidths(params=model.param_formats(spec),
                      row_length=_bits_for(spec.synapse_words),
                      w_exp=spec.w_exp_bits, slot=_bits_for(spec.n_slots - 1), w=spec.w_bits,
                      target=_bits_for(model.targets - 1),
                      fanout=_bits_for(spec.max_fanout), core=_bits_for(width * height - 1),
                      axon=_bits_for(spec.n_axons - 1), delay=spec.delay_bits)


def _sections(widths: BodyWidths, slots: int, axons: int, words: int, entries: int):
    """(name, bits) of every part of an image, header to CRC."""
    body = HEADER_BITS + slots * widths.param_bits + axons * widths.axon_bits \
        + words * widths.word_bits + slots * widths.fanout + entries * widths.entry_bits
    return [("header", HEADER_BITS), ("parameters", slots * widths.param_bits),
            ("synapse rows", axons * widths.axon_bits),
            ("synapse words", words * widths.word_bits),
            ("route counts", slots * widths.fanout),
            ("route entries", entries * widths.entry_bits),
            ("padding", -body % 8), ("crc32", CRC_BITS)]


def image_size_bits(spec: CoreSpec, mesh: tuple[int, int], slots: int, axons: int,
                    words: int, entries: int) -> int:
    """Total bits of an image (a multiple of 8) with these counts."""
    return sum(bits for _, bits in _sections(body_widths(spec, mesh), slots, axons, words,
                                             entries))


# ----------------------------------------------------------------- values

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
    pa, sa, ra = _normalise(a)
    pb, sb, rb = _normalise(b)
    return (type(pa) is type(pb) and int(a.lfsr_seed) == int(b.lfsr_seed)
            and _same_arrays(pa, pb, [f.name for f in fields(pa)])
            and _same_arrays(sa, sb, ("row_start", "slot", "w", "w_exp"))
            and np.array_equal(sa.targets_of_words(), sb.targets_of_words())
            and _same_arrays(ra, rb, ("route_start", "core", "axon", "delay")))


def _normalise(config: CoreConfig):
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


# ----------------------------------------------------------------- encode

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
    params, synapses, routes = _normalise(config)
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
    params = model.params_type(**{name: read(slots, fmt.bits, fmt.signed)
                                  for name, fmt in widths.params.items()})
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


# ----------------------------------------------------------------- a chip's images

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
    axons = {c: _normalise(configs[c])[1].n_axons for c in images}
    for c in images:
        routes = _normalise(configs[c])[2]
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


# ----------------------------------------------------------------- inspect

def _share(used: int, capacity: int) -> str:
    return f"{used:,} of {capacity:,} ({100 * used / capacity:.1f} %)"


def _needed_bits(values: np.ndarray, signed: bool) -> int:
    """Bits the values actually need (two's complement when signed)."""
    if values.size == 0:
        return 0
    lo, hi = int(values.min()), int(values.max())
    if not signed:
        return hi.bit_length()
    return max((x if x >= 0 else ~x).bit_length() + 1 for x in (lo, hi))


def describe_image(data: bytes, source: str = "<bytes>", show: int = 6) -> str:
    """A readable dump: header, capacity use, bits per field, first values."""
    image = decode_core(data, source)
    spec, config, (width, height) = image.spec, image.config, image.mesh
    params, syn, routes = config.params, config.synapses, config.routes
    widths = body_widths(spec, image.mesh)
    n, axons, words, entries = params.n, syn.n_axons, syn.words, routes.entries
    sections = _sections(widths, n, axons, words, entries)
    total = sum(b for _, b in sections)
    crc = int.from_bytes(bytes(data)[-4:], "big")
    fanout = np.diff(routes.route_start)
    lines = [
        f"{source}: neurochip core image, format version {VERSION}, {len(data):,} bytes, "
        f"CRC32 0x{crc:08x} (ok)",
        f"core {image.core_id} at ({image.core_id % width}, {image.core_id // width}) of a "
        f"{width}×{height} mesh; firmware model {spec.dialect}; LFSR seed "
        f"0x{config.lfsr_seed:08x}",
        "spec: " + ", ".join(f"{name} {getattr(spec, name)}" for name in WIDTH_FIELDS)
        + f"; overflow {spec.overflow}, rounding {spec.rounding}, "
          f"check {spec.overflow_check}",
        "",
        "capacity use:",
        f"  neuron slots     {_share(n, spec.n_slots)} × {widths.param_bits} parameter bits",
        f"  axons            {_share(axons, spec.n_axons)} × {widths.axon_bits} bits "
        f"(row length {widths.row_length} + w_exp {widths.w_exp})",
        f"  synapse words    {_share(words, spec.synapse_words)} × {widths.word_bits} bits "
        f"(slot {widths.slot} + w {widths.w}"
        + (f" + target {widths.target})" if widths.target else ")"),
        f"  routing entries  {_share(entries, spec.routing_entries)} × {widths.entry_bits} "
        f"bits (core {widths.core} + axon {widths.axon} + delay {widths.delay})",
        f"  largest fan-out  {int(fanout.max(initial=0)):,} of {spec.max_fanout:,} "
        f"({widths.fanout}-bit count per slot)",
        "",
        "fields (bits each × count = bits; the values stored need):",
    ]

    def row(name, bits, count, unit, values=None, signed=False):
        text = f"  {name:<14} {bits:>2} bits × {count:,} {unit} = {bits * count:,} bits"
        if values is not None and values.size:
            text += (f"; values {int(values.min())}..{int(values.max())} need "
                     f"{_needed_bits(values, signed)} bits")
        lines.append(text)

    for name, fmt in widths.params.items():
        row(name, fmt.bits, n, "slots", getattr(params, name), fmt.signed)
    row("row length", widths.row_length, axons, "axons", np.diff(syn.row_start))
    row("w_exp", widths.w_exp, axons, "axons", syn.w_exp)
    row("word slot", widths.slot, words, "words", syn.slot)
    row("word w", widths.w, words, "words", syn.w, True)
    row("entry count", widths.fanout, n, "slots", fanout)
    row("entry core", widths.core, entries, "entries", routes.core)
    row("entry axon", widths.axon, entries, "entries", routes.axon)
    row("entry delay", widths.delay, entries, "entries", routes.delay)
    lines += ["", "sections:"]
    lines += [f"  {name:<14} {bits:>12,} bits" for name, bits in sections]
    lines.append(f"  {'total':<14} {total:>12,} bits = {total // 8:,} bytes")

    if n:
        shown = min(n, show)
        names = list(widths.params)
        lines += ["", f"parameters (first {shown} of {n:,} slots):",
                  "  slot " + " ".join(f"{name:>10}" for name in names)]
        for j in range(shown):
            lines.append(f"  {j:>4} " + " ".join(f"{int(getattr(params, name)[j]):>10}"
                                                  for name in names))
    if axons:
        shown = min(axons, show)
        lines += ["", f"synapse rows (first {shown} of {axons:,} axons):"]
        for a in range(shown):
            lo, hi = int(syn.row_start[a]), int(syn.row_start[a + 1])
            cells = ", ".join(f"{int(syn.slot[k])}:{int(syn.w[k])}"
                              for k in range(lo, min(hi, lo + show)))
            more = f", … {hi - lo - show} more" if hi - lo > show else ""
            lines.append(f"  axon {a:>4}: w_exp {int(syn.w_exp[a])}, {hi - lo} words "
                         f"(slot:w) [{cells}{more}]")
    if entries:
        with_entries = np.flatnonzero(fanout)
        shown = min(with_entries.size, show)
        lines += ["", f"routing (first {shown} of {with_entries.size:,} slots with "
                      f"entries; core/axon/delay):"]
        for j in with_entries[:shown]:
            lo, hi = int(routes.route_start[j]), int(routes.route_start[j + 1])
            cells = ", ".join(f"{int(routes.core[k])}/{int(routes.axon[k])}/"
                              f"{int(routes.delay[k])}" for k in range(lo, min(hi, lo + show)))
            more = f", … {hi - lo - show} more" if hi - lo > show else ""
            lines.append(f"  slot {int(j):>4}: {hi - lo} entries [{cells}{more}]")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m neurochip.formats.image IMAGE...``: print each image's dump (exit 1 if one is
    refused)."""
    paths = sys.argv[1:] if argv is None else argv
    if not paths:
        print("usage: python -m neurochip.formats.image IMAGE...", file=sys.stderr)
        return 2
    status = 0
    try:
        for k, name in enumerate(paths):
            try:
                data = Path(name).read_bytes()
            except OSError as error:
                print(f"{name}: cannot read: {error.strerror}", file=sys.stderr)
                status = 1
                continue
            try:
                print(("\n" if k else "") + describe_image(data, name))
            except ImageError as error:
                print(error, file=sys.stderr)
                status = 1
    except BrokenPipeError:  # output piped into a reader that stopped early (e.g. head)
        sys.stderr.close()
    return status


if __name__ == "__main__":
    sys.exit(main())
