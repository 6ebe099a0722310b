"""Both engines (the vectorized core and the fused kernel) match the scalar reference draw by draw."""

from __future__ import annotations

import numpy as np
import pytest

import risk
from risk.glossary import CALIBRATED, OUTPUTS
from risk.model import run_model
from risk.model.kernel import _fused, _stages_stamp, run_model_fused
from risk.sampling import sample_parameters, sample_shocks

from conftest import variant
from reference_model import reference_path

DRAWS = 256


ENGINES = {"numpy": run_model, "fused": run_model_fused}


def _compare(scenario, base, seed, draws=DRAWS, method="lhs", engine="fused"):
    H = scenario.settings.horizon
    params = sample_parameters(scenario.parameters, draws, seed, method)
    shocks = sample_shocks(seed, H, 0, draws)
    result = ENGINES[engine](params, shocks, base, H)
    for i in range(draws):
        ref = reference_path({k: float(v[i]) for k, v in params.items()}, {k: list(v[i]) for k, v in shocks.items()}, base, H)
        for name in OUTPUTS:
            np.testing.assert_allclose(result.outputs[name][i], ref[name], rtol=1e-9, atol=1e-9, err_msg=f"{name}, draw {i}")
        for name in CALIBRATED:
            np.testing.assert_allclose(result.calibrated[name][i], ref["_calibrated"][name], rtol=1e-9, err_msg=name)
    return result, params


@pytest.mark.parametrize("engine", ENGINES)
def test_base_scenario_matches_reference(base_scenario, base, engine):
    _compare(base_scenario, base, seed=7, engine=engine)


def test_simulate_dataset_carries_the_same_numbers(base_scenario, base):
    """The Dataset from simulate() holds exactly what run_model computes (float64 storage)."""
    ds = risk.simulate(base_scenario, draws=DRAWS, seed=11, dtype="float64")
    params = {k: ds[k].values for k in base_scenario.parameters}
    shocks = sample_shocks(11, 7, 0, DRAWS)
    for i in range(0, DRAWS, 37):
        ref = reference_path({k: float(v[i]) for k, v in params.items()}, {k: list(v[i]) for k, v in shocks.items()}, base, 7)
        for name in OUTPUTS:
            np.testing.assert_allclose(ds[name].values[i], ref[name], rtol=1e-9, atol=1e-9, err_msg=name)


def _wide(base_doc):
    u = lambda lo, hi: {"dist": "uniform", "min": lo, "max": hi, "source": "t", "note": "t"}
    return variant(
        base_doc,
        capex__volatility=u(0.2, 0.6),
        capex__power_cap=u(0.1, 0.5),
        capex__max_cut=u(0.1, 0.3),
        digestion__enter=u(0.2, 0.6),
        digestion__overbuild_sensitivity=u(0, 5),
        pricing__elasticity=u(2, 12),
        pricing__cost_volatility=u(0.05, 0.3),
        demand__volatility=u(0.3, 1.5),
        aws__inhouse_speed=u(2, 8),
        aws__inhouse_max=u(0.3, 0.5),
        aws__server_life={"dist": "choice", "values": [4, 5, 6, 7], "source": "t", "note": "t"},
        compute__accelerator_life={"dist": "choice", "values": [3, 5, 7], "source": "t", "note": "t"},
        aws__external__enabled={"dist": "bernoulli", "p": 0.9, "source": "t", "note": "t"},
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_wide_scenario_exercises_every_branch(base_doc, base, engine):
    """Wide ranges reach digestion, the power cap, the deepest cut, the premium floor and sigma_max."""
    r, params = _compare(_wide(base_doc), base, seed=3, method="mc", engine=engine)
    o = r.outputs
    assert o["digestion"][:, 1:].mean() > 0.2
    assert (o["aws_inhouse_share"][:, -1] == params["aws.inhouse_max"]).mean() > 0.5
    growth = o["capex_hyperscaler"][:, 1:] / o["capex_hyperscaler"][:, :-1]
    assert (growth < 0.95).any() and (growth > 1.2).any()
    assert (o["nvda_price_index"][:, -1] < 0.8).any()


def test_engines_agree_to_rounding(base_doc, base):
    """The fused kernel and the vectorized core compute the same numbers, up to how exp and log round."""
    sc = _wide(base_doc)
    params = sample_parameters(sc.parameters, 20_000, 5, "mc")
    shocks = sample_shocks(5, 7, 0, 20_000)
    a, b = run_model(params, shocks, base, 7), run_model_fused(params, shocks, base, 7)
    for name in OUTPUTS:
        scale = np.max(np.abs(a.outputs[name])) or 1.0
        np.testing.assert_allclose(b.outputs[name], a.outputs[name], rtol=1e-12, atol=1e-12 * scale, err_msg=name)
    for name in CALIBRATED:
        np.testing.assert_allclose(b.calibrated[name], a.calibrated[name], rtol=1e-12, err_msg=name)


def test_simulate_engines_and_chunking(base_scenario):
    """simulate() records its engine; the numpy engine gives the fused one's numbers to float32 rounding,
    and the fused engine is bitwise the same whatever the chunk size and threads."""
    a = risk.simulate(base_scenario, draws=3000, seed=4, engine="fused")
    b = risk.simulate(base_scenario, draws=3000, seed=4, engine="numpy")
    c = risk.simulate(base_scenario, draws=3000, seed=4, chunk_size=700, threads=1)
    assert a.attrs["engine"] == "fused" and b.attrs["engine"] == "numpy"
    for name in OUTPUTS:
        np.testing.assert_allclose(a[name].values, b[name].values, rtol=2e-6, atol=1e-6, err_msg=name)
        np.testing.assert_array_equal(a[name].values, c[name].values, err_msg=name)


def test_unknown_engine_is_refused(base_scenario):
    with pytest.raises(risk.ScenarioError, match=r"engine: must be one of: fused, numpy \(got 'numba'\)"):
        risk.simulate(base_scenario, draws=10, engine="numba")


def test_compiled_kernel_cache_key_follows_the_stage_sources():
    """numba keys its on-disk cache by the kernel's own code and closure values; the stage modules'
    source hash is one of those values, so editing a stage never reuses a stale compiled kernel."""
    assert _stages_stamp() in [cell.cell_contents for cell in _fused.py_func.__closure__]
