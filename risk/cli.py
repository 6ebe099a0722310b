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
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import __version__
from .errors import DataError, ScenarioError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Monte Carlo scenarios of NVIDIA's and AWS's margins as hyperscalers move to their own chips.",
)
out = Console()
err = Console(stderr=True)

#: Runs with at least this many draws show a progress bar.
PROGRESS_FROM = 200_000


def _fail(e: Exception) -> None:
    err.print(f"[bold red]error:[/] {e}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(2)


def _version(value: bool):
    if value:
        out.print(f"risk {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
):
    """risk: distributions, not single forecasts, of NVIDIA and AWS margins."""


def _scenario(path: Path):
    from .scenario import load_scenario

    try:
        return load_scenario(path)
    except ScenarioError as e:
        _fail(e)


@app.command()
def validate(scenarios: list[Path] = typer.Argument(..., help="Scenario files to check.")):
    """Check scenario files against the schema; print what is wrong, naming each key path."""
    failed = False
    from .scenario import load_scenario

    for path in scenarios:
        try:
            sc = load_scenario(path)
        except ScenarioError as e:
            err.print(f"[bold red]invalid:[/] {e}", highlight=False, soft_wrap=True)
            failed = True
            continue
        n_random = sum(not d.is_fixed for d in sc.parameters.values())
        out.print(
            f"[green]ok[/] {path}: scenario '{sc.name}', {len(sc.parameters)} parameters ({n_random} uncertain), "
            f"{sc.settings.horizon} years from {sc.settings.base_year}, hash {sc.hash[:12]}",
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
    out_file: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the run to this NetCDF file."),
    dtype: str = typer.Option("float32", "--dtype", help="Storage of outputs: float32 or float64."),
):
    """Simulate a scenario; print P5/P50/P95 of the key margins; optionally save the run."""
    from .io import save_run
    from .simulate import simulate
    from .summary import quantile_table

    sc = _scenario(scenario)
    n = draws if draws is not None else sc.settings.draws
    start = time.perf_counter()
    try:
        if n >= PROGRESS_FROM and sys.stderr.isatty():
            with Progress(TextColumn("simulating"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,} draws"),
                          TimeElapsedColumn(), console=err, transient=True) as bar:
                task = bar.add_task("run", total=n)
                ds = simulate(sc, draws=draws, seed=seed, sampling=sampling, dtype=dtype,
                              progress=lambda done, total: bar.update(task, completed=done))
        else:
            ds = simulate(sc, draws=draws, seed=seed, sampling=sampling, dtype=dtype)
    except (ScenarioError, DataError) as e:
        _fail(e)
    elapsed = time.perf_counter() - start

    table = Table(title=f"{sc.name}: {ds.attrs['draws']:,} draws, seed {ds.attrs['seed']}, {ds.attrs['sampling']} "
                        f"({elapsed:.1f} s)", title_justify="left")
    for col in ("variable", "year", "P5", "P50", "P95"):
        table.add_column(col, justify="left" if col == "variable" else "right")
    q = quantile_table(ds)
    for (var, year), row in q.iterrows():
        table.add_row(var, str(year), *(f"{v:.1%}" for v in row))
    out.print(table)
    if out_file is not None:
        save_run(ds, out_file)
        out.print(f"wrote {out_file} (scenario hash {ds.attrs['scenario_hash'][:12]}, risk {__version__})",
                  highlight=False, soft_wrap=True)


if __name__ == "__main__":  # pragma: no cover
    app()
