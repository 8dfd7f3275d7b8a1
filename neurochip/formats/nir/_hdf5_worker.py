"""The child process that reads ``.nir`` (HDF5) files for ``hdf5_read``: run as a script
(``python -I _hdf5_worker.py CAP``), it imports only the standard library, numpy and
h5py, caps its own address space at ``CAP`` bytes, answers ``ready`` and then serves one
request per frame on stdin: ``(path, max_bytes, max_objects, max_depth)`` ->
``("ok", raw)`` (the ``node`` group as the plain dict ``nir.serialization.hdf2dict``
gives: nested dicts, numpy arrays, strings) or ``("error", where, problem)``.

Frames are an 8-byte little-endian length and a pickle. A corrupted file may make the
HDF5 library spin, crash or allocate without bound: here that costs only this process,
which the parent kills after its timeout.
"""

import os
import pickle
import struct
import sys

_HEADER = struct.Struct("<Q")


def _send(out, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_HEADER.pack(len(data)))
    out.write(data)
    out.flush()


def _receive(inp):
    head = inp.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None
    (n,) = _HEADER.unpack(head)
    return pickle.loads(inp.read(n))


def _error_text(e: BaseException) -> str:
    text = " ".join(str(e).split()) or "no message"
    return f"{type(e).__name__}: {text}"


class _Refused(Exception):
    def __init__(self, where: str, problem: str):
        super().__init__(problem)
        self.where, self.problem = where, problem


class _Walk:
    def __init__(self, h5py, np, max_bytes: int, max_objects: int, max_depth: int):
        self.h5py, self.np = h5py, np
        self.max_bytes, self.max_objects, self.max_depth = max_bytes, max_objects, max_depth
        self.bytes = 0
        self.objects = 0

    def group(self, group, path: str, depth: int) -> dict:
        if depth > self.max_depth:
            raise _Refused(path, f"groups nested deeper than {self.max_depth} levels")
        out = {}
        for key in group:
            self.objects += 1
            if self.objects > self.max_objects:
                raise _Refused(path, f"more than {self.max_objects} HDF5 objects")
            where = f"{path}/{key}"
            try:
                out[key] = self.item(group, key, where, depth)
            except (_Refused, MemoryError, RecursionError):
                raise
            except Exception as e:                    # noqa: BLE001 - every h5py error
                raise _Refused(where, _error_text(e)) from None
        return out

    def item(self, group, key: str, where: str, depth: int):
        h5py = self.h5py
        link = group.get(key, getlink=True)
        if not isinstance(link, h5py.HardLink):
            raise _Refused(where, f"is a {type(link).__name__}; a NIR file holds only "
                                  f"groups and datasets")
        item = group[key]
        if isinstance(item, h5py.Group):
            return self.group(item, where, depth + 1)
        if isinstance(item, h5py.Dataset):
            return self.dataset(item, where)
        raise _Refused(where, f"is a {type(item).__name__}, not a group or dataset")

    def dataset(self, ds, where: str):
        np = self.np
        if ds.is_virtual or ds.external:
            raise _Refused(where, "is stored in other files (virtual or external dataset)")
        dt = ds.dtype
        if dt.kind not in "biufcSUO" or dt.names is not None or dt.subdtype is not None:
            raise _Refused(where, f"has HDF5 type {dt}, which no NIR field has")
        if dt.kind == "O" and self.h5py.check_string_dtype(dt) is None:
            raise _Refused(where, "holds references or variable-length data other than text")
        count = 1
        for s in ds.shape or ():
            count *= int(s)
        size = count * max(dt.itemsize, 1)
        self.bytes += size
        if self.bytes > self.max_bytes:
            raise _Refused(where, f"shape {ds.shape}: the file's datasets need more than "
                                  f"{self.max_bytes} bytes (the memory budget)")
        value = ds[()]
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        if isinstance(value, np.ndarray) and value.dtype.kind == "O":
            # only text, as h5py gives it: plain Python bytes or str elements
            value = np.array([x if isinstance(x, (bytes, str)) else str(x)
                              for x in value.ravel()], dtype=object).reshape(value.shape)
        return value


def _serve(cap: int) -> None:
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ImportError, ValueError, OSError):      # pragma: no cover - not POSIX
        pass
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr                           # stray prints must not break frames
    import numpy as np
    import h5py
    _send(out, ("ready",))
    while True:
        request = _receive(inp)
        if request is None:
            return
        path, max_bytes, max_objects, max_depth = request
        try:
            with h5py.File(path, "r") as f:
                if "node" not in f or not isinstance(f["node"], h5py.Group):
                    raise _Refused("", "not a NIR file (no 'node' group)")
                raw = _Walk(h5py, np, max_bytes, max_objects, max_depth).group(
                    f["node"], "/node", 0)
            reply = ("ok", raw)
        except _Refused as e:
            reply = ("error", e.where, e.problem)
        except MemoryError:
            reply = ("error", "", f"reading it needs more memory than the reader's cap of "
                                  f"{cap} bytes")
        except RecursionError:
            reply = ("error", "", "its groups are nested too deeply")
        except Exception as e:                        # noqa: BLE001 - every h5py error
            reply = ("error", "", _error_text(e))
        try:
            _send(out, reply)
        except (pickle.PicklingError, TypeError, ValueError) as e:
            _send(out, ("error", "", f"its data cannot be passed on ({e})"))


if __name__ == "__main__":
    if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(
            os.path.abspath(__file__)):
        sys.path.pop(0)                               # never import this package's modules
    _serve(int(sys.argv[1]))
