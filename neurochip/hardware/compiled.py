"""The compiled backend: many ticks of the engine in one numba call.

Same tick as ``engine.Engine.tick`` (and, with timing, ``timing.tick_timing``), written as
loops that numba compiles to machine code: the axon buffer is one array of axons per
arrival row (``EventRows``), delivery adds ``w << w_exp`` in ``int64``,
the firmware model's compiled step updates every slot, routing writes the buffer, and
the timing model schedules packets link by link in the same steps as the numpy code.
Recordings and timing go to preallocated arrays. ``tests/test_backends.py`` checks every
register, spike and cycle against the numpy backend.

The firmware models' compiled steps are called as globals (numba caches compiled code
on disk only when it does not receive functions as arguments), chosen by an index
(``STEPS``): the reference LIF program and the Loihi dialect. A model whose delivery or
routing differs (the Xylo dialect: in-order saturating accumulation into two currents,
several spikes per tick) runs on the numpy backend.

The kernel stops early (and the driver resumes it) when the packet record is full, and
returns at once on a strict-mode overflow, with the state of the failing tick discarded
as in the numpy backend.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, fields

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.core.extending import intrinsic
from numba.cpython.unsafe.numbers import trailing_zeros

from firmware_models.lif.compiled import holding, lif_step_compiled
from firmware_models.loihi.compiled import loihi_step_compiled

from .fixed import RegisterOverflowError, register_range
from .spec import SpecError
from .timing import MINUS_X, MINUS_Y, PLUS_X, PLUS_Y

OK, OVERFLOW, PACKETS_FULL = range(3)
# the firmware programs the kernel runs, by the index it is given
STEPS = (lif_step_compiled, loihi_step_compiled)


BYTE = np.uint64(0xFF)
ONE, EIGHT, SIXTEEN, TWENTY_FOUR = np.uint64(1), np.uint64(8), np.uint64(16), np.uint64(24)
LOW_HALF, HIGH_HALF = np.int64(0xFFFFFFFF), np.int64(32)
PREFETCH_AHEAD = 4  # events ahead whose row location is fetched (1 for the row itself)


@intrinsic
def prefetch(typingctx, array, index):
    """Ask the CPU to bring element ``index`` of C-contiguous ``array`` (flat) into the
    caches, without waiting for it (LLVM's ``llvm.prefetch``; never faults)."""

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        data = context.make_array(array_type)(context, builder, args[0]).data
        address = builder.gep(data, [args[1]])
        i32 = ir.IntType(32)
        declared = ir.FunctionType(ir.VoidType(), [address.type, i32, i32, i32])
        fetch = cgutils.get_or_insert_function(builder.module, declared, "llvm.prefetch.p0")
        builder.call(fetch, [address, i32(0), i32(3), i32(1)])  # read, keep, data cache
        return context.get_dummy_value()

    return types.void(array, index), codegen


@njit(cache=True)
def jump_lanes(lanes, group, tables):
    for j in range(lanes.size):
        g = group[j]
        if g >= 0:
            s = lanes[j]
            lanes[j] = (tables[g, 0, s & BYTE] ^ tables[g, 1, (s >> EIGHT) & BYTE]
                        ^ tables[g, 2, (s >> SIXTEEN) & BYTE] ^ tables[g, 3, s >> TWENTY_FOUR])


@njit(cache=True)
def fcfs_packets(n_packets, inject, src, dst, width, height, hop_x, hop_y, arrive,
                 link_packets, core_xy):
    """Arrival cycle of each packet of one tick under FCFS links (``timing`` module).

    A link serves its packets in (request, packet) order, each starting at
    ``max(request, previous start on the link + 1)``. Links are taken step by step
    (``timing.Mesh.routes``: every hop's previous hop lies on an earlier step), so when
    a link is served every packet that will use it waits in one of its four queues, each
    already in (request, packet) order: the packets injected at its router (in packet
    order, injection cycles increasing), and those from the link before it in the same
    direction, from the +x link and from the -x link into its router (each in the order
    that link served them, so requests increasing). Merging the queues gives the link's
    FCFS order without a sort. Routes are worked out from the source and destination
    cores (X then Y; ``core_xy[c]`` is core ``c``'s mesh position, looked up rather than
    divided out), so no per-hop table is read. Needs what the routing phase gives:
    the packets of one source core injected at non-decreasing cycles in packet order.
    """
    n_links = 4 * width * height
    target = np.empty((n_packets, 2), np.int64)  # destination (x, y)
    request = np.empty(n_packets, np.int64)
    behind = np.empty(n_packets, np.int64)  # the packet after each in its queue, or -1
    queue_head = np.full((n_links, 4), -1, np.int64)
    queue_tail = np.full((n_links, 4), -1, np.int64)
    for p in range(n_packets):
        arrive[p] = inject[p]
        request[p] = inject[p]
        x, y = core_xy[src[p], 0], core_xy[src[p], 1]
        target[p, 0], target[p, 1] = core_xy[dst[p], 0], core_xy[dst[p], 1]
        link = _next_link(x, y, target[p, 0], target[p, 1], width)
        if link >= 0:  # onto queue 0 of its first link (appending, written out below too)
            behind[p] = -1
            if queue_tail[link, 0] < 0:
                queue_head[link, 0] = p
            else:
                behind[queue_tail[link, 0]] = p
            queue_tail[link, 0] = p
    head = np.empty(4, np.int64)  # first packet of each queue of the link served
    for step in range(width + height - 2):
        for k in range(2 * max(width, height)):
            # the k-th link of this step: +x links leave column `step`, -x links column
            # W-1-step; then +y links leave row `step - (W-1)`, -y links row H-1-that
            plus = k % 2 == 0
            if step < width - 1:
                y, port = k // 2, PLUS_X if plus else MINUS_X
                x = step if plus else width - 1 - step
                if y >= height:
                    continue
                to_x, to_y = x + (1 if plus else -1), y
                latency = hop_x
            else:
                x, port = k // 2, PLUS_Y if plus else MINUS_Y
                y = step - (width - 1) if plus else height - 1 - (step - (width - 1))
                if x >= width:
                    continue
                to_x, to_y = x, y + (1 if plus else -1)
                latency = hop_y
            link = (y * width + x) * 4 + port
            for f in range(4):
                head[f] = queue_head[link, f]
            last = np.int64(-(2 ** 62))
            served = 0
            while True:
                best = -1
                for f in range(4):
                    p = head[f]
                    if p >= 0 and (best < 0 or request[p] < request[head[best]]
                                   or (request[p] == request[head[best]]
                                       and p < head[best])):
                        best = f
                if best < 0:
                    break
                p = head[best]
                head[best] = behind[p]
                begin = max(request[p], last + 1)
                last = begin
                request[p] = begin + latency
                served += 1
                after = _next_link(to_x, to_y, target[p, 0], target[p, 1], width)
                if after < 0:
                    arrive[p] = begin + latency
                else:  # queue 1: straight on; 2: turned from +x; 3: turned from -x
                    kind = 1 if after % 4 == port else (2 if port == PLUS_X else 3)
                    # appended to its queue (helpers taking arrays cost reference counting)
                    behind[p] = -1
                    if queue_tail[after, kind] < 0:
                        queue_head[after, kind] = p
                    else:
                        behind[queue_tail[after, kind]] = p
                    queue_tail[after, kind] = p
            link_packets[link] += served


@njit(cache=True)
def _next_link(x, y, tx, ty, width):
    """Link of the next hop from router (x, y) towards (tx, ty), X then Y; -1 there."""
    if x != tx:
        return (y * width + x) * 4 + (PLUS_X if tx > x else MINUS_X)
    if y != ty:
        return (y * width + x) * 4 + (PLUS_Y if ty > y else MINUS_Y)
    return -1


@njit(cache=True)
def run_kernel(t0, n_ticks, in_ptr, in_axon, in_count, row_axon, row_count, row_length,
               row_work, axon_rows, syn_words, entry_start, entry_words, entry_ops, model,
               noisy, lanes, lane_group, tables, P, S, S_new, lo, hi, bits, signed, wrap,
               rounding, check, counts, error, record_flags, rec_spikes, rec_regs,
               timing_on, table, slot_core, core_slots, n_cores, width, height, entry_dst,
               t_phase, t_work, t_links, t_cycles, pk_ptr, pk_src, pk_dst, pk_inject,
               pk_arrive, pk_capacity, max_packets):
    """Run up to ``n_ticks`` ticks; returns (ticks done, status).

    The input events of tick ``k`` are ``in_axon``/``in_count`` from ``in_ptr[k]`` to
    ``in_ptr[k + 1]``; they join the row of that tick. ``row_axon``, ``row_count``,
    ``row_length`` and ``row_work`` are the ``EventRows`` of the axon buffer.

    ``axon_rows[a]`` is axon ``a``'s (row offset, row length, core index), side by side
    so that one read brings all three; ``syn_words`` is ``DeliveryTable.words64`` (slot in
    the low 32 bits of a word, weight in the high 32); ``entry_words`` the routing
    entries, axon in the low 32 bits and delay in the high 32. ``model`` is the index of
    the firmware program's step in ``STEPS``.
    """
    n = S.shape[1]
    last_row = row_length.size - 1  # the buffer's depth is a power of two
    acc = np.zeros(n, np.int64)
    noise_words = np.zeros(n, np.int64)
    fired_bytes = np.zeros(8 * ((n + 7) // 8), np.bool_)
    fired = fired_bytes[:n]
    fired_words = fired_bytes.view(np.uint64)  # eight slots at a time: most are zero
    idle = np.zeros(n, np.bool_)
    spiking = np.empty(n, np.int64)
    per_packet = table[4] + table[5]
    core_xy = np.empty((n_cores, 2), np.int64)
    for c in range(n_cores):
        core_xy[c, 0], core_xy[c, 1] = c % width, c // width
    swapped = False  # state alternates between the two arrays; the caller reads S
    for k in range(n_ticks):
        if timing_on and pk_ptr[k] + max_packets > pk_capacity:
            if swapped:
                S_new[:, :] = S
            return k, PACKETS_FULL
        t = t0 + k
        row = t & last_row
        # delivery (the step leaves acc at zero for the next tick)
        n_events = row_length[row]
        for q in range(in_ptr[k], in_ptr[k + 1]):
            row_axon[row, n_events] = in_axon[q]
            row_count[row, n_events] = in_count[q]
            n_events += 1
            if timing_on:
                row_work[row, 0, axon_rows[in_axon[q], 2]] += in_count[q]
                row_work[row, 1, axon_rows[in_axon[q], 2]] += in_count[q] * axon_rows[
                    in_axon[q], 1]
        for q in range(n_events):
            # fetch ahead what the coming events will read: it would stall the loop
            # when the table is larger than the caches
            if q + PREFETCH_AHEAD < n_events:
                prefetch(axon_rows, 3 * row_axon[row, q + PREFETCH_AHEAD])
            if q + 1 < n_events:
                coming = axon_rows[row_axon[row, q + 1], 0]
                prefetch(syn_words, coming)
                prefetch(syn_words, coming + 8)
            a = row_axon[row, q]
            c = row_count[row, q]
            # word and slot as unsigned: numba then indexes without a negative-index fix-up
            begin = np.uint64(axon_rows[a, 0])
            end = begin + np.uint64(axon_rows[a, 1])
            if c == 1:
                for w in range(begin, end):
                    acc[np.uint32(syn_words[w] & LOW_HALF)] += syn_words[w] >> HIGH_HALF
            else:
                for w in range(begin, end):
                    acc[np.uint32(syn_words[w] & LOW_HALF)] += c * (syn_words[w] >> HIGH_HALF)
        row_length[row] = 0
        if timing_on:
            for c in range(n_cores):
                t_work[k, 0, c], t_work[k, 1, c] = row_work[row, 0, c], row_work[row, 1, c]
                row_work[row, 0, c] = row_work[row, 1, c] = 0
        if noisy:
            for j in range(n):
                noise_words[j] = np.int64(lanes[j])
            jump_lanes(lanes, lane_group, tables)
        if model == 0:  # STEPS
            lif_step_compiled(P, S, S_new, acc, noise_words, lo, hi, bits, signed, wrap,
                              rounding, check, counts, fired, idle, error)
        else:
            loihi_step_compiled(P, S, S_new, acc, noise_words, lo, hi, bits, signed, wrap,
                                rounding, check, counts, fired, idle, error)
        if error[0] >= 0:
            if swapped:
                S_new[:, :] = S  # the caller's S holds the state before this tick
            return k, OVERFLOW
        S, S_new = S_new, S
        swapped = not swapped
        # routing: the fired slots in order, then each one's entries
        n_fired = 0
        for word in range(fired_words.size):
            unsent = fired_words[word]  # a byte of 0 or 1 per slot
            while unsent != 0:
                spiking[n_fired] = 8 * word + (np.int64(trailing_zeros(unsent)) >> 3)
                n_fired += 1
                unsent &= unsent - ONE  # that slot's bit, the lowest set
        n_sent = 0
        for f in range(n_fired):
            if f + PREFETCH_AHEAD < n_fired:  # as in delivery
                prefetch(entry_start, spiking[f + PREFETCH_AHEAD])
            if f + 1 < n_fired:
                prefetch(entry_words, entry_start[spiking[f + 1]])
            j = spiking[f]
            for e in range(entry_start[j], entry_start[j + 1]):
                arrival = (t + (entry_words[e] >> HIGH_HALF)) & last_row
                row_axon[arrival, row_length[arrival]] = entry_words[e] & LOW_HALF
                row_count[arrival, row_length[arrival]] = 1
                row_length[arrival] += 1
                if timing_on:  # read once here, where a slot's entries sit together
                    pk_src[pk_ptr[k] + n_sent] = slot_core[j]
                    pk_dst[pk_ptr[k] + n_sent] = entry_dst[e]
                    # the work of the event is counted now, where its entry is at hand
                    row_work[arrival, 0, entry_dst[e]] += 1
                    row_work[arrival, 1, entry_dst[e]] += entry_ops[e]
                n_sent += 1
        # recording
        if record_flags[0]:
            for j in range(n):
                rec_spikes[k, j] = fired[j]
        for r in range(S.shape[0]):
            if record_flags[r + 1]:
                for j in range(n):
                    rec_regs[r, k, j] = S[r, j]
        if not timing_on:
            continue
        # timing: the three phases of every core
        base = pk_ptr[k]
        src = pk_src[base:base + n_sent]
        dst = pk_dst[base:base + n_sent]
        inject = pk_inject[base:base + n_sent]
        arrive = pk_arrive[base:base + n_sent]
        for c in range(n_cores):  # a core's slots are one stretch of the flat arrays
            n_idle = 0
            for j in range(core_slots[c], core_slots[c + 1]):
                n_idle += idle[j]
            t_work[k, 2, c] = core_slots[c + 1] - core_slots[c] - n_idle
            t_work[k, 3, c] = n_idle
        packets_of = np.zeros(n_cores, np.int64)
        for p in range(n_sent):
            packets_of[src[p]] += 1
        for c in range(n_cores):
            synapse_end = table[0] * t_work[k, 0, c] + table[1] * t_work[k, 1, c]
            neuron_end = synapse_end + table[2] * t_work[k, 2, c] + table[3] * t_work[k, 3, c]
            t_phase[k, 0, c] = synapse_end
            t_phase[k, 1, c] = neuron_end
            t_phase[k, 2, c] = neuron_end + per_packet * packets_of[c]
        seen = np.zeros(n_cores, np.int64)
        for p in range(n_sent):
            c = src[p]
            seen[c] += 1
            inject[p] = t_phase[k, 1, c] + seen[c] * per_packet
        for q in range(t_links.shape[1]):
            t_links[k, q] = 0
        fcfs_packets(n_sent, inject, src, dst, width, height, table[6], table[7], arrive,
                     t_links[k], core_xy)
        cycles = 0
        for c in range(n_cores):
            cycles = max(cycles, t_phase[k, 2, c])
        for p in range(n_sent):
            cycles = max(cycles, arrive[p])
        pk_ptr[k + 1] = base + n_sent
        t_cycles[k] = cycles
    if swapped:
        S_new[:, :] = S
    return n_ticks, OK


class EventRows:
    """The axon buffer as the compiled kernel keeps it: ``axon[r, :length[r]]`` are the
    events arriving on the next tick ``t`` with ``t mod depth = r`` (``count`` events on
    each: one for a routed event, the given count for an input event).

    ``work[r]`` is the work of row ``r``'s events per destination core (row fetches and
    synaptic operations), counted as they join the row; kept only with ``n_cores``
    (timing on), from ``fixed``.

    A tick's input events join its row when the tick begins, so a row never holds more
    than its pending events, the most input events of one tick, and one event per
    routing entry (an entry's slot fires at most once a tick and its delay is fixed, so
    at most one of its events arrives on any one tick). Rows are filled in order: a
    tick's events are read from one stretch of memory, and the pages of a row past what
    it has held are never touched.
    """

    def __init__(self, buffer, n_entries: int, inputs_per_tick: int,
                 fixed: FixedTables | None, n_cores: int = 0):
        pending = [np.concatenate(row) if row else np.zeros(0, np.int64)
                   for row in buffer._rows]
        capacity = max(n_entries + max(p.size for p in pending) + inputs_per_tick, 1)
        self.axon = np.empty((buffer.depth, capacity),
                             np.int32 if buffer.n_axons <= 1 << 31 else np.int64)
        self.count = np.empty((buffer.depth, capacity), np.int64)
        self.length = np.array([p.size for p in pending], np.int64)
        self.pending = int(self.length.sum())  # events now, before a run
        self.work = np.zeros((buffer.depth, 2, n_cores), np.int64)
        for row, events in enumerate(pending):
            self.axon[row, :events.size] = events
            self.count[row, :events.size] = 1
            if n_cores:
                core, length = fixed.axon_rows[events, 2], fixed.axon_rows[events, 1]
                self.work[row, 0] = np.bincount(core, minlength=n_cores)
                self.work[row, 1] = np.bincount(core, weights=length, minlength=n_cores)

    def store_into(self, buffer) -> None:
        buffer._rows = [[] for _ in range(buffer.depth)]
        for row in np.flatnonzero(self.length):
            length = self.length[row]
            buffer._rows[row] = [np.repeat(self.axon[row, :length].astype(np.int64),
                                           self.count[row, :length])]


def _packet_record_types(engine, timing, pending: int, input_count) -> tuple:
    """Types of the packet records (source, destination, injection, arrival): the
    narrowest that provably hold every value, since fresh pages are most of their cost.

    Cycles of a tick are bounded by its work: at most ``E`` events arrive in one tick (the
    events pending now, every input event of the run, and one per routing entry, whose
    delay is fixed), each a row fetch and at most ``L`` synaptic ops; every slot is
    updated; every entry sends at most one packet, and a packet waits on each of its at
    most ``W + H - 2`` links for at most every other packet before taking ``hop`` cycles.
    """
    if timing is None:
        return (np.int32,) * 4
    table, mesh = timing.spec.timing, timing.mesh
    packets = engine.entry_axon.size
    events = pending + int(input_count.sum()) + packets
    longest = int(timing.row_length.max(initial=0))
    bound = (events * (table.row_fetch + table.synop * longest)
             + engine.n * max(table.neuron_active, table.neuron_idle)
             + packets * (table.route_lookup + table.inject)
             + (mesh.width + mesh.height) * (packets + max(table.hop_x, table.hop_y)))
    cores = np.int16 if timing.n_cores <= np.iinfo(np.int16).max else np.int32
    cycles = np.int32 if bound <= np.iinfo(np.int32).max else np.int64
    return cores, cores, cycles, cycles


@dataclass(frozen=True)
class FixedTables:
    """What the kernel reads of an engine that never changes after it is built: register
    ranges, ``axon_rows`` (each axon's row offset, row length and core, side by side so
    that one read brings all three), the routing entries as words (axon in the low 32
    bits, delay in the high 32) and the synaptic operations of each entry's row."""

    lo: np.ndarray
    hi: np.ndarray
    bits: np.ndarray
    signed: np.ndarray
    state_type: type
    axon_rows: np.ndarray
    entry_words: np.ndarray
    entry_ops: np.ndarray


_FIXED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def fixed_tables(engine) -> FixedTables:
    """The engine's ``FixedTables``, built on its first compiled run (a run of few ticks
    would otherwise spend most of its time building them)."""
    if engine not in _FIXED:
        formats = list(engine.arith.registers.values())
        lo, hi = (np.array(bound) for bound in zip(*map(register_range, formats)))
        table = engine.delivery
        _FIXED[engine] = FixedTables(
            lo, hi, np.array([f.bits for f in formats]), np.array([f.signed for f in formats]),
            holding(int(lo.min()), int(hi.max())),
            np.stack([table.offset, table.length, engine.layout.axon_core], axis=1),
            engine.entry_axon.astype(np.int64) | (engine.entry_delay.astype(np.int64) << 32),
            table.length[engine.entry_axon])
    return _FIXED[engine]


def run_compiled(engine, ticks: int, input_ptr, input_axon, input_count, record, timing):
    """Run ``ticks`` ticks of ``engine`` in compiled code.

    Returns (traces dict, list of per-tick timing arrays or None); updates the engine's
    state, buffer, LFSR lanes, overflow counts and tick. ``timing`` is a
    ``chip.ChipTiming`` or None.
    """
    compiled = engine.model.compiled
    if compiled is None or compiled.step not in STEPS:
        raise SpecError(f"the compiled engine runs the reference LIF and Loihi programs; "
                        f"model {engine.model.name!r} needs backend='numpy'")
    spec = engine.spec
    fixed = fixed_tables(engine)
    registers = engine.arith.registers
    names = list(registers)
    kept = [f.name for f in fields(engine.model.state_type)]  # the rows of S
    counts = np.zeros(len(names), dtype=np.int64)
    error = np.full(3, -1, dtype=np.int64)
    P = compiled.pack_params(engine.params)
    S = compiled.pack_state(engine.state, fixed.state_type)
    S_new = S.copy()
    n = engine.n
    record_flags = np.array(["spikes" in record] + [name in record for name in kept])
    rec_spikes = np.zeros((ticks, n) if record_flags[0] else (0, 0), dtype=bool)
    rec_regs = np.zeros((len(kept), ticks, n) if record_flags[1:].any() else (len(kept), 0, 0),
                        dtype=np.int64)
    max_packets = engine.entry_axon.size
    timing_on = timing is not None
    n_cores = timing.n_cores if timing_on else 1
    rows = EventRows(engine.buffer, max_packets, int(np.diff(input_ptr).max(initial=0)),
                     fixed, n_cores if timing_on else 0)
    noise = engine.noise
    lanes = noise.lanes if noise is not None else np.zeros(0, np.uint64)
    lane_group = noise.lane_group if noise is not None else np.zeros(0, np.int64)
    tables = noise.tables if noise is not None else np.zeros((0, 4, 256), np.uint64)
    table = engine.delivery
    # packet records: np.empty pages cost nothing until written, so start generous
    capacity = min(max(ticks * max_packets, 1), 1 << 23) if timing_on else 0
    t_phase = np.zeros((ticks if timing_on else 0, 3, n_cores), np.int64)
    t_work = np.zeros((ticks if timing_on else 0, 4, n_cores), np.int64)
    t_links = np.zeros((ticks if timing_on else 0, 4 * n_cores), np.int64)
    t_cycles = np.zeros(ticks if timing_on else 0, np.int64)
    pk_ptr = np.zeros(ticks + 1, np.int64)
    pk = [np.empty(capacity, dtype) for dtype in
          _packet_record_types(engine, timing, rows.pending, input_count)]
    empty = np.zeros(0, np.int64)
    static = (timing.table, timing.slot_core, engine.layout.slot_start, n_cores,
              timing.mesh.width, timing.mesh.height, timing.entry_dst) if timing_on else \
        (np.zeros(8, np.int64), empty, np.zeros(2, np.int64), 1, 1, 1, empty)

    done = 0
    while True:
        k, status = run_kernel(
            engine.t + done, ticks - done, input_ptr[done:], input_axon,
            input_count, rows.axon, rows.count, rows.length, rows.work,
            fixed.axon_rows, table.words64, engine.entry_start, fixed.entry_words,
            fixed.entry_ops, STEPS.index(compiled.step), noise is not None, lanes,
            lane_group, tables,
            P, S, S_new, fixed.lo, fixed.hi, fixed.bits, fixed.signed, spec.overflow == "wrap",
            ("floor", "nearest", "zero").index(spec.rounding),
            ("off", "count", "strict").index(spec.overflow_check), counts, error,
            record_flags, rec_spikes[done:], rec_regs[:, done:], timing_on, *static,
            t_phase[done:], t_work[done:], t_links[done:], t_cycles[done:], pk_ptr[done:],
            *pk, capacity, max_packets)
        done += k
        if status == PACKETS_FULL:
            capacity *= 2
            grown = [np.empty(capacity, a.dtype) for a in pk]
            for new, old in zip(grown, pk):
                new[:old.size] = old
            pk = grown
        else:
            break

    engine.t += done
    engine._state = compiled.unpack_state(S)  # in range by construction, as numpy's tick
    rows.store_into(engine.buffer)
    for name, value in zip(names, counts):
        engine.arith.counts[name] += int(value)
    if status == OVERFLOW:
        phase, slot, value = (int(x) for x in error)
        fmt = registers[names[compiled.phase_register[phase]]]
        core, local = engine.layout.locate(slot)
        raise RegisterOverflowError(core, local, names[compiled.phase_register[phase]],
                                    engine.t, value, fmt.bits, fmt.signed,
                                    register_range(fmt))

    traces = {}
    for name in record:
        if name == "spikes":
            traces[name] = rec_spikes
        else:
            traces[name] = rec_regs[kept.index(name)]
    timings = None
    if timing_on:
        timings = (t_phase, t_work, t_links, t_cycles, pk_ptr, pk)
    return traces, timings


def kernel_cached() -> bool:
    """Whether numba's disk cache holds a compiled ``run_kernel`` (else the first run of
    the process compiles it, about 15 s). Without a writable cache: whether this process
    has compiled it already."""
    if run_kernel.signatures:
        return True
    from pathlib import Path

    try:
        cache_dir = Path(run_kernel._cache._cache_path)
    except AttributeError:
        return False
    return any(cache_dir.glob("compiled.run_kernel-*.nbi"))


def _drop_stale_kernel_cache() -> None:
    """numba's disk cache keys ``run_kernel`` on this file only, yet the kernel has the
    firmware models' compiled steps built in: when a step's source changes, the cached
    kernel is stale. Keep a digest of the steps' modules beside the cache and drop the
    kernel's cache files when the digest changes."""
    import hashlib
    import sys
    from pathlib import Path

    try:
        cache_dir = Path(run_kernel._cache._cache_path)
        digest = hashlib.sha256(b"".join(
            Path(sys.modules[step.py_func.__module__].__file__).read_bytes()
            for step in STEPS)).hexdigest()
        stamp = cache_dir / "compiled.run_kernel.depends"
        if stamp.exists() and stamp.read_text() == digest:
            return
        for stale in cache_dir.glob("compiled.run_kernel-*.nb[ic]"):
            stale.unlink()
        stamp.write_text(digest)
    except (OSError, AttributeError):  # no writable cache: numba compiles in memory
        pass


_drop_stale_kernel_cache()
