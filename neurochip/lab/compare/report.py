"""The comparison as text: one table line per configuration (``format_table``)."""

from __future__ import annotations

from collections.abc import Sequence

from .results import ComparisonResult


def format_value(value, spec: str = ".3g", none: str = "-") -> str:
    """``value`` formatted by ``spec``; ``none`` when it is None."""
    return none if value is None else format(value, spec)


def format_table(results: Sequence[ComparisonResult]) -> str:
    """One line per configuration."""
    head = (f"{'configuration':<24} {'spikes':>13} {'rate err':>9} {'per-nrn':>8} "
            f"{'match/miss/extra':>17} {'|dt| ticks':>10} {'vR mean':>8} {'1st diff':>8} "
            f"{'V RMSE mV':>9} {'identical':>9} {'overflows':>9}")
    lines = [head]
    value = format_value
    for r in results:
        if not r.ok:
            lines.append(f"{r.label:<24} refused: {r.error}")
            continue
        lines.append(
            f"{r.label:<24} {f'{r.total}/{r.total_float}':>13} "
            f"{value(r.rate_error_total):>9} {value(r.rate_error_neuron):>8} "
            f"{f'{r.matched}/{r.missed}/{r.extra}':>17} {value(r.deviation_mean_abs):>10} "
            f"{value(r.van_rossum_mean):>8} {value(r.first_difference, 'd', 'never'):>8} "
            f"{value(r.v_rmse * 1e3):>9} {100 * r.identical_fraction:>8.1f}% "
            f"{r.overflow_total:>9}")
    return "\n".join(lines)




def format_metrics(results: Sequence[ComparisonResult]) -> str:
    """NeuroBench's counts (docs/metrics.md) of the float reference and of each
    configuration that ran, side by side, totals over the populations (the JSON has them
    per population)."""
    ran = [r for r in results if r.ok and r.metrics is not None]
    if not ran:
        return ""
    lines = [f"NeuroBench metrics ({ran[0].ticks} ticks, totals; per population in --json):",
             f"{'run':<24} {'eff. ACs':>12} {'eff. MACs':>10} {'dense ops':>12} "
             f"{'sparsity':>8} {'membrane upd.':>13}"]
    rows = [("float reference", ran[0].metrics_float)]
    if any(r.reference != "asked" for r in ran):   # each configuration its own float run
        rows = []
    for r in ran:
        if r.reference != "asked":
            rows.append((f"float ({r.label})"[:24], r.metrics_float))
        rows.append((r.label, r.metrics))
    for label, m in rows:
        t = m.total
        lines.append(f"{label:<24} {t.effective_acs:>12} {t.effective_macs:>10} "
                     f"{t.dense:>12} {t.activation_sparsity:>8.4f} {t.membrane_updates:>13}")
    return "\n".join(lines)
