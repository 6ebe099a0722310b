"""Summarised runs (risk.summarise): exact counts and means, quantiles and expected shortfall
within their stated bounds of the full run's, the same figures whatever the chunking, threads
or dask scheduler, scenario sets pooled by weight, and the command line."""

from __future__ import annotations

import math

import numpy as np
import pytest
from typer.testing import CliRunner

import risk
from risk import metrics
from risk.cli import app
from risk.glossary import OUTPUTS
from risk.mixture import Member, ScenarioSet
from risk.sampling import BLOCK
from risk.summarise import load_summary, parse_threshold, save_summary, summarise

from conftest import ANNUAL_FILE, variant

DRAWS = 40_000  # two whole blocks of random numbers and a part of a third
SEED = 5
PROBS = (0.001, 0.05, 0.5, 0.95, 0.999)


def _same(a, b) -> bool:
    """Arrays equal bit for bit, NaN where NaN."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


@pytest.fixture(scope="module")
def full(base_scenario):
    return risk.simulate(base_scenario, draws=DRAWS, seed=SEED, sampling="mc")


@pytest.fixture(scope="module")
def summ(base_scenario):
    return summarise(base_scenario, draws=DRAWS, seed=SEED, sampling="mc", probs=PROBS,
                     thresholds=[("nvda_gross_margin", 0.65), ("nvda_gross_margin", 0.5), ("utilization", 1.0)])


def _cell(summ, var, year, stat, what="value", scenario=None):
    scenario = scenario or str(summ["scenario"].values[-1])
    return float(summ[what].sel(variable=var, year=year, statistic=stat, scenario=scenario))


def test_counts_means_and_probabilities_are_those_of_the_full_run(summ, full):
    assert int(summ["draws"].values[0]) == DRAWS and summ.attrs["draws"] == DRAWS
    for var in OUTPUTS:
        for year in full["year"].values:
            x = full[var].sel(year=year).values.astype(float)
            mean = _cell(summ, var, year, "mean")
            exact = math.fsum(x) / x.size  # the exactly rounded mean of the stored draws (to one rounding)
            assert abs(mean - exact) <= 4 * np.spacing(abs(exact)) + 1e-300, (var, year)
            assert _cell(summ, var, year, "min") == x.min() and _cell(summ, var, year, "max") == x.max()
            sd = metrics.std(x)
            assert _cell(summ, var, year, "sd") == pytest.approx(sd.value, rel=1e-9, abs=1e-12)
            assert _cell(summ, var, year, "sd", "se") == pytest.approx(sd.se, rel=1e-6, abs=1e-12)
            assert _cell(summ, var, year, "mean", "se") == pytest.approx(metrics.mean(x).se, rel=1e-9, abs=1e-15)
    for var, t in (("nvda_gross_margin", 0.65), ("nvda_gross_margin", 0.5), ("utilization", 1.0)):
        for year in full["year"].values:
            p = metrics.prob_below(full[var].sel(year=year).values, t)
            assert _cell(summ, var, year, f"P(< {t:g})") == p.value  # identical: an exact count over the same n
            assert _cell(summ, var, year, f"P(< {t:g})", "se") == p.se
            assert _cell(summ, var, year, f"P(< {t:g})", "bound") == 0


def test_every_quantile_and_shortfall_is_within_its_bound(summ, full):
    bounds = []
    for var in OUTPUTS:
        for year in full["year"].values:
            x = full[var].sel(year=year).values.astype(float)
            scale = max(1.0, float(np.abs(x).max()))
            for p in PROBS:
                exact = metrics.quantile(x, p)
                got, bound = _cell(summ, var, year, f"P{100 * p:g}"), _cell(summ, var, year, f"P{100 * p:g}", "bound")
                assert abs(got - exact.value) <= bound + 1e-12 * scale, (var, year, p, got, exact.value, bound)
                assert _cell(summ, var, year, f"P{100 * p:g}", "se") == pytest.approx(exact.se, rel=0.05, abs=1e-3 * scale)
                if var == "nvda_gross_margin":
                    bounds.append(bound)
            for level in (0.95, 0.99):
                es = metrics.expected_shortfall(x, level)
                got, bound = _cell(summ, var, year, f"ES {100 * level:g}%"), _cell(summ, var, year, f"ES {100 * level:g}%", "bound")
                assert abs(got - es.value) <= bound + 1e-12 * scale, (var, year, level, got, es.value, bound)
                assert _cell(summ, var, year, f"ES {100 * level:g}%", "se") == pytest.approx(es.se, rel=0.05, abs=1e-3 * scale)
                var_q = metrics.value_at_risk(x, level).value
                assert abs(_cell(summ, var, year, f"VaR {100 * level:g}%") - var_q) <= _cell(
                    summ, var, year, f"VaR {100 * level:g}%", "bound") + 1e-12 * scale
    # the bounds are small: a gross margin's quantiles within 0.05 percentage points at 40,000 draws
    assert max(bounds) < 5e-4


def test_a_point_mass_is_returned_exactly(summ, full):
    # utilization is capped at 1: its P95 is the cap in every projected year, and the base year is one value
    for year in full["year"].values[1:]:
        assert metrics.quantile(full["utilization"].sel(year=year).values, 0.95).value == 1.0
        assert _cell(summ, "utilization", year, "P95") == 1.0
        assert _cell(summ, "utilization", year, "P95", "bound") == 0.0
        assert _cell(summ, "utilization", year, "max") == 1.0
    base_year = int(full["year"].values[0])
    for stat in ("P0.1", "P50", "P99.9", "ES 95%"):
        assert _cell(summ, "utilization", base_year, stat) == float(full["utilization"].values[0, 0])
        assert _cell(summ, "utilization", base_year, stat, "bound") == 0.0
    assert _cell(summ, "utilization", base_year, "sd") == 0.0


def test_the_same_figures_whatever_the_chunking_and_threads(base_scenario, summ):
    other = summarise(base_scenario, draws=DRAWS, seed=SEED, sampling="mc", probs=PROBS, chunk_size=2 * BLOCK, threads=1,
                      thresholds=[("nvda_gross_margin", 0.65), ("nvda_gross_margin", 0.5), ("utilization", 1.0)])
    for what in ("value", "se", "bound"):
        assert _same(other[what].values, summ[what].values), what


def test_dask_gives_the_same_figures(base_scenario, summ):
    import dask

    with dask.config.set(scheduler="threads"):
        lazy = summarise(base_scenario, draws=DRAWS, seed=SEED, sampling="mc", probs=PROBS, chunk_size=BLOCK, lazy=True,
                         thresholds=[("nvda_gross_margin", 0.65), ("nvda_gross_margin", 0.5), ("utilization", 1.0)])
    es = [s for s in summ["statistic"].values if str(s).startswith("ES")]
    rest = [s for s in summ["statistic"].values if s not in es]
    for what in ("value", "se", "bound"):
        assert _same(lazy[what].sel(statistic=rest).values, summ[what].sel(statistic=rest).values), what
    # expected shortfall: bin sums added chunk by chunk on dask, draw by draw locally
    np.testing.assert_allclose(lazy["value"].sel(statistic=es).values, summ["value"].sel(statistic=es).values, rtol=1e-12, atol=1e-12)


@pytest.mark.slow
def test_a_local_cluster_of_two_processes_gives_bitwise_identical_counts_and_means(base_scenario, summ):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster):
        lazy = summarise(base_scenario, draws=DRAWS, seed=SEED, sampling="mc", probs=PROBS, chunk_size=BLOCK, lazy=True,
                         thresholds=[("nvda_gross_margin", 0.65), ("nvda_gross_margin", 0.5), ("utilization", 1.0)])
    stats = ["mean", "sd", "min", "max", "P5", "P50", "P95", "P(< 0.65)", "P(< 0.5)"]
    assert _same(lazy["value"].sel(statistic=stats).values, summ["value"].sel(statistic=stats).values)
    assert _same(lazy["draws"].values, summ["draws"].values)


@pytest.fixture(scope="module")
def mixture(base_scenario, base_doc):
    cheap = variant(base_doc, name="cheap", **{"pricing__elasticity": {"dist": "fixed", "value": 2.5, "source": "test", "note": "test"}})
    return ScenarioSet("mix", "two scenarios", [Member("base", base_scenario, 0.7), Member("cheap", cheap, 0.3)], 30_000, SEED, "mc")


def test_a_scenario_sets_members_and_pool_are_those_of_the_full_set_run(mixture):
    import dask

    full = risk.simulate(mixture)
    summ = summarise(mixture, probs=(0.05, 0.5, 0.95))
    assert list(summ["scenario"].values) == ["base", "cheap", "pooled"]
    assert list(summ["draws"].values) == [21_000, 9_000, 30_000]
    for name in ("base", "cheap", "pooled"):
        part = full if name == "pooled" else full.isel(draw=(full["scenario"] == name).values)
        for var in ("nvda_gross_margin", "aws_operating_margin"):
            for year in (2026, 2030):
                x = part[var].sel(year=year).values.astype(float)
                assert abs(_cell(summ, var, year, "mean", scenario=name) - math.fsum(x) / x.size) <= 4 * np.spacing(1.0)
                assert _cell(summ, var, year, "P(< 0.65)" if var.startswith("nvda") else "P(< 0.3)", scenario=name) == \
                    metrics.prob_below(x, 0.65 if var.startswith("nvda") else 0.3).value
                for p in (0.05, 0.5, 0.95):
                    got = _cell(summ, var, year, f"P{100 * p:g}", scenario=name)
                    assert abs(got - metrics.quantile(x, p).value) <= _cell(summ, var, year, f"P{100 * p:g}", "bound", name) + 1e-12
    with dask.config.set(scheduler="threads"):
        lazy = summarise(mixture, probs=(0.05, 0.5, 0.95), lazy=True, chunk_size=BLOCK)
    assert _same(lazy["value"].sel(statistic=["mean", "P5", "P50", "P95", "P(< 0.65)"]).values,
                 summ["value"].sel(statistic=["mean", "P5", "P50", "P95", "P(< 0.65)"]).values)


def test_saved_and_read_back(summ, tmp_path):
    path = save_summary(summ, tmp_path / "run.summary.nc")
    back = load_summary(path)
    for what in ("value", "se", "bound"):
        assert _same(back[what].values, summ[what].values)
    assert back.attrs["kind"] == "risk summary" and back.attrs["seed"] == SEED and back.attrs["draws"] == DRAWS
    assert "exact" in back.attrs and "bounded" in back.attrs
    assert path.stat().st_size < 1_000_000


def test_bad_summary_options():
    with pytest.raises(risk.ScenarioError, match=r"chunk_size: a summary is reduced in whole blocks of 16,384 draws"):
        summarise(ANNUAL_FILE, draws=1000, chunk_size=7000)
    with pytest.raises(risk.ScenarioError, match=r"levels: each must be a confidence level in \(0, 1\)"):
        summarise(ANNUAL_FILE, draws=1000, levels=(95,))
    assert parse_threshold("nvda_gross_margin<50%") == ("nvda_gross_margin", 0.5)
    assert parse_threshold("aws_operating_margin=0.3") == ("aws_operating_margin", 0.3)
    for text, words in (("nvda_gros_margin<0.5", "no output named 'nvda_gros_margin'"), ("nvda_gross_margin<abc", "VALUE must be"),
                        ("0.5", "expected VARIABLE<VALUE")):
        with pytest.raises(Exception, match=words):
            parse_threshold(text)


def test_the_command_line(tmp_path):
    out = tmp_path / "base.summary.nc"
    runner = CliRunner()
    r = runner.invoke(app, ["run", str(ANNUAL_FILE), "--summary", "-n", "20000", "--seed", "5", "--sampling", "mc",
                            "--threshold", "nvda_gross_margin<45%", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "± bound" in r.output and "quantiles, VaR and expected shortfall are within the ± bound" in r.output
    assert f"wrote {out}" in r.output
    ds = load_summary(out)
    assert "P(< 0.45)" in ds["statistic"].values
    r = runner.invoke(app, ["analyze", str(out), "--year", "2030"])
    assert r.exit_code == 0, r.output
    assert "20,000 draws summarised" in r.output and "exact" in r.output and "bounded: quantiles, VaR and ES" in r.output
    r = runner.invoke(app, ["analyze", str(out), "--year", "2030", "--format", "csv"])
    assert r.exit_code == 0 and r.output.splitlines()[0] == "variable,year,statistic,units,value,se,bound"
    assert "nvda_gross_margin,2030,P(< 0.65),fraction," in r.output
    r = runner.invoke(app, ["analyze", str(out), "--level", "0.9"])
    assert r.exit_code == 2 and "--level: the summary holds VaR 90%, ES 90% only at the levels 95%, 99%" in r.output
    r = runner.invoke(app, ["analyze", str(out), "--threshold", "nvda_gross_margin=0.42"])
    assert r.exit_code == 2 and "--threshold: the summary counts nvda_gross_margin below 0.45, 0.5, 0.6, 0.65, not 0.42" in r.output
    r = runner.invoke(app, ["compare", str(out), str(out)])
    assert r.exit_code == 2 and "is a summary (risk run --summary): it holds no draws, and risk compare needs them" in r.output
    r = runner.invoke(app, ["report", str(out), str(out), "--out", str(tmp_path / "r.pdf")])
    assert r.exit_code == 2 and "cannot be reported together with other runs" in r.output and not (tmp_path / "r.pdf").exists()


@pytest.mark.parametrize("args, words", [
    (["--threshold", "nvda_gross_margin<abc"], "--threshold: VALUE must be a finite number"),
    (["--threshold", "margin<0.5"], "--threshold: no output named 'margin'"),
    (["--out", "X.zarr"], "--out: a summary is a small NetCDF file: name it RUN.summary.nc"),
    (["--chunk-size", "1000"], "--chunk-size: a summary is reduced in whole blocks of 16,384 draws"),
    (["--keep", "margins", "--out", "X.nc"], "--keep: does not apply to --summary"),
    (["--level", "1.5"], "--level: must be in (0, 1)"),
])
def test_bad_summary_command_lines(tmp_path, args, words):
    args = [a.replace("X.", str(tmp_path / "x.")) for a in args]
    r = CliRunner().invoke(app, ["run", str(ANNUAL_FILE), "--summary", "-n", "1000", *args])
    assert r.exit_code == 2, r.output
    assert words in r.output
    assert "Traceback" not in r.output
    assert not list(tmp_path.iterdir())


def test_threshold_without_summary_is_refused():
    r = CliRunner().invoke(app, ["run", str(ANNUAL_FILE), "-n", "1000", "--threshold", "nvda_gross_margin<0.5"])
    assert r.exit_code == 2 and "--threshold: shapes a summary: add --summary" in r.output


def test_thresholds_are_compared_in_float64_as_the_full_runs_metrics(base_scenario):
    full = risk.simulate(base_scenario, draws=3000, seed=2, sampling="mc")
    x = full["nvda_gross_margin"].sel(year=2030).values
    t = float(np.nextafter(np.float64(np.median(x)), np.inf))  # just above a stored value: float32(t) is that value
    summ = summarise(base_scenario, draws=3000, seed=2, sampling="mc", thresholds=[("nvda_gross_margin", t)])
    assert _cell(summ, "nvda_gross_margin", 2030, f"P(< {t:g})") == metrics.prob_below(x, t).value


def test_a_scenario_set_summarised_on_dask_from_the_command_line(tmp_path):
    doc = (f"name: pair\ndraws: 20000\nseed: 3\nsampling: mc\nscenarios:\n"
           f"  base: {{file: {ANNUAL_FILE}, weight: 3}}\n  again: {{file: {ANNUAL_FILE}, weight: 1}}\n")
    (tmp_path / "pair.yaml").write_text(doc)
    out = tmp_path / "pair.summary.nc"
    r = CliRunner().invoke(app, ["run", str(tmp_path / "pair.yaml"), "--summary", "--scheduler", "threads", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "dask threads" in r.output and "medians by scenario (pooled = the weighted mixture)" in r.output
    ds = load_summary(out)
    assert list(ds["scenario"].values) == ["base", "again", "pooled"] and list(ds["draws"].values) == [15_000, 5_000, 20_000]
    local = summarise(tmp_path / "pair.yaml")  # the same set locally: the same figures
    stats = ["mean", "sd", "P5", "P50", "P95", "P(< 0.65)"]
    assert _same(ds["value"].sel(statistic=stats).values, local["value"].sel(statistic=stats).values)
