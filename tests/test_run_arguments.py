"""What Core.run and Chip.run refuse: ticks that are not a whole number in range, event
counts beyond the input port's capacity (2^20 per axon, 2^24 per tick: far inside what the
int64 accumulator holds) -- the same refusal on both backends."""

import numpy as np
import pytest

from firmware_models.lif import LifParams
from neurochip import Core, CoreSpec, SpecError, SynapseMemory
from neurochip.hardware.engine import MAX_EVENTS, MAX_TICK_EVENTS, MAX_TICKS


def core() -> Core:
    spec = CoreSpec(n_slots=4, n_axons=2)
    synapses = SynapseMemory.from_lists(2, axon=[0, 0, 1, 1], slot=[0, 1, 2, 3], w=[10] * 4)
    return Core(spec, LifParams.make(4, k_i=2, k_v=3, v_th=200), synapses)


@pytest.mark.parametrize("ticks", [-1, 2.5, "3", True, None, MAX_TICKS + 1, float("nan")])
def test_a_bad_number_of_ticks_is_refused_by_name(ticks):
    with pytest.raises(SpecError, match=r"^ticks must be a whole number in 0\.\.2147483647, "
                                        r"got "):
        core().run(ticks)


def test_zero_ticks_run_nothing():
    c = core()
    assert c.run(0).spikes.shape == (0, 4) and c.t == 0


@pytest.mark.parametrize("backend", ["numpy", "compiled"])
@pytest.mark.parametrize("count, shown", [(2 ** 60, str(2 ** 60)), (1e20, "1e+20"),
                                          (MAX_EVENTS + 1, str(MAX_EVENTS + 1))])
def test_event_counts_beyond_the_accumulator_are_refused_alike(backend, count, shown):
    inputs = np.zeros((3, 2), dtype=np.float64 if isinstance(count, float) else np.int64)
    inputs[1, 0] = count
    with pytest.raises(SpecError) as refused:
        core().run(3, inputs=inputs, backend=backend)
    assert str(refused.value) == (f"inputs: at most {MAX_EVENTS} events per axon and tick, "
                                  f"got {shown}")


@pytest.mark.parametrize("backend", ["numpy", "compiled"])
def test_a_tick_of_too_many_events_in_all_is_refused(backend):
    spec = CoreSpec(n_slots=4, n_axons=20)
    synapses = SynapseMemory.from_lists(20, axon=list(range(4)), slot=[0, 1, 2, 3], w=[1] * 4)
    wide = Core(spec, LifParams.make(4, k_i=2, k_v=3, v_th=200), synapses)
    inputs = np.zeros((3, 20), dtype=np.int64)
    inputs[2] = MAX_EVENTS
    assert inputs[2].sum() > MAX_TICK_EVENTS
    with pytest.raises(SpecError, match=rf"at most {MAX_TICK_EVENTS} events per tick, got "
                                        r"2\.09715e\+07 in tick 2"):
        wide.run(3, inputs=inputs, backend=backend)


@pytest.mark.parametrize("backend", ["numpy", "compiled"])
def test_the_largest_count_runs_without_wrapping(backend):
    inputs = np.zeros((1, 2), dtype=np.int64)
    inputs[0, 0] = MAX_EVENTS
    c = core()
    c.run(1, inputs=inputs, backend=backend)
    assert np.all(c.state.i[:2] == 2 ** 15 - 1)   # saturated, never wrapped negative
    assert np.all(c.state.i[2:] == 0)
