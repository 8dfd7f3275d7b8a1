"""The layout of a binary core image: header fields, codes, body widths and sizes.

The layout, bit by bit, is in ``docs/images.md``; in short:

* a byte-aligned header (72 bytes, big-endian): magic ``b"NCIM"``, format version,
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
"""

from __future__ import annotations

from dataclasses import dataclass

from firmware_models import MODELS as FIRMWARE

from ...hardware.spec import CoreSpec

MAGIC = b"NCIM"
VERSION = 2  # 2: leak_bits in the header, the LIF leak mantissas m_i, m_v, m_theta
MODELS = ("lif", "loihi", "xylo")  # header model codes: the CoreSpec dialects, fixed here
# Mode codes are fixed here (not taken from the order of the tuples in ``fixed``) so an
# image keeps its meaning whatever that module does.
OVERFLOW_CODES = ("saturate", "wrap")
ROUNDING_CODES = ("floor", "nearest", "zero")
CHECK_CODES = ("off", "count", "strict")

CAPACITY_FIELDS = ("n_slots", "n_axons", "synapse_words", "routing_entries", "max_fanout")
WIDTH_FIELDS = ("i_bits", "v_bits", "theta_bits", "ref_bits", "w_bits", "w_exp_bits",
                "delay_bits", "shift_bits", "noise_bits_max", "leak_bits")
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
HEADER_BITS = sum(32 if d == "bytes4" else int(d[1:]) for _, d in HEADER)  # 576
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


def image_sections(widths: BodyWidths, slots: int, axons: int, words: int, entries: int):
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
    return sum(bits for _, bits in image_sections(body_widths(spec, mesh), slots, axons,
                                                  words, entries))
