"""The engine's general model options (docs/tick.md §11) on their own: register formats
with their own range and overflow mode, per-word input targets (wide and in-order
delivery) and spike counts that route several events."""

from __future__ import annotations

import numpy as np

from firmware_models.base import RegisterFormat
from neurochip.hardware.fixed import Arithmetic
from neurochip.hardware.synapses import DeliveryTable, SynapseMemory


def memory():
    # axon 0: (slot 1, +3, target 0), (slot 1, -5, target 1); axon 1 (w_exp 1):
    # (slot 0, 7 << 1, t1), (slot 1, 2 << 1, t0); axon 2: (slot 0, -1, t0); the lists are
    # given out of axon order
    return SynapseMemory.from_lists(3, [2, 0, 1, 0, 1], [0, 1, 0, 1, 1], [-1, 3, 7, -5, 2],
                                    [0, 1, 0], [0, 0, 1, 1, 0])


def test_wide_delivery_gives_one_row_per_target():
    table = DeliveryTable.build(memory(), np.zeros(0, np.int64))
    acc = table.deliver_targets(np.array([0, 1, 1, 2]), 2, 2)
    # target 0: slot 0 gets -1 (axon 2); slot 1 gets 3 (axon 0) + 4 + 4 (axon 1 twice)
    # target 1: slot 0 gets 14 + 14 (axon 1 twice); slot 1 gets -5 (axon 0)
    assert acc.tolist() == [[-1, 11], [28, -5]]
    assert table.deliver(np.array([0, 1, 1, 2]), 2).tolist() == [27, 6]


def test_in_order_events_follow_axons_then_rows():
    table = DeliveryTable.build(memory(), np.array([2, 0], np.int64))  # rows stored 2, 0, 1
    events = table.events(np.array([2, 1, 0, 1]))
    # ascending axon: axon 0's row, axon 1's row twice, axon 2's row
    assert events.slot.tolist() == [1, 1, 0, 1, 0, 1, 0]
    assert events.target.tolist() == [0, 1, 1, 0, 1, 0, 0]
    assert events.w.tolist() == [3, -5, 14, 4, 14, 4, -1]
    assert events.total(2, 2).tolist() == [[-1, 11], [28, -5]]


def test_register_with_its_own_mode_and_window():
    regs = {"u": RegisterFormat(4, True, "wrap", -7, 8),
            "v": RegisterFormat(4, True, "saturate", -7, 7)}
    arith = Arithmetic(regs, overflow="saturate")   # the core's mode does not apply to u
    # wrap into -7..8: ((x + 7) mod 16) - 7
    assert arith.fit(np.array([8, 9, -7, -8, 25]), "u").tolist() == [8, -7, -7, 8, -7]
    assert arith.counts["u"] == 3
    arith = Arithmetic(regs, overflow="wrap")       # nor to v
    assert arith.fit(np.array([8, -8, 7]), "v").tolist() == [7, -7, 7]
    assert arith.counts == {"u": 0, "v": 2}
