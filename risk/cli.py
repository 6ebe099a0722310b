"""The ``risk`` command line: a thin adapter over the library.

Bad input ends with a message naming the file, key path, value and what is allowed, and exit
status 2; never a traceback.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import __version__, numbers
from .errors import DataError, OptionError, ScenarioError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Monte Carlo scenarios of NVIDIA's and AWS's margins as hyperscalers move to their own chips.",
)
# markup off: whatever the tool prints (messages, values, names, table cells) is printed as
# written; brackets such as "[lo, hi]" or "[nan, 0.4]" are text, never style tags
out = Console(markup=False)
err = Console(stderr=True, markup=False)

#: Runs with at least this many draws show a progress bar (on a terminal).
PROGRESS_FROM = 200_000


_sinks: list = []


def _progress(draws: int | None = None):
    """The progress sink of a command (:mod:`risk.progress`), shown on stderr only when it is a
    terminal, and for ``risk run`` only from :data:`PROGRESS_FROM` draws; ``sink.end()`` (or an
    error, :func:`_fail`) removes it."""
    from .progress import start

    _sinks.append(start(err, sys.stderr.isatty() and (draws is None or draws >= PROGRESS_FROM)))
    return _sinks[-1]


def _table(**kw) -> Table:
    """A rich Table whose cells fold rather than hide text behind an ellipsis."""
    table = Table(**kw)
    add = table.add_column

    def add_column(*args, **ckw):
        ckw.setdefault("overflow", "fold")
        return add(*args, **ckw)

    table.add_column = add_column
    return table


def _fail(e: Exception) -> None:
    while _sinks:
        _sinks.pop().end()
    err.print(_tagged("error:", "bold red", e), highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _tagged(tag: str, style: str, message) -> Text:
    """``tag`` in ``style``, then ``message`` as written."""
    return Text.assemble((tag, style), " ", str(message))


_THRESHOLD_HELP = "VARIABLE=VALUE: report P(VARIABLE < VALUE), repeatable (0.60 or 60%); defaults 65% / 55% / 30% for the key margins."


_FORMAT = typer.Option("table", "--format", help="table (the default), csv, json or xlsx: the table's numbers as data "
                                                  "(fractions, USD bn, errors in columns of their own).")
_OUTPUT = typer.Option(None, "--output", help="Write the csv, json or xlsx export to this file (csv and json go to "
                                              "standard output without it; the format follows a .csv, .json or .xlsx name).")


def _export_format(fmt: str, output: Optional[Path]) -> str:
    """Check ``--format`` and ``--output`` before any work; the format, inferred from ``--output``'s
    suffix when ``--format`` is left at ``table``."""
    from .export import FORMATS

    if fmt not in FORMATS:
        _fail(OptionError("--format", fmt, f"must be one of: {', '.join(FORMATS)}"))
    if output is not None and fmt == "table":
        fmt = {".csv": "csv", ".json": "json", ".xlsx": "xlsx"}.get(output.suffix.lower(), "")
        if not fmt:
            _fail(OptionError("--output", str(output), "exports a table: name a .csv, .json or .xlsx file, "
                                                       "or give --format csv, json or xlsx"))
    if fmt == "xlsx" and output is None:
        _fail(OptionError("--format", "xlsx", "an Excel workbook is written to a file: add --output FILE.xlsx"))
    _check_out(output, "file")
    return fmt


def _export(fmt: str, output: Optional[Path], tables: dict, units: dict | None = None) -> None:
    """Write the tables (named DataFrames; ``units`` by table and column) as ``fmt``."""
    from .export import write_tables
    from .io import OutputError

    try:
        text = write_tables(tables, fmt, output, units)
    except OSError as e:
        _fail(OutputError(output, f"could not be written ({e.strerror or e})"))
    if text is not None:
        typer.echo(text, nl=False)
    else:
        out.print(f"wrote {output}", highlight=False, soft_wrap=True)


def _units(ds, var: str, statistic: str = "") -> str:
    """The units an export gives a variable's statistic (``fraction`` for margins and probabilities)."""
    from .export import unit_name
    from .glossary import OUTPUTS

    units = ds[var].attrs.get("units", "") if ds is not None and var in ds else OUTPUTS[var].units if var in OUTPUTS else ""
    return unit_name(units, statistic)


def _by_variable(df, ds, statistic: str | None = "statistic"):
    """``df`` indexed by (variable, year[, statistic]) as columns, with each row's ``units`` after them."""
    flat = df.reset_index()
    stats = flat[statistic] if statistic else [""] * len(flat)
    flat.insert(df.index.nlevels, "units", [_units(ds, v, s) for v, s in zip(flat["variable"], stats)])
    return flat


def _version(value: bool):
    if value:
        out.print(f"risk {__version__}")
        raise typer.Exit()


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one line, ``warning: message``, without Python's source line."""
    err.print(_tagged("warning:", "yellow", message), highlight=False, soft_wrap=True)


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
):
    """risk: distributions, not single forecasts, of NVIDIA and AWS margins."""
    import warnings

    warnings.showwarning = _show_warning


def _scenario(path: Path, sets: list[str] | None = None):
    """Load a scenario or scenario set and apply ``--set PATH=VALUE`` overrides."""
    import yaml

    from .mixture import is_scenario_set, load_scenario_set
    from .scenario import load_scenario, parse_yaml

    overrides = {}
    for item in sets or []:
        key, eq, text = item.partition("=")
        if not eq or not key.strip():
            _fail(OptionError("--set", item, "expected PATH=VALUE, for example pricing.elasticity='{ci90: [1, 3], mode: 1.8}'"))
        try:
            overrides[key.strip()] = parse_yaml(text)
        except yaml.YAMLError as e:
            _fail(OptionError("--set", item, f"VALUE is not valid YAML: {getattr(e, 'problem', e)}"))
        except RecursionError:
            _fail(OptionError("--set", item, "VALUE is nested too deeply"))
    try:
        sc = load_scenario_set(path) if path.is_file() and is_scenario_set(path) else load_scenario(path)
        return sc.with_overrides(overrides) if overrides else sc
    except ScenarioError as e:
        _fail(e)


def _check_out(path: Optional[Path], kind: str = "run") -> None:
    """Refuse, before any work, an output path that would lose something or cannot be written."""
    from .io import OutputError, check_output

    if path is None:
        return
    try:
        check_output(path, kind)
    except OutputError as e:
        _fail(e)


def _save(ds, path: Path, keep: list[str] | None = None, compress: bool = False) -> None:
    from .io import OutputError, save_run

    try:
        save_run(ds, path, keep=keep, compress=compress)
    except OutputError as e:
        _fail(e)


def _check_keep(keep: list[str] | None, out_file: Optional[Path], compress: bool) -> None:
    """Refuse, before any work, unknown ``--keep`` names, or ``--keep``/``--compress`` without ``--out``."""
    from .glossary import select_outputs

    if (keep or compress) and out_file is None:
        _fail(OptionError("--keep" if keep else "--compress", ",".join(keep) if keep else True,
                          "shapes the saved run: give --out RUN.nc or --out RUN.zarr too"))
    if keep:
        try:
            select_outputs(keep)
        except ValueError as e:
            _fail(OptionError("--keep", ",".join(keep), str(e)))


def _check_years(ds, years, projected: bool = False) -> None:
    """Refuse ``--year`` values the run does not have (``projected``: the base year is not one)."""
    have = [int(y) for y in ds["year"].values][1 if projected else 0:]
    if years and any(y not in have for y in years):
        _fail(OptionError("--year", list(years) if len(years) > 1 else years[0], f"the run's {'projected ' if projected else ''}years "
                                                                                  f"are {have[0]}-{have[-1]}"))


@app.command()
def validate(scenarios: list[Path] = typer.Argument(..., help="Scenario files to check.")):
    """Check scenario and scenario-set files against the schema; print what is wrong, naming each key path."""
    failed = False
    from .mixture import is_scenario_set, load_scenario_set
    from .scenario import load_scenario

    for path in scenarios:
        try:
            if path.is_file() and is_scenario_set(path):
                sset = load_scenario_set(path)
                members = ", ".join(f"{m.name} {m.weight:.0%}" for m in sset.members)
                out.print(_tagged("ok", "green", f"{path}: scenario set '{sset.name}' of {members}; hash {sset.hash[:12]}"),
                          highlight=False, soft_wrap=True)
                continue
            sc = load_scenario(path)
        except ScenarioError as e:
            err.print(_tagged("invalid:", "bold red", e), highlight=False, soft_wrap=True)
            failed = True
            continue
        n_random = sum(not d.is_fixed for d in sc.parameters.values())
        out.print(_tagged(
            "ok", "green", f"{path}: scenario '{sc.name}', {len(sc.parameters)} parameters ({n_random} uncertain), "
                           f"{sc.settings.horizon} years from {sc.settings.base_year}, hash {sc.hash[:12]}"),
            highlight=False, soft_wrap=True,
        )
    if failed:
        raise typer.Exit(2)


@app.command()
def run(
    scenario: Path = typer.Argument(..., help="Scenario file (YAML)."),
    draws: Optional[int] = typer.Option(None, "--draws", "-n", help="Number of draws (default: the scenario's)."),
    seed: Optional[int] = typer.Option(None, "--seed", "-s", help="Random seed (default: the scenario's)."),
    sampling: Optional[str] = typer.Option(None, "--sampling", help="mc, lhs or sobol (default: the scenario's)."),
    out_file: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the run here: a .nc file or a .zarr folder."),
    dtype: str = typer.Option("float32", "--dtype", help="Storage of outputs: float32 or float64."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Override PATH=VALUE (YAML value), repeatable."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Run on dask: threads, processes, synchronous or tcp://host:port."),
    chunk_size: Optional[int] = typer.Option(None, "--chunk-size", help="Draws per dask chunk (default: from --memory, else 98,304: six blocks of random numbers)."),
    memory: Optional[str] = typer.Option(None, "--memory", help="Memory budget, e.g. 4GB: sizes the chunks; refuses runs that cannot fit."),
    quarterly: bool = typer.Option(False, "--quarterly", help="Outputs by calendar quarter instead of year (quarterly clock)."),
    fmt: str = _FORMAT,
    output: Optional[Path] = _OUTPUT,
    keep: Optional[list[str]] = typer.Option(None, "--keep", help="Store only these outputs: names or groups (margins, nvidia, aws, drivers, all), repeatable or comma-separated; parameters and attributes are always stored."),
    compress: bool = typer.Option(False, "--compress", help="Compress the saved run (zlib in NetCDF, zstd in Zarr)."),
    summary: bool = typer.Option(False, "--summary", help="Store no draws: reduce each chunk into exact counts, means, "
                                                          "variances and threshold probabilities and bounded quantiles and "
                                                          "expected shortfall; --out writes them (RUN.summary.nc)."),
    threshold: Optional[list[str]] = typer.Option(None, "--threshold", help="With --summary: also count P(VARIABLE < VALUE), "
                                                                            "as VARIABLE<VALUE or VARIABLE=VALUE (0.5 or 50%), repeatable."),
    level: Optional[list[float]] = typer.Option(None, "--level", help="With --summary: confidence levels of VaR and expected "
                                                                      "shortfall, repeatable (default 0.95 and 0.99)."),
):
    """Simulate a scenario or scenario set; print P5/P50/P95 of the key margins; optionally save the run."""
    from .mixture import ScenarioSet
    from .simulate import simulate
    from .summary import quantile_table

    if summary or threshold or level:
        return _run_summary(scenario, draws, seed, sampling, out_file, dtype, set_, scheduler, chunk_size, memory, quarterly,
                            fmt, output, keep, compress, summary, threshold, level)
    _check_out(out_file)
    fmt = _export_format(fmt, output)
    _check_keep(keep, out_file, compress)
    sc = _scenario(scenario, set_)
    n = draws if draws is not None else (sc.draws if isinstance(sc, ScenarioSet) else sc.settings.draws)
    if scheduler is not None or memory is not None:
        return _run_dask(sc, n, seed, sampling, out_file, dtype, scheduler, chunk_size, memory, fmt, output, keep, compress)
    start = time.perf_counter()
    from .progress import PREPARING

    sink = _progress(n)
    sink.phase(PREPARING)  # until the first chunk is done: sampling, and numba compiling on first use
    try:
        ds = simulate(sc, draws=draws, seed=seed, sampling=sampling, dtype=dtype, quarterly=quarterly,
                      progress=sink.counter("simulating"))
    except (ScenarioError, DataError) as e:
        _fail(e)
    sink.end()
    elapsed = time.perf_counter() - start
    if fmt != "table":
        import pandas as pd

        from .export import ROW

        tables = {"quantiles": _by_variable(quantile_table(ds), ds, None)}
        if isinstance(sc, ScenarioSet) and not quarterly:
            tables["medians by scenario"] = _by_scenario_frame(ds)
        elif sc.correlations is not None:
            from .correlation import achieved

            tables["rank correlations"] = pd.DataFrame(achieved({p: ds[p].values for p in sc.correlations.parameters}, sc.correlations),
                                                       columns=["parameter", "with", "target", "achieved"])
        _export(fmt, output, tables, {"quantiles": dict.fromkeys(("P5", "P50", "P95"), ROW), "medians by scenario": {"P50": ROW}})
        if out_file is not None:
            _save(ds, out_file)
            err.print(f"wrote {out_file}", highlight=False, soft_wrap=True)
        return

    table = _table(title=f"{ds.attrs['scenario']}: {ds.attrs['draws']:,} draws, seed {ds.attrs['seed']}, {ds.attrs['sampling']} "
                        f"({elapsed:.1f} s)", title_justify="left")
    for col in ("variable", "quarter" if quarterly else "year", "P5", "P50", "P95"):
        table.add_column(col, justify="left" if col == "variable" else "right")
    q = quantile_table(ds)
    for (var, year), row in q.iterrows():
        table.add_row(var, str(year), *(f"{v:.1%}" for v in row))
    out.print(table)
    if ds.attrs.get("clock") == "quarter":
        out.print(f"anchored at {ds.attrs['as_of']}, the latest reported quarter: quarters up to it are data, not draws",
                  highlight=False)
    if isinstance(sc, ScenarioSet):
        if not quarterly:
            _print_by_scenario(ds)
    elif sc.correlations is not None:
        _print_correlations(ds, sc)
    if ds.attrs.get("overrides", "{}") != "{}":
        out.print(f"overrides: {ds.attrs['overrides']}", highlight=False, soft_wrap=True)
    if out_file is not None:
        _save(ds, out_file, keep, compress)
        out.print(f"wrote {out_file} (scenario hash {ds.attrs['scenario_hash'][:12]}, risk {__version__})",
                  highlight=False, soft_wrap=True)


def _run_dask(sc, draws, seed, sampling, out_file, dtype, scheduler, chunk_size, memory, fmt="table", output=None,
              keep=None, compress=False) -> None:
    """``risk run`` on dask: stream chunks to ``out_file``; the summary is computed from the file."""
    import contextlib

    import dask
    import xarray as xr

    from .mixture import ScenarioSet
    from .sampling import BLOCK
    from .scale import check_memory, chunk_for_memory
    from .simulate import simulate
    from .summary import KEY_MARGINS, quantile_table, summary_years

    sizing = max((m.scenario for m in sc.members), key=lambda m: m.steps) if isinstance(sc, ScenarioSet) else sc
    budget = _memory_budget(memory)
    _check_scheduler(scheduler)
    if scheduler == "processes" and out_file is not None and out_file.suffix != ".zarr":
        _fail(OptionError("--scheduler", scheduler, "with processes the run streams to Zarr only (several processes cannot "
                                                    "write one NetCDF file): use --out RUN.zarr, or --scheduler threads for NetCDF"))
    if budget is not None:
        try:
            check_memory(sizing, draws, budget, to_disk=out_file is not None, dtype=dtype)
        except ScenarioError as e:
            _fail(e)
    workers = 2
    if chunk_size is None:
        chunk_size = chunk_for_memory(sizing, budget, workers) if budget is not None else 6 * BLOCK
    start = time.perf_counter()
    try:
        ds = simulate(sc, draws=draws, seed=seed, sampling=sampling, dtype=dtype, chunk_size=chunk_size, lazy=True)
    except (ScenarioError, DataError) as e:
        _fail(e)
    if scheduler is not None and scheduler.startswith("tcp://"):
        ctx = _dask_client(scheduler)
    elif scheduler == "processes":  # dask.distributed keeps a chunk's results on the worker that made them; dask's
        # multiprocessing scheduler would send them back and pickle them to a worker again for every variable
        import os

        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True, memory_limit=0,
                               dashboard_address=":0", scheduler_kwargs={"dashboard": False})  # any free port, no dashboard
        ctx = contextlib.ExitStack()
        ctx.enter_context(cluster)
        ctx.enter_context(Client(cluster))
    else:
        ctx = dask.config.set(scheduler=scheduler or "threads")
    with ctx if isinstance(ctx, contextlib.AbstractContextManager) else contextlib.nullcontext():
        if out_file is not None:
            _save(ds, out_file, keep, compress)
            view = xr.open_zarr(out_file) if out_file.suffix == ".zarr" else xr.open_dataset(out_file, engine="h5netcdf")
        else:
            view = ds.compute()
        elapsed = time.perf_counter() - start
        if fmt != "table":
            from .export import ROW

            _export(fmt, output, {"quantiles": _by_variable(quantile_table(view), view, None)},
                    {"quantiles": dict.fromkeys(("P5", "P50", "P95"), ROW)})
            return
        table = _table(title=f"{view.attrs['scenario']}: {view.sizes['draw']:,} draws, seed {view.attrs['seed']}, {view.attrs['sampling']}, "
                             f"dask {scheduler or 'threads'}, chunks of {chunk_size:,} ({elapsed:.1f} s)", title_justify="left")
        for col in ("variable", "year", "P5", "P50", "P95"):
            table.add_column(col, justify="left" if col == "variable" else "right")
        shown = [v for v in KEY_MARGINS if v in view]  # a run saved with --keep may hold none of them
        for (var, year), row in (quantile_table(view, shown).iterrows() if shown else ()):
            table.add_row(var, str(year), *(f"{v:.1%}" for v in row))
        out.print(table)
        if isinstance(sc, ScenarioSet) and all(v in view for v in KEY_MARGINS):  # loads 2 years of 3 margins
            _print_by_scenario(view[list(KEY_MARGINS)].sel(year=summary_years(view)[-2:]).load())
    if out_file is not None:
        out.print(f"wrote {out_file} (streamed in chunks of {chunk_size:,} draws)", highlight=False, soft_wrap=True)


def _run_summary(scenario, draws, seed, sampling, out_file, dtype, set_, scheduler, chunk_size, memory, quarterly, fmt, output,
                 keep, compress, summary, threshold, level) -> None:
    """``risk run --summary``: a run reduced chunk by chunk (:mod:`risk.summarise`), locally or on dask."""
    import contextlib

    from .sampling import BLOCK
    from .scale import chunk_for_memory
    from .summarise import DEFAULT_LEVELS, DEFAULT_SUMMARY_THRESHOLDS, SummaryError, parse_threshold, save_summary, summarise

    if not summary:
        _fail(OptionError("--threshold" if threshold else "--level", list(threshold or level),
                          "shapes a summary: add --summary (a full run's probabilities and levels are asked of risk analyze)"))
    for option, given in (("--keep", keep), ("--compress", compress), ("--output", output)):
        if given:
            _fail(OptionError(option, ",".join(given) if isinstance(given, list) else str(given),
                              "does not apply to --summary, which stores no draws and prints its table"))
    if fmt != "table":
        _fail(OptionError("--format", fmt, "a summarised run prints its table; its figures are data in the --out file "
                                           "(or risk analyze RUN.summary.nc --format csv)"))
    if out_file is not None and (out_file.suffix != ".nc" or out_file.suffix == ".zarr"):
        _fail(OptionError("--out", str(out_file), "a summary is a small NetCDF file: name it RUN.summary.nc"))
    _check_out(out_file, "file")
    try:
        thresholds = list(DEFAULT_SUMMARY_THRESHOLDS) + [parse_threshold(t) for t in threshold or []]
    except OptionError as e:
        _fail(e)
    levels = tuple(level) if level else DEFAULT_LEVELS
    bad = [x for x in levels if not 0 < x < 1]
    if bad:
        _fail(OptionError("--level", bad[0], "must be in (0, 1), for example 0.95"))
    _check_scheduler(scheduler)
    if chunk_size is not None and (chunk_size < BLOCK or chunk_size % BLOCK):
        _fail(OptionError("--chunk-size", chunk_size, f"a summary is reduced in whole blocks of {BLOCK:,} draws of random "
                                                      f"numbers: give a multiple of {BLOCK:,}"))
    budget = _memory_budget(memory)
    sc = _scenario(scenario, set_)
    lazy = scheduler is not None or memory is not None
    if chunk_size is None:
        if budget is not None:
            members = [m.scenario for m in sc.members] if hasattr(sc, "members") else [sc]
            chunk_size = max(BLOCK, min(chunk_for_memory(m, budget, 2, dtype) for m in members) // BLOCK * BLOCK)
        else:
            chunk_size = 6 * BLOCK if lazy else BLOCK
    start = time.perf_counter()
    if scheduler is not None and scheduler.startswith("tcp://"):
        ctx = _dask_client(scheduler)
    elif lazy:
        import dask

        ctx = dask.config.set(scheduler=scheduler or "threads")
    else:
        ctx = contextlib.nullcontext()
    n = draws if draws is not None else (sc.draws if hasattr(sc, "members") else sc.settings.draws)
    sink = _progress(n)
    with ctx:
        try:
            ds = summarise(sc, draws=draws, seed=seed, sampling=sampling, chunk_size=chunk_size, thresholds=thresholds,
                           levels=levels, quarterly=quarterly, lazy=lazy, dtype=dtype,
                           progress=None if lazy else sink.counter("summarising"))
        except (ScenarioError, DataError, SummaryError) as e:
            _fail(e)
    sink.end()
    elapsed = time.perf_counter() - start
    _print_summary(ds, f"{ds.attrs['scenario']}: {ds.attrs['draws']:,} draws summarised, seed {ds.attrs['seed']}, "
                       f"{ds.attrs['sampling']}, {'dask ' + (scheduler or 'threads') + ', ' if lazy else ''}chunks of "
                       f"{chunk_size:,} ({elapsed:.1f} s)")
    if out_file is not None:
        from .io import OutputError

        try:
            save_summary(ds, out_file)
        except OutputError as e:
            _fail(e)
        out.print(f"wrote {out_file} (a summary: no draws; scenario hash {ds.attrs['scenario_hash'][:12]}, risk {__version__})",
                  highlight=False, soft_wrap=True)


def _print_summary(ds, title: str) -> None:
    """A summary's P5/P50/P95 table of the key margins (the pooled mixture for a set), each
    row with the largest bound of its quantiles; then the medians by scenario for a set."""
    from .summary import KEY_MARGINS, summary_years

    period = "quarter" if "quarter" in ds.dims else "year"
    pooled = ds.attrs.get("pooled") or str(ds["scenario"].values[0])
    table = _table(title=title, title_justify="left")
    for col in ("variable", period, "P5", "P50", "P95", "± bound"):
        table.add_column(col, justify="left" if col == "variable" else "right")
    years = summary_years(ds)
    sub = ds.sel(scenario=pooled, statistic=["P5", "P50", "P95"])
    for var in KEY_MARGINS:
        for y in years:
            cell = sub.sel(variable=var, **{period: y})
            table.add_row(var, str(y), *(numbers.value(float(v), True) for v in cell["value"].values),
                          numbers.error(float(cell["bound"].max()), True))
    out.print(table)
    out.print(f"a summary, no draws stored: means, sd, min, max and P(< threshold) are exact; quantiles, VaR and expected "
              f"shortfall are within the ± bound of the same draws' figures (histograms of {ds.attrs['bins']:,} bins "
              "per output and year, each bin's min and max kept)", highlight=False, soft_wrap=True)
    if ds.attrs.get("clock") == "quarter":
        out.print(f"anchored at {ds.attrs['as_of']}, the latest reported quarter: quarters up to it are data, not draws",
                  highlight=False)
    if ds.attrs.get("pooled") and period == "year":
        import json

        last = years[-2:]
        draws = json.loads(ds.attrs["scenario_draws"])
        t = _table(title="medians by scenario (pooled = the weighted mixture)", title_justify="left")
        t.add_column("scenario", no_wrap=True)
        t.add_column("draws", justify="right", no_wrap=True)
        short = {v: v.replace("_operating_margin", " OM").replace("_gross_margin", " GM") for v in KEY_MARGINS}
        for v in KEY_MARGINS:
            for y in last:
                t.add_column(f"{short[v]} {y}", justify="right", no_wrap=True)
        for name, n in list(draws.items()) + [("pooled", ds.attrs["draws"])]:
            if name not in ds["scenario"].values:
                continue
            cells = [numbers.value(float(ds["value"].sel(scenario=name, statistic="P50", variable=v, year=y)), True)
                     for v in KEY_MARGINS for y in last]
            t.add_row(name, f"{n:,}", *cells)
        out.print(t)
    if ds.attrs.get("overrides", "{}") != "{}":
        out.print(f"overrides: {ds.attrs['overrides']}", highlight=False, soft_wrap=True)


def _print_by_scenario(ds) -> None:
    """Medians of the key margins by scenario in the last two summary years: one table, or on a
    terminal narrower than it (under 100 columns) one table a year, so that no name folds."""
    import json

    from .summary import KEY_MARGINS, summary_years

    years = summary_years(ds)[-2:]
    draws = json.loads(ds.attrs["scenario_draws"])
    groups = ds[list(KEY_MARGINS)].sel(year=years).groupby("scenario").median("draw")
    pooled = ds[list(KEY_MARGINS)].sel(year=years).median("draw")
    rows = [(name, draws[name], groups.sel(scenario=name)) for name in draws if name in groups["scenario"].values]
    rows.append(("pooled", ds.sizes["draw"], pooled))
    short = {v: v.replace("_operating_margin", " OM").replace("_gross_margin", " GM") for v in KEY_MARGINS}
    per_table = [years] if out.width >= 100 else [[y] for y in years]
    for table_years in per_table:
        title = "medians by scenario (pooled = the weighted mixture)" + (f", {table_years[0]}" if len(table_years) == 1 else "")
        table = _table(title=title, title_justify="left")
        table.add_column("scenario", no_wrap=True)
        table.add_column("draws", justify="right", no_wrap=True)
        cols = [(v, y) for v in KEY_MARGINS for y in table_years]
        for v, y in cols:
            table.add_column(short[v] if len(table_years) == 1 else f"{short[v]} {y}", justify="right", no_wrap=True)
        for name, n, g in rows:
            table.add_row(name, f"{n:,}", *(numbers.value(float(g[v].sel(year=y)), True) for v, y in cols))
        out.print(table)


def _by_scenario_frame(ds):
    """Medians of the key margins by scenario and pooled, in the summary years: scenario, draws,
    variable, year, units, P50."""
    import json

    import pandas as pd

    from .summary import KEY_MARGINS, summary_years

    years = summary_years(ds)
    draws = json.loads(ds.attrs["scenario_draws"])
    groups = ds[list(KEY_MARGINS)].sel(year=years).groupby("scenario").median("draw")
    pooled = ds[list(KEY_MARGINS)].sel(year=years).median("draw")
    parts = [(name, draws[name], groups.sel(scenario=name)) for name in draws if name in groups["scenario"].values]
    parts.append(("pooled", ds.sizes["draw"], pooled))
    return pd.DataFrame([(name, n, v, y, _units(ds, v), float(g[v].sel(year=y))) for name, n, g in parts for v in KEY_MARGINS
                         for y in years], columns=["scenario", "draws", "variable", "year", "units", "P50"])


def _print_correlations(ds, sc) -> None:
    from .correlation import achieved

    table = _table(title=f"rank correlations ({sc.correlations.copula} copula)", title_justify="left")
    for col in ("parameter", "with", "target", "achieved"):
        table.add_column(col, justify="right" if col in ("target", "achieved") else "left")
    for a, b, target, got in achieved({p: ds[p].values for p in sc.correlations.parameters}, sc.correlations):
        table.add_row(a, b, f"{target:+.2f}", f"{got:+.3f}")
    out.print(table)


@app.command()
def scenarios(folder: Path = typer.Argument(Path("scenarios"), help="Folder of scenario files."),
              fmt: str = _FORMAT, output: Optional[Path] = _OUTPUT):
    """List the scenario library, each with its story in one line."""
    from .scenario import read_yaml

    fmt = _export_format(fmt, output)
    files = sorted(folder.glob("*.yaml"))
    if not files:
        _fail(OptionError("FOLDER", str(folder), "no scenario files (*.yaml) here"))
    rows = []
    table = _table(title=f"scenarios in {folder}", title_justify="left")
    for col in ("file", "kind", "extends", "story"):
        table.add_column(col)
    for f in files:
        try:
            doc, _ = read_yaml(f)
        except ScenarioError as e:
            table.add_row(f.name, Text("unreadable", style="red"), "", str(e.problems[0].message))
            rows.append((f.name, "", "unreadable", "", str(e.problems[0].message)))
            continue
        kind = f"set of {len(doc['scenarios'])}" if isinstance(doc.get("scenarios"), dict) else "scenario"
        table.add_row(str(doc.get("name", f.stem)), kind, str(doc.get("extends", "")), str(doc.get("description", "")))
        rows.append((f.name, str(doc.get("name", f.stem)), kind, str(doc.get("extends", "")), str(doc.get("description", ""))))
    if fmt != "table":
        import pandas as pd

        return _export(fmt, output, {"scenarios": pd.DataFrame(rows, columns=["file", "name", "kind", "extends", "story"])})
    out.print(table)


@app.command()
def compare(
    runs: list[Path] = typer.Argument(..., help="Two or more saved runs (.nc or .zarr); the first is the reference."),
    year: Optional[list[int]] = typer.Option(None, "--year", help="Years to compare (default: first projected, 2028, 2030, horizon)."),
    threshold: Optional[list[str]] = typer.Option(None, "--threshold", help=_THRESHOLD_HELP),
    fmt: str = _FORMAT,
    output: Optional[Path] = _OUTPUT,
):
    """Key quantiles and threshold probabilities side by side, differences with Monte Carlo errors, and what changed."""
    from .compare import compare_runs, scenario_diff, unique_names
    from .summary import KEY_MARGINS

    thresholds = _thresholds(threshold)
    fmt = _export_format(fmt, output)
    if len(runs) < 2:
        _fail(OptionError("RUNS", [str(r) for r in runs], "give two or more runs"))
    loaded = [_load_run(r, command="compare") for r in runs]
    for path, ds in zip(runs, loaded):
        _require(ds, KEY_MARGINS, path)
    names = unique_names([r.stem for r in runs])
    for ds in loaded:
        _check_years(ds, year)
    result = compare_runs(loaded, names=names, years=year, thresholds=thresholds)
    if fmt != "table":
        import pandas as pd

        from .export import ROW

        first = names[0]
        table = _by_variable(result, loaded[0]).rename(
            columns={c: c.replace(" diff", f" - {first}") for c in result.columns if " diff" in c})
        changes = pd.concat([scenario_diff(loaded[0], ds).rename(columns={"a": "from", "b": "to"})
                            .assign(**{"from run": first, "to run": n})[["from run", "to run", "scenario", "path", "from", "to"]]
                             for n, ds in zip(names[1:], loaded[1:])], ignore_index=True)
        return _export(fmt, output, {"comparison": table, "changes": changes},
                       {"comparison": dict.fromkeys([c for c in table.columns if c not in result.index.names and c != "units"], ROW)})
    for var in result.index.get_level_values(0).unique():
        table = _table(title=var, title_justify="left")
        table.add_column("year")
        table.add_column("statistic")
        for n in names:
            table.add_column(n, justify="right")
        for n in names[1:]:
            table.add_column(f"{n} - {names[0]}", justify="right")
        units = loaded[0][var].attrs.get("units", "")
        for (y, stat), row in result.loc[var].iterrows():
            pct = numbers.is_fraction(units, stat)
            cells = [numbers.estimate(row[n], row[f"{n} se"], pct) for n in names]
            cells += [numbers.difference(row[f"{n} diff"], row[f"{n} diff se"], pct) for n in names[1:]]
            table.add_row(str(y), stat, *cells)
        out.print(table)
    for r, ds in zip(runs[1:], loaded[1:]):
        diff = scenario_diff(loaded[0], ds)
        table = _table(title=f"what changed: {runs[0].stem} -> {r.stem}", title_justify="left")
        for col in ("scenario", "path", runs[0].stem, r.stem):
            table.add_column(col)
        for row in diff.itertuples(index=False):
            table.add_row(*(str(x) for x in row))
        if diff.empty:
            table.add_row("", "(no difference in assumptions)", "", "")
        out.print(table)


def _thresholds(items: list[str] | None) -> dict[str, float]:
    """``--threshold VARIABLE=VALUE`` (repeatable; ``0.6`` or ``60%``) over the default thresholds."""
    import math

    from .compare import DEFAULT_THRESHOLDS
    from .glossary import OUTPUTS
    from .scenario import suggest

    out = dict(DEFAULT_THRESHOLDS)
    for item in items or []:
        name, eq, text = (part.strip() for part in item.partition("="))
        if not eq or not name:
            _fail(OptionError("--threshold", item, "expected VARIABLE=VALUE, for example nvda_gross_margin=0.60 or =60%"))
        if name not in OUTPUTS:
            _fail(OptionError("--threshold", item, f"no output named '{name}'{suggest(name, OUTPUTS)}"))
        try:
            value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            _fail(OptionError("--threshold", item, "VALUE must be a finite number, a fraction (0.60) or a percent (60%)"))
        out[name] = value
    return out


#: What each command that reads runs needs their draws for (a summary file holds none).
_NEEDS_DRAWS = {
    "compare": "its differences of quantiles pair the runs' draws",
    "reverse-stress": "the draws inside the event",
    "update": "the draws it reweights",
}


def _check_scheduler(scheduler: str | None) -> None:
    """Refuse a --scheduler that is none of threads, processes, synchronous or tcp://host:port (None: no dask)."""
    if scheduler is not None and not (scheduler in ("threads", "processes", "synchronous") or scheduler.startswith("tcp://")):
        _fail(OptionError("--scheduler", scheduler, "must be threads, processes, synchronous or tcp://host:port"))


def _memory_budget(memory: str | None) -> int | None:
    """Bytes of a --memory budget such as 4GB (None: no budget), or the refusal naming the option."""
    from .scale import parse_memory

    try:
        return parse_memory(memory) if memory is not None else None
    except ValueError as e:
        _fail(OptionError("--memory", memory, str(e)))


def _no_scheduler(address: str) -> OptionError:
    """The refusal of a --scheduler address where no dask scheduler answers."""
    return OptionError("--scheduler", address, "no dask scheduler answered there within 5 s; start one "
                                               "(dask scheduler) or check the address")


def _dask_client(address: str):
    """A dask.distributed Client of the scheduler at ``address`` (tcp://host:port), or the refusal."""
    from distributed import Client

    try:
        return Client(address, timeout="5s")
    except OSError:
        _fail(_no_scheduler(address))


def _load_run(path: Path, summary_ok: bool = False, command: str = ""):
    """A saved run; a summary (risk run --summary) only where ``summary_ok``, else a refusal
    that names what the ``command`` needs the draws for."""
    from .io import RunFileError, load_run
    from .summarise import is_summary_file, load_summary

    if is_summary_file(path):
        if not summary_ok:
            why = _NEEDS_DRAWS.get(command, "it reads the draws")
            _fail(RunFileError(path, f"is a summary (risk run --summary): it holds no draws, and risk {command} needs them "
                                     f"for {why}; make a full run (risk run ... --out RUN.nc, or --out RUN.zarr on dask), "
                                     "or read the summary's figures with risk analyze"))
        try:
            return load_summary(path)
        except RunFileError as e:
            _fail(e)
    try:
        return load_run(path)
    except RunFileError as e:
        _fail(e)


def _require(ds, names, path: Path) -> None:
    """Refuse a run saved with --keep that lacks an output the command needs, naming it."""
    from .io import MissingOutputError, require_outputs

    try:
        require_outputs(ds, names, path)
    except MissingOutputError as e:
        _fail(e)


def _estimates_table(title: str, df, ds) -> Table:
    """Rows (variable, year, statistic) of values with their errors, in one number format."""
    table = _table(title=title, title_justify="left")
    for col in (*df.index.names, "value", "± se"):
        table.add_column(str(col), justify="right" if col in ("value", "± se") else "left")
    for (var, year, stat), row in df.iterrows():
        units = ds[var].attrs.get("units", "")
        pct = numbers.is_fraction(units, stat)
        shown = stat if pct or not units else f"{stat} [{units}]"
        table.add_row(var, str(year), shown, numbers.value(row["value"], pct), numbers.error(row["se"], pct))
    return table


@app.command()
def analyze(
    run_file: Path = typer.Argument(..., help="A saved run (.nc file or .zarr folder)."),
    variable: Optional[list[str]] = typer.Option(None, "--variable", "-v", help="Output variables (default: the key margins)."),
    year: Optional[list[int]] = typer.Option(None, "--year", help="Years (default: first projected, 2028, 2030, horizon)."),
    level: float = typer.Option(0.95, "--level", help="Confidence level of VaR and expected shortfall."),
    threshold: Optional[list[str]] = typer.Option(None, "--threshold", help=_THRESHOLD_HELP),
    fmt: str = _FORMAT,
    output: Optional[Path] = _OUTPUT,
):
    """Mean, sd, quantiles, VaR, expected shortfall and threshold probabilities, each with its Monte Carlo error."""
    from . import accessor  # noqa: F401
    from .summary import KEY_MARGINS

    if not 0 < level < 1:
        _fail(OptionError("--level", level, "must be in (0, 1), for example 0.95"))
    thresholds = _thresholds(threshold)
    fmt = _export_format(fmt, output)
    ds = _load_run(run_file, summary_ok=True)
    if ds.attrs.get("kind") == "risk summary":
        return _analyze_summary(ds, run_file, variable, year, level, thresholds, fmt, output)
    _check_years(ds, year)
    _require(ds, variable or KEY_MARGINS, run_file)
    try:
        df = ds.risk.summary(list(variable or KEY_MARGINS), years=year, level=level, thresholds=thresholds)
    except KeyError as e:
        _fail(OptionError("--variable/--year", variable, str(e).strip('"')))
    if fmt != "table":
        from .export import ROW

        return _export(fmt, output, {"estimates": _by_variable(df, ds)}, {"estimates": {"value": ROW, "se": ROW}})
    out.print(_estimates_table(f"{ds.attrs.get('scenario')}: {ds.sizes['draw']:,} draws, seed {ds.attrs.get('seed')}", df, ds))


def _analyze_summary(ds, path, variable, year, level, thresholds, fmt, output) -> None:
    """``risk analyze`` of a summary file: its figures, with the bound of each bounded one."""
    from .summarise import SummaryError, summary_table
    from .summary import KEY_MARGINS

    if "quarter" in ds.dims:
        if year:
            _fail(OptionError("--year", list(year), "this summary is by quarter (risk run --summary --quarterly): its "
                                                    "figures are shown for the summary's quarters; summarise by year for --year"))
    else:
        _check_years(ds, year)
    try:
        df = summary_table(ds, list(variable or KEY_MARGINS), years=year, level=level, thresholds=thresholds)
    except SummaryError as e:
        _fail(OptionError(e.option or "--variable", e.value, str(e)))
    units = dict(zip(ds["variable"].values, ds["units"].values))
    if fmt != "table":
        from .export import ROW

        flat = df.reset_index()
        flat.insert(3, "units", [_units(None, v, s) for v, s in zip(flat["variable"], flat["statistic"])])
        return _export(fmt, output, {"estimates": flat}, {"estimates": {"value": ROW, "se": ROW, "bound": ROW}})
    pooled = ds.attrs.get("pooled")
    table = _table(title=f"{ds.attrs.get('scenario')}{' (pooled)' if pooled else ''}: {ds.attrs['draws']:,} draws summarised "
                         f"(no draws stored), seed {ds.attrs.get('seed')}", title_justify="left")
    for col in ("variable", "quarter" if "quarter" in ds.dims else "year", "statistic", "value", "± se", "bound"):
        table.add_column(col, justify="right" if col in ("value", "± se", "bound") else "left")
    for (var, y, stat), row in df.iterrows():
        pct = numbers.is_fraction(str(units[var]), stat)
        shown = stat if pct or not units[var] else f"{stat} [{units[var]}]"
        bound = "exact" if row["bound"] == 0 else "± " + numbers.error(row["bound"], pct)
        table.add_row(var, str(y), shown, numbers.value(row["value"], pct), numbers.error(row["se"], pct), bound)
    out.print(table)
    out.print("exact: mean, sd and P(< x), from every draw; bounded: quantiles, VaR and ES, within the bound shown of the "
              "same draws' figures", highlight=False, soft_wrap=True)


@app.command()
def sensitivity(
    scenario: Path = typer.Argument(..., help="Scenario file (YAML)."),
    method: str = typer.Option("sobol", "--method", "-m", help="tornado, spearman, prcc or sobol."),
    variable: str = typer.Option("nvda_gross_margin", "--variable", "-v", help="Output variable."),
    year: Optional[list[int]] = typer.Option(None, "--year", help="Years to show (default: 2028, 2030 and the horizon)."),
    draws: int = typer.Option(4096, "--draws", "-n", help="Draws (for sobol: the base sample; the model runs n·(k+3) times)."),
    seed: Optional[int] = typer.Option(None, "--seed", "-s"),
    top: int = typer.Option(10, "--top", help="Rows to show, ranked by the last year."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Override PATH=VALUE, repeatable."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="sobol: stream the design on dask (threads, processes, synchronous or tcp://host:port), at constant memory; intervals from batch means."),
    chunk_size: Optional[int] = typer.Option(None, "--chunk-size", help="sobol: base rows a streamed chunk (default: about 2,048, on batch edges); implies streaming."),
    fmt: str = _FORMAT,
    output: Optional[Path] = _OUTPUT,
):
    """Which assumptions drive an output, year by year."""
    from .sensitivity import model_sobol, rank_correlations, tornado
    from .simulate import simulate

    methods = ("tornado", "spearman", "prcc", "sobol")
    if method not in methods:
        _fail(OptionError("--method", method, f"must be one of: {', '.join(methods)}"))
    if draws < 100:
        _fail(OptionError("--draws", draws, "must be at least 100: fewer cannot rank the drivers"))
    if top < 1:
        _fail(OptionError("--top", top, "must be at least 1"))
    if method != "sobol" and (scheduler is not None or chunk_size is not None):
        _fail(OptionError("--scheduler" if scheduler is not None else "--chunk-size", scheduler or chunk_size,
                          "streams a Sobol design: only with --method sobol"))
    _check_scheduler(scheduler)
    if chunk_size is not None and chunk_size < 1:
        _fail(OptionError("--chunk-size", chunk_size, "must be at least 1 (base rows of the Sobol design a chunk)"))
    fmt = _export_format(fmt, output)
    sc = _scenario(scenario, set_)
    from .mixture import ScenarioSet

    if isinstance(sc, ScenarioSet):
        _fail(OptionError("SCENARIO", str(scenario), "sensitivity needs one scenario, not a scenario set"))
    st = sc.settings
    projected = range(st.base_year + 1, st.base_year + st.horizon + 1)
    if year and any(y not in projected for y in year):
        _fail(OptionError("--year", year, f"the scenario's projected years are {projected[0]}-{projected[-1]}"))
    years = year or sorted({y for y in (2028, 2030, st.base_year + st.horizon) if st.base_year < y <= st.base_year + st.horizon})
    from .progress import PREPARING

    sink = _progress()
    try:
        if method == "tornado":
            res = tornado(sc, variable, draws=draws, seed=seed, progress=sink)
            df = res["swing"].sel(year=years).to_pandas()
            title = f"tornado: swing of mean {variable} between each parameter's P10 and P90 ({draws:,} draws)"
        elif method in ("spearman", "prcc"):
            sink.phase(PREPARING)
            ds = simulate(sc, draws=draws, seed=seed, progress=sink.counter("simulating"))
            sink.phase("rank correlations")
            df = rank_correlations(ds, variable, method)[years]
            title = f"{method}: rank correlation with {variable} ({draws:,} draws)"
        else:
            try:
                res = model_sobol(sc, [variable], n=draws, seed=seed, progress=sink, chunk_size=chunk_size,
                                  scheduler=scheduler)
            except OSError:
                _fail(_no_scheduler(scheduler))
            ind = res.indices.sel(variable=variable, year=years)
            df = ind["ST"].to_pandas()
            conf = ind["ST_conf"].to_pandas()
            s1 = ind["S1"].to_pandas()
            chunks = res.indices.attrs.get("chunks", 0)
            how = (f", streamed in {chunks:,} chunk{'s' if chunks != 1 else ''} on {scheduler or 'threads'}; "
                   "CI from batch means"
                   if chunks else "")
            title = (f"sobol: total (first-order) indices of {variable}, ±95% CI ({res.indices.attrs['evaluations']:,} "
                     f"evaluations{how})")
    except KeyError as e:
        _fail(OptionError("--variable", variable, str(e).strip('"')))
    sink.end()
    order = df[years[-1]].abs().sort_values(ascending=False).index[:top]
    if fmt != "table":
        import pandas as pd

        from .export import ROW

        rows = []
        for p in order:
            for y in years:
                if method == "sobol":
                    rows.append((variable, p, y, float(df.at[p, y]), float(s1.at[p, y]), float(conf.at[p, y])))
                else:
                    rows.append((variable, p, y, float(df.at[p, y])))
        if method == "sobol":
            cols, units = ["total index ST", "first-order index S1", "ST 95% CI half-width"], {}
        elif method == "tornado":
            cols, units = ["swing of the mean"], {"swing of the mean": ROW}
        else:
            cols, units = [f"{method} rank correlation"], {}
        frame = pd.DataFrame(rows, columns=["variable", "parameter", "year", *cols])
        if method == "tornado":
            frame.insert(3, "units", _units(None, variable))
        return _export(fmt, output, {method: frame}, {method: units})
    table = _table(title=title, title_justify="left")
    table.add_column("parameter")
    for y in years:
        table.add_column(str(y), justify="right")
    for p in order:
        if method == "sobol":
            cells = [f"{df.at[p, y]:.3f} ({s1.at[p, y]:.3f}) ±{conf.at[p, y]:.3f}" for y in years]
        else:
            cells = [f"{df.at[p, y]:+.4f}" for y in years]
        table.add_row(p, *cells)
    out.print(table)


@app.command()
def stress(
    scenario: Path = typer.Argument(..., help="Scenario file (YAML)."),
    pin: list[str] = typer.Option(..., "--pin", help="PATH=VALUE, PATH=P90 or PATH=P80-P100; repeatable."),
    draws: int = typer.Option(20_000, "--draws", "-n"),
    seed: Optional[int] = typer.Option(None, "--seed", "-s"),
    year: Optional[list[int]] = typer.Option(None, "--year"),
    fmt: str = _FORMAT,
    output: Optional[Path] = _OUTPUT,
):
    """Pin parameters, rerun on the same seed and draws, and report the shift of every key metric."""
    from .stress import parse_pin, stress_test

    fmt = _export_format(fmt, output)
    sc = _scenario(scenario)
    try:
        pins = [parse_pin(p) for p in pin]
        df = stress_test(sc, pins, draws=draws, seed=seed, years=year)
    except ScenarioError as e:
        _fail(e)
    if fmt != "table":
        from .export import ROW

        flat = _by_variable(df, None).assign(pins="; ".join(df.attrs["pins"]))
        return _export(fmt, output, {"stress": flat}, {"stress": dict.fromkeys(("base", "stressed", "shift", "shift se"), ROW)})
    table = _table(title=f"stress: {'; '.join(df.attrs['pins'])} ({draws:,} draws, same seed)", title_justify="left")
    for col in ("variable", "year", "statistic", "base", "stressed", "shift ± se"):
        table.add_column(col, justify="left" if col in ("variable", "statistic") else "right")
    from .glossary import OUTPUTS

    for (v, y, s), row in df.iterrows():
        pct = numbers.is_fraction(OUTPUTS[v].units if v in OUTPUTS else "", s)
        table.add_row(v, str(y), s, numbers.value(row["base"], pct), numbers.value(row["stressed"], pct),
                      numbers.difference(row["shift"], row["shift se"], pct))
    out.print(table)


@app.command("reverse-stress")
def reverse_stress_cmd(
    run_file: Path = typer.Argument(..., help="A saved run (.nc file or .zarr folder)."),
    event: str = typer.Option(..., "--event", "-e", help="For example 'nvda_gross_margin[2030] < 0.60' (conditions joined by 'and')."),
    top: int = typer.Option(8, "--top", help="Parameters to show."),
    fmt: str = _FORMAT,
    output: Optional[Path] = _OUTPUT,
):
    """What one must believe for a tail event: its probability, the parameters' shifts, and a PRIM box."""
    from .stress import reverse_stress

    if top < 1:
        _fail(OptionError("--top", top, "must be at least 1"))
    fmt = _export_format(fmt, output)
    ds = _load_run(run_file, command="reverse-stress")
    try:
        r = reverse_stress(ds, event)
    except ScenarioError as e:
        _fail(e)
    except ValueError as e:
        _fail(e)
    p = r.probability
    if fmt != "table":
        import pandas as pd

        from .export import FRACTION, ROW

        def units(name):  # a parameter's units; "1" is a ratio, not always a share
            u = ds[name].attrs.get("units", "") if name in ds else ""
            return "dimensionless" if u == "1" else u

        event = pd.DataFrame([{"event": r.event.text, "probability": p.value, "probability se": p.se, "draws": ds.sizes["draw"],
                               "box coverage": r.box.coverage, "box density": r.box.density, "box mass": r.box.mass}])
        shifts = r.shifts.head(top).reset_index()
        shifts.insert(1, "units", [units(n) for n in shifts["parameter"]])
        box = pd.DataFrame([(n, units(n), lo, hi) for n, (lo, hi) in r.box.limits.items()], columns=["parameter", "units", "from", "to"])
        fractions = dict.fromkeys(("probability", "probability se", "box coverage", "box density", "box mass"), FRACTION)
        return _export(fmt, output, {"event": event, "shifts": shifts, "box": box},
                       {"event": fractions, "shifts": {"median": ROW, "median in event": ROW, "share above median": FRACTION},
                        "box": {"from": ROW, "to": ROW}})
    out.print(f"P({r.event.text}) = {p.value:.4f} ± {p.se:.4f} ({ds.sizes['draw']:,} draws)", highlight=False, soft_wrap=True)
    table = _table(title="parameters inside the event against the whole run", title_justify="left")
    for col in ("parameter", "median", "median in event", "shift (sd)", "share above median"):
        table.add_column(col, justify="left" if col == "parameter" else "right")
    for name, row in r.shifts.head(top).iterrows():
        table.add_row(name, f"{row['median']:.4g}", f"{row['median in event']:.4g}", f"{row['shift (sd)']:+.2f}", f"{row['share above median']:.0%}")
    out.print(table)
    box = _table(title=f"PRIM box: coverage {r.box.coverage:.0%} of the event, density {r.box.density:.0%} "
                       f"(the event is {r.box.density / max(p.value, 1e-12):.1f}x as likely inside), {r.box.mass:.1%} of draws",
                 title_justify="left")
    for col in ("parameter", "from", "to"):
        box.add_column(col, justify="left" if col == "parameter" else "right")
    for name, (lo, hi) in r.box.limits.items():
        box.add_row(name, f"{lo:.4g}", f"{hi:.4g}")
    out.print(box)


@app.command("update")
def update_cmd(
    run_file: Path = typer.Argument(..., help="A saved run (.nc file or .zarr folder)."),
    observe: list[str] = typer.Option(..., "--observe", help="VARIABLE[YEAR] = VALUE +- SD, repeatable; e.g. 'nvda_gross_margin[2026] = 0.72 +- 0.01'; "
                                                           "a quarter (a run made with --quarterly): 'nvda_revenue[2026Q3] = 108 +- 2%' (guidance)."),
    out_file: Path = typer.Option(..., "--out", "-o", help="Write the update here (.nc or .zarr): the new weights, referring to RUN_FILE."),
    min_ess: float = typer.Option(100, "--min-ess", help="Refuse below this effective sample size (and below 1 % of the draws)."),
    resample: bool = typer.Option(False, "--resample", help="Resample the draws to equal weights."),
    top: int = typer.Option(8, "--top", help="Parameters to show."),
):
    """Reweight a run's draws by new reported figures; show what they taught and save the weights, referring to the run."""
    import warnings as _warnings

    from .io import OutputError, save_update, update_chain
    from .summary import KEY_MARGINS, quantile_table
    from .update import UpdateError, update

    _check_out(out_file)
    if out_file.resolve() in [p.resolve() for p in update_chain(run_file)]:
        _fail(OptionError("--out", str(out_file), "is the run being updated, or one it builds on: the update is saved as "
                                                  "weights that refer to that run, so it cannot replace it; choose another path"))
    ds = _load_run(run_file, command="update")
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        try:
            u = update(ds, observe, min_ess=min_ess, resample=resample)
        except ScenarioError as e:
            _fail(e)
        except UpdateError as e:
            _fail(e)
    for w in caught:
        err.print(_tagged("warning:", "yellow", w.message), highlight=False, soft_wrap=True)
    out.print(f"effective sample size {u.ess:,.0f} of {ds.sizes['draw']:,} draws, Pareto k̂ {u.khat:.2f} (reliable below 0.5, "
              "refused above 0.7)" + (", resampled to equal weights" if resample else ""), highlight=False)
    table = _table(title="what the observations taught: parameters before and after", title_justify="left")
    for col in ("parameter", "prior median", "posterior median", "prior sd", "posterior sd", "shift (prior sd)"):
        table.add_column(col, justify="left" if col == "parameter" else "right", no_wrap=col == "parameter")
    for name, r in u.shifts.head(top).iterrows():
        table.add_row(name, f"{r['prior median']:.4g}", f"{r['posterior median']:.4g}", f"{r['prior sd']:.3g}",
                      f"{r['posterior sd']:.3g}", f"{r['shift (prior sd)']:+.2f}")
    out.print(table)
    shown = [v for v in KEY_MARGINS if v in ds]  # a run saved with --keep may lack them
    before, after = (quantile_table(d, shown) if shown else None for d in (ds, u.run))
    table = _table(title="key margins before -> after", title_justify="left")
    for col in ("variable", "quarter" if "quarter" in ds.dims else "year", "P5", "P50", "P95"):
        table.add_column(col, justify="left" if col == "variable" else "right", no_wrap=col == "variable")
    for (var, year), row in (after.iterrows() if shown else ()):
        b = before.loc[(var, year)]
        table.add_row(var, str(year), *(f"{b[c]:.1%} -> {row[c]:.1%}" for c in ("P5", "P50", "P95")))
    out.print(table)
    try:
        save_update(u.run, out_file, run_file, original=ds)
    except OutputError as e:
        _fail(e)
    out.print(f"wrote {out_file}: the update's weights, referring to {run_file} (load it with risk.load_run or give it to "
              "any command in place of the run)", highlight=False, soft_wrap=True)


@app.command()
def hindcast(
    scenario: Path = typer.Option(Path("scenarios/hindcast_2023.yaml"), "--scenario", help="A scenario with an earlier base year."),
    draws: Optional[int] = typer.Option(None, "--draws", "-n"),
    seed: Optional[int] = typer.Option(None, "--seed", "-s"),
    out_file: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the table as Markdown (for example docs/hindcast.md)."),
    fmt: str = _FORMAT,
    output: Optional[Path] = _OUTPUT,
):
    """Score an annual-clock scenario based in an earlier year against the reported figures since (the rolling
    backtest of the quarterly model is `risk backtest`)."""
    from .hindcast import HINDCAST_SERIES
    from .hindcast import hindcast as run_hindcast
    from .hindcast import to_markdown, write_markdown

    _check_out(out_file, "file")
    fmt = _export_format(fmt, output)
    sink = _progress()
    try:
        table, ds = run_hindcast(scenario, draws=draws, seed=seed, progress=sink)
    except (ScenarioError, DataError) as e:
        _fail(e)
    sink.end()
    if fmt != "table":
        from .export import FRACTION, ROW

        flat = table.reset_index()
        flat.insert(2, "units", [_units(ds, HINDCAST_SERIES[s]) for s in flat["series"]])
        money = ("actual", "P5", "P50", "P95", "CRPS", "flat", "trend", "CRPS flat", "CRPS trend")
        _export(fmt, output, {"hindcast": flat}, {"hindcast": {**dict.fromkeys(money, ROW), "percentile rank": FRACTION}})
        if out_file is not None:
            write_markdown(to_markdown(table, ds), out_file)
            err.print(f"wrote {out_file}", highlight=False, soft_wrap=True)
        return
    t = _table(title=f"hindcast: {ds.attrs['scenario']} (base year {ds.attrs['base_year']}, {ds.sizes['draw']:,} draws)", title_justify="left")
    for col in ("series", "year", "actual", "P5", "P50", "P95", "rank", "in 50%", "in 90%", "CRPS"):
        t.add_column(col, justify="left" if col == "series" else "right")
    for (series, year), r in table.iterrows():
        t.add_row(series, str(year), f"{r['actual']:.3f}", f"{r['P5']:.3f}", f"{r['P50']:.3f}", f"{r['P95']:.3f}",
                  f"{r['percentile rank']:.0%}", "yes" if r["in 50%"] else "no", "yes" if r["in 90%"] else "no", f"{r['CRPS']:.3f}")
    out.print(t)
    out.print(f"coverage: {table['in 50%'].mean():.0%} in the 50% intervals, {table['in 90%'].mean():.0%} in the 90% intervals",
              highlight=False)
    if out_file is not None:
        write_markdown(to_markdown(table, ds), out_file)
        out.print(f"wrote {out_file}", highlight=False, soft_wrap=True)


@app.command()
def backtest(
    scenario: Path = typer.Option(Path("scenarios/backtest_2022.yaml"), "--scenario",
                                  help="A quarterly-clock scenario whose sources all predate the first origin."),
    draws: int = typer.Option(2000, "--draws", "-n", help="Draws at each origin."),
    seed: Optional[int] = typer.Option(None, "--seed", "-s"),
    first: str = typer.Option("2023Q1", "--first", help="First origin (a calendar quarter such as 2023Q1)."),
    out_file: Optional[Path] = typer.Option(None, "--out", "-o",
                                            help="Write the summary as Markdown (docs/backtest.md); the scored points go "
                                                 "beside it as CSV (docs/backtest.csv)."),
    fmt: str = _FORMAT,
    output: Optional[Path] = _OUTPUT,
):
    """Rolling-origin backtest: the quarterly model run from every past quarter with the data known then, scored."""
    from .backtest import backtest as run_backtest
    from .backtest import summary, to_markdown, write_markdown
    from .model.clock import parse_quarter

    _check_out(out_file, "file")
    fmt = _export_format(fmt, output)
    try:
        parse_quarter(first)
    except ValueError as e:
        _fail(OptionError("--first", first, "must be a calendar quarter such as 2023Q1"))
    try:
        if sys.stderr.isatty():
            with Progress(TextColumn("backtest"), BarColumn(), TextColumn("{task.completed}/{task.total} origins"),
                          TimeElapsedColumn(), console=err, transient=True) as bar:
                task = bar.add_task("origins", total=None)
                points = run_backtest(scenario, draws=draws, seed=seed, first=first,
                                      progress=lambda done, total: bar.update(task, completed=done, total=total))
        else:
            points = run_backtest(scenario, draws=draws, seed=seed, first=first)
    except (ScenarioError, DataError) as e:
        _fail(e)
    s = summary(points)
    if fmt != "table":
        from .export import FRACTION

        _export(fmt, output, {"summary": s.reset_index(), "points": points},
                {"summary": dict.fromkeys(("cover50", "cover90", "crps_rel"), FRACTION)})
    t = None if fmt != "table" else _table(title=f"backtest: {scenario.name}, {points['origin'].nunique()} origins, {len(points)} scored points",
               title_justify="left")
    if t is not None:
        for col in ("series", "horizon", "n", "50%", "90%", "CRPS/|x|", "vs flat", "vs trend"):
            t.add_column(col, justify="left" if col in ("series", "horizon") else "right", no_wrap=col == "series")
        for (series, bucket), r in s.iterrows():
            t.add_row(series, bucket, f"{int(r['points'])}", f"{r['cover50']:.0%}", f"{r['cover90']:.0%}", f"{r['crps_rel']:.1%}",
                      f"{r['skill_flat']:+.2f}", f"{r['skill_trend']:+.2f}")
        out.print(t)
    if out_file is not None:
        from .scenario import load_scenario

        sc = load_scenario(scenario)
        write_markdown(to_markdown(points, {"scenario": scenario.as_posix(), "draws": draws,
                                            "seed": sc.settings.seed if seed is None else seed}), out_file)
        csv = out_file.with_suffix(".csv")
        write_markdown(points.to_csv(index=False, float_format="%.6g"), csv)
        (out if t is not None else err).print(f"wrote {out_file} and {csv}", highlight=False, soft_wrap=True)


@app.command()
def report(
    runs: list[Path] = typer.Argument(..., help="One or more saved runs (.nc or .zarr), or one summary (risk run --summary)."),
    out_file: Path = typer.Option(Path("report.pdf"), "--out", "-o", help="report.pdf or report.html."),
    event: str = typer.Option("nvda_gross_margin[2030] < 0.60", "--event", "-e", help="Tail event of the reverse-stress summary."),
    year: int = typer.Option(2030, "--year", help="Target year of the distribution and sensitivity charts."),
    hindcast_scenario: Optional[Path] = typer.Option(Path("scenarios/hindcast_2023.yaml"), "--hindcast",
                                                     help="Hindcast scenario for the appendix (skipped if the file is missing)."),
    threshold: Optional[list[str]] = typer.Option(None, "--threshold", help=_THRESHOLD_HELP),
    data: Path = typer.Option(Path("scenarios/data"), "--data",
                              help="Folder with quarterly.csv: the current year's reported quarters go beside the model "
                                   "on the first page (skipped if the file is missing)."),
    label: Optional[list[str]] = typer.Option(None, "--label", help="Name of each run, in order, one per run "
                                                                     "(default: its scenario, numbered if two share one)."),
    backtest_points: Optional[Path] = typer.Option(Path("docs/backtest.csv"), "--backtest",
                                                   help="Scored points of `risk backtest` for the appendix "
                                                        "(skipped if the file is missing)."),
):
    """Write the PDF (or HTML) report of one or more runs, or of one summary, and its numbers to an .xlsx workbook beside it.

    With several runs it compares them: differences from the first with Monte Carlo errors,
    one colour per run in every chart, cumulative distributions, and for two runs whose
    scenarios differ by overrides a waterfall of what moved the median."""
    from .data import read_quarterly
    from .hindcast import hindcast as run_hindcast
    from .io import RunFileError
    from .report import MIXED_REFUSAL, REPORT_OUTPUTS, build_report, run_labels
    from .summarise import SummaryError, is_summary

    _check_out(out_file, "file")
    if out_file.suffix.lower() in (".pdf", ".html"):
        _check_out(out_file.with_suffix(".xlsx"), "file")
    thresholds = _thresholds(threshold)
    if label:
        try:
            run_labels(runs, label)
        except ValueError as e:
            _fail(OptionError("--label", list(label), str(e)))
    sink = _progress()
    sink.phase("loading")
    loaded = [_load_run(r, summary_ok=True) for r in runs]
    summaries = [path for path, ds in zip(runs, loaded) if is_summary(ds)]
    if summaries and len(runs) > 1:
        _fail(RunFileError(summaries[0], MIXED_REFUSAL))
    if summaries and "quarter" in loaded[0].dims:
        _fail(RunFileError(summaries[0], "is a summary by quarter (risk run --summary --quarterly); a report reads figures "
                                         "by year: summarise by year for the report"))
    for path, ds in zip(runs, loaded):
        if not is_summary(ds):
            _require(ds, REPORT_OUTPUTS, path)
    _check_years(loaded[0], [year], projected=True)
    hc = None
    if hindcast_scenario is not None and hindcast_scenario.is_file():
        try:
            sink.phase("hindcast")
            hc = run_hindcast(hindcast_scenario, draws=5000)
        except (ScenarioError, DataError) as e:
            _fail(e)
    quarterly = None
    if (data / "quarterly.csv").is_file():
        try:
            quarterly = read_quarterly(data)
        except DataError as e:
            _fail(e)
    bt = None
    if backtest_points is not None and backtest_points.is_file():
        import pandas as pd

        try:
            bt = pd.read_csv(backtest_points)
        except (OSError, ValueError, pd.errors.ParserError) as e:
            _fail(OptionError("--backtest", str(backtest_points), f"cannot be read as the CSV `risk backtest` writes: {e}"))
        missing = {"series", "origin", "pit", "in50", "in90", "crps", "crps_flat", "crps_trend", "actual", "kind",
                   "horizon"} - set(bt.columns)
        if missing:
            _fail(OptionError("--backtest", str(backtest_points),
                              f"lacks the column(s) {', '.join(sorted(missing))} that `risk backtest --out` writes"))
    try:
        build_report(loaded, out_file, event=event, target_year=year, hindcast=hc, quarterly=quarterly,
                     thresholds=thresholds, labels=label or None, backtest=bt, progress=sink)
    except ScenarioError as e:
        _fail(e)
    except SummaryError as e:
        _fail(OptionError(e.option, e.value, str(e)) if e.option else e)
    except ValueError as e:
        _fail(e)
    sink.end()
    out.print(f"wrote {out_file} and {out_file.with_suffix('.xlsx')}", highlight=False, soft_wrap=True)


def _has_display() -> bool:
    """Whether a browser can be shown: macOS and Windows always; elsewhere a DISPLAY or WAYLAND_DISPLAY."""
    import os

    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


@app.command()
def explore(
    scenario: Path = typer.Argument(..., help="Scenario or scenario-set file (YAML)."),
    port: int = typer.Option(5006, "--port", help="Serve the page on localhost at this port."),
    draws: int = typer.Option(100_000, "--draws", "-n", help="Draws of each rerun."),
    seed: Optional[int] = typer.Option(None, "--seed", "-s", help="Seed of every rerun (default: the scenario's)."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Do not open a browser (none is opened without a display)."),
    save_to: Optional[Path] = typer.Option(None, "--save-to", help="Where the save button writes (default: NAME_whatif.yaml here; editable on the page)."),
    drivers: int = typer.Option(6, "--drivers", help="How many of the top drivers get a control."),
):
    """Serve a what-if page: move the top drivers (and a set's weights), see the margins rerun; save as a scenario."""
    import socket

    from .explore import INSTALL_HINT, MAX_DRAWS, MIN_DRAWS

    if not 1 <= port <= 65535:
        _fail(OptionError("--port", port, "must be a port number from 1 to 65535"))
    if not MIN_DRAWS <= draws <= MAX_DRAWS:
        _fail(OptionError("--draws", draws, f"must be from {MIN_DRAWS:,} to {MAX_DRAWS:,}: enough for the probabilities, few enough to rerun at once"))
    if seed is not None and not 0 <= seed < 2**63:
        _fail(OptionError("--seed", seed, "must be from 0 to 2^63 - 1"))
    if not 1 <= drivers <= 20:
        _fail(OptionError("--drivers", drivers, "must be from 1 to 20"))
    if save_to is not None and save_to.suffix not in (".yaml", ".yml"):
        _fail(OptionError("--save-to", str(save_to), "must be a .yaml file"))
    try:
        import panel  # noqa: F401
    except ImportError:
        _fail(RuntimeError(INSTALL_HINT))
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as e:
            _fail(OptionError("--port", port, f"cannot serve there ({e.strerror}); choose another port"))
    from .explore import Explorer, serve

    sc = _scenario(scenario)
    start = time.perf_counter()
    try:
        explorer = Explorer(sc, draws=draws, seed=seed, n_drivers=drivers)
        first = explorer.run()
    except (ScenarioError, DataError) as e:
        _fail(e)
    save_to = save_to if save_to is not None else Path(f"{explorer.name}_whatif.yaml")
    out.print(f"serving the what-if explorer of '{explorer.name}' at http://localhost:{port}/ "
              f"({draws:,} draws a rerun, seed {explorer.seed}; ready in {time.perf_counter() - start:.1f} s; Ctrl+C stops)",
              highlight=False, soft_wrap=True)
    sys.stdout.flush()
    try:
        serve(explorer, port, show=not no_browser and _has_display(), save_to=save_to, first=first)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":  # pragma: no cover
    app()
