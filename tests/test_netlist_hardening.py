"""Issue 14: hostile netlists and boot manifests are refused by name, before any large
allocation; every reproducer of the fuzzing campaign is a test here."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from firmware_models.lif.quantiser import QuantiseError
from firmware_models.lif.reference import simulate
from neurochip.compiler.pipeline import compile_netlist, float_run, roomy_core_spec
from neurochip.formats.image import ImageError, load_chip, write_chip_images
from neurochip.formats.netlist import NetlistError, expand, load_netlist, netlist_from_dict
from neurochip.hardware.chip import ChipSpec
from neurochip.hardware.spec import SpecError

ROOT = Path(__file__).resolve().parent.parent
BALANCED = json.loads((ROOT / "examples" / "balanced.json").read_text())


def changed(change) -> dict:
    data = copy.deepcopy(BALANCED)
    change(data)
    return data


def refused(data, match: str) -> str:
    with pytest.raises(NetlistError) as info:
        netlist_from_dict(data, "net.json")
    message = str(info.value)
    assert "\n" not in message and message.startswith("net.json: ")
    assert match in message, message
    return message


def refused_text(tmp_path, text: str, suffix: str, match: str) -> str:
    path = tmp_path / f"net{suffix}"
    path.write_text(text)
    with pytest.raises(NetlistError) as info:
        load_netlist(path)
    assert "\n" not in str(info.value) and match in str(info.value), str(info.value)
    return str(info.value)


# ---------------------------------------------------------------- parsing
def test_toml_nested_1000_deep_is_refused_by_name(tmp_path):
    refused_text(tmp_path, "x = " + "[" * 1000 + "]" * 1000 + "\n", ".toml",
                 "invalid TOML: nested deeper than 32 levels")


def test_json_nested_deeply_is_refused_by_name(tmp_path):
    refused_text(tmp_path, "[" * 100000 + "]" * 100000, ".json",
                 "invalid JSON: nested deeper than 32 levels")
    deep = changed(lambda d: d.update(seed=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[0]]]]]]]]]]]]]]]]]]
                                                 ]]]]]]]]]]]]]]]]))
    refused(deep, "nested deeper than 32 levels")


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_an_integer_of_5000_digits_is_refused_by_name(tmp_path, suffix):
    text = (ROOT / "examples" / f"balanced{suffix}").read_text()
    text = text.replace("2024", "9" * 5000, 1)
    refused_text(tmp_path, text, suffix, "an integer of 5000 digits")


def test_huge_integers_in_a_mapping_are_refused_and_shown_shortened():
    message = refused(changed(lambda d: d.update(seed=10 ** 5000)), "seed: must be at most")
    assert "an integer of about" in message and len(message) < 200
    refused(changed(lambda d: d.update(dt=10 ** 400)), "dt: must be finite")
    refused(changed(lambda d: d["populations"]["exc"].update(size=10 ** 400)),
            "populations.exc.size: must be at most 2147483647")


@pytest.mark.parametrize("value", [complex(1, 2), "1e-3", True, None, [], {}])
def test_non_real_numbers_are_refused_by_name(value):
    refused(changed(lambda d: d["populations"]["exc"]["params"].update(C=value)),
            "populations.exc.params.C: ")


def test_odd_keys_are_shortened_in_the_field_path():
    message = refused(changed(lambda d: d["populations"]["exc"].update({"x" * 5000: 1})),
                      "unknown key")
    assert len(message) < 300


# ---------------------------------------------------------------- physical ranges
@pytest.mark.parametrize("change, field", [
    (lambda d: d["inputs"][3].update(amplitudes=[1e-9, 1e30]), "inputs[3].amplitudes[1]"),
    (lambda d: d["populations"]["exc"]["params"].update(T_ref=1e300),
     "populations.exc.params.T_ref"),
    (lambda d: d["populations"]["exc"]["params"].update(E_L=1e30),
     "populations.exc.params.E_L"),
    (lambda d: d["inputs"][1].update(amplitude=1e308), "inputs[1].amplitude"),
    (lambda d: d["projections"][0].update(delay=1e16), "projections[0].delay"),
    (lambda d: d["populations"]["inh"]["params"].update(C=1e-300),
     "populations.inh.params.C"),
    (lambda d: d["projections"][1]["connectivity"].update(weight=1e30),
     "projections[1].connectivity.weight"),
])
def test_physical_values_that_would_overflow_are_refused_at_load(change, field):
    message = refused(changed(change), field + ": must")
    assert "9223372036854775808" not in message


def test_the_old_messages_for_values_below_their_domain_are_kept():
    refused(changed(lambda d: d["populations"]["exc"]["params"].update(T_ref=-1.0)),
            "T_ref: must be >= 0 (seconds) (got -1.0)")
    refused(changed(lambda d: d["projections"][0].update(delay=0)),
            "must be a number of seconds >= dt = 0.001 (one tick) (got 0)")


def chip(n: int = 128) -> ChipSpec:
    return ChipSpec(1, 1, core=roomy_core_spec(n, 1))


def test_a_current_too_large_to_resolve_the_threshold_is_refused_naming_it():
    net = netlist_from_dict(changed(lambda d: d["inputs"][3].update(amplitudes=[1e-9, 1e3])))
    with pytest.raises(QuantiseError, match=r"population exc: neuron \d+: the voltage scale .* "
                                            r"input current of up to 1000 A"):
        compile_netlist(net, chip())


def test_t_ref_beyond_its_field_names_the_real_value():
    net = netlist_from_dict(changed(
        lambda d: d["populations"]["exc"]["params"].update(T_ref=1e6)))
    with pytest.raises(QuantiseError, match=r"T_ref needs t_ref=1000000000, beyond its"):
        compile_netlist(net, chip())


def test_quantiser_refuses_values_beyond_int64_before_the_cast():
    from firmware_models.lif.quantiser import quantise
    from firmware_models.lif.reference import LifPhysical
    from neurochip.hardware.spec import CoreSpec
    with pytest.raises(QuantiseError, match=r"T_ref = 1e\+300 s is beyond any register"):
        quantise(LifPhysical(T_ref=1e300), 1e-3, CoreSpec())
    with pytest.raises(ValueError, match="T_ref = 1e\\+300 s .* beyond a 64-bit tick count"):
        simulate(LifPhysical(T_ref=1e300), 1e-3, 3)


def test_a_delay_beyond_the_chip_is_refused_not_wrapped_to_one_tick():
    ex = expand(netlist_from_dict(BALANCED))
    from dataclasses import replace
    far = replace(ex, delay=np.where(np.arange(ex.delay.size) == 0, 1e16, ex.delay))
    with pytest.raises(SpecError, match=r"synapse 0 .* delay 1e\+16 s is 1e\+19 ticks"):
        compile_netlist(far, chip())
    with pytest.raises(SpecError, match="beyond 2147483647 ticks"):
        float_run(far, 3)


# ---------------------------------------------------------------- memory, before allocation
def test_a_population_of_2_31_neurons_is_refused_before_expansion(monkeypatch):
    monkeypatch.setenv("NEUROCHIP_MEMORY_BUDGET", "4GiB")
    data = changed(lambda d: d["populations"]["exc"].update(size=2 ** 31 - 1))
    message = refused(data, "over the memory budget of 4 GiB (NEUROCHIP_MEMORY_BUDGET)")
    assert "projections[0].connectivity: about" in message


@pytest.mark.parametrize("data, field", [
    ({"populations": {"a": {"model": "lif", "size": 10 ** 7}}}, "populations.a.size"),
    ({"populations": {"a": {"model": "lif", "size": 40000}},
      "projections": [{"pre": "a", "post": "a", "connectivity": {
          "type": "fixed_fan_in", "n": 25000, "weight": 1e-12}}]},
     "projections[0].connectivity"),
    ({"populations": {"a": {"model": "lif", "size": 10000}},
      "inputs": [{"kind": "poisson", "target": "a", "rate": 1000.0, "weight": 1e-12,
                  "fan_in": 1000}]}, "inputs[0]"),
])
def test_neurons_synapses_and_events_are_counted_against_the_budget(monkeypatch, data, field):
    monkeypatch.setenv("NEUROCHIP_MEMORY_BUDGET", "1GiB")
    full = {"format": "neurochip-netlist", "version": 1, "dt": 1e-3, "duration": 1.0, **data}
    refused(full, f"{field}: ")


def test_float_run_records_only_what_is_asked_and_matches_the_full_run():
    ex = expand(netlist_from_dict(BALANCED))
    ticks = 120
    full = float_run(ex, ticks)
    # the old way: every input over the whole run up front, the (ticks, n) feedback array
    order = np.argsort(ex.pre, kind="stable")
    start = np.concatenate([[0], np.cumsum(np.bincount(ex.pre, minlength=ex.n))])
    post, weight = ex.post[order], ex.weight[order]
    delay = np.maximum(ex.delay_ticks(), 1)[order]

    def feedback(k, fired, future):
        from neurochip.hardware.synapses import row_words
        syn, _ = row_words(start, np.flatnonzero(fired))
        arrive = k + delay[syn]
        keep = arrive < ticks
        np.add.at(future, (arrive[keep], post[syn][keep]), weight[syn][keep])
    old = simulate(ex.params, ex.dt, ticks, n=ex.n, syn_input=ex.input_jumps()[:ticks],
                   I_ext=ex.current()[:ticks], feedback=feedback)
    for name in ("V", "I_syn", "Theta", "spikes"):
        assert np.array_equal(getattr(full, name), getattr(old, name)), name
    spikes = float_run(ex, ticks, record=("spikes",))
    assert spikes.V is None and spikes.I_syn is None
    assert np.array_equal(spikes.spikes, old.spikes) and spikes.ticks == ticks


def test_float_run_over_the_budget_is_refused_with_the_estimate(monkeypatch):
    ex = expand(netlist_from_dict(BALANCED))
    monkeypatch.setenv("NEUROCHIP_MEMORY_BUDGET", "100KiB")
    with pytest.raises(SpecError, match=r"the float run \(500 ticks x 100 neurons.* over the "
                                        r"memory budget of 100 KiB"):
        float_run(ex)


# ---------------------------------------------------------------- boot manifests
@pytest.fixture(scope="module")
def images(tmp_path_factory):
    out = tmp_path_factory.mktemp("images")
    compiled = compile_netlist(netlist_from_dict(BALANCED), ChipSpec(2, 1, core=roomy_core_spec(
        64, 2)))
    write_chip_images(compiled.chip.spec, dict(enumerate(compiled.chip.configs)), out,
                      overwrite=True)
    return out


def boot_with(images, tmp_path, change):
    for path in images.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    manifest = json.loads((images / "manifest.json").read_text())
    change(manifest)
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    return load_chip(tmp_path)


@pytest.mark.parametrize("change, match", [
    (lambda m: m["timing"].update(synop=2 ** 64), r"timing.synop: must be an integer in 0..4294967295 \(got 18446744073709551616\)"),
    (lambda m: m.update(clock_hz=True), r"clock_hz: must be a number of hertz .* \(got True\)"),
    (lambda m: m["timing"].pop("hop_x"), r"timing.hop_x: missing required key"),
    (lambda m: m["core_spec"].pop("w_bits"), r"core_spec.w_bits: missing required key"),
    (lambda m: m["core_spec"].update(n_slots=True), r"core_spec.n_slots: must be an integer"),
    (lambda m: m["mesh"].update(width=2.0), r"mesh.width: must be an integer"),
    (lambda m: m["files"][0].update(core=7), r"files\[0\].core: must be an integer in 0..1"),
    (lambda m: m.update(version=2.0), r"unsupported manifest version 2.0"),
    (lambda m: m.update(colour=1), r"colour: unknown key"),
    (lambda m: m["files"][0].update(crc32="0xZZ"), r"files\[0\].crc32: must be 0x"),
    (lambda m: m["files"][0].update(file="core-\x00.ncim"), r"is not an image name"),
])
def test_manifest_fields_are_checked_by_name(images, tmp_path, change, match):
    with pytest.raises(ImageError, match=match) as info:
        boot_with(images, tmp_path, change)
    assert "\n" not in str(info.value)


def test_the_unchanged_manifest_still_boots(images, tmp_path):
    assert boot_with(images, tmp_path, lambda m: None).spec.n_cores == 2
