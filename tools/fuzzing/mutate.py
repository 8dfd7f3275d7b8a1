"""Mutations shared by the fuzz campaigns: structure-aware changes of a parsed document
(a JSON object / TOML table held as Python dicts and lists) and byte-level changes of its
text. Every function takes a ``random.Random``, so a case is reproduced by its seed.
"""

from __future__ import annotations

import copy
import json
import math
import random
import re

# values that break parsers, validators and the integer conversions behind them
INTERESTING = [
    0, 1, -1, 2, 3, 7, 255, 256, 2**15, 2**16, 2**31 - 1, 2**31, 2**32, 2**53 + 1,
    2**63 - 1, 2**63, 2**64, -2**63, 10**30, 10**400,
    0.0, -0.0, 0.5, 1e-3, 1e-9, 1e-12, 1e-30, 1e-300, 5e-324, 1e30, -1e30, 1e300, -1e300,
    1e308, 1.7976931348623157e308, 1e16, 1e10, -1e10,
    float("nan"), float("inf"), float("-inf"),
    True, False, None, "", "0", "1e-3", "lif", "value", "x" * 300, "\u00e9\u00e8\u2603",
    "a\nb", "\x00", [], {}, [0], [1e30], [None], [[]], {"": 1}, {"mean": 1e30, "std": 1e30},
    {"low": 1, "high": 0}, complex(1, 2),
]
ODD_KEYS = ["", " ", "0", "-x", "é", "a.b", "a b", "__proto__", "x" * 200, "\n", "tau_m",
            "type", "kind", "null"]


def deep(depth: int, kind: str = "list"):
    """A value nested ``depth`` levels (lists or objects), built without recursion."""
    value: object = 0
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


def _paths(doc) -> list[tuple]:
    """Every path (tuple of keys and indices) to a value inside ``doc``, root included."""
    out, stack = [], [((), doc)]
    while stack:
        path, value = stack.pop()
        out.append(path)
        if isinstance(value, dict):
            stack.extend((path + (k,), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((path + (j,), v) for j, v in enumerate(value[:64]))
    return out


def _walk(rng: random.Random, doc) -> tuple:
    """A path chosen by a random walk from the root (each level alike, so a large matrix
    does not take most of the mutations), stopping at each step with probability 1/4."""
    path, value = (), doc
    while isinstance(value, (dict, list)) and value and (not path or rng.random() > 0.25):
        key = rng.choice(list(value)) if isinstance(value, dict) else rng.randrange(len(value))
        path, value = path + (key,), value[key]
    return path


def _get(doc, path):
    for key in path:
        doc = doc[key]
    return doc


def _set(doc, path, value):
    if not path:
        return value
    _get(doc, path[:-1])[path[-1]] = value
    return doc


def _number_like(rng: random.Random, value):
    """A number near, or far from, ``value``."""
    choices = [lambda x: x * rng.choice([-1, 10, 1e3, 1e10, 1e30, 1e-10, 0.5, 1e300]),
               lambda x: x + rng.choice([-1, 1, 1e-9, 0.5]),
               lambda x: -x, lambda x: float(x), lambda x: int(x) if math.isfinite(x) else x,
               lambda x: str(x), lambda x: [x], lambda x: rng.choice(INTERESTING)]
    try:
        return rng.choice(choices)(value)
    except (OverflowError, ValueError, TypeError):
        return rng.choice(INTERESTING)


def mutate_value(rng: random.Random, doc, *, complex_ok: bool = True):
    """``doc`` (a copy) with one structure-aware change at a random place."""
    doc = copy.deepcopy(doc)
    path = _walk(rng, doc) if rng.random() < 0.8 else rng.choice(_paths(doc))
    value = _get(doc, path)
    action = rng.randrange(10)
    if action == 0 and path:                         # delete the value
        parent = _get(doc, path[:-1])
        del parent[path[-1]]
        return doc
    if action == 1 and isinstance(value, dict):      # an unknown or odd key
        value[rng.choice(ODD_KEYS + list(value) + ["extra"])] = rng.choice(INTERESTING)
        return doc
    if action == 2 and isinstance(value, list):      # grow, shrink or empty a list
        op = rng.randrange(4)
        if op == 0:
            value.clear()
        elif op == 1 and value:
            value.pop(rng.randrange(len(value)))
        elif op == 2 and value:
            value.extend(copy.deepcopy(value[:rng.randrange(1, len(value) + 1)]))
        else:
            value.append(copy.deepcopy(rng.choice(value)) if value else 0)
        return doc
    if action == 3 and isinstance(value, (int, float)) and not isinstance(value, bool):
        return _set(doc, path, _number_like(rng, value))
    if action == 4:
        return _set(doc, path, deep(rng.choice([33, 200, 1100]), rng.choice(["list", "dict"])))
    if action == 5 and isinstance(value, dict) and value:   # rename a key
        old = rng.choice(list(value))
        value[rng.choice(ODD_KEYS)] = value.pop(old)
        return doc
    if action == 6 and isinstance(value, str):
        return _set(doc, path, rng.choice([value.upper(), value + "x", "", value * 50,
                                           rng.choice(ODD_KEYS)]))
    new = rng.choice(INTERESTING)
    if isinstance(new, complex) and not complex_ok:
        new = float("nan")
    return _set(doc, path, copy.deepcopy(new))


def _no_complex(doc):
    """``doc`` with every complex number replaced by NaN (for documents written as text)."""
    if isinstance(doc, complex):
        return float("nan")
    stack = [doc]
    while stack:
        value = stack.pop()
        items = value.items() if isinstance(value, dict) else enumerate(value) \
            if isinstance(value, list) else ()
        for key, item in list(items):
            if isinstance(item, complex):
                value[key] = float("nan")
            elif isinstance(item, (dict, list)):
                stack.append(item)
    return doc


def mutate_doc(rng: random.Random, doc, count: int | None = None, complex_ok: bool = True):
    """``count`` (1-4 by default) structure-aware mutations in a row."""
    for _ in range(rng.randint(1, 4) if count is None else count):
        doc = mutate_value(rng, doc, complex_ok=complex_ok)
    return doc if complex_ok else _no_complex(doc)


def mutate_text(rng: random.Random, text: str) -> str:
    """``text`` with one byte-level change: flip, insert, delete, duplicate, splice in a
    deep nesting or a huge number."""
    data = bytearray(text.encode("utf-8"))
    if not data:
        return rng.choice(["", "{", "[", "0"])
    pos = rng.randrange(len(data))
    action = rng.randrange(8)
    if action == 0:
        data[pos] ^= 1 << rng.randrange(8)
    elif action == 1:
        data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    elif action == 2:
        del data[pos:pos + rng.randint(1, 64)]
    elif action == 3:
        end = min(len(data), pos + rng.randint(1, 200))
        data[pos:pos] = data[pos:end] * rng.randint(1, 20)
    elif action == 4:
        n = rng.choice([40, 500, 1000, 5000])
        data[pos:pos] = (b"[" * n + b"]" * n)
    elif action == 5:
        data[pos:pos] = ("9" * rng.choice([20, 400, 4400, 6000])).encode()
    elif action == 6:
        data[pos:pos] = rng.choice([b"1e999", b"-1e400", b"NaN", b"Infinity", b"nan", b"inf",
                                    b"true", b"0x10", b"1_000", b"\xff\xfe", b'"\\ud800"'])
    else:
        for match in list(re.finditer(rb"-?\d+(\.\d+)?(e-?\d+)?", bytes(data)))[:1]:
            data[match.start():match.end()] = rng.choice(
                [b"1e30", b"-1e30", b"1e300", b"2147483647", b"18446744073709551616", b"0",
                 b"-1", b"1e-300"])
    return data.decode("utf-8", errors="replace") if rng.random() < 0.5 else \
        data.decode("latin-1")


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def to_toml(doc: dict) -> str:
    """``doc`` as TOML, every table inline (the fuzz cases need no nicer form). ``None``
    has no TOML form: it is written as the empty string."""
    def value(v, depth=0) -> str:
        if depth > 300:                 # keep the writer off Python's recursion limit
            return "0"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if isinstance(v, float) and not math.isfinite(v):
                return "nan" if v != v else ("inf" if v > 0 else "-inf")
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x, depth + 1) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{_toml_key(str(k))} = {value(x, depth + 1)}"
                                    for k, x in v.items()) + " }"
        return '""'
    if not isinstance(doc, dict):
        return f"value = {value(doc)}\n"
    return "".join(f"{_toml_key(str(k))} = {value(v)}\n" for k, v in doc.items())


def mutate_numbers(rng: random.Random, doc, count: int | None = None):
    """``doc`` (a copy) with 1-3 numbers changed but kept plausible in type (an integer
    stays an integer): scaled, negated, or set to the edge of what the checks allow, so
    that more cases get past loading into expansion, quantisation and the run."""
    doc = copy.deepcopy(doc)
    leaves = [p for p in _paths(doc) if isinstance(_get(doc, p), (int, float))
              and not isinstance(_get(doc, p), bool)]
    for _ in range(rng.randint(1, 3) if count is None else count):
        if not leaves:
            break
        path = rng.choice(leaves)
        x = _get(doc, path)
        if isinstance(x, int):
            new = rng.choice([0, 1, x + 1, x - 1, x * 2, x * 100, 2**31 - 1, 10**6, 5000])
        else:
            new = rng.choice([x * 10, x * 1e3, x * 1e5, x * 0.1, x * 1e-6, -x, 0.0,
                              x * 1e9, 9.9e5, -9.9e5, 1e-25, x + 1e-3])
        doc = _set(doc, path, new)
    return doc
