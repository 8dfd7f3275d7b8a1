"""The compiled link schedule: arrival cycle of every packet of a tick under FCFS links.

The same schedule as ``timing.link_schedule`` (docs/timing.md section 5), for the
compiled tick loop (``tick_kernel``, which inlines it) and the partitioned runs'
exchange: a link serves its packets in (request, packet) order, each starting at
``max(request, previous start on the link + 1)``, and a packet asks for its next link
when it leaves one. ``tests/test_link_schedule.py`` checks it against the numpy schedule
and ``tests/router_sim.py`` (cycle by cycle) on random meshes, including the heavy
contention of many packets injected at once.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .timing import MINUS_X, MINUS_Y, PLUS_X, PLUS_Y


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
            x, y, port, to_x, to_y, latency = _link_of_step(step, k, width, height, hop_x,
                                                           hop_y)
            if x < 0:
                continue
            link = (y * width + x) * 4 + port
            for f in range(4):
                head[f] = queue_head[link, f]
            link_packets[link] += _serve_link(head, behind, request, target, arrive,
                                              queue_head, queue_tail, port, to_x, to_y,
                                              latency, width)


@njit(cache=True, inline="always")
def _link_of_step(step, k, width, height, hop_x, hop_y):
    """The k-th link of a step: +x links leave column ``step``, -x links column
    ``W-1-step``; then +y links leave row ``step - (W-1)``, -y links row ``H-1`` less
    that. Returns (x, y, port, next x, next y, hop latency); x = -1 where there is none."""
    plus = k % 2 == 0
    if step < width - 1:
        y, port = k // 2, PLUS_X if plus else MINUS_X
        x = step if plus else width - 1 - step
        if y >= height:
            return -1, 0, 0, 0, 0, 0
        return x, y, port, x + (1 if plus else -1), y, hop_x
    x, port = k // 2, PLUS_Y if plus else MINUS_Y
    y = step - (width - 1) if plus else height - 1 - (step - (width - 1))
    if x >= width:
        return -1, 0, 0, 0, 0, 0
    return x, y, port, x, y + (1 if plus else -1), hop_y


@njit(cache=True, inline="always")
def _serve_link(head, behind, request, target, arrive, queue_head, queue_tail, port, to_x,
                to_y, latency, width):
    """Serve one link's four queues merged in (request, packet) order; each packet goes
    on to its next link's queue or arrives. Returns the packets served."""
    last = np.int64(-(2 ** 62))
    served = 0
    while True:
        best = -1
        for f in range(4):
            p = head[f]
            if p >= 0 and (best < 0 or request[p] < request[head[best]]
                           or (request[p] == request[head[best]] and p < head[best])):
                best = f
        if best < 0:
            return served
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


@njit(cache=True)
def _next_link(x, y, tx, ty, width):
    """Link of the next hop from router (x, y) towards (tx, ty), X then Y; -1 there."""
    if x != tx:
        return (y * width + x) * 4 + (PLUS_X if tx > x else MINUS_X)
    if y != ty:
        return (y * width + x) * 4 + (PLUS_Y if ty > y else MINUS_Y)
    return -1
