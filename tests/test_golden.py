"""The golden regression data (tests/golden.py): any change in a random stream, an inverse CDF or
the model shows here, naming the array and the first draw that moved.

The raw random numbers (uniforms and shocks) must be bitwise the same: they are PCG64 and numpy's
own algorithms. Parameter values and outputs go through exp, log and scipy's special functions,
whose last bit may differ between processors (numpy picks SIMD code by CPU), so they are held to
1e-12 relative: far below any change of the model or of a stream.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from golden import FILE, METHODS, golden_arrays


@pytest.fixture(scope="module")
def pair():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        now = golden_arrays()
    with np.load(FILE) as f:
        then = {k: f[k] for k in f.files}
    return then, now


def test_same_arrays_and_names(pair):
    then, now = pair
    assert sorted(then) == sorted(now)
    assert list(then["uncertain"]) == list(now["uncertain"]), "the uncertain parameters of base.yaml changed"
    assert list(then["output_names"]) == list(now["output_names"]), "the outputs changed"


@pytest.mark.parametrize("name", [f"uniforms_{m}" for m in METHODS] + ["shocks"])
def test_random_streams_bitwise(pair, name):
    then, now = pair
    moved = np.argwhere(then[name] != now[name])
    assert not len(moved), f"{name}: {len(moved)} numbers changed, first at {tuple(moved[0])}; regenerate on purpose: make golden"


@pytest.mark.parametrize("name", [f"parameters_{m}" for m in METHODS] + ["outputs"])
def test_values_to_rounding(pair, name):
    then, now = pair
    np.testing.assert_allclose(now[name], then[name], rtol=1e-12, atol=0,
                               err_msg=f"{name} changed; regenerate on purpose: make golden")
