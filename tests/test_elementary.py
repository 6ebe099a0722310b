"""The compiled engine's exp and log (risk.model.elementary): accuracy, special values, and the
same bits in a SIMD lane as in scalar code."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from scipy.special import expit

from risk.model import elementary
from risk.model.elementary import exp_arith, log_arith


@numba.njit(error_model="numpy")
def _exp_loop(x, out):
    for i in range(x.shape[0]):
        out[i] = exp_arith(x[i])


@numba.njit(error_model="numpy")
def _log_loop(x, out):
    for i in range(x.shape[0]):
        out[i] = log_arith(x[i])


@numba.njit(error_model="numpy")
def _stage_calls(x, out):
    """The names the stage functions call, as the kernel compiles them."""
    for i in range(x.shape[0]):
        out[0, i] = elementary.exp(x[i])
        out[1, i] = elementary.log(abs(x[i]) + 1e-300)
        out[2, i] = expit(x[i])


def _ulps(got, x, fn):
    exact = fn(x.astype(np.longdouble))
    return np.abs((got - exact) / np.spacing(np.abs(exact).astype(float)))


def _apply(loop, x):
    out = np.empty_like(x)
    loop(x, out)
    return out


def test_exp_within_two_ulp():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-700, 700, 200_000), rng.uniform(-1, 1, 200_000), rng.uniform(-1e-8, 1e-8, 1000)])
    assert _ulps(_apply(_exp_loop, x), x, np.exp).max() <= 2.0


def test_log_within_one_ulp():
    rng = np.random.default_rng(1)
    x = np.concatenate([np.exp(rng.uniform(-700, 700, 200_000)), rng.uniform(0.5, 2.0, 200_000), [1e-310, 5e-324]])
    assert _ulps(_apply(_log_loop, x), x, np.log).max() <= 1.0


def test_special_values_as_numpy():
    x = np.array([0.0, -0.0, 1.0, -800.0, 800.0, 709.78, -745.0, -744.0, np.inf, -np.inf, np.nan])
    got = _apply(_exp_loop, x)
    with np.errstate(over="ignore"):
        want = np.exp(x)
    np.testing.assert_allclose(got, want, rtol=3e-16, atol=0)
    assert got[0] == 1.0
    y = np.array([1.0, 0.0, -1.0, np.inf, -np.inf, np.nan, 2.0, 0.5, 1e-310])
    got = _apply(_log_loop, y)
    with np.errstate(divide="ignore", invalid="ignore"):
        want = np.log(y)
    np.testing.assert_allclose(got, want, rtol=3e-16, atol=0)
    assert got[0] == 0.0


def test_same_bits_in_a_vector_lane_as_alone():
    """A loop's vectorized body and its scalar remainder give identical values, so a draw's
    numbers cannot depend on its position in a tile (hence on the chunking)."""
    rng = np.random.default_rng(2)
    x = rng.uniform(-50, 50, 67)
    alone = np.array([_apply(_exp_loop, x[i:i + 1])[0] for i in range(len(x))])
    np.testing.assert_array_equal(_apply(_exp_loop, x), alone)
    y = np.exp(x)
    alone = np.array([_apply(_log_loop, y[i:i + 1])[0] for i in range(len(y))])
    np.testing.assert_array_equal(_apply(_log_loop, y), alone)


def test_stage_functions_call_numpy_from_python_and_the_arithmetic_when_compiled():
    x = np.linspace(-30, 30, 101)
    assert elementary.exp(x) is not None and np.array_equal(elementary.exp(x), np.exp(x))
    assert np.array_equal(elementary.log(np.abs(x) + 1), np.log(np.abs(x) + 1))
    out = np.empty((3, len(x)))
    _stage_calls(x, out)
    np.testing.assert_allclose(out[0], np.exp(x), rtol=5e-16)
    np.testing.assert_allclose(out[1], np.log(np.abs(x) + 1e-300), rtol=5e-16)
    np.testing.assert_allclose(out[2], expit(x), rtol=1e-15)


@pytest.mark.parametrize("fn", [exp_arith, log_arith])
def test_no_library_call_left_in_the_loop(fn):
    """The point of the module: the compiled loop calls no C-library exp or log."""
    loop = _exp_loop if fn is exp_arith else _log_loop
    loop(np.ones(8), np.empty(8))
    llvm = loop.inspect_llvm(loop.signatures[0])
    assert "@llvm.exp" not in llvm and "@llvm.log" not in llvm and "@exp" not in llvm and "@log(" not in llvm
