"""A short fixed-budget CLI fuzz (tools/fuzzing/cli.py; the campaign runs 1,000+): every
invocation ends with exit code 0..3, a refusal is one line, nothing escapes ``main``."""

from tools.fuzzing.cli import campaign


def test_random_invocations_never_crash_hang_or_spill():
    report = campaign(40, seed=11, timeout=30.0)
    assert report.cases == 40
    assert report.crashes == [] and report.hangs == [] and report.memory == []
    assert report.multi_line == []
    assert set(report.codes) <= {"0", "1", "2", "3"}
    assert report.codes.get("0", 0) >= 1 and report.codes.get("2", 0) >= 1  # both kinds ran
