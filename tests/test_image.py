"""Binary core images (``neurochip.formats.image``, docs/images.md).

* decode(encode(x)) == x for random specs (every width, capacities from 1 to 2**32-1,
  every mode, meshes up to 65535×65535) and random contents within them, field by field;
  the image is exactly as long as the documented layout says.
* The worked example of docs/images.md encodes to the bytes printed there.
* Every single-bit flip and every double-bit flip of the small image is refused (and
  random double flips of random larger images); truncation at every length is refused;
  wrong magic, wrong version, trailing bytes and CRC mismatch have exact messages; an
  image with a valid CRC but counts beyond capacity, unknown codes or values a core
  cannot hold is refused.
* A chip booted from images written to disk runs bit-identically (spikes, registers,
  overflow counts over 50 ticks, numpy backend) to the chip ``place`` built in memory.
* The image directory: refused when non-empty unless overwrite; stale, stray and
  mismatched images are refused on load.
"""

from __future__ import annotations

import json
import os
import re
import sys
import zlib
from dataclasses import fields, replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import router_sim  # noqa: E402

import neurochip.compiler.placement as mapping  # noqa: E402
from firmware_models.lif import LifParams  # noqa: E402
from firmware_models.lif.kernel import param_formats  # noqa: E402
from neurochip.formats import image as im  # noqa: E402
from neurochip.hardware.chip import ChipSpec, CoreConfig  # noqa: E402
from neurochip.formats.image import (HEADER_BITS, CoreImage, ImageError,  # noqa: E402
                             decode_core, describe_image, encode_core, image_size_bits,
                             load_chip, load_chip_configs, same_config, write_chip_images)
from neurochip.hardware.routing import RoutingTable  # noqa: E402
from neurochip.hardware.spec import CoreSpec, SpecError  # noqa: E402
from neurochip.hardware.synapses import SynapseMemory  # noqa: E402
from neurochip.hardware.timing import TimingTable  # noqa: E402

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                      HealthCheck.data_too_large,
                                                      HealthCheck.function_scoped_fixture])
REGISTERS = ("v", "i", "theta", "ref")


def exactly(message: str) -> str:
    return "^" + re.escape(message) + "$"


# ----------------------------------------------------------------- the worked example

def tiny():
    """The core of the worked example in docs/images.md."""
    spec = CoreSpec(n_slots=4, n_axons=2, synapse_words=8, routing_entries=4, max_fanout=2,
                    i_bits=8, v_bits=8, theta_bits=4, ref_bits=2, w_bits=4, w_exp_bits=2,
                    delay_bits=2, shift_bits=3, noise_bits_max=3, leak_bits=0)
    params = LifParams.make(2, k_i=[1, 2], k_v=3, k_theta=0, bias=[-3, 5], v_th=[100, 7],
                            v_reset=-2, t_ref=[0, 3], alpha=[0, 5],
                            reset_mode=["value", "subtract"], noise_bits=[0, 3],
                            noise_shift=[0, 1])
    synapses = SynapseMemory.from_lists(2, axon=[0, 0, 1], slot=[0, 1, 1], w=[3, -8, 7],
                                        w_exp=[1, 2])
    routes = RoutingTable.from_lists(2, slot=[0, 1, 1], axon=[1, 0, 1], delay=[1, 3, 2],
                                     core=[1, 0, 3])
    return spec, CoreConfig(params, synapses, routes, 0xACE1), 2, (2, 2)


TINY_HEX = ("4e43494d" "0002" "0000005e" "00"                            # magic .. model
            "00000004" "00000002" "00000008" "00000004" "00000002"     # capacities
            "08080402040202030300" "000001"                             # widths, modes
            "0002" "0002" "00000002"                                    # mesh, core id
            "00000002" "00000002" "00000003" "00000003" "0000ace1"     # counts, seed
            "29b03f417207fefe30513049183617668fc0"                      # body, padding
            "94352ba7")                                                 # CRC32


def tiny_bytes() -> bytes:
    return encode_core(*tiny())


def test_worked_example_bytes():
    data = tiny_bytes()
    assert data.hex() == TINY_HEX
    assert len(data) == 94 and HEADER_BITS == 576
    assert decode_core(data) == CoreImage(*tiny())


# ----------------------------------------------------------------- round trip

def spread(rng, lo: int, hi: int, size: int) -> np.ndarray:
    """Values in lo..hi, a tenth of them exactly at an end, the rest over all magnitudes."""
    if size == 0:
        return np.zeros(0, dtype=np.int64)
    bits = rng.integers(0, max(abs(lo), abs(hi)).bit_length() + 1, size)
    magnitude = np.array([int(rng.integers(0, 1 << int(b))) if b else 0 for b in bits])
    sign = np.where(rng.random(size) < 0.5, -1, 1) if lo < 0 else 1
    values = np.clip(sign * magnitude, lo, hi)
    ends = rng.random(size)
    return np.where(ends < 0.05, lo, np.where(ends < 0.1, hi, values)).astype(np.int64)


capacity = st.one_of(st.integers(1, 40), st.integers(1, 2 ** 32 - 1))
specs = st.builds(
    CoreSpec, n_slots=capacity, n_axons=capacity, synapse_words=capacity,
    routing_entries=capacity, max_fanout=capacity,
    i_bits=st.integers(2, 32), v_bits=st.integers(3, 32), theta_bits=st.integers(1, 32),
    ref_bits=st.integers(1, 16), w_bits=st.integers(2, 16), w_exp_bits=st.integers(0, 4),
    delay_bits=st.integers(1, 8), shift_bits=st.integers(1, 5),
    noise_bits_max=st.integers(0, 31), leak_bits=st.integers(0, 16),
    overflow=st.sampled_from(["saturate", "wrap"]),
    rounding=st.sampled_from(["floor", "nearest", "zero"]),
    overflow_check=st.sampled_from(["off", "count", "strict"]))
meshes = st.one_of(st.tuples(st.integers(1, 5), st.integers(1, 5)),
                   st.tuples(st.integers(1, 65535), st.integers(1, 65535)))


def random_config(rng, spec: CoreSpec, mesh) -> tuple[CoreConfig, int]:
    """Random contents within ``spec`` and the mesh, and a core id on it."""
    n = int(rng.integers(0, min(spec.n_slots, 20) + 1))
    values = {}
    for name, fmt in param_formats(spec).items():
        lo, hi = fmt.range
        if name == "noise_bits":
            hi = min(hi, spec.noise_bits_max)
        values[name] = spread(rng, lo, hi, n)
    for m, k in (("m_i", "k_i"), ("m_v", "k_v"), ("m_theta", "k_theta")):
        if m in values:  # the decay 1 - m 2^-k must not be negative: m <= 2^k
            values[m] = np.minimum(values[m], np.int64(1) << values[k])
    params = LifParams.make(n, **values)
    n_axons = int(rng.integers(0, min(spec.n_axons, 10) + 1))
    words = int(rng.integers(0, min(spec.synapse_words, 40) + 1)) if n and n_axons else 0
    w_lo, w_hi = -(1 << (spec.w_bits - 1)), (1 << (spec.w_bits - 1)) - 1
    synapses = SynapseMemory.from_lists(
        n_axons, rng.integers(0, max(n_axons, 1), words), rng.integers(0, max(n, 1), words),
        spread(rng, w_lo, w_hi, words), spread(rng, 0, spec.max_w_exp, n_axons))
    fanout = np.minimum(rng.integers(0, min(spec.max_fanout, 4) + 1, n),
                        spec.max_fanout)
    while fanout.sum() > spec.routing_entries:
        fanout[int(np.argmax(fanout))] -= 1
    entries = int(fanout.sum())
    n_cores = mesh[0] * mesh[1]
    routes = RoutingTable.from_lists(
        n, np.repeat(np.arange(n), fanout), spread(rng, 0, spec.n_axons - 1, entries),
        spread(rng, 1, spec.max_delay, entries), spread(rng, 0, n_cores - 1, entries))
    seed = int(spread(rng, 1, 2 ** 32 - 1, 1)[0])
    core_id = int(spread(rng, 0, n_cores - 1, 1)[0])
    return CoreConfig(params, synapses, routes, seed), core_id


def assert_same_arrays(got, want, names):
    for name in names:
        a, b = getattr(got, name), getattr(want, name)
        assert a.dtype.kind == "i", name
        assert np.array_equal(a, np.asarray(b)), name


@settings(max_examples=300, **SETTINGS)
@given(spec=specs, mesh=meshes, seed=st.integers(0, 2 ** 32 - 1))
def test_decode_encode_is_identity(spec, mesh, seed):
    rng = np.random.default_rng(seed)
    config, core_id = random_config(rng, spec, mesh)
    data = encode_core(spec, config, core_id, mesh)
    syn, routes = config.synapses, config.routes
    assert len(data) * 8 == image_size_bits(spec, mesh, config.params.n, syn.n_axons,
                                            syn.words, routes.entries)
    got = decode_core(data)
    assert got == CoreImage(spec, config, core_id, mesh)
    # the same, field by field
    assert got.spec == spec
    assert all(getattr(got.spec, f.name) == getattr(spec, f.name) for f in fields(CoreSpec))
    assert got.core_id == core_id and got.mesh == tuple(mesh)
    assert got.config.lfsr_seed == config.lfsr_seed
    assert_same_arrays(got.config.params, config.params,
                       [f.name for f in fields(LifParams)])
    assert_same_arrays(got.config.synapses, syn, ("row_start", "slot", "w", "w_exp"))
    for name in ("slot", "w"):  # the compact dtypes SynapseMemory.from_lists chooses
        assert getattr(got.config.synapses, name).dtype == getattr(syn, name).dtype, name
    assert_same_arrays(got.config.routes, routes, ("route_start", "core", "axon", "delay"))
    assert encode_core(got.spec, got.config, got.core_id, got.mesh) == data


def test_widest_fields_round_trip():
    """Capacities of 2**32-1 and a 65535×65535 mesh: 32-bit slot, core and axon fields
    (an entry record of 72 bits), every value at the ends of its range."""
    big = 2 ** 32 - 1
    spec = CoreSpec(n_slots=big, n_axons=big, synapse_words=big, routing_entries=big,
                    max_fanout=big, i_bits=32, v_bits=32, theta_bits=32, ref_bits=16,
                    w_bits=16, w_exp_bits=4, delay_bits=8, shift_bits=5, noise_bits_max=31)
    mesh = (65535, 65535)
    lo, hi = -(1 << 31), (1 << 31) - 1
    params = LifParams.make(2, k_i=[0, 31], k_v=[31, 0], k_theta=31, bias=[lo, hi],
                            v_th=[0, hi], v_reset=[hi, lo], t_ref=[0, 65535],
                            alpha=[0, big], reset_mode=["none", "value"],
                            noise_bits=[31, 0], noise_shift=[31, 0])
    synapses = SynapseMemory.from_lists(2, [1, 1], [0, 1], [-32768, 32767], [0, 15])
    routes = RoutingTable.from_lists(2, [0, 1, 1], [big - 1, 0, 5], [255, 1, 128],
                                     [65535 * 65535 - 1, 0, 12345])
    config = CoreConfig(params, synapses, routes, big)
    widths = im.body_widths(spec, mesh)
    assert (widths.slot, widths.core, widths.axon, widths.entry_bits) == (32, 32, 32, 72)
    data = encode_core(spec, config, 65535 * 65535 - 1, mesh)
    assert decode_core(data) == CoreImage(spec, config, 65535 * 65535 - 1, mesh)


def test_empty_tables_are_stored_as_empty():
    spec = CoreSpec(n_slots=8)
    config = CoreConfig(LifParams.make(3))
    got = decode_core(encode_core(spec, config, 0, (1, 1)))
    assert got.config.synapses.n_axons == 0 and got.config.routes.entries == 0
    assert got == CoreImage(spec, config, 0, (1, 1))  # None counts as empty


# ----------------------------------------------------------------- corruption

def test_every_single_bit_flip_is_refused():
    data = tiny_bytes()
    value, n = int.from_bytes(data, "big"), len(data) * 8
    for bit in range(n):
        flipped = (value ^ (1 << (n - 1 - bit))).to_bytes(len(data), "big")
        with pytest.raises(ImageError) as error:
            decode_core(flipped, "x")
        byte = bit // 8
        kind = ("not a neurochip core image" if byte < 4 else "unsupported image format"
                if byte < 6 else ("truncated", "trailing") if byte < 10 else "CRC mismatch")
        message = str(error.value)
        assert message.startswith("x: ")
        assert any(k in message for k in ((kind,) if isinstance(kind, str) else kind)), \
            (bit, message)


def test_every_double_bit_flip_is_refused():
    data = tiny_bytes()
    value, n = int.from_bytes(data, "big"), len(data) * 8
    accepted = []
    for i in range(n):
        once = value ^ (1 << i)
        for j in range(i + 1, n):
            try:
                decode_core((once ^ (1 << j)).to_bytes(len(data), "big"))
            except ImageError:
                continue
            accepted.append((i, j))
    assert accepted == []


@settings(max_examples=200, **SETTINGS)
@given(spec=specs, mesh=meshes, seed=st.integers(0, 2 ** 32 - 1), data=st.data())
def test_random_double_bit_flips_are_refused(spec, mesh, seed, data):
    config, core_id = random_config(np.random.default_rng(seed), spec, mesh)
    image = encode_core(spec, config, core_id, mesh)
    n = len(image) * 8
    i = data.draw(st.integers(0, n - 1))
    j = data.draw(st.integers(0, n - 1).filter(lambda j: j != i))
    flipped = (int.from_bytes(image, "big") ^ (1 << i) ^ (1 << j)).to_bytes(len(image), "big")
    with pytest.raises(ImageError):
        decode_core(flipped)


def test_crc32_detects_every_double_flip_up_to_the_documented_bound():
    """x has order 2**32 - 1 modulo CRC-32's generator: a 2-bit error x^i (1 + x^d) is a
    multiple of it only when d is a multiple of 2**32 - 1 (docs/images.md)."""
    generator = 0x104C11DB7

    def times(a, b):
        product = 0
        while b:
            if b & 1:
                product ^= a
            b >>= 1
            a <<= 1
            if a >> 32 & 1:
                a ^= generator
        return product

    def x_power(e):
        result, base = 1, 2
        while e:
            if e & 1:
                result = times(result, base)
            base = times(base, base)
            e >>= 1
        return result

    order = 2 ** 32 - 1  # = 3 · 5 · 17 · 257 · 65537
    assert x_power(order) == 1
    assert all(x_power(order // p) != 1 for p in (3, 5, 17, 257, 65537))
    assert im.MAX_IMAGE_BITS == order


def test_truncation_at_every_length_is_refused():
    data = tiny_bytes()
    for length in range(len(data)):
        with pytest.raises(ImageError, match=r"^t: truncated: expected "):
            decode_core(data[:length], "t")
    with pytest.raises(ImageError, match=exactly("t: truncated: expected at least 608 bits, "
                                                 "got 16")):
        decode_core(data[:2], "t")
    with pytest.raises(ImageError, match=exactly("t: truncated: expected 752 bits (the length "
                                                 "in its header), got 744")):
        decode_core(data[:-1], "t")


def test_wrong_magic_version_trailing_and_crc_messages():
    data = tiny_bytes()
    with pytest.raises(ImageError, match=exactly(
            "a.ncim: not a neurochip core image: magic b'PK\\x03\\x04', expected b'NCIM'")):
        decode_core(b"PK\x03\x04" + data[4:], "a.ncim")
    with pytest.raises(ImageError, match=exactly(
            "a.ncim: not a neurochip core image: magic b'{}', expected b'NCIM'")):
        decode_core(b"{}", "a.ncim")
    with pytest.raises(ImageError, match=exactly(
            "a.ncim: unsupported image format version 1 (this neurochip reads version 2)")):
        decode_core(data[:4] + (1).to_bytes(2, "big") + data[6:], "a.ncim")
    with pytest.raises(ImageError, match=exactly(
            "a.ncim: 3 trailing bytes after the image (its header gives 94 bytes, got 97)")):
        decode_core(data + b"\0\0\0", "a.ncim")
    body = bytearray(data)
    body[80] ^= 0x10
    computed = zlib.crc32(bytes(body[:-4]))
    with pytest.raises(ImageError, match=exactly(
            f"a.ncim: CRC mismatch: stored 0x94352ba7, computed 0x{computed:08x} "
            f"(the image is corrupted)")):
        decode_core(bytes(body), "a.ncim")
    with pytest.raises(ImageError, match=exactly(
            "<bytes>: truncated: expected at least 608 bits, got 0")):
        decode_core(b"")


def resealed(data: bytes, offset: int, value: bytes) -> bytes:
    """``data`` with ``value`` written at ``offset`` and a fresh (valid) CRC."""
    body = bytearray(data[:-4])
    body[offset:offset + len(value)] = value
    return bytes(body) + zlib.crc32(bytes(body)).to_bytes(4, "big")


HEADER_OFFSETS = {}
_offset = 0
for _name, _dtype in im.HEADER:
    HEADER_OFFSETS[_name] = _offset
    _offset += 4 if _dtype == "bytes4" else int(_dtype[1:]) // 8


@pytest.mark.parametrize("field, value, message", [
    ("slots", 5, "counts beyond capacity: 5 neuron slots, capacity n_slots=4"),
    ("axons", 3, "counts beyond capacity: 3 axons, capacity n_axons=2"),
    ("words", 9, "counts beyond capacity: 9 synapse words, capacity synapse_words=8"),
    ("entries", 5, "counts beyond capacity: 5 routing entries, capacity routing_entries=4"),
    ("words", 4, "inconsistent header: its counts need 760 bits, its length is 752 bits"),
    ("overflow", 2, "overflow code 2 unknown (codes 0..1: saturate, wrap)"),
    ("rounding", 7, "rounding code 7 unknown (codes 0..2: floor, nearest, zero)"),
    ("model", 3, "firmware model code 3 unknown (known: 0 lif, 1 loihi, 2 xylo)"),
    ("v_bits", 2, "header: CoreSpec.v_bits must be an integer in 3..32, got 2"),
    ("n_slots", 0, "header: CoreSpec.n_slots must be a positive integer, got 0"),
    ("core_id", 4, "core 4 is not on the 2×2 mesh"),
    ("mesh_width", 0, "mesh 0×2: each side must be at least 1"),
    ("lfsr_seed", 0, "lfsr_seed 0 (zero locks the LFSR)"),
])
def test_sealed_but_impossible_headers_are_refused(field, value, message):
    data = tiny_bytes()
    size = dict(im.HEADER)[field]
    raw = value.to_bytes(int(size[1:]) // 8, "big")
    with pytest.raises(ImageError, match=exactly("h: " + message)):
        decode_core(resealed(data, HEADER_OFFSETS[field], raw), "h")


def test_sealed_but_impossible_values_are_refused():
    data = tiny_bytes()
    body = int.from_bytes(data[72:-4], "big")  # 144 bits: 139 body + 5 padding
    n = 144

    def with_bits(start: int, width: int, value: int) -> bytes:
        shift = n - start - width
        patched = (body & ~(((1 << width) - 1) << shift)) | (value << shift)
        return resealed(data, 72, patched.to_bytes(18, "big"))

    # reset_mode of slot 0: after k_i, k_v, k_theta (3×2×3), bias, v_th, v_reset, t_ref,
    # alpha (2×(8+7+8+2+4)) = 18 + 58 bits
    with pytest.raises(ImageError, match=exactly(
            "h: core 2, slot 0: parameter reset_mode=3 outside 0..2 (2-bit unsigned)")):
        decode_core(with_bits(76, 2, 3), "h")
    # noise_bits of slot 1 above noise_bits_max is impossible here (2 bits, max 3): use
    # a delay of 0 instead: first entry's delay is the last 2 bits of its 5-bit record
    entries_at = 90 + 12 + 18 + 4
    with pytest.raises(ImageError, match=exactly(
            "h: core 2 routing table, slot 0 entry 0: delay=0 outside 1..3")):
        decode_core(with_bits(entries_at + 3, 2, 0), "h")
    # a word's slot index 3 when the core has 2 neurons
    words_at = 90 + 12
    with pytest.raises(ImageError, match=exactly(
            "h: core 2 synapse memory, axon 0 word 0: slot=3 outside 0..1")):
        decode_core(with_bits(words_at, 2, 3), "h")
    # the first row one word longer: rows no longer add up to the header's word count
    with pytest.raises(ImageError, match=exactly(
            "h: synapse rows hold 4 words, the header says 3")):
        decode_core(with_bits(90, 4, 3), "h")
    with pytest.raises(ImageError, match=exactly(
            "h: padding before the CRC is not zero bits")):
        decode_core(with_bits(139, 5, 1), "h")


# ----------------------------------------------------------------- encoding refusals

def test_encode_refuses_what_the_core_cannot_hold():
    spec, config, core, mesh = tiny()
    with pytest.raises(SpecError, match=exactly(
            "core 2, slot 0: parameter v_th=200 outside 0..127 (7-bit unsigned)")):
        encode_core(spec, replace(config, params=LifParams.make(2, v_th=200)), core, mesh)
    with pytest.raises(SpecError, match=exactly(
            "core 2: lfsr_seed must be in 1..2**32-1 (zero locks the LFSR), got 0")):
        encode_core(spec, replace(config, lfsr_seed=0), core, mesh)
    with pytest.raises(ImageError, match=exactly("core 4 is not on the 2×2 mesh")):
        encode_core(spec, config, 4, mesh)
    with pytest.raises(ImageError, match=exactly(
            "core 0: mesh 70000×1 cannot be stored (each side 1..65535)")):
        encode_core(spec, config, 0, (70000, 1))
    with pytest.raises(SpecError, match=r"routing table, slot 0 entry 0: core=1 outside 0..0"):
        encode_core(spec, config, 0, (1, 1))


# ----------------------------------------------------------------- a chip from images

def placed(seed: int):
    """A random network placed on a 2×2 mesh by ``place``, and the configs it built."""
    rng = np.random.default_rng(seed)
    core_spec = CoreSpec(n_slots=32, n_axons=256, synapse_words=512, routing_entries=256,
                         max_fanout=64, overflow=["saturate", "wrap"][seed % 2],
                         rounding=["floor", "nearest", "zero"][seed % 3],
                         i_bits=int(rng.integers(8, 17)), v_bits=int(rng.integers(10, 17)),
                         delay_bits=int(rng.integers(1, 5)))
    net = router_sim.random_network(rng, core_spec, n_max=30, synapses_max=150, noise=True)
    spec = ChipSpec(2, 2, core=core_spec, timing=TimingTable(row_fetch=3, hop_y=2),
                    clock_hz=50e6)
    core_of = rng.integers(0, 4, net.n)
    seeds = {c: int(rng.integers(1, 2 ** 32)) for c in range(4)}
    built = {}
    real_chip = mapping.Chip

    def capturing(chip_spec, configs, **kw):
        built.update(configs)
        return real_chip(chip_spec, configs, **kw)

    mapping.Chip = capturing
    try:
        chip, input_map = mapping.place(net, core_of, spec, seeds)
    finally:
        mapping.Chip = real_chip
    ticks = 50
    channel = rng.integers(0, 3, (ticks, net.n_inputs)) * (
        rng.random((ticks, net.n_inputs)) < 0.4)
    return spec, built, chip, input_map.expand(channel, chip.layout.n_axons)


@pytest.mark.parametrize("seed", range(12))
def test_chip_booted_from_images_runs_bit_identically(tmp_path, seed):
    spec, configs, chip, inputs = placed(seed)
    written = write_chip_images(spec, configs, tmp_path / "img")
    assert [p.name for p in written] == [f"core-{c:04d}.ncim" for c in sorted(configs)] \
        + ["manifest.json"]
    loaded_spec, loaded = load_chip_configs(tmp_path / "img")
    assert loaded_spec == spec
    assert sorted(loaded) == sorted(configs)
    assert all(same_config(loaded[c], configs[c]) for c in configs)

    booted = load_chip(tmp_path / "img")
    assert booted.spec == spec
    record = ("spikes",) + REGISTERS
    want = chip.run(50, inputs, record, backend="numpy")
    got = booted.run(50, inputs, record, backend="numpy")
    for name in record:
        assert np.array_equal(got[name], want[name]), name
    assert got.spikes.any()
    assert booted.overflow_counts == chip.overflow_counts
    assert [t.cycles for t in got.timing] == [t.cycles for t in want.timing]


def own(core: int) -> CoreConfig:
    """A core whose one routing entry goes to its own axon 0 (needs no other core)."""
    return CoreConfig(LifParams.make(core + 1), SynapseMemory.from_lists(1, [0], [0], [1]),
                      RoutingTable.from_lists(core + 1, [0], [0], 1, core), core + 1)


def test_image_directory_refusals(tmp_path):
    spec, configs, _, _ = placed(1)
    out = tmp_path / "img"
    write_chip_images(spec, configs, out)
    with pytest.raises(ImageError, match=exactly(
            f"{out}: directory exists and is not empty; pass overwrite=True to replace its "
            f"images")):
        write_chip_images(spec, configs, out)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(ImageError, match="directory exists and is not empty"):
        write_chip_images(spec, configs, other)

    # overwrite with fewer cores: the old images go, other files stay
    write_chip_images(spec, {0: own(0)}, other, overwrite=True)
    assert sorted(p.name for p in other.iterdir()) == ["core-0000.ncim", "manifest.json",
                                                       "notes.txt"]
    write_chip_images(spec, {1: own(1), 3: own(3)}, out, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == ["core-0001.ncim", "core-0003.ncim",
                                                     "manifest.json"]
    load_chip(out)

    # a stray image, a swapped image, a corrupted image, a mismatched spec
    (out / "core-0002.ncim").write_bytes(encode_core(spec.core, own(2), 2, (2, 2)))
    with pytest.raises(ImageError, match=exactly(
            f"{out / 'core-0002.ncim'}: image not listed in the manifest")):
        load_chip(out)
    (out / "core-0002.ncim").unlink()
    good = (out / "core-0003.ncim").read_bytes()
    (out / "core-0003.ncim").write_bytes(encode_core(spec.core, own(2), 2, (2, 2)))
    with pytest.raises(ImageError, match=exactly(
            f"{out / 'core-0003.ncim'}: holds core 2, the manifest lists it as core 3")):
        load_chip(out)
    (out / "core-0003.ncim").write_bytes(encode_core(spec.core, own(0), 3, (2, 2)))
    with pytest.raises(ImageError, match=re.escape(f"{out / 'core-0003.ncim'}: ")
                       + r"\d+ bytes with CRC 0x[0-9a-f]{8}, the manifest lists \d+ bytes "
                       r"with CRC 0x[0-9a-f]{8} \(a different image\)"):
        load_chip(out)
    (out / "core-0003.ncim").write_bytes(good[:-1] + bytes([good[-1] ^ 1]))
    with pytest.raises(ImageError, match=re.escape(f"{out / 'core-0003.ncim'}: CRC mismatch")):
        load_chip(out)
    (out / "core-0003.ncim").write_bytes(good)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["core_spec"]["w_bits"] = 7
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ImageError, match=exactly(
            f"{out / 'core-0001.ncim'}: CoreSpec differs from the manifest's in w_bits")):
        load_chip(out)
    (out / "manifest.json").unlink()
    with pytest.raises(ImageError, match="no manifest"):
        load_chip(out)


def test_write_refuses_a_route_to_an_axon_the_destination_lacks(tmp_path):
    spec, config, _, _ = tiny()
    chip_spec = ChipSpec(2, 2, core=spec)
    # core 2 routes to axon 1 of core 1, which is not written (no axons)
    with pytest.raises(SpecError, match=exactly(
            "core 2, slot 0 entry 0: axon 1 on core 1, which has 0 axons in its synapse "
            "memory")):
        write_chip_images(chip_spec, {2: config}, tmp_path / "x")
    assert not (tmp_path / "x").exists()


# ----------------------------------------------------------------- inspect

def test_describe_image():
    text = describe_image(tiny_bytes(), "tiny.ncim")
    for line in [
        "tiny.ncim: neurochip core image, format version 2, 94 bytes, CRC32 0x94352ba7 (ok)",
        "core 2 at (0, 1) of a 2×2 mesh; firmware model lif; LFSR seed 0x0000ace1",
        "  synapse words    3 of 8 (37.5 %) × 6 bits (slot 2 + w 4)",
        "  routing entries  3 of 4 (75.0 %) × 5 bits (core 2 + axon 1 + delay 2)",
        "  v_th            7 bits × 2 slots = 14 bits; values 7..100 need 7 bits",
        "  bias            8 bits × 2 slots = 16 bits; values -3..5 need 4 bits",
        "  total                   752 bits = 94 bytes",
        "  axon    0: w_exp 1, 2 words (slot:w) [0:3, 1:-8]",
        "  slot    1: 2 entries [0/0/3, 3/1/2]",
    ]:
        assert line in text.splitlines(), line
    with pytest.raises(ImageError, match="^bad: CRC mismatch"):
        describe_image(tiny_bytes()[:-1] + b"\0", "bad")


def test_inspect_command(tmp_path, capsys):
    path = tmp_path / "core-0002.ncim"
    path.write_bytes(tiny_bytes())
    assert im.main([str(path)]) == 0
    assert capsys.readouterr().out.startswith(f"{path}: neurochip core image")
    path.write_bytes(b"NCIM\0\2")
    assert im.main([str(path)]) == 2   # a refused input file (issue 14)
    assert capsys.readouterr().err.strip() == (f"{path}: truncated: expected at least 608 "
                                               f"bits, got 48")


# ----------------------------------------------------------------- leak mantissas

def test_leak_mantissas_round_trip_and_cost_their_width():
    """``m_i, m_v, m_theta`` are ``leak_bits`` wide each, after the other fields; a core
    with ``leak_bits = 0`` stores none and reads every mantissa back as 1; one that
    cannot hold a mantissa refuses it."""
    spec, config, core, mesh = tiny()
    wide = spec.replace(leak_bits=12)
    params = replace(config.params, m_i=np.array([1, 3]), m_v=np.array([7, 0]),
                     m_theta=np.array([1, 0]))
    data = encode_core(wide, replace(config, params=params), core, mesh)
    assert len(data) == 94 + 9  # 3 fields × 12 bits × 2 slots = 72 more bits
    image = decode_core(data)
    assert image == CoreImage(wide, replace(config, params=params), core, mesh)
    assert image.config.params.m_v.tolist() == [7, 0]
    plain = decode_core(tiny_bytes()).config.params
    assert plain.m_i.tolist() == plain.m_v.tolist() == plain.m_theta.tolist() == [1, 1]
    with pytest.raises(SpecError, match=exactly(
            "core 2, slot 1: parameter m_i=3: the core has no leak mantissas "
            "(leak_bits=0), so m_i must be 1")):
        encode_core(spec, replace(config, params=params), core, mesh)
    with pytest.raises(SpecError, match=exactly(
            "core 2, slot 0: parameter m_i=5: exceeds 2^k_i=2 (the decay 1 - m_i 2^-k_i "
            "would be negative)")):
        encode_core(wide, replace(config, params=replace(params, m_i=np.array([5, 1]))),
                    core, mesh)
