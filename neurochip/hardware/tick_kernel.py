"""The compiled tick loop: many ticks of the engine in one numba call.

Same tick as ``engine.Engine.tick`` (and, with timing, ``timing.tick_timing``), written as
loops that numba compiles to machine code: the axon buffer is one array of axons per
arrival row (``compiled.EventRows``), delivery adds ``w << w_exp`` in ``int64``, the
firmware model's compiled step updates every slot, routing writes the buffer, and the
timing model schedules packets link by link in the same steps as the numpy code. Each
phase is its own function, inlined into ``run_kernel`` by numba (no call per tick).

The firmware models' compiled steps are called as globals (numba caches compiled code
on disk only when it does not receive functions as arguments), chosen by an index
(``STEPS``): the reference LIF program, the Loihi dialect and the Xylo dialect. Xylo
has a delivery of its own (``_deliver_xylo``: the tick's events one at a time in
ascending axon order, saturating after each, as ``Arithmetic.accumulate`` applies
``DeliveryTable.events``) and sends a slot's entries once per spike of its count.

The kernel stops early (and the driver resumes it) when the packet record is full, and
returns at once on a strict-mode overflow, with the state of the failing tick discarded
as in the numpy backend.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.core.extending import intrinsic
from numba.cpython.unsafe.numbers import trailing_zeros

from firmware_models.lif.compiled import CHECK_COUNT, CHECK_STRICT, lif_step_compiled
from firmware_models.loihi.compiled import loihi_step_compiled
from firmware_models.xylo.compiled import xylo_step_compiled

from .link_schedule import fcfs_packets

OK, OVERFLOW, PACKETS_FULL = range(3)
# the firmware programs the kernel runs, by the index it is given
STEPS = (lif_step_compiled, loihi_step_compiled, xylo_step_compiled)
XYLO = 2  # in-order saturating delivery (``_deliver_xylo``), spike counts


BYTE = np.uint64(0xFF)
ONE, EIGHT, SIXTEEN, TWENTY_FOUR = np.uint64(1), np.uint64(8), np.uint64(16), np.uint64(24)
LOW_HALF, HIGH_HALF = np.int64(0xFFFFFFFF), np.int64(32)
PREFETCH_AHEAD = 4  # events ahead whose row location is fetched
ROW_AHEAD = 2  # events ahead whose row is fetched


@intrinsic
def prefetch(typingctx, array, index):
    """Ask the CPU to bring element ``index`` of C-contiguous ``array`` (flat) into the
    caches, without waiting for it (LLVM's ``llvm.prefetch``; never faults)."""

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        data = context.make_array(array_type)(context, builder, args[0]).data
        # as a byte pointer: one declaration serves arrays of every element type
        address = builder.bitcast(builder.gep(data, [args[1]]), ir.IntType(8).as_pointer())
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


@njit(cache=True, inline="always")
def _join_inputs(k, row, in_ptr, in_axon, in_count, row_axon, row_count, row_length,
                 row_work, axon_rows, timing_on):
    """The input events of tick ``k`` join its arrival row (with timing, their work is
    counted per core); returns the row's number of events."""
    n_events = row_length[row]
    for q in range(in_ptr[k], in_ptr[k + 1]):
        row_axon[row, n_events] = in_axon[q]
        row_count[row, n_events] = in_count[q]
        n_events += 1
        if timing_on:
            row_work[row, 0, axon_rows[in_axon[q], 2]] += in_count[q]
            row_work[row, 1, axon_rows[in_axon[q], 2]] += in_count[q] * axon_rows[
                in_axon[q], 1]
    return n_events


@njit(cache=True, inline="always")
def _prefetch_row(q, n_events, row_axon, row, axon_rows, syn_words, syn32, slot_bits):
    """Fetch ahead what the coming events will read, which would stall the loop when the
    table is larger than the caches: the row location of the event ``PREFETCH_AHEAD``
    ahead and every line of the row ``ROW_AHEAD`` ahead."""
    if q + PREFETCH_AHEAD < n_events:
        prefetch(axon_rows, 3 * row_axon[row, q + PREFETCH_AHEAD])
    if q + ROW_AHEAD < n_events:
        coming = axon_rows[row_axon[row, q + ROW_AHEAD], 0]
        length = axon_rows[row_axon[row, q + ROW_AHEAD], 1]
        if slot_bits > 0:
            for line in range(0, length, 16):  # 16 words of 4 bytes a cache line
                prefetch(syn32, coming + line)
        else:
            for line in range(0, length, 8):
                prefetch(syn_words, coming + line)


@njit(cache=True, inline="always")
def _deliver(k, row, in_ptr, in_axon, in_count, row_axon, row_count, row_length, row_work,
             axon_rows, syn_words, syn32, slot_bits, acc, timing_on):
    """Delivery of one tick: the tick's input events join its row, then every event of the
    row adds its axon's weights into ``acc``; the row is emptied. Narrow words
    (``slot_bits > 0``, ``compiled.FixedTables``) are read from ``syn32``."""
    n_events = _join_inputs(k, row, in_ptr, in_axon, in_count, row_axon, row_count,
                            row_length, row_work, axon_rows, timing_on)
    mask = (np.int64(1) << slot_bits) - 1
    for q in range(n_events):
        # fetch ahead what the coming events will read: it would stall the loop when the
        # table is larger than the caches (written out: a helper taking arrays costs
        # reference counting at every call)
        if q + PREFETCH_AHEAD < n_events:
            prefetch(axon_rows, 3 * row_axon[row, q + PREFETCH_AHEAD])
        if q + ROW_AHEAD < n_events:
            coming = axon_rows[row_axon[row, q + ROW_AHEAD], 0]
            length = axon_rows[row_axon[row, q + ROW_AHEAD], 1]
            if slot_bits > 0:
                for line in range(0, length, 16):  # 16 words of 4 bytes a cache line
                    prefetch(syn32, coming + line)
            else:
                for line in range(0, length, 8):
                    prefetch(syn_words, coming + line)
        a = row_axon[row, q]
        c = row_count[row, q]
        # word and slot as unsigned: numba then indexes without a negative-index fix-up
        begin = np.uint64(axon_rows[a, 0])
        end = begin + np.uint64(axon_rows[a, 1])
        if slot_bits > 0 and c == 1:
            for w in range(begin, end):
                x = np.int64(syn32[w])
                acc[np.uint32(x & mask)] += x >> slot_bits
        elif slot_bits > 0:
            for w in range(begin, end):
                x = np.int64(syn32[w])
                acc[np.uint32(x & mask)] += c * (x >> slot_bits)
        elif c == 1:
            for w in range(begin, end):
                acc[np.uint32(syn_words[w] & LOW_HALF)] += syn_words[w] >> HIGH_HALF
        else:
            for w in range(begin, end):
                acc[np.uint32(syn_words[w] & LOW_HALF)] += c * (syn_words[w] >> HIGH_HALF)
    row_length[row] = 0


@njit(cache=True, inline="always")
def _word(syn_words, syn32, slot_bits, mask, w):
    """Index and weight of synapse word ``w`` (narrow or wide, ``compiled.FixedTables``)."""
    if slot_bits > 0:
        x = np.int64(syn32[w])
        return x & mask, x >> slot_bits
    return syn_words[w] & LOW_HALF, syn_words[w] >> HIGH_HALF


@njit(cache=True, inline="always")
def _deliver_xylo(k, row, in_ptr, in_axon, in_count, row_axon, row_count, row_length,
                  row_work, axon_rows, syn_words, syn32, slot_bits, acc, sums, dirty, seen,
                  S, lo, hi, check, counts, error, timing_on):
    """The Xylo delivery of one tick: ``acc[:2n]`` starts as the slots' ``isyn1`` and
    ``isyn2`` (rows 0 and 1 of ``S``) and takes the row's events in ascending axon order
    (an axon's ``c`` events one after the other, a row's words in order), saturating
    after every single addition, as ``Arithmetic.accumulate`` applies
    ``DeliveryTable.events``. The words' index is ``target * n + slot``.

    First, in any order, ``sums[i]`` and ``sums[2n + i]`` get the positive and the
    negative part of current ``i``'s events. Every partial sum of its events, in any
    order, lies between those two, so a current whose start plus either stays in range
    never saturates: it takes the wide sum. Only the others (``dirty``) are then added
    in order (the events sorted by axon), saturating after each addition; none on most
    ticks. Counts each clipped addition (count mode); in strict mode ``error`` gets the
    first overflow as the numpy rounds find it: ``isyn1`` before ``isyn2``, then the
    lowest rank of the event among its current's events, then the lowest slot. With
    timing, ``acc[2n:]`` gets the wide sums (for the idle test). The row is emptied."""
    n = S.shape[1]
    n_events = _join_inputs(k, row, in_ptr, in_axon, in_count, row_axon, row_count,
                            row_length, row_work, axon_rows, timing_on)
    mask = (np.int64(1) << slot_bits) - 1
    negative = 2 * n  # where the negative parts start in ``sums``
    for q in range(n_events):
        _prefetch_row(q, n_events, row_axon, row, axon_rows, syn_words, syn32, slot_bits)
        a = row_axon[row, q]
        c = row_count[row, q]
        begin = np.uint64(axon_rows[a, 0])
        end = begin + np.uint64(axon_rows[a, 1])
        if slot_bits > 0:
            for w in range(begin, end):
                x = np.int64(syn32[w])
                weight = x >> slot_bits
                sums[(x & mask) + (negative if weight < 0 else 0)] += c * weight
        else:
            for w in range(begin, end):
                weight = syn_words[w] >> HIGH_HALF
                sums[(syn_words[w] & LOW_HALF) + (negative if weight < 0 else 0)] += c * weight
    n_dirty = 0
    for t in range(2):  # isyn1 of every slot, then isyn2: no branch, vector instructions
        low, high = lo[t], hi[t]
        for j in range(n):
            i = t * n + j
            start = np.int64(S[t, j])
            up, down = sums[i], sums[negative + i]
            clean = (start + up <= high) & (start + down >= low)
            acc[i] = start + up + down if clean else start
            if timing_on:
                acc[negative + i] = up + down
            dirty[i] = not clean
            n_dirty += not clean
            sums[i] = 0
            sums[negative + i] = 0
    error[0] = -1
    if n_dirty > 0:
        _xylo_in_order(row, n_events, row_axon, row_count, axon_rows, syn_words, syn32,
                       slot_bits, acc, dirty, seen, n, lo, hi, check, counts, error)
    row_length[row] = 0


@njit(cache=True, inline="always")
def _xylo_in_order(row, n_events, row_axon, row_count, axon_rows, syn_words, syn32,
                   slot_bits, acc, dirty, seen, n, lo, hi, check, counts, error):
    """The in-order, saturating additions onto the ``dirty`` currents (``_deliver_xylo``),
    their clipped additions counted and, in strict mode, the first overflow found."""
    strict = check == CHECK_STRICT
    if strict:
        seen[:] = 0
    best = (np.int64(2), np.int64(0), np.int64(0), np.int64(0))  # target, rank, slot, value
    o_1 = o_2 = 0
    lo_1, hi_1, lo_2, hi_2 = lo[0], hi[0], lo[1], hi[1]
    mask = (np.int64(1) << slot_bits) - 1
    order = np.argsort(row_axon[row, :n_events])
    for e in range(n_events):
        q = order[e]
        a = row_axon[row, q]
        begin = np.uint64(axon_rows[a, 0])
        end = begin + np.uint64(axon_rows[a, 1])
        for _ in range(row_count[row, q]):
            for w in range(begin, end):
                i, weight = _word(syn_words, syn32, slot_bits, mask, w)
                if not dirty[i]:
                    continue
                x = acc[i] + weight
                second = i >= n
                low, high = (lo_2, hi_2) if second else (lo_1, hi_1)
                if x < low or x > high:
                    if second:
                        o_2 += 1
                    else:
                        o_1 += 1
                    if strict:
                        chosen = (np.int64(second), seen[i], i - n if second else i, x)
                        if chosen[:3] < best[:3]:
                            best = chosen
                    x = min(max(x, low), high)
                if strict:
                    seen[i] += 1
                acc[i] = x
    if check == CHECK_COUNT:
        counts[0] += o_1
        counts[1] += o_2
    if strict and best[0] < 2:
        error[0], error[1], error[2] = best[0], best[2], best[3]


@njit(cache=True, inline="always")
def _deliver_model(model, k, row, in_ptr, in_axon, in_count, row_axon, row_count,
                   row_length, row_work, axon_rows, syn_words, syn32, slot_bits, acc, sums,
                   dirty, seen, S, lo, hi, check, counts, error, timing_on, n_cores, t_work):
    """Delivery of tick ``k`` as the model has it (``_deliver``, or ``_deliver_xylo``,
    which may leave a strict-mode overflow in ``error``) and, with timing, its work per
    core. (Fewer than 31 arguments: CPython passes more as a tuple, which numba does
    not inline.)"""
    if model == XYLO:
        _deliver_xylo(k, row, in_ptr, in_axon, in_count, row_axon, row_count, row_length,
                      row_work, axon_rows, syn_words, syn32, slot_bits, acc, sums, dirty,
                      seen, S, lo, hi, check, counts, error, timing_on)
    else:
        _deliver(k, row, in_ptr, in_axon, in_count, row_axon, row_count, row_length,
                 row_work, axon_rows, syn_words, syn32, slot_bits, acc, timing_on)
    if timing_on:
        for c in range(n_cores):
            t_work[k, 0, c], t_work[k, 1, c] = row_work[row, 0, c], row_work[row, 1, c]
            row_work[row, 0, c] = row_work[row, 1, c] = 0


@njit(cache=True, inline="always")
def _step_model(model, P, S, S_new, acc, noise_words, lo, hi, bits, signed, wrap, rounding,
                check, counts, fired, spike_count, idle, error, timing_on, noisy):
    """The firmware step of every slot (``STEPS[model]``), ``S`` to ``S_new``; a
    strict-mode overflow is left in ``error``. The idle flags are read only with timing."""
    if model == 0:  # the step leaves acc at zero for the next tick
        lif_step_compiled(P, S, S_new, acc, noise_words, lo, hi, bits, signed, wrap,
                          rounding, check, counts, fired, idle, error, noisy, timing_on)
    elif model == 1:
        loihi_step_compiled(P, S, S_new, acc, noise_words, lo, hi, bits, signed, wrap,
                            rounding, check, counts, fired, idle, error)
    elif error[0] < 0:  # Xylo: the delivery has filled acc (and found no overflow)
        xylo_step_compiled(P, S, S_new, acc, lo, hi, check, counts, fired, spike_count,
                           idle, error, timing_on)

@njit(cache=True, inline="always")
def _route(t, last_row, fired_words, spiking, entry_start, entry_words, entry_ops, row_axon,
           row_count, row_length, row_work, timing_on, slot_core, entry_dst, pk_src, pk_dst,
           base, multi, spike_count):
    """Routing of one tick: the fired slots in order (``spiking``), then each one's
    entries write the axon buffer's arrival rows (and, with timing, the packets' source
    and destination from ``base``). With ``multi`` a slot sends each entry
    ``spike_count`` times: one event of that count, and as many packets one after the
    other. Returns the packets sent and the slots fired."""
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
            if timing_on:  # the timing's entry tables: misses as costly as the words'
                prefetch(entry_dst, entry_start[spiking[f + 1]])
                prefetch(entry_ops, entry_start[spiking[f + 1]])
        j = spiking[f]
        c = spike_count[j] if multi else 1
        for e in range(entry_start[j], entry_start[j + 1]):
            arrival = (t + (entry_words[e] >> HIGH_HALF)) & last_row
            row_axon[arrival, row_length[arrival]] = entry_words[e] & LOW_HALF
            row_count[arrival, row_length[arrival]] = c
            row_length[arrival] += 1
            if timing_on:  # read once here, where a slot's entries sit together
                for _ in range(c):
                    pk_src[base + n_sent] = slot_core[j]
                    pk_dst[base + n_sent] = entry_dst[e]
                    n_sent += 1
                # the work of the event is counted now, where its entry is at hand
                row_work[arrival, 0, entry_dst[e]] += c
                row_work[arrival, 1, entry_dst[e]] += c * entry_ops[e]
            else:
                n_sent += c
    return n_sent, n_fired


@njit(cache=True, inline="always")
def _record(k, S, fired, record_flags, rec_spikes, rec_regs, multi, spike_count):
    n = S.shape[1]
    if record_flags[0]:
        for j in range(n):
            rec_spikes[k, j] = spike_count[j] if multi else fired[j]
    for r in range(S.shape[0]):
        if record_flags[r + 1]:
            for j in range(n):
                rec_regs[r, k, j] = S[r, j]


@njit(cache=True, inline="always")
def _schedule_tick(k, n_sent, idle, table, core_slots, n_cores, width, height, core_xy,
                   t_phase, t_work, t_links, pk_src, pk_dst, pk_inject, pk_arrive, base):
    """Timing of one tick: the three phases of every core, each packet's injection and
    arrival cycle under the link schedule; returns the tick's length in cycles."""
    per_packet = table[4] + table[5]
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
    injected = np.empty(n_cores, np.int64)  # each core's latest injection cycle
    for c in range(n_cores):
        synapse_end = table[0] * t_work[k, 0, c] + table[1] * t_work[k, 1, c]
        neuron_end = synapse_end + table[2] * t_work[k, 2, c] + table[3] * t_work[k, 3, c]
        t_phase[k, 0, c] = synapse_end
        t_phase[k, 1, c] = injected[c] = neuron_end
    for p in range(n_sent):  # a core's k-th packet at neuron_end + (k + 1) * per_packet
        injected[src[p]] += per_packet
        inject[p] = injected[src[p]]
    cycles = 0
    for c in range(n_cores):
        t_phase[k, 2, c] = injected[c]
        cycles = max(cycles, injected[c])
    for q in range(t_links.shape[1]):
        t_links[k, q] = 0
    fcfs_packets(n_sent, inject, src, dst, width, height, table[6], table[7], arrive,
                 t_links[k], core_xy)
    for p in range(n_sent):
        cycles = max(cycles, arrive[p])
    return cycles


@njit(cache=True, inline="always")
def _delivery_scratch(n, multi, check):
    """The accumulators (Xylo: the currents, then their wide sums), and for Xylo the
    positive and negative parts of each current's events, the currents that may
    saturate, and in strict mode each current's events so far (``_deliver_xylo``)."""
    return (np.zeros(4 * n if multi else n, np.int64),
            np.zeros(4 * n if multi else 0, np.int64),
            np.zeros(2 * n if multi else 0, np.bool_),
            np.zeros(2 * n if multi and check == CHECK_STRICT else 0, np.int64))


@njit(cache=True, nogil=True)  # partitions run it on threads at once
def run_kernel(t0, n_ticks, in_ptr, in_axon, in_count, row_axon, row_count, row_length,
               row_work, axon_rows, syn_words, entry_start, entry_words, entry_ops, model,
               noisy, lanes, lane_group, tables, P, S, S_new, lo, hi, bits, signed, wrap,
               rounding, check, counts, error, record_flags, rec_spikes, rec_regs,
               timing_on, table, slot_core, core_slots, n_cores, width, height, entry_dst,
               t_phase, t_work, t_links, t_cycles, pk_ptr, pk_src, pk_dst, pk_inject,
               pk_arrive, pk_capacity, max_packets, keep_packets, fired_slots):
    """Run up to ``n_ticks`` ticks; returns (ticks done, status).

    With timing, tick ``k``'s records are from ``pk_ptr[k]`` to ``pk_ptr[k + 1]``: of
    ``pk_*`` with ``keep_packets``, else of ``fired_slots`` (``pk_*``: scratch).

    The input events of tick ``k`` are ``in_axon``/``in_count`` from ``in_ptr[k]`` to
    ``in_ptr[k + 1]``; they join the row of that tick. ``row_axon``, ``row_count``,
    ``row_length`` and ``row_work`` are the ``EventRows`` of the axon buffer.

    ``axon_rows[a]`` is axon ``a``'s (row offset, row length, core index), side by side
    so that one read brings all three; ``syn_words`` is ``DeliveryTable.words64`` (slot in
    the low 32 bits of a word, weight in the high 32); ``entry_words`` the routing
    entries, axon in the low 32 bits and delay in the high 32 (for Xylo ``syn_words``
    holds ``target * n + slot`` in the low half, ``compiled.FixedTables``). ``model`` is
    the index of the firmware program's step in ``STEPS``; with Xylo, ``rec_spikes``
    records spike counts and ``max_packets`` allows every slot's most spikes.
    """
    n = S.shape[1]
    last_row = row_length.size - 1  # the buffer's depth is a power of two
    multi = model == XYLO
    acc, sums, dirty, seen = _delivery_scratch(n, multi, check)
    slot_bits, syn32 = axon_rows[axon_rows.shape[0] - 1, 0], syn_words.view(np.int32)  # format
    spike_count, noise_words = np.zeros(n if multi else 0, np.int64), np.zeros(n, np.int64)
    fired_bytes = np.zeros(8 * ((n + 7) // 8), np.bool_)
    fired = fired_bytes[:n]
    fired_words = fired_bytes.view(np.uint64)  # eight slots at a time: most are zero
    idle = np.zeros(n, np.bool_)
    spiking = np.empty(n, np.int64)
    core_xy = np.empty((n_cores, 2), np.int64)
    for c in range(n_cores):
        core_xy[c, 0], core_xy[c, 1] = c % width, c // width
    swapped = False  # state alternates between the two arrays; the caller reads S
    for k in range(n_ticks):
        if timing_on and pk_ptr[k] + (max_packets if keep_packets else n) > pk_capacity:
            if swapped:
                S_new[:, :] = S
            return k, PACKETS_FULL
        t = t0 + k
        row = t & last_row
        _deliver_model(model, k, row, in_ptr, in_axon, in_count, row_axon, row_count,
                       row_length, row_work, axon_rows, syn_words, syn32, slot_bits, acc,
                       sums, dirty, seen, S, lo, hi, check, counts, error, timing_on, n_cores,
                       t_work)
        if noisy:
            for j in range(n):
                noise_words[j] = np.int64(lanes[j])
            jump_lanes(lanes, lane_group, tables)
        _step_model(model, P, S, S_new, acc, noise_words, lo, hi, bits, signed, wrap,
                    rounding, check, counts, fired, spike_count, idle, error, timing_on,
                    noisy)
        if error[0] >= 0:
            if swapped:
                S_new[:, :] = S  # the caller's S holds the state before this tick
            return k, OVERFLOW
        S, S_new = S_new, S
        swapped = not swapped
        base = pk_ptr[k] if keep_packets else 0
        n_sent, n_fired = _route(t, last_row, fired_words, spiking, entry_start, entry_words,
                                 entry_ops, row_axon, row_count, row_length, row_work,
                                 timing_on, slot_core, entry_dst, pk_src, pk_dst, base,
                                 multi, spike_count)
        _record(k, S, fired, record_flags, rec_spikes, rec_regs, multi, spike_count)
        if timing_on:
            t_cycles[k] = _schedule_tick(k, n_sent, idle, table, core_slots, n_cores, width,
                                         height, core_xy, t_phase, t_work, t_links, pk_src,
                                         pk_dst, pk_inject, pk_arrive, base)
            pk_ptr[k + 1] = pk_ptr[k] + (n_sent if keep_packets else n_fired)
            if not keep_packets:
                fired_slots[pk_ptr[k]:pk_ptr[k + 1]] = spiking[:n_fired]
    if swapped:
        S_new[:, :] = S
    return n_ticks, OK
