"""``Chip.run(..., timing="totals")`` against the full timing (``timing=True``).

Totals mode keeps per tick only the per-core phases and work, the per-link loads, the
tick's cycles and the slots that fired; it must give the same numbers as the full mode
on both backends, and the per-packet fields it works out on request must equal the
recorded ones.
"""

from __future__ import annotations

import os
import sys
from dataclasses import fields

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_backends import (RECORD, SETTINGS, assert_same_array, assert_same_timing,  # noqa: E402
                           build_chip, chip_case, core_specs, timing_tables)

from neurochip import CoreSpec  # noqa: E402
from neurochip.hardware.spec import SpecError  # noqa: E402
from neurochip.hardware.timing import TickTiming, TickTotals, TimingTable  # noqa: E402

TOTALS = ("synapse_end", "neuron_end", "route_end", "link_packets", "rows", "synops",
          "active", "idle")


def run_both(case: dict, mode, backend: str, split: bool):
    chip, inputs = build_chip(case)
    ticks = inputs.shape[0]
    bounds = [0, case["split"], ticks] if split else [0, ticks]
    recs = [chip.run(b - a, inputs[a:b], RECORD, timing=mode, backend=backend)
            for a, b in zip(bounds, bounds[1:])]
    return [t for r in recs for t in r.timing], np.concatenate([r["spikes"] for r in recs])


def check_totals(case: dict) -> int:
    full, spikes = run_both(case, True, "numpy", False)
    packets = 0
    for backend in ("compiled", "numpy"):
        for split in (False, True):
            what = f"{backend}{' split' if split else ''}"
            got, got_spikes = run_both(case, "totals", backend, split)
            assert_same_array(got_spikes, spikes, f"{what} spikes")
            assert len(got) == len(full)
            for k, (g, w) in enumerate(zip(got, full)):
                assert isinstance(g, TickTotals), what
                assert type(g.cycles) is int and g.cycles == w.cycles, f"{what} tick {k}"
                for name in TOTALS:
                    assert_same_array(getattr(g, name), getattr(w, name),
                                      f"{what} tick {k} {name}")
                assert g.hops == w.hops and g.n_packets == w.packet_src.size
                assert_same_array(g.fired, np.flatnonzero(spikes[k]), f"{what} tick {k}",
                                  any_int=True)
                packets += w.packet_src.size
            # the packet records, worked out on request, are the full mode's
            assert_same_timing([g.full() for g in got], full, f"{what} on request")
            for g in got[:3]:
                for f in fields(TickTiming):
                    assert_same_array(np.asarray(getattr(g, f.name)),
                                      np.asarray(getattr(g.full(), f.name)), f.name)
    return packets


@settings(max_examples=25, **SETTINGS)
@given(seed=st.integers(0, 2 ** 32 - 1), spec=core_specs, table=timing_tables)
def test_totals_same_as_full_timing(seed, spec, table):
    check_totals(chip_case(seed, spec, table))


def test_totals_fixed_seeds_send_packets():
    """Deterministic chips with contention, so the comparison is not vacuous."""
    table = TimingTable(route_lookup=0, inject=1, hop_x=2, hop_y=3)
    packets = sum(check_totals(chip_case(seed, CoreSpec(noise_bits_max=4, delay_bits=2),
                                         table)) for seed in range(6))
    assert packets > 500, packets


def test_timing_argument_checked():
    chip, _ = build_chip(chip_case(1, CoreSpec(), TimingTable()))
    with pytest.raises(SpecError, match="timing must be"):
        chip.run(2, timing="cycles")
    assert chip.run(2, timing=False).timing == []
    assert all(isinstance(t, TickTiming) for t in chip.run(2, timing="packets").timing)
