"""The netlist's one error, ``NetlistError``, and ``FieldPath``, where a value sits."""

from __future__ import annotations

import re
from typing import Any, NoReturn

NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")   # a bare key: names, fields
_NO_VALUE = object()


def _short(value, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


class NetlistError(ValueError):
    """A netlist refused: ``"{source}: {path}: {problem} (got {value!r})"``, one line.

    ``source`` is the file (or ``"<dict>"``), ``path`` the field (``"populations.exc.size"``,
    ``"projections[2].post"``; empty for problems of the whole file), ``problem`` what is
    wrong and ``value`` the offending value (absent when the problem names it itself).
    """

    def __init__(self, source: str, path: str, problem: str, value: Any = _NO_VALUE):
        self.source, self.path, self.problem = str(source), path, problem
        self.value = None if value is _NO_VALUE else value
        message = f"{self.source}: {path}: {problem}" if path else f"{self.source}: {problem}"
        if value is not _NO_VALUE:
            message += f" (got {_short(value)})"
        super().__init__(message.replace("\n", " "))


class FieldPath:
    """Where a value sits in the file, for messages: ``populations.exc.params.C[3]``."""

    __slots__ = ("source", "text")

    def __init__(self, source: str, text: str = ""):
        self.source, self.text = source, text

    def key(self, key: str) -> FieldPath:
        if NAME_PATTERN.match(key):
            return FieldPath(self.source, f"{self.text}.{key}" if self.text else key)
        return FieldPath(self.source, f"{self.text}[{key!r}]")

    def at(self, index: int) -> FieldPath:
        return FieldPath(self.source, f"{self.text}[{index}]")

    def fail(self, problem: str, value: Any = _NO_VALUE) -> NoReturn:
        raise NetlistError(self.source, self.text, problem, value)

