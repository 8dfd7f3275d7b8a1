"""Sweeps on a Dask cluster (``neurochip.lab.compare.dask_sweep``; ``neurochip compare
--workers N`` and ``--scheduler ADDRESS``): every result of a sweep run as tasks on
worker processes or threads equals the serial sweep's, number for number, in the same
order; the network travels to the workers once; clusters that cannot be used are
refused in one line."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from neurochip.cli.compare import add_compare_arguments, compare_command  # noqa: E402
from neurochip.formats.netlist import expand, load_netlist  # noqa: E402
from neurochip.lab.compare import ClusterError, compare, dask_client, sweep  # noqa: E402
from neurochip.lab.compare.sweep import _Reference  # noqa: E402

EXAMPLE = Path(__file__).parent.parent / "examples" / "balanced.json"
TICKS = 40
# widths x rounding, two dialects, and one configuration the compiler refuses (a 2-tick
# refractory period in a 1-bit counter): a refusal travels back as a result too
CONFIGS = [*sweep(v_bits=[6, 10], rounding=["floor", "nearest"]), {"dialect": "loihi"},
           {"dialect": "xylo"}, {"ref_bits": 1}]
CLI_ARGS = [str(EXAMPLE), "--v-bits", "6,10", "--rounding", "floor,nearest", "--dialects",
            "lif,xylo", "--ticks", str(TICKS), "--json"]


def assert_same(a, b, where: str = "result") -> None:
    """``a`` and ``b`` equal in every number: arrays in dtype, shape and every element,
    floats exactly (NaN equal to NaN), dataclasses and containers item by item."""
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), where
        for f in dataclasses.fields(a):
            assert_same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), where
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"), where
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), where
        for key in a:
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for k, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{k}]")
    elif isinstance(a, float) and math.isnan(a):
        assert isinstance(b, float) and math.isnan(b), where
    else:
        assert type(a) is type(b) and a == b, (where, a, b)


@pytest.fixture(scope="module")
def example():
    return expand(load_netlist(EXAMPLE))


@pytest.fixture(scope="module")
def serial(example):
    """The serial sweep, traces kept (this process loads or compiles the kernel, so that
    the workers find it in numba's disk cache)."""
    return compare(example, CONFIGS, ticks=TICKS)


def test_a_two_process_sweep_equals_the_serial_one(example, serial, monkeypatch):
    pickled = []
    state = _Reference.__getstate__

    def counted(reference):
        pickled.append(reference)
        return state(reference)
    monkeypatch.setattr(_Reference, "__getstate__", counted)
    seen = []
    with dask_client(workers=2) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        with distributed.get_task_stream(client) as tasks:
            results = compare(example, CONFIGS, ticks=TICKS, client=client,
                              progress=seen.append)
    ran = [t for t in tasks.data if str(t["key"]).startswith("_run_config")]
    assert len(ran) == len(CONFIGS)          # every configuration was a task on a worker
    assert [r.label for r in results] == [r.label for r in serial]
    for k, (parallel, alone) in enumerate(zip(results, serial)):
        assert_same(parallel, alone, f"configuration {k}")
    assert results[-1].error is not None and all(r.ok for r in results[:-1])
    assert sorted(r.label for r in seen) == sorted(r.label for r in serial)
    # the network and float run went to the workers once, not with every task
    assert 1 <= len(pickled) <= 2


def test_a_two_thread_sweep_equals_the_serial_one(example, serial):
    with dask_client(workers=2, processes=False) as client:
        results = compare(example, CONFIGS, ticks=TICKS, client=client)
    for k, (parallel, alone) in enumerate(zip(results, serial)):
        assert_same(parallel, alone, f"configuration {k}")


def neurochip(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    script = Path(sys.executable).parent / "neurochip"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "neurochip.cli"]
    return subprocess.run([*command, "compare", *args], check=False, capture_output=True,
                          text=True, timeout=300, env={**os.environ, **(env or {})})


def run_command(args, capsys):
    """The command in this process, as ``neurochip`` runs it: (exit code, stdout, the
    usage error's message or None)."""
    from neurochip.cli import app as cli

    parser = cli._Parser(prog="neurochip")
    commands = parser.add_subparsers(dest="command", parser_class=cli._Parser)
    add_compare_arguments(commands.add_parser("compare"))
    try:
        code, message = compare_command(parser.parse_args(["compare", *args]),
                                        cli.UsageError), None
    except cli.UsageError as error:
        code, message = 2, str(error)
    return code, capsys.readouterr().out, message


def test_the_command_on_two_workers_prints_what_the_serial_command_prints(capsys):
    code, alone, _ = run_command([*CLI_ARGS, "--quiet"], capsys)
    assert code == 0
    parallel = neurochip(*CLI_ARGS, "--workers", "2", env={"NEUROCHIP_PROGRESS_DELAY": "0"})
    assert parallel.returncode == 0, parallel.stderr
    assert parallel.stdout == alone
    assert [c["label"] for c in json.loads(alone)["configs"]] == [
        "v6 i16 w8 floor", "v10 i16 w8 floor", "v6 i16 w8 nearest", "v10 i16 w8 nearest",
        "xylo v16 i16 w8"]
    assert "compare: 100%" in parallel.stderr and "5/5" in parallel.stderr   # the bar


def test_the_command_on_an_existing_cluster(capsys):
    code, alone, _ = run_command([*CLI_ARGS, "--quiet"], capsys)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  protocol="tcp://", host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        code, out, _ = run_command([*CLI_ARGS, "--quiet", "--scheduler",
                                    cluster.scheduler_address], capsys)
    assert code == 0 and out == alone


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_scheduler_is_one_line_naming_it():
    address = f"tcp://127.0.0.1:{unused_port()}"
    bad = neurochip(str(EXAMPLE), "--ticks", "10", "--scheduler", address,
                    "--connect-timeout", "1")
    assert bad.returncode == 2
    assert bad.stderr.strip() == (f"neurochip: error: --scheduler: cannot connect to the Dask "
                                  f"scheduler at {address}: Timed out trying to connect to "
                                  f"{address} after 1 s")


@pytest.mark.parametrize("args, message", [
    (["--workers", "0"], "argument --workers: expected a number of workers >= 1, got '0'"),
    (["--workers", "two"], "argument --workers: expected a number of workers >= 1"),
    (["--workers", "100000"], "up to 256"),
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"],
     "argument --scheduler: not allowed with argument --workers"),
    (["--scheduler", "nowhere"], "--scheduler: 'nowhere' is not a Dask scheduler address"),
    (["--scheduler", "udp://127.0.0.1:8786"], "unknown address scheme 'udp'"),
    (["--scheduler", "tcp://127.0.0.1:8786", "--connect-timeout", "0"],
     "argument --connect-timeout: expected a positive number"),
])
def test_bad_cluster_options_are_usage_errors(args, message, capsys):
    code, _, error = run_command([str(EXAMPLE), "--ticks", "10", *args], capsys)
    assert code == 2 and message in error and "\n" not in error


def test_a_scheduler_without_workers_is_refused():
    with distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp://",
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        with pytest.raises(ClusterError, match=f"{cluster.scheduler_address} has no worker"):
            with dask_client(scheduler=cluster.scheduler_address, connect_timeout=0.5):
                pass


@pytest.mark.parametrize("kwargs", [{}, {"workers": 2, "scheduler": "tcp://127.0.0.1:1"},
                                    {"workers": 0}, {"workers": True}, {"workers": 1.5},
                                    {"workers": 1, "connect_timeout": 0}])
def test_dask_client_refuses_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        with dask_client(**kwargs):
            pass
