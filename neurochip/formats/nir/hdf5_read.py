"""Reading a ``.nir`` (HDF5) file bounded in time and size: ``read_nir_file``.

A corrupted HDF5 file can make the HDF5 C library spin for minutes without releasing
the interpreter (a changed byte in a global heap), crash the process, or declare
datasets of any size. So files are read in a child process (``_hdf5_worker.py``, run as
a script by the same interpreter: only numpy and h5py are imported there), which

* answers within ``read_timeout()`` seconds (``NEUROCHIP_READ_TIMEOUT``, default 5)
  or is killed, and the file refused as one that hangs the HDF5 library;
* reads nothing beyond the memory budget (``NEUROCHIP_MEMORY_BUDGET``): the sizes of
  all datasets are added up from their headers before each is read, and its address
  space is capped at the budget plus 1 GiB;
* follows no soft or external links and reads no virtual or external datasets;
* returns plain data (nested dicts of numpy arrays and strings), which the loader then
  checks as it checks a graph in memory.

The child is started once and reused (the first read pays its start, about 0.2 s; later
reads cost a round trip of the data through a pipe, well under a millisecond for the
fixtures); it is started again after a timeout or a crash, and in a forked process.
Every failure is a ``NirError`` naming the file and, where known, the HDF5 object.
Without ``select`` on pipes (not POSIX) the file is read in this process, with the same
size checks but no timeout.
"""

from __future__ import annotations

import atexit
import os
import pickle
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

from ...hardware.limits import format_bytes, memory_budget, read_timeout
from .errors import NirError

MAX_OBJECTS = 200_000      # groups and datasets in one file
MAX_DEPTH = 32             # nesting of groups below /node
START_TIMEOUT = 60.0       # s: starting the reader (importing h5py) on a loaded machine
_HEADER = struct.Struct("<Q")
_WORKER = Path(__file__).with_name("_hdf5_worker.py")


class _Worker:
    """One reader child process and its pipes."""

    def __init__(self, cap: int):
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                   MKL_NUM_THREADS="1")
        self.cap = cap
        self.pid = os.getpid()
        self.proc = subprocess.Popen([sys.executable, "-I", str(_WORKER), str(cap)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, env=env, close_fds=True)
        reply = self.receive(START_TIMEOUT)
        if reply != ("ready",):
            self.kill()
            raise OSError(f"the HDF5 reader process did not start ({reply!r})")

    def alive(self) -> bool:
        return self.pid == os.getpid() and self.proc.poll() is None

    def kill(self) -> None:
        if self.pid != os.getpid():
            return                                    # a forked copy: not ours to kill
        try:
            self.proc.kill()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):   # pragma: no cover
            pass
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except OSError:                           # pragma: no cover
                pass

    def send(self, obj) -> None:
        data = pickle.dumps(obj)
        self.proc.stdin.write(_HEADER.pack(len(data)) + data)
        self.proc.stdin.flush()

    def receive(self, timeout: float):
        """The next frame, ``"timeout"`` after ``timeout`` seconds, ``"eof"`` if the
        child died."""
        import select

        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        buf = bytearray()
        need = _HEADER.size
        header_done = False
        while True:
            while len(buf) < need:
                left = deadline - time.monotonic()
                if left <= 0:
                    return "timeout"
                ready, _, _ = select.select([fd], [], [], left)
                if not ready:
                    return "timeout"
                chunk = os.read(fd, max(need - len(buf), 1 << 16))
                if not chunk:
                    return "eof"
                buf += chunk
            if header_done:
                return pickle.loads(bytes(buf[:need]))
            (n,) = _HEADER.unpack(bytes(buf[:_HEADER.size]))
            del buf[:_HEADER.size]
            need, header_done = n, True


_lock = threading.Lock()
_worker: _Worker | None = None


def _stop_worker() -> None:
    global _worker
    if _worker is not None:
        _worker.kill()
        _worker = None


atexit.register(_stop_worker)


def _get_worker(cap: int) -> _Worker:
    global _worker
    if _worker is not None and (not _worker.alive() or _worker.cap != cap):
        _worker.kill()
        _worker = None
    if _worker is None:
        _worker = _Worker(cap)
    return _worker


def read_nir_file(path: str | os.PathLike, *, timeout: float | None = None) -> dict:
    """The ``node`` group of a ``.nir`` file as plain data (``hdf2dict``'s dict), read in
    the reader process within ``timeout`` seconds (``read_timeout()`` by default) and the
    memory budget; every failure a ``NirError`` naming the file."""
    source = str(path)
    budget = memory_budget()
    timeout = read_timeout() if timeout is None else float(timeout)
    try:
        size = os.path.getsize(path)
    except OSError as e:
        raise NirError(source, "", f"cannot open it ({e.strerror or e})") from None
    if size > budget:
        raise NirError(source, "", f"the file has {format_bytes(size)}, over the memory "
                                   f"budget of {format_bytes(budget)} (NEUROCHIP_MEMORY_BUDGET)")
    request = (os.path.abspath(source), budget, MAX_OBJECTS, MAX_DEPTH)
    try:
        import select  # noqa: F401
        piped = os.name == "posix"
    except ImportError:                               # pragma: no cover
        piped = False
    if not piped:                                     # pragma: no cover
        return _read_here(source, request)
    with _lock:
        return _read_in_child(source, request, budget + 2 ** 30, timeout)


def _read_in_child(source: str, request: tuple, cap: int, timeout: float) -> dict:
    try:
        worker = _get_worker(cap)
        worker.send(request)
    except OSError as e:
        _stop_worker()
        raise NirError(source, "", f"cannot start the HDF5 reader process ({e})") from None
    reply = worker.receive(timeout)
    if reply in ("timeout", "eof"):
        code = worker.proc.poll()
        _stop_worker()
        if reply == "timeout":
            raise NirError(source, "", f"reading it took over {timeout:g} s (the HDF5 "
                                       f"library hangs on it: a corrupted file); stopped "
                                       f"(NEUROCHIP_READ_TIMEOUT)")
        raise NirError(source, "", f"the HDF5 library crashed reading it (reader exit code "
                                   f"{code}): a corrupted file")
    return _reply(source, reply)


def _reply(source: str, reply) -> dict:
    if reply[0] == "ok":
        return reply[1]
    _, where, problem = reply
    if where:
        raise NirError(source, f"HDF5 object {where!r}", f"cannot be read: {problem}")
    if problem.startswith("not a NIR file"):
        raise NirError(source, "", problem)
    raise NirError(source, "", f"cannot read as a NIR (HDF5) file: {problem}")


def _read_here(source: str, request: tuple) -> dict:         # pragma: no cover - not POSIX
    import h5py
    import numpy as np

    from . import _hdf5_worker as w

    try:
        with h5py.File(request[0], "r") as f:
            if "node" not in f or not isinstance(f["node"], h5py.Group):
                raise NirError(source, "", "not a NIR file (no 'node' group)")
            raw = w._Walk(h5py, np, *request[1:]).group(f["node"], "/node", 0)
        return raw
    except NirError:
        raise
    except w._Refused as e:
        return _reply(source, ("error", e.where, e.problem))
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as e:
        return _reply(source, ("error", "", w._error_text(e)))
