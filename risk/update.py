"""Updating a run on new reported figures: reweight draws by the likelihood of the observations.

An observation ``nvda_gross_margin[2026] = 0.72 +- 0.01`` says the reported value of an
output in a year, with a standard error (measurement, definitions, fiscal-year mismatch).
Each draw's importance ratio is the Gaussian likelihood of the observations given its path,
w_i ∝ Π_k φ((y_k - x_ik) / σ_k) (importance sampling from the run, whose draws are equally
likely). The ratios are Pareto-smoothed (PSIS, ``arviz.psislw``): the largest are replaced by
the expected order statistics of a generalized Pareto fit to the tail, and the fit's shape
k̂ says whether the update can be trusted (Vehtari, Simpson, Gelman, Yao and Gabry, 2024,
"Pareto smoothed importance sampling", JMLR 25). The update is refused when k̂ > 0.7 (a
few draws would carry it) or when the effective sample size n_eff = (Σ w)² / Σ w² is below
1 % of the draws or ``min_ess``; below 10 % it warns. With ``resample=True`` the draws are
resampled (systematic resampling) to equal weights.

The updated run is the original with a ``weight`` variable (dims draw), which every metric,
comparison, rank correlation and reverse stress test uses, and a ``log_likelihood``
variable, the sum over every observation so far: a second update adds to it and smooths the
total once, so that updating twice equals updating once on both sets of observations.

Reported figures reach a run in two ways. A new quarter in the data re-anchors the next run
(the primary way, see docs/data.md); an update reweights an existing run, for what anchoring
cannot learn (its parameters), or to ask what a figure not yet in the data would change.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from . import metrics
from .errors import Problem, ScenarioError
from .sampling import generator

__all__ = ["Observation", "parse_observation", "update", "Update", "UpdateError", "pareto_smoothed_weights"]

_OBS = re.compile(r"\s*([A-Za-z_][\w.]*)\s*\[\s*(\d{4}(?:Q[1-4])?)\s*\]\s*=\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)\s*(%?)\s*(?:\+-|±|\+/-)\s*(\d+(?:\.\d+)?(?:e-?\d+)?)\s*(%?)\s*")


class UpdateError(ValueError):
    """An update that cannot be made: effective sample size too small, or bad observations."""


@dataclass(frozen=True)
class Observation:
    """A reported value of an output in a year (``2026``) or a quarter (``"2026Q3"``: a reported
    quarter, or guidance for the next one), with its standard error (units of the output)."""

    variable: str
    year: int | str
    value: float
    sd: float

    def describe(self) -> str:
        return f"{self.variable}[{self.year}] = {self.value:g} +- {self.sd:g}"


def parse_observation(text: str, ds: xr.Dataset | None = None) -> Observation:
    """Parse ``'nvda_gross_margin[2026] = 0.72 +- 0.01'`` (also ``±``; ``72% +- 1%``).

    A quarter instead of a year, ``'nvda_revenue[2026Q3] = 108 +- 2%'``, observes a run made by
    quarter (``risk run --quarterly``): NVIDIA's guidance for the next quarter is such an
    observation. For a money output a standard error in percent is relative to the value
    (2% of 108); for a share it is in points (``72% +- 1%`` is 0.72 +- 0.01).

    Raises
    ------
    ScenarioError
        For a malformed observation, an unknown output (with the closest) or a year outside the run.
    """
    m = _OBS.fullmatch(text)
    if not m:
        raise ScenarioError("--observe", [Problem("--observe", "expected VARIABLE[YEAR] = VALUE +- SD, for example "
                                                              "'nvda_gross_margin[2026] = 0.72 +- 0.01'", text, True)])
    var, period = m.group(1), m.group(2)
    year = int(period) if len(period) == 4 else period
    value = float(m.group(3)) / (100 if m.group(4) else 1)
    sd = float(m.group(5)) / (100 if m.group(6) else 1)
    money = ds is not None and var in ds and ds[var].attrs.get("units") == "USD bn"
    if m.group(6) and money:
        sd = abs(value) * sd  # a percent of a money value is relative
    if not sd > 0:
        raise ScenarioError("--observe", [Problem("--observe", "the standard error must be > 0", text, True)])
    if ds is not None and isinstance(year, str):
        _check_quarter(var, year, ds, text)
    elif ds is not None:
        from .stress import parse_event

        parse_event(f"{var}[{year}] < 0", ds)  # same checks and wording for the variable and year
    return Observation(var, year, value, sd)


def _check_quarter(var: str, quarter: str, ds: xr.Dataset, text: str) -> None:
    """A quarter's observation needs that output by quarter, a quarter the run simulates."""
    from .scenario import suggest

    if var not in ds:
        raise ScenarioError("--observe", [Problem("--observe", f"unknown output '{var}'{suggest(var, list(ds.data_vars))}",
                                                  text, True)])
    if "quarter" not in ds[var].dims:
        raise ScenarioError("--observe", [Problem(
            "--observe", f"{quarter} is a quarter, and this run is by year: make the run by quarter "
                         "(risk run SCENARIO --quarterly --out RUN.nc), or observe a whole year", text, True)])
    simulated = [str(q) for q, rep in zip(ds["quarter"].values, ds["reported"].values) if not rep]
    if quarter not in simulated:
        raise ScenarioError("--observe", [Problem(
            "--observe", f"{quarter} is not a simulated quarter of this run ({simulated[0]} to {simulated[-1]}); "
                         "a reported quarter is data: add it to scenarios/data/quarterly.csv and rerun", text, True)])


@dataclass
class Update:
    """The result of an update.

    Attributes
    ----------
    run : xarray.Dataset
        The run with ``weight`` (and, if resampled, its draws resampled).
    ess : float
        Effective sample size of the weights, before any resampling. [draws]
    shifts : pandas.DataFrame
        Per parameter: prior and posterior mean, median and sd, and the shift of the mean in
        prior standard deviations; sorted by the absolute shift.
    khat : float
        Pareto k̂ of the weights (PSIS): below 0.5 reliable, up to 0.7 usable. [1]
    """

    run: xr.Dataset
    ess: float
    shifts: pd.DataFrame
    khat: float = float("nan")


#: Largest Pareto k̂ an update is accepted with (PSIS; above it the estimates are unreliable).
MAX_KHAT = 0.7
#: Smallest effective sample an update is accepted with, as a fraction of the draws.
MIN_ESS_FRACTION = 0.01


def update(ds: xr.Dataset, observations: list[Observation | str], min_ess: float = 100.0, warn_ess: float | None = None,
           resample: bool = False, seed: int = 0, min_ess_fraction: float = MIN_ESS_FRACTION,
           max_khat: float = MAX_KHAT) -> Update:
    """Reweight the draws of ``ds`` by the likelihood of ``observations``, Pareto-smoothed.

    Parameters
    ----------
    ds : xarray.Dataset
        A run, possibly already updated (its observations so far count too).
    observations : list of Observation or str
    min_ess : float
        Refuse below this effective sample size, and below ``min_ess_fraction`` of the draws. [draws]
    warn_ess : float, optional
        Warn below this (default: 10% of the draws). [draws]
    resample : bool
        Resample the draws to equal weights (systematic resampling, seeded by ``seed``).
    min_ess_fraction, max_khat : float
        The other two refusals: the effective sample as a fraction of the draws (default 1 %),
        and the largest Pareto k̂ (default 0.7).

    Raises
    ------
    UpdateError
        If the Pareto k̂ of the weights exceeds 0.7 or the effective sample size is too small;
        the message says why and what to do.
    """
    obs = [parse_observation(o, ds) if isinstance(o, str) else o for o in observations]
    if not obs:
        raise UpdateError("no observations given")
    n = ds.sizes["draw"]
    if "log_likelihood" in ds:
        loglik = ds["log_likelihood"].values.astype(float).copy()
    elif "weight" in ds:  # weights from elsewhere: they are the prior
        loglik = np.log(np.maximum(ds["weight"].values.astype(float), 1e-300))
    else:
        loglik = np.zeros(n)
    for o in obs:
        at = {"quarter": o.year} if isinstance(o.year, str) else {"year": o.year}
        x = ds[o.variable].sel(at).values.astype(float)
        loglik += -0.5 * ((x - o.value) / o.sd) ** 2
    w, khat = pareto_smoothed_weights(loglik)
    ess = metrics.effective_sample_size(w)
    said = "; ".join(o.describe() for o in obs)
    todo = ("Run more draws, give a larger standard error if the figure is uncertain, or, for a reported quarter, add it "
            "to scenarios/data/quarterly.csv and rerun, so that the model is anchored on it instead of reweighted.")
    floor = max(min_ess, min_ess_fraction * n)
    if ess < floor:
        raise UpdateError(
            f"effective sample size {ess:.0f} of {n:,} draws is below the minimum {floor:,.0f} (the larger of {min_ess:g} "
            f"and {min_ess_fraction:.0%} of the draws): the observations ({said}) are too unlikely under this run's assumptions. " + todo)
    if khat > max_khat:
        raise UpdateError(
            f"the update would rest on a few draws: the Pareto-smoothed weights have k̂ = {khat:.2f} > {max_khat:g} (PSIS "
            f"diagnostic), so its estimates are unreliable. The observations ({said}) lie in the far tail of this run. " + todo)
    warn_ess = 0.1 * n if warn_ess is None else warn_ess
    if ess < warn_ess:
        warnings.warn(f"effective sample size {ess:.0f} of {n:,} draws: statistics of the updated run are noisy", stacklevel=2)
    prior = ds["weight"].values.astype(float) if "weight" in ds else np.ones(n)
    shifts = _shifts(ds, prior / prior.sum(), w)
    out = ds.copy()
    out["log_likelihood"] = ("draw", loglik, {"units": "1", "long_name": "log-likelihood of every observation so far"})
    if resample:
        u = (generator(seed, 30).random() + np.arange(n)) / n
        idx = np.minimum(np.searchsorted(np.cumsum(w), u), n - 1)
        out = out.isel(draw=idx).assign_coords(draw=np.arange(n))
        out["source_draw"] = ("draw", idx, {"long_name": "draw of the prior run this draw was resampled from"})
        out["log_likelihood"] = ("draw", np.zeros(n), out["log_likelihood"].attrs)  # resampled draws are the new prior
        w = np.full(n, 1.0 / n)
    out["weight"] = ("draw", w, {"units": "1", "long_name": "draw weight after updating on observations (PSIS)"})
    history = json.loads(ds.attrs.get("observations", "[]"))
    out.attrs.update({
        "observations": json.dumps(history + [o.describe() for o in obs]),
        "effective_sample_size": float(ess),
        "pareto_k": float(khat),
        "resampled": int(resample),
    })
    return Update(out, float(ess), shifts, float(khat))


def pareto_smoothed_weights(log_ratios: np.ndarray) -> tuple[np.ndarray, float]:
    """Normalized Pareto-smoothed importance weights and the tail's shape k̂.

    Parameters
    ----------
    log_ratios : numpy.ndarray
        Log importance ratios per draw (any constant offset). [1]

    Returns
    -------
    weights : numpy.ndarray
        Sum to 1. [1]
    khat : float
        Shape of the generalized Pareto fit to the largest ratios; -inf when every ratio is
        equal (nothing to smooth). [1]
    """
    lr = np.asarray(log_ratios, dtype=float)
    if np.ptp(lr) == 0:
        return np.full(lr.size, 1.0 / lr.size), float("-inf")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # arviz's notices of its refactor and of small samples
        import arviz

        smoothed, khat = arviz.psislw(lr - lr.max())
    w = np.exp(smoothed - smoothed.max())
    return w / w.sum(), float(khat)


def _shifts(ds: xr.Dataset, prior: np.ndarray, post: np.ndarray) -> pd.DataFrame:
    rows = []
    for v in ds.data_vars:
        if ds[v].attrs.get("kind") != "parameter" or np.ptp(ds[v].values) == 0:
            continue
        x = ds[v].values.astype(float)
        order = np.argsort(x)
        xs = x[order]
        medians = []
        for w in (prior, post):  # one sort serves both weighted medians
            ws = w[order]
            medians.append(float(np.interp(0.5, np.cumsum(ws) - ws / 2, xs)))
        m0, m1 = float(np.sum(prior * x)), float(np.sum(post * x))
        s0, s1 = float(np.sqrt(np.sum(prior * (x - m0) ** 2))), float(np.sqrt(np.sum(post * (x - m1) ** 2)))
        rows.append((str(v), m0, m1, medians[0], medians[1], s0, s1, (m1 - m0) / s0 if s0 > 0 else 0.0))
    df = pd.DataFrame(rows, columns=["parameter", "prior mean", "posterior mean", "prior median", "posterior median",
                                     "prior sd", "posterior sd", "shift (prior sd)"]).set_index("parameter")
    return df.sort_values("shift (prior sd)", key=np.abs, ascending=False)
