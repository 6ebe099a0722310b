"""Streamed Sobol indices: known answers, the in-memory estimates reproduced, the same bits on any
workers, chunk-by-chunk memory, batch-means intervals against the bootstrap, the command line."""

from __future__ import annotations

import numpy as np
import pytest

from risk.sensitivity import model_sobol, sobol_indices
from risk.sobol import Moments, Partial, batch_edges, chunk_bounds, join, reduce_in_order

from conftest import Recorder

NAMES = ["x1", "x2", "x3"]
OUTPUTS = ["nvda_gross_margin", "aws_operating_margin"]


def ishigami(u):
    x = -np.pi + 2 * np.pi * u
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def two_outputs(u):
    """Ishigami and a linear function of the same inputs, as two output columns."""
    return np.column_stack([ishigami(u), u @ np.array([1.0, 2.0, 0.0])])


def same(a, b) -> list[str]:
    return [v for v in ("S1", "S1_conf", "ST", "ST_conf") if not np.array_equal(a[v].values, b[v].values, equal_nan=True)]


def test_ishigami_known_indices_streamed():
    """Analytic values (a=7, b=0.1): S1 = 0.3139, 0.4424, 0; ST = 0.5576, 0.4424, 0.2437, through
    chunks of 1,000 rows (not on batch edges)."""
    r = sobol_indices(ishigami, NAMES, n=2**14, seed=1, chunk_size=1000).indices
    np.testing.assert_allclose(r["S1"].values, [0.3139, 0.4424, 0.0], atol=0.01)
    np.testing.assert_allclose(r["ST"].values, [0.5576, 0.4424, 0.2437], atol=0.01)
    assert (r["S1_conf"] > 0).all() and (r["ST_conf"] < 0.03).all()
    assert r.attrs["conf_method"] == "batch means (64 batches, delta method)" and r.attrs["chunks"] == 17


def test_linear_function_known_indices():
    """f = 1·x1 + 2·x2 + 0·x3 + 3·x4 on uniforms: S1 = ST = a_i² / Σa² = 1/14, 4/14, 0, 9/14."""
    f = lambda u: u @ np.array([1.0, 2.0, 0.0, 3.0])  # noqa: E731
    r = sobol_indices(f, ["a", "b", "c", "d"], n=2**12, seed=2, chunk_size=512).indices
    want = np.array([1, 4, 0, 9]) / 14
    np.testing.assert_allclose(r["S1"].values, want, atol=2e-3)
    np.testing.assert_allclose(r["ST"].values, want, atol=2e-3)
    assert r["ST"].values[2] == 0 and r["ST_conf"].values[2] == 0  # x3 never moves f: d = 0 exactly


@pytest.mark.parametrize("chunk_size", [None, 100, 4096])
def test_streamed_equals_in_memory_function(chunk_size):
    """The same design and estimators as sobol_indices in memory: equal to rounding (1e-12)."""
    mem = sobol_indices(two_outputs, NAMES, n=2**12, seed=3, n_boot=20).indices
    st = sobol_indices(two_outputs, NAMES, n=2**12, seed=3, chunk_size=chunk_size, scheduler=None if chunk_size else "threads").indices
    for v in ("S1", "ST"):
        np.testing.assert_allclose(st[v].values, mem[v].values, rtol=1e-12, atol=1e-14)
    assert st[v].dims == mem[v].dims == ("input", "output")


@pytest.fixture(scope="module")
def in_memory(base_scenario):
    return model_sobol(base_scenario, OUTPUTS, n=1024, seed=1).indices


@pytest.fixture(scope="module")
def streamed_local(base_scenario):
    return model_sobol(base_scenario, OUTPUTS, n=1024, seed=1, chunk_size=200).indices


def test_streamed_equals_in_memory_model(in_memory, streamed_local):
    """model_sobol streamed (own design rows and shocks a chunk) against the whole design in memory."""
    for v in ("S1", "ST"):
        a, b = in_memory[v].values, streamed_local[v].values
        assert np.array_equal(np.isnan(a), np.isnan(b))
        assert np.isnan(a[:, :, 0]).all() and not np.isnan(a[:, :, 1:]).any()  # the base year does not vary
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)
    assert streamed_local.attrs["evaluations"] == in_memory.attrs["evaluations"] == 1024 * (len(in_memory["input"]) + 2)
    assert list(streamed_local["input"].values) == list(in_memory["input"].values)


def test_batch_means_agree_with_the_bootstrap_on_the_model(in_memory, streamed_local):
    """The model's inputs behave as independent rows (Monte Carlo shocks, 57 dimensions): the
    batch-means half-widths are those of the bootstrap, median ratio within 15%, nearly all within 2x."""
    for v in ("S1_conf", "ST_conf"):
        ratio = (streamed_local[v] / in_memory[v]).isel(year=slice(1, None)).values.ravel()
        ratio = ratio[np.isfinite(ratio)]
        assert 0.85 < np.median(ratio) < 1.15, (v, np.median(ratio))
        assert np.mean((ratio > 0.5) & (ratio < 2)) > 0.95, v


def test_batch_means_are_conservative_for_a_smooth_function():
    """Ishigami on a scrambled Sobol design errs far less than independent rows would: across 16
    seeds, the spread of the estimates is below the batch-means half-width, itself below the
    bootstrap's (which takes the rows as independent)."""
    runs = [sobol_indices(ishigami, NAMES, n=2**11, seed=s, chunk_size=2**11).indices for s in range(16)]
    boot = sobol_indices(ishigami, NAMES, n=2**11, seed=0, n_boot=100).indices
    for v in ("S1", "ST"):
        spread = 1.96 * np.std([r[v].values for r in runs], axis=0, ddof=1)
        conf = np.mean([r[f"{v}_conf"].values for r in runs], axis=0)
        assert (spread < conf).all() and (conf < boot[f"{v}_conf"].values).all(), (v, spread, conf)


def test_the_same_bits_on_any_workers(base_scenario, streamed_local):
    """Threads here (1 or 2), dask threads and dask synchronous: one tree of merges, the same bits."""
    kw = dict(n=1024, seed=1, chunk_size=200)
    for scheduler in ("threads", "synchronous"):
        assert same(model_sobol(base_scenario, OUTPUTS, scheduler=scheduler, **kw).indices, streamed_local) == [], scheduler
    from risk import sensitivity, sobol

    one = sobol.streamed(sensitivity._ModelRows(base_scenario, base_scenario.base_data(), sensitivity.uncertain_parameters(base_scenario),
                                                OUTPUTS, 1), 1024, 200, workers=1)
    np.testing.assert_array_equal(one[0].reshape(streamed_local["S1"].shape), streamed_local["S1"].values)


def test_batches_split_over_many_chunks_merge_in_one_tree():
    """Batches of 1,024 rows over chunks of 100: each batch's parts are merged along the tree of
    reduce_in_order, here on 1 or 2 threads as on dask, so the bits agree."""
    from risk import sensitivity, sobol

    source = sensitivity._FuncRows(two_outputs, 3, 5)
    ref = sobol.streamed(source, 2**12, 100, batches=4, workers=1)
    for kw in ({"workers": 2}, {"scheduler": "threads"}, {"scheduler": "synchronous"}):
        got = sobol.streamed(source, 2**12, 100, batches=4, **kw)
        assert all(np.array_equal(a, b) for a, b in zip(got, ref)), kw


def test_chunk_size_on_batch_edges_changes_no_bit():
    """Chunks that never split a batch give the same bits whatever their size; others agree to rounding."""
    kw = dict(n=2**12, seed=4)
    ref = sobol_indices(two_outputs, NAMES, chunk_size=64, **kw).indices  # a batch is 64 rows
    for chunk in (128, 1024, None):
        assert same(sobol_indices(two_outputs, NAMES, chunk_size=chunk, scheduler="threads", **kw).indices, ref) == [], chunk
    odd = sobol_indices(two_outputs, NAMES, chunk_size=100, **kw).indices
    np.testing.assert_allclose(odd["S1"].values, ref["S1"].values, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(odd["S1_conf"].values, ref["S1_conf"].values, rtol=1e-9)


def test_chunks_never_build_the_whole_design(base_scenario, monkeypatch):
    """The function sees one chunk's points at a time; the model at most one block of points."""
    seen = []

    def f(u):
        seen.append(u.shape)
        return ishigami(u)

    sobol_indices(f, NAMES, n=2**12, seed=1, chunk_size=300)
    assert max(s[0] for s in seen) == 300 * 5 and sum(s[0] for s in seen) == 2**12 * 5 and len(seen) == 14

    from risk import sensitivity
    from risk.sampling import BLOCK

    runs = []
    real = sensitivity._evaluate_rows

    def record(scenario, params, shocks, outputs, base):
        runs.append(shocks.shape[-1])
        assert all(v.shape == (shocks.shape[-1],) for v in params.values())
        return real(scenario, params, shocks, outputs, base)

    monkeypatch.setattr(sensitivity, "_evaluate_rows", record)
    k = len(sensitivity.uncertain_parameters(base_scenario)) + 1
    model_sobol(base_scenario, OUTPUTS[:1], n=2**10, seed=1, chunk_size=512, scheduler="synchronous")
    assert max(runs) <= BLOCK and sum(runs) == 2**10 * (k + 2)
    assert len(runs) == 2 * -(-512 * (k + 2) // BLOCK)  # two chunks, each in whole blocks of points


def test_moments_merge_and_tree():
    """Merged moments equal those of the rows together; the merge tree is fixed by the count."""
    rng = np.random.default_rng(0)
    y = rng.normal(5, 2, size=(5, 300, 2))
    whole, halves = Moments.of(y), Moments.of(y[:, :110]).merge(Moments.of(y[:, 110:]))
    for field in ("mean_a", "m2_a", "mean_b", "m2_b", "mean_d", "co_bd", "sq_d"):
        np.testing.assert_allclose(getattr(halves, field), getattr(whole, field), rtol=1e-12)
    d = y[2:] - y[0]
    np.testing.assert_allclose(whole.co_bd, ((y[1] - y[1].mean(0)) * (d - d.mean(1, keepdims=True))).sum(1), rtol=1e-12)
    assert reduce_in_order("abcde", lambda p, q: f"({p}{q})") == "(((ab)(cd))e)"
    assert reduce_in_order("abcdef", lambda p, q: f"({p}{q})") == "(((ab)(cd))(ef))"
    with pytest.raises(ValueError, match="partials not consecutive: batches 0-1, then from 3"):
        join(Partial(0, (whole, whole)), Partial(3, (whole,)))
    assert list(batch_edges(10, 4)) == [0, 2, 5, 7, 10] and list(batch_edges(3, 64)) == [0, 1, 2, 3]
    assert chunk_bounds(2**20, batch_edges(2**20)) == [(i * 2048, (i + 1) * 2048) for i in range(512)]  # batches in 8 parts
    assert chunk_bounds(2**14, batch_edges(2**14)) == [(i * 2048, (i + 1) * 2048) for i in range(8)]  # 8 batches a chunk
    assert chunk_bounds(100, batch_edges(100)) == [(0, 100)]
    assert chunk_bounds(1000, batch_edges(1000), 400) == [(0, 400), (400, 800), (800, 1000)]


def test_streamed_progress_counts_base_rows(base_scenario):
    rec = Recorder()
    res = model_sobol(base_scenario, OUTPUTS[:1], n=256, seed=1, chunk_size=100, progress=rec)
    evaluations = res.indices.attrs["evaluations"]
    assert rec.events == [("phase", "sampling", "draws"), ("phase", f"model ({evaluations:,} evaluations, streamed)", "base rows"),
                          ("count", 100, 256), ("count", 200, 256), ("count", 256, 256)]


def test_bad_streaming_options():
    with pytest.raises(ValueError, match="chunk_size must be a whole number >= 1, got 0"):
        sobol_indices(ishigami, NAMES, n=64, chunk_size=0)
    with pytest.raises(ValueError, match="batches must be a whole number >= 2, got 1"):
        sobol_indices(ishigami, NAMES, n=64, chunk_size=8, batches=1)
    with pytest.warns(UserWarning, match="n=1000, not a power of 2: the Sobol design loses its balance; use 1024 or 512"):
        sobol_indices(ishigami, NAMES, n=1000, chunk_size=500)


@pytest.mark.slow
def test_local_cluster_of_two_processes_equals_local(base_scenario, streamed_local):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, Client(cluster):
        on_cluster = model_sobol(base_scenario, OUTPUTS, n=1024, seed=1, chunk_size=200, scheduler="dask").indices
        by_address = model_sobol(base_scenario, OUTPUTS, n=1024, seed=1, chunk_size=200, scheduler=cluster.scheduler_address).indices
    assert same(on_cluster, streamed_local) == [] and same(by_address, streamed_local) == []


def test_cli_streamed_sobol(tmp_path):
    """risk sensitivity --method sobol --scheduler: the in-memory point estimates, intervals from
    batch means; options refused naming themselves."""
    import json

    from typer.testing import CliRunner

    from risk.cli import app

    from conftest import ANNUAL_FILE

    args = ["sensitivity", str(ANNUAL_FILE), "-m", "sobol", "-n", "256", "--top", "4", "--format", "json"]
    local, streamed_ = (CliRunner().invoke(app, args + extra) for extra in ([], ["--scheduler", "threads", "--chunk-size", "64"]))
    assert local.exit_code == 0 and streamed_.exit_code == 0, streamed_.output
    a, b = json.loads(local.stdout)["sobol"], json.loads(streamed_.stdout)["sobol"]
    assert [(r["parameter"], r["year"]) for r in a] == [(r["parameter"], r["year"]) for r in b]
    for key in ("total index ST", "first-order index S1"):
        np.testing.assert_allclose([r[key] for r in b], [r[key] for r in a], rtol=1e-12, atol=1e-14)
    table = CliRunner().invoke(app, ["sensitivity", str(ANNUAL_FILE), "-n", "256", "--top", "2", "--chunk-size", "256"],
                               terminal_width=200)
    assert table.exit_code == 0 and "streamed in 1 chunk on threads; CI from batch means" in table.output
    for extra, message in [
        (["--scheduler", "mpi"], "error: --scheduler: must be threads, processes, synchronous or tcp://host:port (got 'mpi')"),
        (["-m", "prcc", "--chunk-size", "64"], "error: --chunk-size: streams a Sobol design: only with --method sobol (got 64)"),
        (["--chunk-size", "0"], "error: --chunk-size: must be at least 1 (base rows of the Sobol design a chunk) (got 0)"),
    ]:
        r = CliRunner().invoke(app, ["sensitivity", str(ANNUAL_FILE), "-n", "256", *extra], terminal_width=200)
        assert r.exit_code == 2 and message in r.output, r.output
