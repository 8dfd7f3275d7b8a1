"""The netlist's one error, ``NetlistError``, and ``FieldPath``, where a value sits."""

from __future__ import annotations

import re
from typing import Any, NoReturn

NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")   # a bare key: names, fields
_NO_VALUE = object()
KEY_LIMIT = 40     # longest key shown whole in a field path
PATH_LIMIT = 160   # longest field path shown whole


def _short(value, limit: int = 80) -> str:
    """``repr(value)`` cut at ``limit`` characters, safe for any value: an integer too long
    to print is described by its number of digits, a value nested too deeply to print by
    its type."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        digits = int(value.bit_length() * 0.30103) + 1
        return f"{'-' if value < 0 else ''}an integer of about {digits} digits"
    try:
        text = repr(value)
    except (RecursionError, ValueError):
        return f"a {type(value).__name__} nested too deeply to show"
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
        if len(path) > PATH_LIMIT:                       # a deeply nested field
            path = path[:PATH_LIMIT // 2] + "..." + path[-PATH_LIMIT // 3:]
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
        if NAME_PATTERN.match(key) and len(key) <= KEY_LIMIT:
            return FieldPath(self.source, f"{self.text}.{key}" if self.text else key)
        return FieldPath(self.source, f"{self.text}[{_short(key, KEY_LIMIT)}]")

    def at(self, index: int) -> FieldPath:
        return FieldPath(self.source, f"{self.text}[{index}]")

    def fail(self, problem: str, value: Any = _NO_VALUE) -> NoReturn:
        raise NetlistError(self.source, self.text, problem, value)

