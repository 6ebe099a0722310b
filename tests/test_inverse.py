"""The compiled pass of inverse CDFs gives bitwise what each distribution's ppf gives."""

from __future__ import annotations

import numpy as np
import pytest

from risk.inverse import apply_inverse, inverse_plan
from test_distributions import CONTINUOUS, DISCRETE, make

SPECS = CONTINUOUS + DISCRETE


def uniforms(n: int, seed: int) -> np.ndarray:
    """Uniforms with both tails of every table hit, and the ends themselves."""
    u = np.random.default_rng(seed).random(n)
    u[:8] = [0.0, 1e-12, 1e-5, 0.001, 0.999, 1 - 1e-5, 1 - 1e-12, 0.5]
    return u


@pytest.mark.parametrize("threads", [False, True])
def test_every_kind_matches_its_ppf_bit_for_bit(threads):
    dists = {f"p{i}": make(**spec) for i, spec in enumerate(SPECS)}
    n = 40_000
    u = np.stack([uniforms(n, i) for i in range(len(dists))])
    out = u.copy()
    plan = inverse_plan(dists, list(dists))
    apply_inverse(plan, out, threads=threads)
    for i, (path, d) in enumerate(dists.items()):
        np.testing.assert_array_equal(out[i], d.ppf(u[i]), err_msg=f"{SPECS[i]}")
    compiled = {d.dist for i, d in enumerate(dists.values()) if i in set(plan.rows)}
    assert compiled == {"fixed", "uniform", "triangular", "choice", "bernoulli", "pert", "beta", "truncnormal"}
    assert {d.dist for _, d in plan.other} == {"normal", "lognormal"}


def test_rows_follow_the_order_given():
    dists = {"a": make(dist="uniform", min=0, max=10), "b": make(dist="fixed", value=3.0)}
    out = np.array([[0.5, 0.25], [0.1, 0.9]])
    apply_inverse(inverse_plan(dists, ["b", "a"]), out)
    np.testing.assert_array_equal(out, [[3.0, 3.0], [1.0, 9.0]])


def test_plans_are_kept_for_the_same_distributions_only():
    dists = {"a": make(dist="uniform", min=0, max=10)}
    assert inverse_plan(dists, ["a"]) is inverse_plan(dists, ["a"])
    other = {"a": make(dist="uniform", min=0, max=20)}
    out = np.array([[0.5]])
    apply_inverse(inverse_plan(other, ["a"]), out)
    assert out[0, 0] == 10.0
