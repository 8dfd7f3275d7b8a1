"""Warnings of a compile and of a run: what the chip does differently from the netlist.

Each warning is one line naming the population and, where neurons of it differ, the
neuron index within the population (never a global index):

* a realised parameter more than ``TOLERANCE`` (5 %) off its asked value
  (``population out: tau_syn realised 31.5 ticks for 24.5 asked (+29 %)``);
* weights clipped to the mantissa rail, and weights more than 5 % off (rounded);
* a register zero moved below ``E_L`` (a threshold or reset below rest);
* after a run (``run_warnings``): every register overflow, with the neurons whose
  recorded register sat on a rail.
"""

from __future__ import annotations

import numpy as np

TOLERANCE = 0.05
TIME_PARAMETERS = ("tau_m", "tau_syn", "tau_theta", "T_ref")
_SHOWN = 8   # neuron indices listed in one warning


def _value(name: str, unit: str, x: float, dt: float | None) -> str:
    if name in TIME_PARAMETERS and dt:
        return f"{x / dt:.4g} ticks"
    return f"{x:.4g} {unit}"


def _percent(asked: float, realised: float) -> str:
    if asked == 0:
        return "asked 0"
    return f"{100 * (realised - asked) / abs(asked):+.0f} %"


def _neurons(idx: np.ndarray, size: int) -> str:
    if idx.size == size:
        return f"all {size} neurons"
    shown = ", ".join(str(int(i)) for i in idx[:_SHOWN])
    more = f" and {idx.size - _SHOWN} more" if idx.size > _SHOWN else ""
    return f"neuron{'s' if idx.size > 1 else ''} {shown}{more}"


def _parameter_lines(report) -> list[str]:
    lines = []
    adapting = {e.name: e for e in report.parameter_errors}.get("alpha")
    for e in report.parameter_errors:
        rel = np.broadcast_to(e.relative, np.shape(e.target))
        target = np.asarray(e.target, dtype=float)
        realised = np.asarray(e.realised, dtype=float)
        for name, a, b in report.populations:
            bad = np.flatnonzero(rel[a:b] > TOLERANCE)
            if e.name == "tau_theta" and adapting is not None and not np.any(
                    np.broadcast_to(adapting.target, np.shape(e.target))[a:b] != 0):
                continue   # no adaptation here: its time constant does nothing
            if not bad.size:
                continue
            t, r = target[a:b][bad], realised[a:b][bad]
            worst = int(bad[np.argmax(rel[a:b][bad])])
            same = np.allclose(t, t[0], rtol=1e-9) and np.allclose(r, r[0], rtol=1e-9)
            where = _neurons(bad, b - a)
            k = worst
            head = (f"population {name}: {e.name} realised "
                    f"{_value(e.name, e.unit, float(realised[a + k]), report.dt)} for "
                    f"{_value(e.name, e.unit, float(target[a + k]), report.dt)} asked "
                    f"({_percent(float(target[a + k]), float(realised[a + k]))})")
            lines.append(head + (f" ({where})" if same and bad.size < b - a else "")
                         if same else f"{head} at neuron {k}, the worst of "
                         f"{bad.size} more than {100 * TOLERANCE:.0f} % off ({where})")
    return lines


def _weight_lines(report) -> list[str]:
    post = report.weight_post
    e = report.weight_error
    if post is None or not np.size(e.target):
        return []
    lines = []
    rel = np.asarray(e.relative)
    clipped = (np.zeros(post.size, bool) if report.weight_clipped is None
               else np.asarray(report.weight_clipped))
    target = np.asarray(e.target, dtype=float)
    realised = np.asarray(e.realised, dtype=float)
    for name, a, b in report.populations:
        into = (post >= a) & (post < b)
        if not into.any():
            continue
        clip = np.flatnonzero(into & clipped)
        if clip.size:
            j = clip[np.argmax(np.abs(target[clip]))]
            lines.append(f"population {name}: {clip.size} of {int(into.sum())} weights into "
                         f"it clipped (largest {target[j]:.4g} A realised {realised[j]:.4g} "
                         f"A, at neuron {int(post[j]) - a})")
        off = np.flatnonzero(into & ~clipped & (rel > TOLERANCE))
        if off.size:
            zero = int(np.count_nonzero((realised[off] == 0) & (target[off] != 0)))
            j = off[np.argmax(np.abs(target[off]))]
            lines.append(f"population {name}: {off.size} of {int(into.sum())} weights into "
                         f"it more than {100 * TOLERANCE:.0f} % off after rounding to the "
                         f"mantissa ({zero} rounded to 0; the largest of them {target[j]:.4g}"
                         f" A is realised {realised[j]:.4g} A, at neuron {int(post[j]) - a})")
    return lines


def compile_warnings(report) -> tuple[str, ...]:
    """The compile's warnings (module docstring), in population order per kind."""
    lines = _parameter_lines(report) + _weight_lines(report)
    for name, moved in report.zero_shift.items():
        lines.append(f"population {name}: its threshold lies {moved:.4g} V below "
                     f"E_L; the register zero is there and the leak towards E_L is a bias "
                     f"current (exact), but the chip starts at that zero, the float "
                     f"reference at E_L")
    return tuple(f"warning: {line}" for line in lines)


def run_warnings(report, recording, spec, register_names=("v", "i")) -> tuple[str, ...]:
    """One warning per register that overflowed in a run, naming (per population) the
    neurons whose recorded register sat on its rail (``recording`` in netlist order)."""
    lines = []
    counts = {k: int(v) for k, v in (recording.overflow or {}).items() if int(v)}
    for register, count in counts.items():
        lines.append(f"warning: register {register} overflowed {count} times in the run")
    if not counts:
        return ()
    for r in register_names:
        if r not in recording.traces:
            continue
        bits = spec.v_bits if r == "v" else spec.i_bits
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        trace = np.asarray(recording.traces[r])
        on_rail = np.any((trace <= lo) | (trace >= hi), axis=0)
        for name, a, b in report.populations:
            idx = np.flatnonzero(on_rail[a:b])
            if idx.size:
                ticks = int(np.count_nonzero((trace[:, a:b] <= lo) | (trace[:, a:b] >= hi)))
                lines.append(f"warning: population {name}: register {r} saturated in "
                             f"{ticks} neuron-ticks at {_neurons(idx, b - a)}; "
                             f"compile with a calibration (or widen the registers)")
    return tuple(lines)
