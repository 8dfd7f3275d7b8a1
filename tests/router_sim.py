"""Brute-force models of the chip's timing, written from the docstring of
``neurochip/hardware/timing.py`` alone (no code of the library is used here).

* ``simulate_mesh``: the mesh router, cycle by cycle. Every packet waits at a router for
  its next link (X first, then Y); each directed link starts at most one packet per
  cycle; among the packets waiting for a link at a cycle, the one that asked earliest
  goes, ties broken by injection order (the packet's index in the list); a packet that
  starts a link at cycle ``c`` reaches the next router at ``c + hop`` and asks for its
  next link then; it arrives when it leaves its last link; a packet to its own core
  arrives when it is injected.
* ``phase_model``: per core, the cycle the synaptic, neuron-update and routing phases
  end and the injection cycle of every packet, from plain counts.
* ``tick_model``: both together, and the tick length (barrier).

Link ids follow the library's documented numbering so that per-link counts can be
compared: the link leaving router ``r`` (core index ``r = y * W + x``) by port ``p`` is
``4 * r + p`` with ports +X = 0, -X = 1, +Y = 2, -Y = 3.
"""

from __future__ import annotations

PLUS_X, MINUS_X, PLUS_Y, MINUS_Y = 0, 1, 2, 3


def path(width: int, src: int, dst: int) -> list[tuple[int, str]]:
    """The links (id, axis) a packet from ``src`` to ``dst`` crosses, in order."""
    x, y = src % width, src // width
    tx, ty = dst % width, dst // width
    links = []
    while x != tx:
        port = PLUS_X if tx > x else MINUS_X
        links.append((4 * (y * width + x) + port, "x"))
        x += 1 if tx > x else -1
    while y != ty:
        port = PLUS_Y if ty > y else MINUS_Y
        links.append((4 * (y * width + x) + port, "y"))
        y += 1 if ty > y else -1
    return links


def simulate_mesh(width: int, height: int, hop_x: int, hop_y: int,
                  packets: list[tuple[int, int, int]]):
    """Cycle-by-cycle simulation of ``packets`` = [(src, dst, inject cycle), ...].

    The list is in injection order (its index is the tie-break). Returns
    ``(arrive, link_packets, starts)``: the arrival cycle of every packet, the number of
    packets that crossed every link id (``4 * width * height`` of them) and, per packet,
    the list of cycles it started each of its links.
    """
    n_cores = width * height
    for src, dst, inject in packets:
        assert 0 <= src < n_cores and 0 <= dst < n_cores and inject >= 0
    latency = {"x": hop_x, "y": hop_y}
    routes = [path(width, src, dst) for src, dst, _ in packets]
    arrive: list[int | None] = [None] * len(packets)
    starts: list[list[int]] = [[] for _ in packets]
    next_hop = [0] * len(packets)
    asked = [inject for _, _, inject in packets]  # cycle it asked for its next link
    link_packets = [0] * (4 * n_cores)
    travelling = set()
    for p, (_, _, inject) in enumerate(packets):
        if routes[p]:
            travelling.add(p)
        else:
            arrive[p] = inject  # to its own core: no link
    cycle = min(asked, default=0)
    while travelling:
        # who is waiting for which link at this cycle
        waiting: dict[int, list[int]] = {}
        for p in travelling:
            if asked[p] <= cycle:
                waiting.setdefault(routes[p][next_hop[p]][0], []).append(p)
        if not waiting:  # nothing can move: jump to the next request (same result)
            cycle = min(asked[p] for p in travelling)
            continue
        for link, candidates in waiting.items():
            winner = min(candidates, key=lambda p: (asked[p], p))
            link_packets[link] += 1
            starts[winner].append(cycle)
            reach = cycle + latency[routes[winner][next_hop[winner]][1]]
            next_hop[winner] += 1
            asked[winner] = reach
            if next_hop[winner] == len(routes[winner]):
                arrive[winner] = reach
                travelling.discard(winner)
        cycle += 1
    return arrive, link_packets, starts


def phase_model(table, rows, synops, active, idle, packet_src):
    """Phase ends per core and injection cycle per packet, from counts.

    ``rows[c]``/``synops[c]``: synapse-row fetches and synaptic ops of core ``c``;
    ``active[c]``/``idle[c]``: slots that did work / were idle; ``packet_src``: the
    source core of every packet, in injection order. ``table`` is anything with the
    ``TimingTable`` attribute names.
    """
    n_cores = len(rows)
    synapse_end = [table.row_fetch * rows[c] + table.synop * synops[c] for c in range(n_cores)]
    neuron_end = [synapse_end[c] + table.neuron_active * active[c] + table.neuron_idle * idle[c]
                  for c in range(n_cores)]
    per_packet = table.route_lookup + table.inject
    sent = [0] * n_cores
    inject = []
    for src in packet_src:
        sent[src] += 1  # this is the k-th packet of its core with k = sent - 1
        inject.append(neuron_end[src] + sent[src] * per_packet)
    route_end = [neuron_end[c] + sent[c] * per_packet for c in range(n_cores)]
    return synapse_end, neuron_end, route_end, inject


def tick_model(table, width, height, rows, synops, active, idle, packets):
    """Everything about one tick: ``packets`` = [(src, dst), ...] in injection order."""
    synapse_end, neuron_end, route_end, inject = phase_model(
        table, rows, synops, active, idle, [src for src, _ in packets])
    arrive, link_packets, _ = simulate_mesh(
        width, height, table.hop_x, table.hop_y,
        [(src, dst, cycle) for (src, dst), cycle in zip(packets, inject)])
    cycles = max(route_end + arrive, default=0)
    return dict(synapse_end=synapse_end, neuron_end=neuron_end, route_end=route_end,
                inject=inject, arrive=arrive, link_packets=link_packets, cycles=cycles)


# ----------------------------------------------------------------- random networks
# (shared by the checks in test_timing.py and test_chip.py)

def random_network(rng, spec, n_max: int = 12, synapses_max: int = 40, noise: bool = False,
                   inputs_max: int = 3):
    """A random integer ``neurochip.compiler.placement.Network`` whose fields fit ``spec``.

    ``rng`` is a ``numpy.random.Generator``; about half the slots have no bias, so some
    slots stay idle; with ``noise`` some slots get LFSR noise.
    """
    from firmware_models.lif import LifParams
    from neurochip.compiler.placement import Network

    n = int(rng.integers(1, n_max + 1))
    v_max = (1 << (spec.v_bits - 1)) - 1
    params = LifParams.make(
        n,
        k_i=rng.integers(0, min(spec.max_shift, 8) + 1, n),
        k_v=rng.integers(0, min(spec.max_shift, 8) + 1, n),
        k_theta=rng.integers(0, min(spec.max_shift, 8) + 1, n),
        bias=rng.integers(-40, 80, n) * (rng.random(n) < 0.5),
        v_th=rng.integers(0, min(300, v_max) + 1, n),
        v_reset=rng.integers(-50, 51, n),
        t_ref=rng.integers(0, min(3, (1 << spec.ref_bits) - 1) + 1, n),
        alpha=rng.integers(0, 40, n) * (rng.random(n) < 0.3),
        reset_mode=rng.integers(0, 3, n),
        noise_bits=(rng.integers(1, min(8, spec.noise_bits_max) + 1, n)
                    * (rng.random(n) < 0.6)) if noise and spec.noise_bits_max else 0,
        noise_shift=rng.integers(0, 4, n) if noise else 0,
    )
    w_lo, w_hi = -(1 << (spec.w_bits - 1)), (1 << (spec.w_bits - 1)) - 1
    m = int(rng.integers(0, synapses_max + 1))
    n_inputs = int(rng.integers(0, inputs_max + 1))
    k = int(rng.integers(0, 12)) if n_inputs else 0
    return Network(
        params=params,
        pre=rng.integers(0, n, m), post=rng.integers(0, n, m),
        w=rng.integers(w_lo, w_hi + 1, m), delay=rng.integers(1, spec.max_delay + 1, m),
        w_exp=int(rng.integers(0, min(3, spec.max_w_exp) + 1)),
        input_channel=rng.integers(0, max(n_inputs, 1), k),
        input_post=rng.integers(0, n, k), input_w=rng.integers(w_lo, w_hi + 1, k),
        n_inputs=n_inputs)
