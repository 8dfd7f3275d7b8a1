"""The fixture table: every committed framework fixture (tests/data/nir) on the float
reference and on the 16-bit reference-LIF chip with default options.

    python -m tools.nir_agreement [--json]

Per case: whether ``run_framework`` equals the framework's own output spike for spike
(same-step), the output spikes of the chip and of the float reference (tick-per-hop, as
the chip passes a layer stack), the fraction of output neurons within one spike,
overflows, and the warnings that say why a case misses (within 10 % and 90 % of the
neurons within one spike are the targets).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "nir"


def case_options(case: dict) -> tuple[dict, dict]:
    """(load options, framework options) of a fixture, from its .json."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_nir_frameworks import framework_options

    fw, opts = case["framework"], case["options"]
    load = {"dt": opts.get("cell_dt", 1e-3) if fw == "norse" else 1e-3}
    if fw == "norse" and "to_nir_dt" in opts:
        load["dt_export"] = opts["to_nir_dt"]
    frame = framework_options(case)
    frame.pop("dt", None)
    frame.pop("dt_export", None)
    return load, frame


def measure(stem: Path) -> dict:
    from neurochip.formats.nir import run_framework
    from neurochip.lab.nir_runs import (agreement, chip_reset, float_reference,
                                        framework_refractory, prepare, run_on_chip,
                                        semantic_gaps, with_refractory)

    case = json.loads(stem.with_suffix(".json").read_text())
    data = np.load(stem.with_suffix(".npz"))
    load, frame = case_options(case)
    node_options = frame.pop("node_options", None)
    fw = case["framework"]
    extra = {"dt": load["dt"], **({"dt_export": load["dt_export"]} if "dt_export" in load
                                  else {})} if fw == "norse" else {}
    own = run_framework(stem.with_suffix(".nir"), data["input"], fw, node_options=node_options,
                        **frame, **extra)
    exact = bool(np.array_equal(own.output(), data["output"].reshape(own.output().shape)))
    prepared = prepare(stem.with_suffix(".nir"), data["input"], load["dt"],
                       dt_export=load.get("dt_export"), reset=chip_reset("auto", frame))
    prepared = with_refractory(prepared, framework_refractory(prepared.network, fw, frame,
                                                              node_options))
    reference = float_reference(prepared, fw, "tick-per-hop", node_options=node_options,
                                **frame, **extra) if fw != "norse" else \
        float_reference(prepared, fw, "tick-per-hop", **frame, **extra)
    chip = run_on_chip(prepared)
    rows = agreement(prepared, chip, reference).outputs
    gaps = semantic_gaps(prepared, reference)
    return {"framework": fw, "case": case["case"], "float_equals_framework": exact,
            "chip_spikes": sum(r.chip_spikes for r in rows),
            "float_spikes": sum(r.float_spikes for r in rows),
            "within_one": float(np.mean([r.within_one for r in rows])),
            "overflows": int(sum(chip.recording.overflow.values())),
            "warnings": [*chip.warnings, *gaps]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.nir_agreement")
    parser.add_argument("--json", action="store_true", help="one JSON object per case")
    args = parser.parse_args(argv)
    for path in sorted(DATA.glob("*/*.json")):
        if "paper_cnn" in path.name:       # minutes on two cores; measured apart
            continue
        row = measure(path.with_suffix(""))
        if args.json:
            print(json.dumps(row))
            continue
        off = abs(row["chip_spikes"] - row["float_spikes"]) / max(row["float_spikes"], 1)
        print(f"{row['framework']:9s} {row['case']:25s} float=framework "
              f"{'yes' if row['float_equals_framework'] else 'no ':3s}  chip "
              f"{row['chip_spikes']:4d} float {row['float_spikes']:4d} ({off:5.1%})  within1 "
              f"{row['within_one']:.2f}  overflows {row['overflows']}  warnings "
              f"{len(row['warnings'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
