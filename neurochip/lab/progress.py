"""Progress bars for the command line: tqdm on stderr, only for runs that take a while.

A bar appears once its run has taken ``DELAY`` seconds (a quick run prints nothing),
never with ``quiet``, and never on stdout, so piped results stay clean. On a terminal
it redraws in place; into a file or pipe it writes a line at most every
``PIPE_INTERVAL`` seconds. The environment variable ``NEUROCHIP_PROGRESS_DELAY``
(seconds) replaces ``DELAY`` (the tests set it to 0 to see bars of quick runs).
"""

from __future__ import annotations

import os
import sys

DELAY = 1.0          # s: a run shorter than this shows no bar
PIPE_INTERVAL = 5.0  # s between lines when stderr is not a terminal


class _Silent:
    """What ``bar`` gives with ``quiet``: the same calls, no output."""

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


def bar(total: int, *, quiet: bool = False, desc: str | None = None, unit: str = "it"):
    """A bar of ``total`` steps (``update(n)`` advances it; use it as a context manager
    or ``close()`` it)."""
    if quiet:
        return _Silent()
    from tqdm import tqdm

    tty = sys.stderr.isatty()
    delay = float(os.environ.get("NEUROCHIP_PROGRESS_DELAY", DELAY))
    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, delay=delay,
                mininterval=0.1 if tty else PIPE_INTERVAL, dynamic_ncols=tty)


def to(progress_bar):
    """``progress(k)`` that moves ``progress_bar`` to absolute position ``k`` (for
    callbacks that report how far they are, such as ``CompiledNetwork.run``)."""
    done = [0]

    def progress(k: int) -> None:
        progress_bar.update(k - done[0])
        done[0] = k
    return progress
