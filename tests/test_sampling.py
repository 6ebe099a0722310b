"""Sampling: seeds, streams, Latin hypercube strata, Sobol balance, and their accuracy."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import TypeAdapter

from risk.distributions import DistributionSpec
from risk.glossary import PARAMETERS, SHOCKS, UNIFORM_SHOCKS
from risk.sampling import BLOCK, parameter_uniforms, sample_parameters, sample_shocks
from risk.streams import N_PARAMETER_STREAMS, PARAMETER_ROWS

ADAPTER = TypeAdapter(DistributionSpec)


def test_same_seed_same_numbers_different_seed_different(base_scenario):
    a = sample_parameters(base_scenario.parameters, 1000, 3, "lhs")
    b = sample_parameters(base_scenario.parameters, 1000, 3, "lhs")
    c = sample_parameters(base_scenario.parameters, 1000, 4, "lhs")
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["capex.growth_first"], c["capex.growth_first"])


def test_latin_hypercube_has_one_point_per_stratum():
    n = 4096
    u = parameter_uniforms("lhs", 9, n, ["capex.growth_first", "capex.max_cut", "asic_adoption.training.ceiling"])
    for k in range(3):
        np.testing.assert_array_equal(np.sort(np.floor(u[:, k] * n)), np.arange(n))


def test_mc_uniforms_do_not_depend_on_the_number_of_draws():
    """Monte Carlo parameter streams are keyed by block: the first draws of a larger run are the same."""
    small = parameter_uniforms("mc", 5, 1000, ["capex.volatility", "capex.power_cap"])
    large = parameter_uniforms("mc", 5, 200_000, ["capex.volatility", "capex.power_cap"])
    np.testing.assert_array_equal(small, large[:1000])


def test_a_column_depends_only_on_its_parameter(base_scenario, base_doc):
    """Pinning one parameter leaves every other parameter's draws as they were."""
    from conftest import fixed, variant

    pinned = variant(base_doc, pricing__elasticity=fixed(1.5))
    for method in ("mc", "lhs", "sobol"):
        a = sample_parameters(base_scenario.parameters, 512, 8, method)
        b = sample_parameters(pinned.parameters, 512, 8, method)
        assert (b["pricing.elasticity"] == 1.5).all()
        for k in a:
            if k != "pricing.elasticity":
                np.testing.assert_array_equal(a[k], b[k], err_msg=f"{method}: {k}")


def test_shocks_do_not_depend_on_chunking():
    whole = sample_shocks(3, 7, 0, 3 * BLOCK + 17)
    for lo, hi in [(0, 100), (BLOCK - 5, BLOCK + 5), (2 * BLOCK + 1, 3 * BLOCK + 17)]:
        np.testing.assert_array_equal(sample_shocks(3, 7, lo, hi), whole[:, :, lo:hi])


def test_longer_horizon_keeps_the_early_shocks():
    a, b = sample_shocks(3, 5, 0, 300), sample_shocks(3, 9, 0, 300)
    np.testing.assert_array_equal(a, b[:, :5])


def test_shock_streams_are_standard():
    s = dict(zip(SHOCKS, sample_shocks(1, 7, 0, 100_000)))
    for k, arr in s.items():
        if k in UNIFORM_SHOCKS:
            assert arr.min() >= 0 and arr.max() < 1 and abs(arr.mean() - 0.5) < 0.005
        else:
            assert abs(arr.mean()) < 0.01 and abs(arr.std() - 1) < 0.01
    assert abs(np.corrcoef(s["capex"][0], s["unit_cost"][0])[0, 1]) < 0.02


def test_sobol_warns_when_draws_not_power_of_two():
    with pytest.warns(UserWarning, match="not a power of 2.*use 1024 or 512"):
        parameter_uniforms("sobol", 1, 1000, ["capex.growth_first"])


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="'halton' is not one of: mc, lhs, sobol"):
        parameter_uniforms("halton", 1, 10, ["capex.growth_first"])


def test_lhs_and_sobol_estimate_a_known_mean_better_than_mc():
    """Root-mean-square error of the sample mean of a PERT over 60 seeds at 1,024 draws."""
    d = ADAPTER.validate_python({"dist": "pert", "mode": 0.76, "ci90": [0.60, 0.82], "source": "t", "note": "t"})
    true = d.frozen().mean()
    col = ["capex.growth_first"]
    rmse = {}
    for method in ("mc", "lhs", "sobol"):
        errors = [d.ppf(parameter_uniforms(method, seed, 1024, col)[:, 0]).mean() - true for seed in range(60)]
        rmse[method] = float(np.sqrt(np.mean(np.square(errors))))
    assert rmse["lhs"] < rmse["mc"] / 5
    assert rmse["sobol"] < rmse["mc"] / 5
    assert rmse["mc"] == pytest.approx(d.frozen().std() / 32, rel=0.3)  # sigma / sqrt(n)


@pytest.mark.parametrize("method", ["mc", "lhs", "sobol"])
def test_parameter_matrix_in_glossary_order_into_a_reused_buffer(base_scenario, method):
    """The run's path: rows in glossary order, drawn (mc: in place) into a buffer reused from
    chunk to chunk; the same numbers as sampling by path, chunk by chunk or whole."""
    from risk.sampling import parameter_matrix

    order = list(PARAMETERS)
    whole = sample_parameters(base_scenario.parameters, 4 * BLOCK, 6, method)
    buf = np.full((len(order), BLOCK), np.nan)
    for lo in (0, BLOCK, 3 * BLOCK):
        got = parameter_matrix(base_scenario.parameters, 4 * BLOCK, 6, method, rows=(lo, lo + BLOCK),
                               order=order, out=buf, threads=False)
        assert got is buf
        for i, path in enumerate(order):
            np.testing.assert_array_equal(got[i], whole[path][lo:lo + BLOCK], err_msg=f"{method}: {path}")


def test_shocks_in_place_equal_shocks_copied():
    """A chunk that is exactly one block is drawn in place; the numbers are those of any other chunking."""
    whole = sample_shocks(4, 7, 0, 2 * BLOCK)
    np.testing.assert_array_equal(sample_shocks(4, 7, BLOCK, 2 * BLOCK), whole[:, :, BLOCK:])


def test_shocks_into_a_reused_buffer():
    buf = np.full((len(SHOCKS), 7, BLOCK), np.nan)
    for lo in (0, 2 * BLOCK):
        got = sample_shocks(4, 7, lo, lo + BLOCK, out=buf)
        assert got is buf
        np.testing.assert_array_equal(got, sample_shocks(4, 7, lo, lo + BLOCK))
    with pytest.raises(ValueError, match=rf"C-contiguous float64 array of shape \({len(SHOCKS)}, 7, 100\)"):
        sample_shocks(4, 7, 0, 100, out=np.empty((len(SHOCKS), 100, 7)))


def test_skipped_mc_rows_leave_the_others_as_they_were():
    """Rows of fixed parameters are jumped over in a whole block, not drawn: every other row
    keeps its numbers."""
    from risk.sampling import _mc_rows

    full = _mc_rows(9, BLOCK, 2 * BLOCK, threads=False, out=np.empty((N_PARAMETER_STREAMS, BLOCK)))
    skip = [0, 1, 5, N_PARAMETER_STREAMS - 1]
    part = _mc_rows(9, BLOCK, 2 * BLOCK, threads=False, out=np.full((N_PARAMETER_STREAMS, BLOCK), np.nan), skip=skip)
    keep = [j for j in range(N_PARAMETER_STREAMS) if j not in skip]
    np.testing.assert_array_equal(part[keep], full[keep])
    assert np.isnan(part[skip]).all()


def test_block_shocks_are_numpys_draws_of_their_stream():
    from risk.sampling import generator
    from risk.streams import shock_key

    shocks = sample_shocks(11, 7, BLOCK, 2 * BLOCK)  # block 1, drawn whole
    for s, name in enumerate(SHOCKS):
        rng = generator(11, *shock_key(name, 1))
        want = rng.random((7, BLOCK)) if name in UNIFORM_SHOCKS else rng.standard_normal((7, BLOCK))
        np.testing.assert_array_equal(shocks[s], want)


def test_a_buffer_the_uniforms_cannot_be_drawn_into_is_refused(base_scenario):
    """Monte Carlo uniforms are drawn straight into the buffer: one that is not C-contiguous
    float64 would be filled through a copy and lost, so it is refused."""
    from risk.sampling import parameter_matrix

    strided = np.empty((len(PARAMETERS), 2 * BLOCK))[:, ::2]
    with pytest.raises(ValueError, match="C-contiguous float64"):
        parameter_matrix(base_scenario.parameters, BLOCK, 6, "mc", rows=(0, BLOCK), order=PARAMETER_ROWS, out=strided,
                         threads=False)


@pytest.mark.parametrize("seed", [0, 7, 2**40 + 3])
def test_compiled_normals_are_numpys_numbers(seed):
    """The compiled fill draws numpy's own numbers: a million normals reach the ziggurat's rare
    paths (its wedges and the tail beyond 3.65), and the generator goes on from the same state."""
    from risk.compiled import normals_into
    from risk.sampling import generator

    mine, theirs = generator(seed, 1), generator(seed, 1)
    got, want = np.empty(1 << 20), np.empty(1 << 20)
    normals_into(mine, got)
    theirs.standard_normal(out=want)
    np.testing.assert_array_equal(got, want)
    assert np.abs(got).max() > 3.65
    assert mine.random() == theirs.random()


def test_small_runs_do_not_import_numba():
    """Commands on small runs start without numba: it is imported for whole blocks of shocks only."""
    import subprocess
    import sys

    code = ("import sys, risk; risk.simulate('scenarios/base.yaml', draws=500, sampling='mc'); "
            "print('numba' in sys.modules)")
    from conftest import ROOT

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "False", out.stderr[-2000:]
