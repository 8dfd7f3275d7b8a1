"""The layouts the compiled backend reads: delivery words (slot and weight as one 64-bit
word), routing-entry words and the event rows of the axon buffer."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from firmware_models.lif import LifParams
from neurochip.hardware.chip import Chip, ChipSpec, CoreConfig
from neurochip.hardware.compiled import EventRows, fixed_tables
from neurochip.hardware.routing import AxonBuffer
from neurochip.hardware.spec import SpecError
from neurochip.hardware.synapses import DeliveryTable, SynapseMemory

LOW = 0xFFFFFFFF


def test_delivery_words_hold_slot_low_and_signed_weight_high():
    # axon 0: (slot 1, +3), (slot 0, -5); axon 1 (w_exp 2): (slot 2, -1 << 2)
    memory = SynapseMemory.from_lists(2, [0, 0, 1], [1, 0, 2], [3, -5, -1], [0, 2])
    table = DeliveryTable.build(memory, np.zeros(0, np.int64))
    words = table.words64
    assert words.dtype == np.int64 and words.size == 3
    assert (words & LOW).tolist() == [1, 0, 2]
    assert (words >> 32).tolist() == [3, -5, -4]
    assert table.slot.tolist() == [1, 0, 2] and table.weight.tolist() == [3, -5, -4]


@given(arrays(np.int32, st.integers(0, 40), elements=st.integers(0, 2**31 - 1)),
       st.data())
def test_any_slot_and_int32_weight_survive_the_word(slots, data):
    weights = data.draw(arrays(np.int32, slots.size))
    table = DeliveryTable(np.zeros(1, np.int64), np.array([slots.size]),
                          np.empty((slots.size, 2), np.int32), np.zeros(slots.size, np.int8))
    table.slot[:] = slots  # the views write the pairs
    table.weight[:] = weights
    words = table.words64
    assert np.array_equal(words & LOW, slots.astype(np.int64))
    assert np.array_equal(words >> 32, weights.astype(np.int64))


def test_weight_wider_than_32_bits_is_refused_with_its_value():
    memory = SynapseMemory.from_lists(1, [0], [0], [3], [30])  # 3 << 30 > 2^31 - 1
    with pytest.raises(SpecError, match=r"w << w_exp = 3221225472 does not fit 32 bits"):
        DeliveryTable.build(memory, np.zeros(0, np.int64))


def buffer_with(rows: dict[int, list[int]], n_axons: int = 50) -> AxonBuffer:
    buffer = AxonBuffer(n_axons, delay_bits=2)
    for row, axons in rows.items():
        buffer.schedule(row, axons)
    return buffer


def test_event_rows_keep_the_pending_events_and_room_for_a_run():
    buffer = buffer_with({1: [4, 4, 7], 3: [9]})
    rows = EventRows(buffer, n_entries=5, inputs_per_tick=2, fixed=None)
    assert rows.pending == 4
    assert rows.length.tolist() == [0, 3, 0, 1]
    # one row can receive every entry and a tick's inputs on top of what it holds
    assert rows.axon.shape == (4, 5 + 3 + 2)
    back = AxonBuffer(50, delay_bits=2)
    back._rows[0] = [np.array([1])]  # stale content is replaced
    rows.count[1, 1] = 3             # an input event with a count of 3 on axon 4
    rows.store_into(back)
    assert [sorted(np.concatenate(r).tolist()) if r else [] for r in back._rows] == \
        [[], [4, 4, 4, 4, 7], [], [9]]


def two_core_chip() -> Chip:
    """Core 0: 2 axons with rows of 1 and 3 words; core 1: 2 axons, rows of 2 and 0."""
    def config(pre, post, w):
        return CoreConfig(LifParams.make(3), SynapseMemory.from_lists(2, pre, post, w))
    return Chip(ChipSpec(2, 1), [config([0, 1, 1, 1], [0, 0, 1, 2], [1, 2, 3, 4]),
                                 config([0, 0], [1, 2], [5, 6])])


def test_event_rows_count_the_work_of_pending_events_per_core():
    engine = two_core_chip().engine
    fixed = fixed_tables(engine)
    assert fixed.axon_rows[:-1, 1].tolist() == [1, 3, 2, 0]
    assert fixed.axon_rows[:-1, 2].tolist() == [0, 0, 1, 1]
    buffer = buffer_with({2: [1, 2, 2, 1, 3]}, n_axons=engine.buffer.n_axons)
    rows = EventRows(buffer, n_entries=1, inputs_per_tick=0, fixed=fixed, n_cores=2)
    # core 0: axon 1 twice (3 words each); core 1: axon 2 twice (2 words), axon 3 (none)
    assert rows.work[2].tolist() == [[2, 3], [6, 4]]
    assert not rows.work[[0, 1, 3]].any()
