"""Progress on the command line, all on stderr: bars, waits and compile notices.

A bar (``bar``) appears once its run has taken ``DELAY`` seconds (a quick run prints
nothing), never with ``quiet``, and never on stdout, so piped results stay clean. Its
clock keeps going between steps: after the delay a thread draws it and redraws it every
``CLOCK_INTERVAL`` seconds until it closes, so a bar of one long step (an experiment)
or a wait without steps (``waiting``: loading a large graph, a float run) is seen while
it runs, not only at its end. A postfix does not draw a bar before its delay (tqdm's
``set_postfix_str`` would, and a bar drawn that way was never cleared: the ``0%| 0/1``
left in front of a quick run's output). On a terminal the bar redraws in place; into a
file or pipe it writes a line at most every ``PIPE_INTERVAL`` seconds.
``NEUROCHIP_PROGRESS_DELAY`` (seconds) replaces ``DELAY`` (the tests set it to 0 to see
bars of quick runs). Text printed while a bar shows goes through ``printing()``, which
lifts the bar off the line and puts it back below the text.

``announce_compilations`` says on stderr each time numba starts compiling a function,
which happens on the first run of an install and for each new combination of argument
types, and would otherwise be seconds of silence.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading
from collections.abc import Callable

DELAY = 1.0           # s: a run shorter than this shows no bar
PIPE_INTERVAL = 5.0   # s between lines when stderr is not a terminal
CLOCK_INTERVAL = 1.0  # s between redraws of a bar's clock while its count stands still

__all__ = ["DELAY", "PIPE_INTERVAL", "CLOCK_INTERVAL", "announce_compilations", "bar",
           "compile_notice", "printing", "to", "waiting"]


class _Silent:
    """What ``bar`` gives with ``quiet``: the same calls, no output."""

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, text: str = "", refresh: bool = True) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


def delay() -> float:
    """Seconds before a bar shows: ``NEUROCHIP_PROGRESS_DELAY``, else ``DELAY``."""
    return float(os.environ.get("NEUROCHIP_PROGRESS_DELAY", DELAY))


@functools.cache
def _bar_class():
    """tqdm with a clock that runs between updates (defined on first use: tqdm is
    imported only when a bar is made)."""
    from tqdm import tqdm

    class ClockedBar(tqdm):
        """A tqdm bar drawn by a thread once its delay has passed, then every
        ``CLOCK_INTERVAL`` s, whether or not it advances."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._closing = threading.Event()
            self._clock = threading.Thread(target=self._keep_drawing, daemon=True,
                                           name="neurochip-progress")
            self._clock.start()

        def _keep_drawing(self) -> None:
            # into a pipe, no line before the pipe's interval: a short run writes none
            wait = max(self.delay, self.mininterval if self.mininterval >= 1 else 0)
            while not self._closing.wait(wait):
                with self._lock:
                    if self.disable:
                        return
                    self.refresh(nolock=True)
                    # drawn now: close() leaves the finished bar (or clears it) instead of
                    # taking it for one never shown and leaving this line half-written
                    self.last_print_t = self._time()
                wait = max(self.mininterval, CLOCK_INTERVAL)

        def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
            shown = self._time() >= self.start_t + self.delay
            super().set_postfix_str(s, refresh=refresh and shown)

        def close(self) -> None:
            closing = getattr(self, "_closing", None)
            if closing is not None:
                closing.set()
                if self._clock is not threading.current_thread():
                    self._clock.join()
            super().close()

    return ClockedBar


def bar(total: int | None, *, quiet: bool = False, desc: str | None = None,
        unit: str = "it", bar_format: str | None = None, leave: bool = True):
    """A bar of ``total`` steps (``update(n)`` advances it; use it as a context manager
    or ``close()`` it); ``total=None``: a count without an end. ``leave``: a bar that
    showed stays on its line when done (else it is erased)."""
    if quiet:
        return _Silent()
    tty = sys.stderr.isatty()
    return _bar_class()(total=total, desc=desc, unit=unit, file=sys.stderr, delay=delay(),
                        mininterval=0.1 if tty else PIPE_INTERVAL, dynamic_ncols=tty,
                        bar_format=bar_format, leave=leave)


def waiting(desc: str, *, quiet: bool = False):
    """A bar without steps for one long call: after the delay it shows ``desc`` and the
    time elapsed, until the ``with`` block ends, and is then erased (a quick call shows
    nothing)."""
    return bar(None, quiet=quiet, desc=desc, bar_format="{desc}: {elapsed} elapsed",
               leave=False)


def printing():
    """A context in which printing does not run into a bar: bars showing on stderr are
    lifted off their line and drawn again after the block."""
    tqdm = sys.modules.get("tqdm")
    return tqdm.tqdm.external_write_mode() if tqdm is not None else contextlib.nullcontext()


def to(progress_bar):
    """``progress(k)`` that moves ``progress_bar`` to absolute position ``k`` (for
    callbacks that report how far they are, such as ``CompiledNetwork.run``)."""
    done = [0]

    def progress(k: int) -> None:
        progress_bar.update(k - done[0])
        done[0] = k
    return progress


#: what the notices call the functions people wait for
KNOWN_KERNELS = {"neurochip.hardware.tick_kernel.run_kernel": ("the emulator kernel", 15)}


def compile_notice(module: str, qualname: str, cached: bool) -> str:
    """The line ``announce_compilations`` prints for a compile of ``module.qualname``
    (``cached``: numba keeps the result on disk, so later processes load it)."""
    full = f"{module}.{qualname}"
    name, seconds = KNOWN_KERNELS.get(full, (full, None))
    if name != full:
        name = f"{name} ({full.rsplit('.', 2)[-2]}.{qualname})"
    took = f", about {seconds} s" if seconds else ""
    later = ("once for this install and these argument types; later runs load it from "
             "numba's cache" if cached else "not cached: each new process compiles it")
    return f"neurochip: compiling {name} with numba ({later}{took})"


_announcer: list = []   # the default announcer once installed (one per process)


def announce_compilations(write: Callable[[str], None] | None = None) -> Callable[[], None]:
    """From now on, call ``write`` (default: a line on stderr, above any bar) with
    ``compile_notice`` each time numba starts compiling a function, which it does only
    when neither this process nor numba's disk cache has it for the call's argument
    types (numba's ``numba:compile`` event fires on that cache miss only: the check
    costs nothing). Only the outermost compile is told: the functions it calls compile
    inside it. Returns a function that stops the notices; without numba, does nothing.
    Installing the default announcer again returns the one installed."""
    try:
        from numba.core import event
    except ImportError:   # no numba: nothing ever compiles
        return lambda: None
    if write is None and _announcer:
        return _announcer[0]
    listener = _listener_class()(write or _to_stderr)
    event.register("numba:compile", listener)

    def stop() -> None:
        with contextlib.suppress(ValueError):   # stopped already
            event.unregister("numba:compile", listener)
        if _announcer and _announcer[0] is stop:
            _announcer.clear()
    if write is None:
        _announcer.append(stop)
    return stop


def _to_stderr(line: str) -> None:
    with printing():
        print(line, file=sys.stderr, flush=True)


@functools.cache
def _listener_class():
    """A numba event listener that writes one notice per outermost compile (defined on
    first use: numba is imported only then)."""
    from numba.core.caching import NullCache
    from numba.core.event import Listener

    class CompileListener(Listener):
        def __init__(self, write: Callable[[str], None]) -> None:
            self.write = write
            self.depth = 0   # compiles under way: the outermost is told, the rest nest

        def on_start(self, event) -> None:
            self.depth += 1
            dispatcher = event.data.get("dispatcher")
            func = getattr(dispatcher, "py_func", None)
            if self.depth == 1 and func is not None:
                cached = not isinstance(getattr(dispatcher, "_cache", None),
                                        (NullCache, type(None)))
                self.write(compile_notice(func.__module__, func.__qualname__, cached))

        def on_end(self, event) -> None:
            self.depth = max(self.depth - 1, 0)

    return CompileListener
