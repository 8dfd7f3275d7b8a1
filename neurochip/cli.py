"""The ``neurochip`` command.

Bad arguments or values end with one line on stderr and exit code 2; a run that hits a
hardware limit (``SpecError``, a strict overflow) ends with one line and exit code 1.
"""

from __future__ import annotations

import argparse
import os
import sys

from .fixed import ROUNDING_MODES, RegisterOverflowError
from .spec import CoreSpec, SpecError


class UsageError(Exception):
    """A bad argument or value: reported on one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of usage + message
        raise UsageError(message)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="neurochip", description="Bit-exact neuromorphic core emulator.")
    parser.add_argument("--version", action="version", version="neurochip 0.1.0")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
    demo = commands.add_parser(
        "demo", help="run the built-in network on a core and on the float reference")
    demo.add_argument("--ticks", type=_positive_int, default=1000, help="ticks to run (1000)")
    demo.add_argument("--dt", type=_positive_float, default=1.0,
                      help="tick length in milliseconds (1.0)")
    demo.add_argument("--v-bits", type=int, default=16, help="membrane width in bits (16)")
    demo.add_argument("--i-bits", type=int, default=16, help="current width in bits (16)")
    demo.add_argument("--rounding", choices=ROUNDING_MODES, default="floor",
                      help="rounding of the leak shifts (floor)")
    demo.add_argument("--out", default="neurochip-demo.png",
                      help="plot file to write (neurochip-demo.png)")
    demo.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    return parser


def _demo(args) -> int:
    from .demo import N_INPUTS, N_NEURONS, plot_demo, run_demo, summary

    if os.path.exists(args.out) and not args.force:
        raise UsageError(f"{args.out} exists; pass --force to overwrite it or --out to "
                         f"choose another file")
    try:
        spec = CoreSpec(n_slots=N_NEURONS, n_axons=N_INPUTS, synapse_words=1024,
                        v_bits=args.v_bits, i_bits=args.i_bits, rounding=args.rounding)
    except SpecError as error:
        raise UsageError(str(error).replace("CoreSpec.v_bits", "--v-bits")
                         .replace("CoreSpec.i_bits", "--i-bits")) from None
    result = run_demo(ticks=args.ticks, dt=args.dt * 1e-3, spec=spec)
    print(summary(result))
    plot_demo(result, args.out)
    print(f"plot: {os.path.abspath(args.out)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        return {"demo": _demo}[args.command](args)
    except BrokenPipeError:  # output piped into a reader that stopped early (e.g. head)
        sys.stderr.close()
        return 0
    except UsageError as error:
        print(f"neurochip: error: {error}", file=sys.stderr)
        return 2
    except (SpecError, RegisterOverflowError, ValueError) as error:
        print(f"neurochip: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
