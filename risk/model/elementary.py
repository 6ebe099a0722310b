"""exp, log and the logistic for the stage functions: numpy's for arrays, and for the
compiled engine versions written in plain arithmetic that the compiler can vectorize.

The stage functions call :func:`exp`, :func:`log` and :func:`scipy.special.expit`. Called
from Python they are numpy's and scipy's. Compiled by numba (:mod:`risk.model.kernel`)
they are :func:`exp_arith` and :func:`log_arith`: range reduction by powers of two and a
polynomial, with the exponent set by integer arithmetic on the bits. A call to the C
library's ``exp`` or ``log`` keeps a loop over draws from being vectorized; these become
SIMD instructions like any multiply. Against long double, exp is within 1.2 units in the
last place and log within 1 (tested), and, being plain IEEE arithmetic without fused
multiply-add, they give bitwise the same result in a vector lane as in scalar code.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload
from scipy.special import expit

__all__ = ["exp", "log", "exp_arith", "log_arith"]

_LN2_HI = 6.93147180369123816490e-01  # ln 2 split so that k·_LN2_HI is exact for |k| < 2**11
_LN2_LO = 1.90821492927058770002e-10
_LOG2E = 1.44269504088896338700e00
_SQRT2 = 1.4142135623730951
_TINY = 2.2250738585072014e-308  # smallest normal float64
_EXP_MAX = 709.782712893384  # exp overflows above
_EXP_MIN = -745.1332191019412  # exp underflows to 0 below
# log's polynomial, from fdlibm (Sun Microsystems, e_log.c)
_LG1, _LG2, _LG3, _LG4, _LG5, _LG6, _LG7 = (
    6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01, 2.222219843214978396e-01,
    1.818357216161805012e-01, 1.531383769920937332e-01, 1.479819860511658591e-01)


def exp(x):
    """e**x, elementwise (numpy.exp). [1]"""
    return np.exp(x)


def log(x):
    """Natural logarithm, elementwise (numpy.log). [1]"""
    return np.log(x)


@intrinsic
def _bits(typingctx, x):
    """The bits of a float64 as an int64."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(types.float64), codegen


@intrinsic
def _float(typingctx, x):
    """The float64 with the bits of an int64."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


_jit = numba.njit(inline="always", error_model="numpy")


@_jit
def _pow2(k):
    """2**k for a whole number k in [-1022, 1023], as a float64."""
    return _float((np.int64(k) + 1023) << 52)


@_jit
def exp_arith(x):
    """e**x in arithmetic the compiler vectorizes (within 1.2 ulp; inf, 0 and NaN as numpy).

    x = k·ln 2 + r with |r| <= ln 2 / 2; e**r by its Taylor series to r**13 (truncation
    below 1e-17); 2**k applied as two powers of two so that results down to the smallest
    subnormal come out right.
    """
    xc = min(max(x, _EXP_MIN), _EXP_MAX)
    k = np.floor(xc * _LOG2E + 0.5)
    r = (xc - k * _LN2_HI) - k * _LN2_LO
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    half = np.floor(k * 0.5)
    y = p * _pow2(half) * _pow2(k - half)
    y = np.inf if x > _EXP_MAX else y
    y = 0.0 if x < _EXP_MIN else y
    return x if x != x else y


@_jit
def log_arith(x):
    """Natural logarithm in arithmetic the compiler vectorizes (within 1 ulp; 0, negative,
    inf and NaN as numpy).

    x = m·2**e with m in [√2/2, √2), f = m - 1 (exact); log m = f - f²/2 + s·(f²/2 + R(s²)),
    s = f/(2 + f), R the minimax polynomial of fdlibm's ``__ieee754_log`` (error below 2**-58).
    """
    sub = x < _TINY
    xs = x * 18014398509481984.0 if sub else x  # subnormals scaled by 2**54 first
    bits = _bits(xs)
    e = ((bits >> 52) & 0x7FF) - 1023 - (54 if sub else 0)
    m = _float((bits & 0xFFFFFFFFFFFFF) | 0x3FF0000000000000)
    big = m > _SQRT2
    m = m * 0.5 if big else m
    e = e + 1 if big else e
    f = m - 1.0
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    R = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7))) + w * (_LG2 + w * (_LG4 + w * _LG6))
    ef = 1.0 * e
    y = ef * _LN2_HI - ((hfsq - (s * (hfsq + R) + ef * _LN2_LO)) - f)
    y = np.nan if x < 0.0 else y
    y = -np.inf if x == 0.0 else y
    return x if (x != x or x == np.inf) else y


@overload(exp)
def _exp_compiled(x):
    if isinstance(x, types.Float):
        return lambda x: exp_arith(x)


@overload(log)
def _log_compiled(x):
    if isinstance(x, types.Float):
        return lambda x: log_arith(x)


@overload(expit)
def _expit_compiled(x):
    """scipy.special.expit for compiled code: the logistic 1 / (1 + e**-x)."""
    if isinstance(x, types.Float):
        return lambda x: 1.0 / (1.0 + exp_arith(-x))
