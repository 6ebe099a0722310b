"""Each distribution reproduces itself through its inverse CDF; ci90 fits hit their quantiles."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import TypeAdapter
from scipy import stats

from risk.distributions import DistributionSpec, TabulatedPPF

ADAPTER = TypeAdapter(DistributionSpec)
META = {"source": "test", "note": "test"}


def make(**spec):
    return ADAPTER.validate_python({**spec, **META})


CONTINUOUS = [
    dict(dist="normal", mean=0.1, sd=0.05),
    dict(dist="normal", ci90=[0.1, 0.3]),
    dict(dist="lognormal", mu=3.0, sigma=0.4),
    dict(dist="lognormal", ci90=[10, 30]),
    dict(dist="uniform", min=2026, max=2030),
    dict(dist="uniform", ci90=[0.05, 0.2]),
    dict(dist="triangular", min=0.0, mode=0.3, max=1.0),
    dict(dist="triangular", mode=12, ci90=[5, 30]),
    dict(dist="pert", min=0.2, mode=0.5, max=0.9),
    dict(dist="pert", mode=0.5, ci90=[0.35, 0.65]),
    dict(dist="pert", mode=0.76, ci90=[0.60, 0.82]),
    dict(dist="pert", min=0, mode=0.1, max=1, shape=8),
    dict(dist="beta", a=2, b=5),
    dict(dist="beta", a=0.5, b=0.5),
    dict(dist="beta", ci90=[0.2, 0.4]),
    dict(dist="beta", a=3, b=2, min=10, max=20),
    dict(dist="truncnormal", mean=0.2, sd=0.1, lower=0, upper=1),
    dict(dist="truncnormal", lower=0, ci90=[0.05, 0.3]),
]


@pytest.mark.parametrize("spec", CONTINUOUS, ids=lambda s: f"{s['dist']}-{'ci90' if 'ci90' in s else 'natural'}")
def test_continuous_reproduce_themselves(spec):
    d = make(**spec)
    u = np.random.default_rng(0).random(50_000)
    x = d.ppf(u)
    frozen = d.frozen()
    assert stats.kstest(x, frozen.cdf).pvalue > 0.01
    # the inverse CDF is the frozen one's, to table accuracy
    grid = np.linspace(0.0005, 0.9995, 2001)
    spread = frozen.ppf(0.99) - frozen.ppf(0.01)
    np.testing.assert_allclose(d.ppf(grid), frozen.ppf(grid), atol=1e-6 * spread, rtol=0)
    lo, hi = d.support()
    assert (x >= lo).all() and (x <= hi).all()
    if "ci90" in spec:
        np.testing.assert_allclose(frozen.ppf([0.05, 0.95]), spec["ci90"], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    "spec, values, probs",
    [
        (dict(dist="choice", values=[5, 6]), [5, 6], [0.5, 0.5]),
        (dict(dist="choice", values=[3, 1, 2], weights=[1, 2, 1]), [1, 2, 3], [0.5, 0.25, 0.25]),
        (dict(dist="bernoulli", p=0.3), [0, 1], [0.7, 0.3]),
        (dict(dist="fixed", value=0.85), [0.85], [1.0]),
    ],
)
def test_discrete_reproduce_themselves(spec, values, probs):
    x = make(**spec).ppf(np.random.default_rng(1).random(200_000))
    freq = [(x == v).mean() for v in values]
    np.testing.assert_allclose(freq, probs, atol=0.005)
    assert np.isin(x, values).all()


def test_pert_mean_is_the_textbook_formula():
    d = make(dist="pert", min=0.2, mode=0.5, max=0.9)
    assert d.frozen().mean() == pytest.approx((0.2 + 4 * 0.5 + 0.9) / 6)


def test_ci90_for_uniform_widens_symmetrically():
    d = make(dist="uniform", ci90=[0, 0.9])
    assert (d.min, d.max) == pytest.approx((-0.05, 0.95))


@pytest.mark.parametrize("frozen", [stats.beta(16.35, 38.9), stats.beta(2, 5), stats.beta(0.5, 0.5), stats.beta(1.2, 3),
                                    stats.truncnorm(-2.1, np.inf, 0.17, 0.079)])
def test_tabulated_ppf_accuracy(frozen):
    table = TabulatedPPF(frozen.ppf, frozen.pdf)
    u = np.random.default_rng(2).random(100_000)
    spread = frozen.ppf(0.99) - frozen.ppf(0.01)
    assert np.abs(table(u) - frozen.ppf(u)).max() <= 1e-6 * spread
    assert table.max_error <= 1e-6


@pytest.mark.parametrize("frozen", [stats.beta(4.111, 1.889), stats.beta(0.5, 0.5), stats.truncnorm(-2.1, np.inf, 0.17, 0.079)])
def test_tabulated_ppf_tail_levels(frozen):
    """Each end is a finer table, two levels deep (cells of 2**-17 and 2**-24 of u); only
    beyond them, u < 2**-21 or 1 - u <= 2**-21, is the exact inverse CDF called."""
    table = TabulatedPPF(frozen.ppf, frozen.pdf)
    assert (table.cells, table.tail, table.levels) == (1024, 8, 2)
    assert table.coef.shape == (4, 1024 - 16 + 2 * 2 * (1024 - 8))
    spread = frozen.ppf(0.99) - frozen.ppf(0.01)
    rng = np.random.default_rng(5)
    for lo, hi in [(2.0**-14, 2.0**-7), (2.0**-21, 2.0**-14)]:  # level 1, level 2
        for u in (rng.uniform(lo, hi, 20_000), 1 - rng.uniform(lo, hi, 20_000)):
            assert np.abs(table(u) - frozen.ppf(u)).max() <= 1e-6 * spread
    calls = []

    def counted(q):
        calls.append(len(q))
        return frozen.ppf(q)

    table.ppf = counted
    far = np.array([0.0, 2.0**-22, 1e-9, 1 - 2.0**-22, 1 - 1e-12])
    np.testing.assert_array_equal(table(far), frozen.ppf(far))  # beyond the levels: exact
    table(np.concatenate([rng.uniform(2.0**-21, 1 - 2.0**-21, 100_000), [2.0**-21, 1 - 2.0**-7, 1 - 2.0**-14]]))
    assert calls == [len(far)]  # no exact call for the rest


def test_tabulated_ppf_drops_a_tail_level_that_fails_its_check():
    # a jump at u = 1e-3, inside the first lower level: that level fails, the exact function serves below 2**-7
    table = TabulatedPPF(lambda u: np.where(u < 1e-3, u, u + 0.5), lambda x: np.ones_like(x))
    assert table.levels == 0 and table.coef.shape == (4, 1024 - 16)
    u = np.array([5e-4, 2e-3, 0.5, 1 - 1e-3])
    np.testing.assert_array_equal(table(u), np.where(u < 1e-3, u, u + 0.5))


def test_tabulated_ppf_needs_powers_of_two():
    with pytest.raises(ValueError, match="powers of 2"):
        TabulatedPPF(stats.norm.ppf, stats.norm.pdf, cells=1000)


def test_tabulated_ppf_refuses_a_bad_table():
    with pytest.raises(ValueError, match="table error"):
        TabulatedPPF(lambda u: np.where(u < 0.5, u, u + 1), lambda x: np.ones_like(x))


DISCRETE = [dict(dist="choice", values=[3, 1, 2], weights=[1, 2, 1]), dict(dist="bernoulli", p=0.3), dict(dist="fixed", value=0.85)]


@pytest.mark.parametrize("spec", CONTINUOUS + DISCRETE, ids=lambda s: s["dist"])
def test_ppf_into_is_ppf_bitwise_also_in_place(spec):
    """The run writes inverse CDFs into its parameter matrix, over the uniforms themselves:
    the same bits as ``ppf``, tails of a table included."""
    d = make(**spec)
    u = np.concatenate([np.random.default_rng(3).random(5000), [0.0, 1e-9, 1e-4, 0.5, 1 - 1e-4, 1 - 1e-12]])
    want = d.ppf(u)
    into = np.full_like(u, np.nan)
    d.ppf_into(u, into)
    np.testing.assert_array_equal(into, want)
    same = u.copy()
    d.ppf_into(same, same)
    np.testing.assert_array_equal(same, want)


@pytest.mark.parametrize("frozen", [stats.beta(4.111, 1.889), stats.beta(0.5, 0.5), stats.beta(16.35, 38.9),
                                    stats.truncnorm(-2.1, np.inf, 0.17, 0.079)])
def test_tabulated_ppf_compiled_for_whole_blocks_gives_numpys_numbers(frozen):
    """A whole block of draws is evaluated by the compiled loop (risk.compiled.hermite_into),
    fewer by numpy: the same bits, body, both tail levels, the exact far tails, the ends and
    NaN included, in place or not; so a run's numbers do not depend on its chunking."""
    from risk.streams import BLOCK

    table = TabulatedPPF(frozen.ppf, frozen.pdf)
    rng = np.random.default_rng(11)
    u = rng.random(2 * BLOCK)
    u[:12] = [0.0, 2.0**-22, 1e-9, 2.0**-21, 3e-5, 2.0**-7, 1 - 2.0**-7, 1 - 3e-5, 1 - 2.0**-21, 1 - 1e-12, 0.5, np.nan]
    u[12:2000] = rng.uniform(2.0**-22, 2.0**-6, 1988)
    u[2000:4000] = 1 - rng.uniform(2.0**-22, 2.0**-6, 2000)
    whole = np.empty_like(u)
    table.into(u, whole)  # compiled
    pieces = np.empty_like(u)
    for lo in range(0, u.size, 1000):  # numpy
        table.into(u[lo:lo + 1000], pieces[lo:lo + 1000])
    np.testing.assert_array_equal(whole, pieces)
    same = u.copy()
    table.into(same, same)
    np.testing.assert_array_equal(same, whole)
