"""neurochip.hardware.fixed against the scalar oracle (tests/scalar_model.py).

Widths 2..32 signed / 1..32 unsigned, values near the range ends, zero and anywhere in
|x| < 2**40; shifts 0..40 per element and all three rounding modes; ``Arithmetic.fit``
with every overflow mode and check policy.
"""

from __future__ import annotations

import os
import re
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scalar_model as sm  # noqa: E402

from neurochip.hardware import fixed  # noqa: E402
from neurochip.hardware.fixed import Arithmetic, RegisterFormat, RegisterOverflowError  # noqa: E402

SETTINGS = settings(deadline=None, max_examples=150,
                    suppress_health_check=[HealthCheck.too_slow])
BIG = 2 ** 40


@st.composite
def width(draw):
    signed = draw(st.booleans())
    bits = draw(st.integers(2 if signed else 1, 32))
    return bits, signed


def values_for(bits, signed):
    lo, hi = sm.rng(bits, signed)
    edges = [lo - 1, lo, lo + 1, hi - 1, hi, hi + 1, 0, 1, -1, -BIG + 1, BIG - 1,
             2 * lo - 1, 2 * hi + 2]
    return st.one_of(st.sampled_from(edges), st.integers(lo - 3, hi + 3),
                     st.integers(-BIG + 1, BIG - 1))


@st.composite
def width_and_values(draw, max_size=40):
    bits, signed = draw(width())
    xs = draw(st.lists(values_for(bits, signed), min_size=1, max_size=max_size))
    return bits, signed, xs


# ----------------------------------------------------------------- register ranges

@given(width())
@SETTINGS
def test_value_range(w):
    bits, signed = w
    assert fixed.value_range(bits, signed) == sm.rng(bits, signed)


@pytest.mark.parametrize("bits,signed,expected", [
    (1, False, (0, 1)), (2, True, (-2, 1)), (8, True, (-128, 127)), (8, False, (0, 255)),
    (16, True, (-32768, 32767)), (32, True, (-2 ** 31, 2 ** 31 - 1)),
    (32, False, (0, 2 ** 32 - 1))])
def test_value_range_golden(bits, signed, expected):
    assert fixed.value_range(bits, signed) == expected


@given(width_and_values())
@SETTINGS
def test_saturate_arrays(case):
    bits, signed, xs = case
    got = fixed.saturate(np.array(xs, dtype=np.int64), bits, signed)
    assert got.dtype == np.int64
    assert got.tolist() == [sm.saturate(x, bits, signed) for x in xs]


@given(width_and_values())
@SETTINGS
def test_wrap_arrays(case):
    bits, signed, xs = case
    got = fixed.wrap(np.array(xs, dtype=np.int64), bits, signed)
    assert got.tolist() == [sm.wrap(x, bits, signed) for x in xs]


@given(width_and_values())
@SETTINGS
def test_overflowed_mask(case):
    bits, signed, xs = case
    got = fixed.overflowed(np.array(xs, dtype=np.int64), bits, signed)
    assert got.dtype == bool
    assert got.tolist() == [sm.overflowed(x, bits, signed) for x in xs]


@given(width().flatmap(lambda w: st.tuples(st.just(w), values_for(*w))))
@SETTINGS
def test_scalar_inputs(case):
    (bits, signed), x = case
    assert int(fixed.saturate(x, bits, signed)) == sm.saturate(x, bits, signed)
    assert int(fixed.wrap(x, bits, signed)) == sm.wrap(x, bits, signed)
    assert bool(fixed.overflowed(x, bits, signed)) == sm.overflowed(x, bits, signed)


def test_wrap_golden():
    assert fixed.wrap(np.array([128, 255, 256, -129, -1]), 8, True).tolist() == \
        [-128, -1, 0, 127, -1]
    assert fixed.wrap(np.array([256, -1, 511, 2 ** 40 + 3]), 8, False).tolist() == \
        [0, 255, 255, 3]
    assert fixed.wrap(np.array([2 ** 31, -2 ** 31 - 1]), 32, True).tolist() == \
        [-2 ** 31, 2 ** 31 - 1]


# ----------------------------------------------------------------- shifts

shift_values = st.one_of(st.integers(-BIG + 1, BIG - 1), st.integers(-70, 70),
                         st.sampled_from([0, 1, -1, BIG - 1, -BIG + 1, 2 ** 39, -2 ** 39]))


@given(st.lists(st.tuples(shift_values, st.integers(0, 40)), min_size=1, max_size=50),
       st.sampled_from(sm.ROUNDINGS))
@SETTINGS
def test_shift_right_per_element(pairs, rounding):
    xs = np.array([x for x, _ in pairs], dtype=np.int64)
    ks = np.array([k for _, k in pairs], dtype=np.int64)
    got = fixed.shift_right(xs, ks, rounding)
    assert got.tolist() == [sm.shift_right(x, k, rounding) for x, k in pairs]


@given(st.lists(shift_values, min_size=1, max_size=50), st.integers(0, 40),
       st.sampled_from(sm.ROUNDINGS))
@SETTINGS
def test_shift_right_scalar_k(xs, k, rounding):
    got = fixed.shift_right(np.array(xs, dtype=np.int64), k, rounding)
    assert got.tolist() == [sm.shift_right(x, k, rounding) for x in xs]
    # scalar x, too
    assert int(fixed.shift_right(xs[0], k, rounding)) == sm.shift_right(xs[0], k, rounding)


@given(shift_values, st.integers(0, 40), st.sampled_from(sm.ROUNDINGS))
@SETTINGS
def test_shift_right_error_bounds(x, k, rounding):
    """The error table of the fixed.py docstring."""
    from fractions import Fraction
    err = Fraction(x, 2 ** k) - int(fixed.shift_right(np.int64(x), k, rounding))
    if rounding == "floor":
        assert 0 <= err <= 1 - Fraction(1, 2 ** k)
    elif rounding == "nearest":
        assert -Fraction(1, 2) <= err <= Fraction(1, 2)
    else:
        assert abs(err) <= 1 - Fraction(1, 2 ** k)
        assert err == 0 or (err > 0) == (x > 0)


@pytest.mark.parametrize("rounding,x,k,expected", [
    ("floor", -1, 1, -1), ("zero", -1, 1, 0), ("nearest", -1, 1, -1), ("nearest", 1, 1, 1),
    ("nearest", -3, 1, -2), ("nearest", 3, 1, 2), ("nearest", 5, 2, 1), ("nearest", -5, 2, -1),
    ("nearest", 6, 2, 2), ("nearest", -6, 2, -2), ("zero", -7, 2, -1), ("floor", -7, 2, -2),
    ("floor", 7, 0, 7), ("nearest", -7, 0, -7), ("zero", -7, 0, -7),
])
def test_shift_right_golden(rounding, x, k, expected):
    assert int(fixed.shift_right(x, k, rounding)) == expected


def test_shift_right_bad_mode():
    with pytest.raises(ValueError, match=r"rounding must be one of .*got 'up'"):
        fixed.shift_right(np.array([3]), 1, "up")


# ----------------------------------------------------------------- Arithmetic.fit

REGISTERS = ("a", "b", "c")


@st.composite
def fit_case(draw):
    formats = {}
    for name in REGISTERS:
        bits, signed = draw(width())
        formats[name] = RegisterFormat(bits, signed)
    calls = []
    for _ in range(draw(st.integers(1, 6))):
        name = draw(st.sampled_from(REGISTERS))
        fmt = formats[name]
        xs = draw(st.lists(values_for(fmt.bits, fmt.signed), min_size=0, max_size=20))
        calls.append((name, xs))
    return formats, calls


@given(fit_case(), st.sampled_from(("saturate", "wrap")), st.sampled_from(("off", "count")))
@SETTINGS
def test_fit_modes_and_counts(case, overflow, check):
    formats, calls = case
    arith = Arithmetic(formats, overflow=overflow, rounding="floor", overflow_check=check)
    expected_counts = {name: 0 for name in formats}
    policy = {name: (f.bits, f.signed) for name, f in formats.items()}
    for name, xs in calls:
        bits, signed = policy[name]
        got = arith.fit(np.array(xs, dtype=np.int64), name)
        conv = sm.saturate if overflow == "saturate" else sm.wrap
        assert np.asarray(got).tolist() == [conv(x, bits, signed) for x in xs]
        if check == "count":
            expected_counts[name] += sum(sm.overflowed(x, bits, signed) for x in xs)
        assert arith.counts == expected_counts


@given(fit_case(), st.sampled_from(("saturate", "wrap")), st.integers(0, 10 ** 6),
       st.integers(0, 300), st.integers(0, 5000))
@SETTINGS
def test_fit_strict(case, overflow, tick, core, slot_offset):
    formats, calls = case
    arith = Arithmetic(formats, overflow=overflow, overflow_check="strict",
                       locate=lambda index: (core, index + slot_offset))
    arith.tick = tick
    for name, xs in calls:
        f = formats[name]
        bad = [j for j, x in enumerate(xs) if sm.overflowed(x, f.bits, f.signed)]
        if not bad:
            assert np.asarray(arith.fit(np.array(xs, dtype=np.int64), name)).tolist() == xs
            continue
        j = bad[0]
        lo, hi = sm.rng(f.bits, f.signed)
        kind = "signed" if f.signed else "unsigned"
        expected = (f"core {core}, slot {j + slot_offset}: register '{name}' overflowed at "
                    f"tick {tick}: value {xs[j]} outside [{lo}, {hi}] ({f.bits}-bit {kind})")
        with pytest.raises(RegisterOverflowError, match=re.escape(expected) + "$") as info:
            arith.fit(np.array(xs, dtype=np.int64), name)
        err = info.value
        assert (err.core, err.slot, err.register, err.tick, err.value) == \
            (core, j + slot_offset, name, tick, xs[j])
        assert isinstance(err, ArithmeticError)
        break
    assert arith.counts == {name: 0 for name in formats}


def test_fit_strict_golden_message():
    arith = Arithmetic({"v": RegisterFormat(8, True)}, overflow_check="strict",
                       locate=lambda index: (3, 10 + index))
    arith.tick = 42
    with pytest.raises(RegisterOverflowError) as info:
        arith.fit(np.array([0, 127, 128, -200]), "v")
    assert str(info.value) == ("core 3, slot 12: register 'v' overflowed at tick 42: "
                               "value 128 outside [-128, 127] (8-bit signed)")


def test_fit_default_locate_is_slot_index():
    arith = Arithmetic({"theta": RegisterFormat(4, False)}, overflow_check="strict")
    with pytest.raises(RegisterOverflowError, match=r"^core 0, slot 1: register 'theta' "
                       r"overflowed at tick 0: value -1 outside \[0, 15\] \(4-bit unsigned\)$"):
        arith.fit([15, -1, 16], "theta")


def test_fit_count_per_register_golden():
    arith = Arithmetic({"v": RegisterFormat(8, True), "i": RegisterFormat(4, True)},
                       overflow="wrap", overflow_check="count")
    assert arith.fit(np.array([128, -129, 5, 300]), "v").tolist() == [-128, 127, 5, 44]
    assert arith.fit(np.array([8, -9, -8]), "i").tolist() == [-8, 7, -8]
    assert arith.fit(np.array([], dtype=np.int64), "i").tolist() == []
    assert arith.counts == {"v": 3, "i": 2}


def test_arithmetic_shift_uses_rounding():
    for rounding in sm.ROUNDINGS:
        arith = Arithmetic({}, rounding=rounding)
        xs = np.array([-7, -6, -5, 5, 6, 7])
        assert arith.shift(xs, 2).tolist() == [sm.shift_right(int(x), 2, rounding) for x in xs]


@pytest.mark.parametrize("kwargs,pattern", [
    ({"overflow": "clip"}, r"overflow must be one of \('saturate', 'wrap'\), got 'clip'"),
    ({"rounding": "up"}, r"rounding must be one of \('floor', 'nearest', 'zero'\), got 'up'"),
    ({"overflow_check": "raise"},
     r"overflow_check must be one of \('off', 'count', 'strict'\), got 'raise'"),
])
def test_arithmetic_rejects_unknown_modes(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        Arithmetic({}, **kwargs)
