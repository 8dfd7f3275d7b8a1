"""The readable dump of an image: ``describe_image`` (header, capacity use, bits per
field, first values), behind ``neurochip inspect`` and ``python -m
neurochip.formats.image IMAGE...`` (``main``)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from .decoding import decode_core
from .encoding import CoreImage
from .layout import VERSION, WIDTH_FIELDS, BodyWidths, ImageError, body_widths, image_sections


def _share(used: int, capacity: int) -> str:
    return f"{used:,} of {capacity:,} ({100 * used / capacity:.1f} %)"


def _needed_bits(values: np.ndarray, signed: bool) -> int:
    """Bits the values actually need (two's complement when signed)."""
    if values.size == 0:
        return 0
    lo, hi = int(values.min()), int(values.max())
    if not signed:
        return hi.bit_length()
    return max((x if x >= 0 else ~x).bit_length() + 1 for x in (lo, hi))


def _summary_lines(image: CoreImage, widths: BodyWidths, data: bytes, source: str
                   ) -> list[str]:
    """The image's identity, its spec and how much of each capacity it uses."""
    spec, config, (width, height) = image.spec, image.config, image.mesh
    syn, routes = config.synapses, config.routes
    crc = int.from_bytes(bytes(data)[-4:], "big")
    fanout = np.diff(routes.route_start)
    return [
        f"{source}: neurochip core image, format version {VERSION}, {len(data):,} bytes, "
        f"CRC32 0x{crc:08x} (ok)",
        f"core {image.core_id} at ({image.core_id % width}, {image.core_id // width}) of a "
        f"{width}×{height} mesh; firmware model {spec.dialect}; LFSR seed "
        f"0x{config.lfsr_seed:08x}",
        "spec: " + ", ".join(f"{name} {getattr(spec, name)}" for name in WIDTH_FIELDS)
        + f"; overflow {spec.overflow}, rounding {spec.rounding}, "
          f"check {spec.overflow_check}",
        "",
        "capacity use:",
        f"  neuron slots     {_share(config.params.n, spec.n_slots)} × {widths.param_bits} "
        f"parameter bits",
        f"  axons            {_share(syn.n_axons, spec.n_axons)} × {widths.axon_bits} bits "
        f"(row length {widths.row_length} + w_exp {widths.w_exp})",
        f"  synapse words    {_share(syn.words, spec.synapse_words)} × {widths.word_bits} "
        f"bits (slot {widths.slot} + w {widths.w}"
        + (f" + target {widths.target})" if widths.target else ")"),
        f"  routing entries  {_share(routes.entries, spec.routing_entries)} × "
        f"{widths.entry_bits} bits (core {widths.core} + axon {widths.axon} + delay "
        f"{widths.delay})",
        f"  largest fan-out  {int(fanout.max(initial=0)):,} of {spec.max_fanout:,} "
        f"({widths.fanout}-bit count per slot)",
    ]


def _field_lines(image: CoreImage, widths: BodyWidths) -> list[str]:
    """Per body field: bits each × count = bits, and the bits its stored values need."""
    params, syn, routes = image.config.params, image.config.synapses, image.config.routes
    n, axons, words, entries = params.n, syn.n_axons, syn.words, routes.entries
    lines = ["fields (bits each × count = bits; the values stored need):"]

    def row(name, bits, count, unit, values=None, signed=False):
        text = f"  {name:<14} {bits:>2} bits × {count:,} {unit} = {bits * count:,} bits"
        if values is not None and values.size:
            text += (f"; values {int(values.min())}..{int(values.max())} need "
                     f"{_needed_bits(values, signed)} bits")
        lines.append(text)

    for name, fmt in widths.params.items():
        row(name, fmt.bits, n, "slots", getattr(params, name), fmt.signed)
    row("row length", widths.row_length, axons, "axons", np.diff(syn.row_start))
    row("w_exp", widths.w_exp, axons, "axons", syn.w_exp)
    row("word slot", widths.slot, words, "words", syn.slot)
    row("word w", widths.w, words, "words", syn.w, True)
    row("entry count", widths.fanout, n, "slots", np.diff(routes.route_start))
    row("entry core", widths.core, entries, "entries", routes.core)
    row("entry axon", widths.axon, entries, "entries", routes.axon)
    row("entry delay", widths.delay, entries, "entries", routes.delay)
    return lines


def _value_lines(image: CoreImage, widths: BodyWidths, show: int) -> list[str]:
    """The first ``show`` slots' parameters, axons' synapse rows and slots' routes."""
    params, syn, routes = image.config.params, image.config.synapses, image.config.routes
    n, axons = params.n, syn.n_axons
    fanout = np.diff(routes.route_start)
    lines: list[str] = []
    if n:
        shown = min(n, show)
        names = list(widths.params)
        lines += ["", f"parameters (first {shown} of {n:,} slots):",
                  "  slot " + " ".join(f"{name:>10}" for name in names)]
        for j in range(shown):
            lines.append(f"  {j:>4} " + " ".join(f"{int(getattr(params, name)[j]):>10}"
                                                  for name in names))
    if axons:
        shown = min(axons, show)
        lines += ["", f"synapse rows (first {shown} of {axons:,} axons):"]
        for a in range(shown):
            lo, hi = int(syn.row_start[a]), int(syn.row_start[a + 1])
            cells = ", ".join(f"{int(syn.slot[k])}:{int(syn.w[k])}"
                              for k in range(lo, min(hi, lo + show)))
            more = f", … {hi - lo - show} more" if hi - lo > show else ""
            lines.append(f"  axon {a:>4}: w_exp {int(syn.w_exp[a])}, {hi - lo} words "
                         f"(slot:w) [{cells}{more}]")
    if routes.entries:
        with_entries = np.flatnonzero(fanout)
        shown = min(with_entries.size, show)
        lines += ["", f"routing (first {shown} of {with_entries.size:,} slots with "
                      f"entries; core/axon/delay):"]
        for j in with_entries[:shown]:
            lo, hi = int(routes.route_start[j]), int(routes.route_start[j + 1])
            cells = ", ".join(f"{int(routes.core[k])}/{int(routes.axon[k])}/"
                              f"{int(routes.delay[k])}" for k in range(lo, min(hi, lo + show)))
            more = f", … {hi - lo - show} more" if hi - lo > show else ""
            lines.append(f"  slot {int(j):>4}: {hi - lo} entries [{cells}{more}]")
    return lines


def describe_image(data: bytes, source: str = "<bytes>", show: int = 6) -> str:
    """A readable dump: header, capacity use, bits per field, first values."""
    image = decode_core(data, source)
    widths = body_widths(image.spec, image.mesh)
    syn, routes = image.config.synapses, image.config.routes
    sections = image_sections(widths, image.config.params.n, syn.n_axons, syn.words,
                              routes.entries)
    total = sum(b for _, b in sections)
    lines = [*_summary_lines(image, widths, data, source), "", *_field_lines(image, widths),
             "", "sections:"]
    lines += [f"  {name:<14} {bits:>12,} bits" for name, bits in sections]
    lines.append(f"  {'total':<14} {total:>12,} bits = {total // 8:,} bytes")
    lines += _value_lines(image, widths, show)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m neurochip.formats.image IMAGE...``: print each image's dump (exit 2 if one is
    refused)."""
    paths = sys.argv[1:] if argv is None else argv
    if not paths:
        print("usage: python -m neurochip.formats.image IMAGE...", file=sys.stderr)
        return 2
    status = 0
    try:
        for k, name in enumerate(paths):
            try:
                data = Path(name).read_bytes()
            except OSError as error:
                print(f"{name}: cannot read: {error.strerror}", file=sys.stderr)
                status = 2
                continue
            try:
                print(("\n" if k else "") + describe_image(data, name))
            except ImageError as error:
                print(error, file=sys.stderr)
                status = 2
    except BrokenPipeError:  # output piped into a reader that stopped early (e.g. head)
        sys.stderr.close()
    return status
