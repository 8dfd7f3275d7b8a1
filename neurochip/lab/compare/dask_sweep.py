"""Sweeps on a Dask cluster: the configurations of ``compare`` as tasks on the workers of
a ``dask.distributed`` cluster, a ``LocalCluster`` of worker processes on this machine
(``dask_client(workers=N)``) or an existing scheduler (``dask_client(scheduler=ADDRESS)``).

What travels: the part every configuration shares (the expanded network, the float run
as asked, the base spec: ``sweep._Reference``) goes to every worker once
(``client.scatter(..., broadcast=True)``); each task carries one ``CoreSpec`` and brings
back one ``ComparisonResult``. A task runs the serial sweep's code on the serial sweep's
inputs, so its result is the serial one bit for bit (on workers with the same numpy,
numba and neurochip as the client); results are put back in configuration order,
whatever order they finish in.

The compiled kernel is in numba's disk cache (``cache=True``): a worker loads it (a
fraction of a second) instead of compiling it. When no worker has it cached yet, the
first configuration runs alone, so that one worker compiles and writes the cache and the
others load it, instead of every worker compiling the same kernel at once.

``dask`` is imported only here and only when a cluster is asked for (the ``dask``
extra: ``pip install 'neurochip[dask]'``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from ...hardware.spec import CoreSpec
from .results import ComparisonResult

DEFAULT_CONNECT_TIMEOUT = 10.0   # s to reach a scheduler and find a worker on it


class ClusterError(ValueError):
    """A Dask cluster that could not be used: dask missing, a scheduler that did not
    answer, a cluster without workers. The message names the address."""


def _distributed():
    try:
        import distributed
    except ImportError:
        raise ClusterError("a Dask sweep needs dask.distributed: pip install "
                           "'neurochip[dask]'") from None
    return distributed


@contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None, *,
                processes: bool = True,
                connect_timeout: float = DEFAULT_CONNECT_TIMEOUT) -> Iterator:
    """A ``dask.distributed.Client`` for a sweep, closed (with its cluster) on exit.

    ``workers=N``: a ``LocalCluster`` of ``N`` workers of one thread each, separate
    processes by default (``processes=False``: threads of this process, which share its
    GIL; the numpy parts of a run hold it). ``scheduler=ADDRESS``: the existing cluster
    whose scheduler listens there (``tcp://host:8786``); it must answer, and have a
    worker, within ``connect_timeout`` seconds. Give exactly one of the two. A script
    that starts worker processes must guard its entry point with
    ``if __name__ == "__main__":`` (they are spawned)."""
    if (workers is None) == (scheduler is None):
        raise ValueError("give one of workers (a local cluster) or scheduler (an address)")
    if not (isinstance(connect_timeout, (int, float)) and connect_timeout > 0):
        raise ValueError(f"connect_timeout must be a positive number of seconds, got "
                         f"{connect_timeout!r}")
    distributed = _distributed()
    if scheduler is not None:
        client = _connect(distributed, scheduler, connect_timeout)
        try:
            yield client
        finally:
            client.close()
        return
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    import dask

    with dask.config.set({PRE_SPAWN: _pre_spawn_environ(dask)}), \
            distributed.LocalCluster(n_workers=workers, threads_per_worker=1,
                                  processes=processes, dashboard_address=None,
                                  # a task's error is raised here, not logged there too
                                  silence_logs=logging.CRITICAL) as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        yield client


PRE_SPAWN = "distributed.nanny.pre-spawn-environ"


def _pre_spawn_environ(dask) -> dict:
    """The environment Dask gives a worker process before it starts, without its
    ``MALLOC_TRIM_THRESHOLD_=65536``: that hands freed memory back to the system at once,
    and a run, which allocates and frees its arrays tick after tick, then spends about
    1.5 times the CPU of the same run here (measured: benchmarks/bench_sweep.py). glibc's
    own adaptive threshold is left to work."""
    return {k: v for k, v in (dask.config.get(PRE_SPAWN) or {}).items()
            if k != "MALLOC_TRIM_THRESHOLD_"}


def _connect(distributed, scheduler: str, timeout: float):
    """A client of the scheduler at ``scheduler`` with a worker, or a ``ClusterError``
    naming the address."""
    try:   # a malformed address refused here: a Client made of one hangs when collected
        distributed.comm.resolve_address(scheduler)
    except (OSError, ValueError, TypeError) as error:   # gaierror is an OSError
        raise ClusterError(f"{scheduler!r} is not a Dask scheduler address "
                           f"(tcp://host:port): {' '.join(str(error).split())}") from None
    try:
        client = distributed.Client(scheduler, timeout=timeout, set_as_default=False)
    except (OSError, ValueError, TypeError) as error:   # TimeoutError is an OSError
        raise ClusterError(f"cannot connect to the Dask scheduler at {scheduler}: "
                           f"{' '.join(str(error).split())}") from None
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (OSError, TimeoutError):
        client.close()
        raise ClusterError(f"the Dask scheduler at {scheduler} has no worker (waited "
                           f"{timeout:g} s)") from None
    return client


def _run_config(reference, spec: CoreSpec, partitioner: str, backend,
                keep_traces: bool) -> ComparisonResult:
    """One task: one configuration against the scattered reference."""
    return reference.run(spec, partitioner, backend, keep_traces)


def _kernel_cached() -> bool:
    """On a worker: whether it can run the compiled kernel without compiling it (numba's
    disk cache holds it, or there is no numba and nothing to compile)."""
    try:
        from ...hardware.compiled import kernel_cached
    except ImportError:
        return True
    return kernel_cached()


def run_configs(client, reference, specs: Sequence[CoreSpec], partitioner: str, backend,
                keep_traces: bool, progress: Callable | None = None
                ) -> list[ComparisonResult]:
    """``reference.run(spec, ...)`` for every spec of ``specs`` as tasks on ``client``'s
    workers, the results in the order of ``specs``; ``progress(result)`` after each
    finishes (in the order they finish). An exception of a task (other than a refused
    configuration, which is a result with ``error``) cancels the rest and is raised."""
    distributed = _distributed()
    if not specs:
        return []
    shared = client.scatter(reference, broadcast=True, hash=False)

    def submit(batch):
        return [client.submit(_run_config, shared, spec, partitioner, backend,
                              keep_traces, pure=False) for spec in batch]

    cold = backend != "numpy" and not any(client.run(_kernel_cached).values())
    futures = submit(specs[:1]) if cold else submit(specs)
    try:
        if cold:   # one worker compiles and caches the kernel; the others then load it
            client.gather(futures)
            futures += submit(specs[1:])
        # the client's own loop: it need not be the default client
        for future in distributed.as_completed(futures, loop=client.loop):
            result = future.result()
            if progress is not None:
                progress(result)
        return [future.result() for future in futures]
    finally:
        client.cancel(futures)
        client.cancel([shared])
