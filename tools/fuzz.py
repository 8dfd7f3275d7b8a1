"""Fuzz campaigns over the project's file formats (docs/reliability.md).

    python -m tools.fuzz netlists --count 3000            # load -> expand -> compile -> run
    python -m tools.fuzz manifests --count 200            # boot manifests (load_chip)
    python -m tools.fuzz netlists --count 50 --seed 7 --json out.json
    python tools/fuzz.py nir --count 3000                 # NIR graphs (tools/fuzzing/nir.py)
    python tools/fuzz.py cli --count 1000                 # the command line (fuzzing/cli.py)

Every case runs in a child process under ``RLIMIT_AS`` (``--memory-cap``, default 4 GiB)
with a per-case timeout (``--timeout``, default 10 s) and ``NEUROCHIP_MEMORY_BUDGET``
(``--budget``, default 512 MiB). The report counts the cases that ran, those refused
with a named error (by type), and the crashes (any other exception), hangs and memory
errors, listing the first bad cases by label (``netlist SEED:INDEX KIND``: rerun one with
``--seed SEED --start INDEX --count 1``). The exit status is 1 when any case crashed,
hung or ran out of memory.

A campaign is a module of ``tools/fuzzing`` with ``cases(seed, count, start)`` and
``run_key(key)`` (add its name to ``CAMPAIGNS``), or one with its own ``main(argv)`` that
takes the rest of the command line (``DELEGATED``: ``nir``, ``cli``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

if __package__ in (None, ""):                 # run as a script: python tools/fuzz.py ...
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.fuzzing import runner  # noqa: E402

CAMPAIGNS = {"netlists": "tools.fuzzing.netlists", "manifests": "tools.fuzzing.manifests"}
DELEGATED = {"nir": "tools.fuzzing.nir", "cli": "tools.fuzzing.cli"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.fuzz", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="campaign", required=True)
    for name, module in DELEGATED.items():
        sub.add_parser(name, help=f"fuzz {name} (options: python tools/fuzz.py {name} -h)",
                       add_help=False)
    for name in CAMPAIGNS:
        p = sub.add_parser(name, help=f"fuzz {name}")
        p.add_argument("--count", type=int, default=300, help="cases (default 300)")
        p.add_argument("--seed", type=int, default=0, help="campaign seed (default 0)")
        p.add_argument("--start", type=int, default=0, help="first case index")
        p.add_argument("--timeout", type=float, default=10.0,
                       help="seconds per case before it counts as a hang (default 10)")
        p.add_argument("--memory-cap", type=float, default=4.0,
                       help="RLIMIT_AS of the child, GiB (default 4)")
        p.add_argument("--budget", default="512MiB",
                       help="NEUROCHIP_MEMORY_BUDGET in the child (default 512MiB)")
        p.add_argument("--deadline", type=float, default=None,
                       help="stop after this many seconds")
        p.add_argument("--json", default=None, help="write the report as JSON here")
    return parser


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in DELEGATED:
        return importlib.import_module(DELEGATED[argv[0]]).main(argv[1:])
    args = _parser().parse_args(argv)
    module = importlib.import_module(CAMPAIGNS[args.campaign])
    import neurochip.compiler.pipeline  # noqa: F401 - imported once, before the fork

    def progress(done, report):
        if done % 250 == 0:
            print(f"  {done} cases: " + ", ".join(f"{k} {report.counts[k]}"
                                                 for k in runner.OUTCOMES), flush=True)

    report = runner.campaign(
        args.campaign, module.cases(args.seed, args.count, args.start), module.run_key,
        timeout=args.timeout, memory_cap=int(args.memory_cap * 2**30),
        env={"NEUROCHIP_MEMORY_BUDGET": args.budget}, deadline=args.deadline,
        progress=progress)
    print(report.format())
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report.to_dict(), f, indent=1)
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
