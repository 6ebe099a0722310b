"""Updating a run on new reported figures: reweight draws by the likelihood of the observations.

An observation ``nvda_gross_margin[2026] = 0.72 +- 0.01`` says the reported value of an
output in a year, with a standard error (measurement, definitions, fiscal-year mismatch).
Each draw gets weight w_i ∝ w_i(prior) · Π_k φ((y_k - x_ik) / σ_k), the Gaussian likelihood
of the observations given that draw's path (importance sampling from the prior run). The
effective sample size n_eff = (Σ w)² / Σ w² says how many equally weighted draws the update
is worth: below ``min_ess`` the update is refused (the observations are too unlikely under
the run's assumptions); below ``warn_ess`` it warns; with ``resample=True`` the draws are
resampled (systematic resampling) to equal weights.

The updated run is the original with a ``weight`` variable (dims draw); every metric,
comparison, rank correlation and reverse stress test uses it.
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

__all__ = ["Observation", "parse_observation", "update", "Update", "UpdateError"]

_OBS = re.compile(r"\s*([A-Za-z_][\w.]*)\s*\[\s*(\d{4})\s*\]\s*=\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)\s*(%?)\s*(?:\+-|±|\+/-)\s*(\d+(?:\.\d+)?(?:e-?\d+)?)\s*(%?)\s*")


class UpdateError(ValueError):
    """An update that cannot be made: effective sample size too small, or bad observations."""


@dataclass(frozen=True)
class Observation:
    """A reported value of an output in a year, with its standard error (units of the output)."""

    variable: str
    year: int
    value: float
    sd: float

    def describe(self) -> str:
        return f"{self.variable}[{self.year}] = {self.value:g} +- {self.sd:g}"


def parse_observation(text: str, ds: xr.Dataset | None = None) -> Observation:
    """Parse ``'nvda_gross_margin[2026] = 0.72 +- 0.01'`` (also ``±``; ``72% +- 1%``).

    Raises
    ------
    ScenarioError
        For a malformed observation, an unknown output (with the closest) or a year outside the run.
    """
    m = _OBS.fullmatch(text)
    if not m:
        raise ScenarioError("--observe", [Problem("--observe", "expected VARIABLE[YEAR] = VALUE +- SD, for example "
                                                              "'nvda_gross_margin[2026] = 0.72 +- 0.01'", text, True)])
    var, year = m.group(1), int(m.group(2))
    value = float(m.group(3)) / (100 if m.group(4) else 1)
    sd = float(m.group(5)) / (100 if m.group(6) else 1)
    if not sd > 0:
        raise ScenarioError("--observe", [Problem("--observe", "the standard error must be > 0", text, True)])
    if ds is not None:
        from .stress import parse_event

        parse_event(f"{var}[{year}] < 0", ds)  # same checks and wording for the variable and year
    return Observation(var, year, value, sd)


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
    """

    run: xr.Dataset
    ess: float
    shifts: pd.DataFrame


def update(ds: xr.Dataset, observations: list[Observation | str], min_ess: float = 100.0, warn_ess: float | None = None,
           resample: bool = False, seed: int = 0) -> Update:
    """Reweight the draws of ``ds`` by the likelihood of ``observations``.

    Parameters
    ----------
    ds : xarray.Dataset
        A run (possibly already updated: its weights are the prior).
    observations : list of Observation or str
    min_ess : float
        Refuse below this effective sample size. [draws]
    warn_ess : float, optional
        Warn below this (default: 10% of the draws).
    resample : bool
        Resample the draws to equal weights (systematic resampling, seeded by ``seed``).

    Raises
    ------
    UpdateError
        If the effective sample size is below ``min_ess``.
    """
    obs = [parse_observation(o, ds) if isinstance(o, str) else o for o in observations]
    if not obs:
        raise UpdateError("no observations given")
    n = ds.sizes["draw"]
    prior = ds["weight"].values.astype(float) if "weight" in ds else np.ones(n)
    prior = prior / prior.sum()
    loglik = np.zeros(n)
    for o in obs:
        x = ds[o.variable].sel(year=o.year).values.astype(float)
        loglik += -0.5 * ((x - o.value) / o.sd) ** 2
    logw = np.log(np.maximum(prior, 1e-300)) + loglik
    w = np.exp(logw - logw.max())
    w /= w.sum()
    ess = metrics.effective_sample_size(w)
    warn_ess = 0.1 * n if warn_ess is None else warn_ess
    if ess < min_ess:
        raise UpdateError(
            f"effective sample size {ess:.0f} of {n:,} draws is below the minimum {min_ess:g}: the observations "
            f"({'; '.join(o.describe() for o in obs)}) are too unlikely under this run's assumptions. Run more draws, "
            "give a larger standard error, or revise the scenario."
        )
    if ess < warn_ess:
        warnings.warn(f"effective sample size {ess:.0f} of {n:,} draws: statistics of the updated run are noisy", stacklevel=2)
    shifts = _shifts(ds, prior, w)
    out = ds.copy()
    if resample:
        u = (generator(seed, 30).random() + np.arange(n)) / n
        idx = np.minimum(np.searchsorted(np.cumsum(w), u), n - 1)
        out = out.isel(draw=idx).assign_coords(draw=np.arange(n))
        out["source_draw"] = ("draw", idx, {"long_name": "draw of the prior run this draw was resampled from"})
        w = np.full(n, 1.0 / n)
    out["weight"] = ("draw", w, {"units": "1", "long_name": "draw weight after updating on observations"})
    history = json.loads(ds.attrs.get("observations", "[]"))
    out.attrs.update({
        "observations": json.dumps(history + [o.describe() for o in obs]),
        "effective_sample_size": float(ess),
        "resampled": int(resample),
    })
    return Update(out, float(ess), shifts)


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
