"""Partitions on MPI ranks (mpi4py; ``pip install neurochip[mpi]`` brings mpich's wheel):
one partition per rank, the exchange one ``Alltoallv`` of int64 event rows per
interval (docs/scale-out.md).

``world()`` is the communicator of a process started by ``mpiexec -n N`` (N > 1), else
None: ``neurochip run`` under ``mpiexec`` runs its chip on the ranks, rank 0 writes.
``MpiTransport`` is what ``partitioned`` calls between intervals and at the end; every
message is a numpy buffer (counts first, then the data), none a pickled object.
"""

from __future__ import annotations

import os

import numpy as np

from .spec import SpecError

# what mpiexec puts in a rank's environment: MPICH/Hydra (PMI), Open MPI, PMIx
SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE")


def launched_ranks() -> int:
    """The number of ranks mpiexec started this process among (1 if none)."""
    for name in SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 1


def world():
    """``MPI.COMM_WORLD`` when this process is one of several ranks, else None."""
    if launched_ranks() < 2:
        return None
    try:
        from mpi4py import MPI
    except ImportError:
        raise SpecError(f"started by mpiexec on {launched_ranks()} ranks, but mpi4py is "
                        f"not installed (pip install 'neurochip[mpi]')") from None
    return MPI.COMM_WORLD if MPI.COMM_WORLD.Get_size() > 1 else None


def is_root() -> bool:
    """Whether this process reports and writes files: rank 0, or not under mpiexec."""
    comm = world()
    return comm is None or comm.Get_rank() == 0


class MpiTransport:
    """Partition ``r`` on rank ``r``: the exchange, sums, gathers of ``partitioned``."""

    def __init__(self, comm):
        from mpi4py import MPI

        self.MPI, self.comm = MPI, comm
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        self.root = self.rank == 0
        self.local = [self.rank]
        self.sent_bytes = 0  # event data sent to other ranks (the exchange's volume)

    def assign(self, n_parts: int) -> None:
        if n_parts != self.size:
            raise SpecError(f"an MPI run has one partition per rank: {n_parts} partitions "
                            f"on {self.size} ranks")

    # ----------------------------------------------------------------- per interval
    def exchange(self, pieces: list) -> dict:
        """Alltoallv of the (arrival, axon, count) rows, each rank its partition's."""
        piece = pieces[0]
        send = np.ascontiguousarray(piece.events.T)  # one event a row, by destination
        send_counts = (3 * np.diff(piece.offsets)).astype(np.int64)
        recv_counts = np.zeros(self.size, np.int64)
        self.comm.Alltoall(send_counts, recv_counts)
        recv = np.empty((int(recv_counts.sum()) // 3, 3), np.int64)
        int64 = self.MPI.INT64_T
        self.comm.Alltoallv([send, (send_counts, _displacements(send_counts)), int64],
                            [recv, (recv_counts, _displacements(recv_counts)), int64])
        self.sent_bytes += 8 * int(send_counts.sum() - send_counts[self.rank])
        return {self.rank: recv.T}

    def total(self, values: np.ndarray) -> np.ndarray:
        out = np.empty_like(values)
        self.comm.Allreduce(np.ascontiguousarray(values), out, op=self.MPI.SUM)
        return out

    def total_max(self, values: np.ndarray) -> np.ndarray:
        out = np.empty_like(values)
        self.comm.Allreduce(np.ascontiguousarray(values), out, op=self.MPI.MAX)
        return out

    def any(self, flag: bool) -> bool:
        return bool(self.total(np.array([int(flag)], np.int64))[0])

    def to_root(self, pieces: list) -> list:
        """Every rank's timing piece, on the root (an empty list elsewhere)."""
        piece = pieces[0]
        gathered = [self._gather(a) for a in (piece.work, piece.packets, piece.fired)]
        if not self.root:
            return []
        return [type(piece)(p, work=work, packets=packets, fired=fired)
                for p, (work, packets, fired) in enumerate(zip(*gathered))]

    # ----------------------------------------------------------------- at the end
    def everywhere(self, ends: list) -> list:
        """Every partition's end of run, on every rank (so that each rank's chip holds
        the whole state, as one process's would)."""
        end = ends[0]
        parts = [self._allgather(getattr(end, name)) for name in
                 ("state", "lanes", "pending", "counts")]
        return [type(end)(p, *arrays) for p, arrays in enumerate(zip(*parts))]

    def gather_traces(self, traces: dict) -> list:
        """``(partition, {name: trace})`` of every rank on the root; this rank's elsewhere."""
        mine = traces[self.rank]
        gathered = {name: self._gather(trace) for name, trace in mine.items()}
        if not self.root:
            return [(self.rank, mine)]
        return [(p, {name: gathered[name][p] for name in mine}) for p in range(self.size)]

    # ----------------------------------------------------------------- buffers
    def _shapes(self, array: np.ndarray, everyone: bool) -> np.ndarray:
        shape = np.array(array.shape, np.int64)
        shapes = np.empty((self.size, shape.size), np.int64)
        if everyone:
            self.comm.Allgather(shape, shapes)
        else:
            self.comm.Gather(shape, shapes, root=0)
        return shapes

    def _gather(self, array: np.ndarray, everyone: bool = False) -> list:
        """Each rank's ``array`` (same dtype and number of axes everywhere), as bytes."""
        array = np.ascontiguousarray(array)
        shapes = self._shapes(array, everyone)
        counts = shapes.prod(axis=1) * array.dtype.itemsize
        recv = np.empty(int(counts.sum()) if everyone or self.root else 0, np.uint8)
        byte = self.MPI.BYTE
        send = [array.view(np.uint8).ravel() if array.size else np.zeros(0, np.uint8), byte]
        where = [recv, (counts, _displacements(counts)), byte]
        if everyone:
            self.comm.Allgatherv(send, where)
        else:
            self.comm.Gatherv(send, where if self.root else None, root=0)
        if not (everyone or self.root):
            return []
        starts = _displacements(counts)
        return [recv[s:s + c].view(array.dtype).reshape(shape)
                for s, c, shape in zip(starts, counts, shapes)]

    def _allgather(self, array: np.ndarray) -> list:
        return self._gather(array, everyone=True)


def _displacements(counts: np.ndarray) -> np.ndarray:
    return (np.cumsum(counts) - counts).astype(np.int64)
