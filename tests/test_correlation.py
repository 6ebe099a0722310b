"""Correlated inputs: achieved rank correlations, unchanged marginals, matrix checks."""

from __future__ import annotations


import numpy as np
import pytest
from scipy import stats

import risk
from risk.correlation import achieved, check_correlation, nearest_correlation

from conftest import BASE_FILE, variant

PARAMS = ["asic_adoption.inference.ceiling", "asic_adoption.training.ceiling", "pricing.elasticity", "compute.asic_cost_advantage"]
TARGET = [[1.0, 0.6, 0.3, 0.4], [0.6, 1.0, 0.2, 0.3], [0.3, 0.2, 1.0, -0.2], [0.4, 0.3, -0.2, 1.0]]


def correlated(base_doc, **kw):
    return variant(base_doc, correlations={"parameters": PARAMS, "spearman": TARGET, **kw})


@pytest.mark.slow
@pytest.mark.parametrize("sampling", ["mc", "lhs", "sobol"])
def test_gaussian_copula_hits_target_and_keeps_marginals(base_doc, base_scenario, sampling):
    draws = 131_072 if sampling == "sobol" else 100_000
    sc = correlated(base_doc)
    ds = risk.simulate(sc, draws=draws, seed=4, sampling=sampling, dtype="float64")
    for a, b, target, got in achieved({p: ds[p].values for p in PARAMS}, sc.correlations):
        assert got == pytest.approx(target, abs=0.02), (a, b)
    independent = risk.simulate(base_scenario, draws=draws, seed=4, sampling=sampling, dtype="float64")
    for p in PARAMS:
        assert stats.kstest(ds[p].values, sc.parameters[p].frozen().cdf).pvalue > 0.001
        assert stats.ks_2samp(ds[p].values, independent[p].values).pvalue > 0.001
    others = [p for p in sc.parameters if p not in PARAMS and not sc.parameters[p].is_fixed]
    for p in others[:5]:
        np.testing.assert_array_equal(ds[p].values, independent[p].values)


@pytest.mark.slow
def test_t_copula_has_tail_dependence(base_doc):
    g = risk.simulate(correlated(base_doc), draws=100_000, seed=4, sampling="mc", dtype="float64")
    t = risk.simulate(correlated(base_doc, copula="t", dof=3), draws=100_000, seed=4, sampling="mc", dtype="float64")

    def joint_tail(ds):
        u = stats.rankdata(ds[PARAMS[0]].values) / ds.sizes["draw"]
        v = stats.rankdata(ds[PARAMS[1]].values) / ds.sizes["draw"]
        return np.mean((u > 0.99) & (v > 0.99)) / 0.01

    assert joint_tail(t) > joint_tail(g) + 0.05
    rho = stats.spearmanr(t[PARAMS[0]].values, t[PARAMS[1]].values).statistic
    assert rho == pytest.approx(0.6, abs=0.05)


def test_not_a_correlation_matrix_is_an_error(base_doc):
    bad = [[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]]
    with pytest.raises(risk.ScenarioError, match=r"correlations.spearman: is not positive semidefinite \(smallest eigenvalue -?\d"):
        variant(base_doc, correlations={"parameters": PARAMS[:3], "spearman": bad})
    asym = [[1.0, 0.5], [0.4, 1.0]]
    with pytest.raises(risk.ScenarioError, match=r"is not symmetric: \[asic_adoption.inference.ceiling, asic_adoption.training.ceiling\] = 0.5"):
        variant(base_doc, correlations={"parameters": PARAMS[:2], "spearman": asym})
    with pytest.raises(risk.ScenarioError, match=r"correlations.spearman: must be 2 x 2"):
        variant(base_doc, correlations={"parameters": PARAMS[:2], "spearman": [[1.0]]})
    with pytest.raises(risk.ScenarioError, match=r"correlations.parameters\[1\]: unknown parameter 'pricing.elastcity' \(did you mean 'pricing.elasticity'\?\)"):
        variant(base_doc, correlations={"parameters": [PARAMS[0], "pricing.elastcity"], "spearman": [[1, 0], [0, 1]]})
    with pytest.raises(risk.ScenarioError, match=r"'capex.max_cut' is fixed"):
        variant(base_doc, correlations={"parameters": [PARAMS[0], "capex.max_cut"], "spearman": [[1, 0], [0, 1]]})
    with pytest.raises(risk.ScenarioError, match=r"diagonal must be 1, got 0.9"):
        variant(base_doc, correlations={"parameters": PARAMS[:2], "spearman": [[0.9, 0], [0, 1]]})


def test_repair_when_asked_with_a_warning(base_doc):
    bad = [[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]]
    sc = variant(base_doc, correlations={"parameters": PARAMS[:3], "spearman": bad, "repair": True})
    with pytest.warns(UserWarning, match="not a correlation matrix; using the nearest one"):
        ds = risk.simulate(sc, draws=5000, seed=1, sampling="mc")
    assert np.isfinite(ds[PARAMS[0]].values).all()


def test_nearest_correlation_known_answer():
    """Higham (2002), section 4: the nearest correlation matrix to [[2,-1,0,0],[-1,2,-1,0],[0,-1,2,-1],[0,0,-1,2]]."""
    a = np.array([[2, -1, 0, 0], [-1, 2, -1, 0], [0, -1, 2, -1], [0, 0, -1, 2]], dtype=float)
    expected = np.array([[1.0000, -0.8084, 0.1916, 0.1068], [-0.8084, 1.0000, -0.6562, 0.1916],
                         [0.1916, -0.6562, 1.0000, -0.8084], [0.1068, 0.1916, -0.8084, 1.0000]])
    np.testing.assert_allclose(nearest_correlation(a), expected, atol=2e-4)
    assert check_correlation(np.eye(3), ["a", "b", "c"]) == []


@pytest.mark.parametrize("size", [2, 3])
def test_a_block_of_any_size_runs_and_reports_what_it_achieved(size):
    """From the command line, a valid block of two parameters (scipy's spearmanr gives a number,
    not a matrix, for two columns) and of three: the run prints target and achieved."""
    from typer.testing import CliRunner

    from risk.cli import app

    names = ["asic_adoption.inference.ceiling", "pricing.elasticity", "compute.asic_cost_advantage"][:size]
    matrix = [[1.0 if i == j else 0.4 for j in range(size)] for i in range(size)]
    spec = "{parameters: [" + ", ".join(names) + "], spearman: " + str(matrix) + "}"
    result = CliRunner().invoke(app, ["run", str(BASE_FILE), "--draws", "4000", "--set", f"correlations={spec}"])
    assert result.exit_code == 0, result.output
    assert "target" in result.output and "achieved" in result.output and "+0.40" in result.output
