"""A short netlist and manifest fuzz run in the test suite (the long campaign:
``python tools/fuzz.py netlists --count 3200``; docs/reliability.md).

Hypothesis draws cases of the campaign's generators (structure-aware mutations of
examples/balanced.json and of small generated netlists, byte-level mutations of the JSON
and TOML texts, plausible number changes) and runs each through load -> expand ->
compile -> a few ticks on the chip and the float reference, here in the test process:
every case must run or be refused by one of the project's named errors, on one line.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.fuzzing import manifests, netlists, runner  # noqa: E402
from tools.fuzzing.mutate import mutate_doc, mutate_text  # noqa: E402

SETTINGS = dict(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def check(outcome: runner.Outcome) -> None:
    assert outcome.kind in ("ok", "refused"), (outcome.kind, outcome.error, outcome.message)


@pytest.fixture(autouse=True)
def small_budget(monkeypatch):
    monkeypatch.setenv("NEUROCHIP_MEMORY_BUDGET", "256MiB")


@settings(max_examples=60, **SETTINGS)
@given(st.integers(0, 2**32 - 1), st.integers(0, 10**6))
def test_campaign_cases_run_or_are_refused_by_name(seed, index):
    check(runner.classify(netlists.run_key, (seed, index)))


@settings(max_examples=40, **SETTINGS)
@given(st.integers(0, 2**32 - 1), st.integers(0, 3))
def test_generated_netlists_mutated_in_structure(seed, count):
    rng = random.Random(seed)
    with netlists._deep_ok():                  # a mutation may nest 1,100 levels deep
        doc = mutate_doc(rng, netlists.generated(rng), count=count)
    check(runner.classify(netlists.run_case, ("dict", doc)))


@settings(max_examples=30, **SETTINGS)
@given(st.integers(0, 2**32 - 1), st.sampled_from([".json", ".toml"]))
def test_example_texts_mutated_byte_by_byte(seed, suffix):
    rng = random.Random(seed)
    text = (ROOT / "examples" / f"balanced{suffix}").read_text()
    for _ in range(rng.randint(1, 3)):
        text = mutate_text(rng, text)
    check(runner.classify(netlists.run_case, (suffix, text)))


@settings(max_examples=25, **SETTINGS)
@given(st.integers(0, 2**32 - 1))
def test_boot_manifests_mutated(index):
    check(runner.classify(manifests.run_key, (0, index)))


def test_the_child_process_campaign_reports_no_failures():
    report = runner.campaign("netlists", netlists.cases(7, 45), netlists.run_key,
                             timeout=30, env={"NEUROCHIP_MEMORY_BUDGET": "256MiB"})
    assert report.cases == 45 and report.failures == 0, report.format()
    assert report.counts["ok"] + report.counts["refused"] == 45
