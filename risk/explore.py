"""The what-if explorer: move the top drivers of a scenario (and a set's weights), rerun, see.

``risk explore SCENARIO`` serves a local web page (Panel) with one control for each of the
top drivers of the key margins and, for a scenario set, one weight per scenario. Each change
reruns the model in-process on the same seed (common random numbers: a difference between
two settings comes from the assumptions alone) and redraws the fan charts, the distributions
in the target year, the P50s and the threshold probabilities. A button saves the current
assumptions as a scenario file that extends the original and records what changed.

A control moves its parameter's whole distribution by a shift Δ (a translation: the mode,
bounds, ``ci90`` or mean move by Δ, the shape stays), within the parameter's domain and at
most one 90% width either way. For a scenario the control shows the parameter's median; for
a set it shows Δ, applied to the parameter in every scenario of the set.

Everything but :func:`build_page` and :func:`serve` is plain Python and tested without a
browser; Panel is imported only there (the ``explore`` extra).
"""

from __future__ import annotations

import io
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from . import metrics, numbers
from .compare import DEFAULT_THRESHOLDS
from .distributions import Distribution
from .errors import DataError, OptionError, Problem, ScenarioError
from .glossary import OUTPUTS, PARAMETERS
from .mixture import Member, ScenarioSet, load_scenario_set
from .scenario import Scenario, load_scenario, scenario_from_dict
from .summary import KEY_MARGINS

__all__ = ["Control", "Change", "Results", "Explorer", "shift_entry", "shift_range", "top_drivers", "is_shiftable",
           "build_page", "control_class", "serve", "charts", "load_target", "INSTALL_HINT", "MIN_DRAWS", "MAX_DRAWS"]

#: How to get the explorer's dependencies.
INSTALL_HINT = "risk explore needs Panel: install it with pip install -e '.[explore]' (or pip install 'panel>=1.9')"

#: Draws a rerun may take: enough for the threshold probabilities, few enough to stay interactive.
MIN_DRAWS, MAX_DRAWS = 1_000, 2_000_000

#: Distributions a control can move by a translation, and the entry fields that move.
_LOCATION_FIELDS = ("ci90", "mode", "min", "max", "mean", "value", "values")
_BOUNDS = {"beta": ("min", "max"), "truncnormal": ("lower", "upper")}
SHIFTABLE = ("fixed", "uniform", "triangular", "pert", "normal", "truncnormal", "beta", "choice")


def _round(x: float) -> float:
    """``x`` to 10 significant digits: shifted values read as written (0.35, not 0.35000000000000003)."""
    return float(f"{x:.10g}")


def is_shiftable(path: str, dist: Distribution) -> bool:
    """Whether a control can move ``dist`` (of parameter ``path``) by a translation.

    Whole-number parameters (lives) and distributions that are not a location family
    (lognormal, bernoulli) are not moved.
    """
    return dist.dist in SHIFTABLE and not PARAMETERS[path].integer


def shift_entry(entry: dict, dist: Distribution, delta: float) -> dict:
    """A scenario-file entry for ``dist`` moved by ``delta`` (units of the parameter).

    Parameters
    ----------
    entry : dict
        The parameter's mapping as written (``dist``, its parameters or ``ci90``, ``source``,
        ``note``).
    dist : Distribution
        The validated distribution of ``entry`` (for the bounds a file may leave implicit).
    delta : float
        The shift, in the parameter's units.

    Returns
    -------
    dict
        A new entry whose distribution is ``dist`` translated by ``delta``: every location
        field given (``ci90``, ``mode``, ``min``, ``max``, ``mean``, ``value``, ``values``)
        moves, and so do the support bounds of a beta (``min``, ``max``) or a truncated
        normal (``lower``, ``upper``), written out where the file left them at their defaults.
    """
    new = dict(entry)
    for key in _LOCATION_FIELDS:
        if new.get(key) is not None:
            v = new[key]
            new[key] = [_round(x + delta) for x in v] if isinstance(v, (list, tuple)) else _round(v + delta)
    for key in _BOUNDS.get(dist.dist, ()):
        bound = getattr(dist, key)
        if math.isfinite(bound):
            new[key] = _round(bound + delta)
    return new


def shift_range(path: str, dist: Distribution) -> tuple[float, float]:
    """The shifts (lo <= 0 <= hi) that keep ``dist`` inside the domain of parameter ``path``,
    at most one 90% width (P95 - P5) either way; units of the parameter."""
    lo, hi = PARAMETERS[path].domain
    slo, shi = dist.support()
    p5, p95 = (float(x) for x in dist.ppf(np.array([0.05, 0.95])))
    width = p95 - p5 if p95 > p5 else max(abs(p5), 1.0) * 0.2
    return max(lo - slo, -width), min(hi - shi, width)


def _median(dist: Distribution) -> float:
    return float(dist.ppf(np.array([0.5]))[0])


def _step(width: float) -> float:
    """A round slider step, about a hundredth of ``width``."""
    return 10.0 ** math.floor(math.log10(width / 100)) if width > 0 else 0.01


def _entry(raw: dict, path: str) -> dict:
    node = raw
    for part in path.split("."):
        node = node[part]
    return node


def _set_entry(doc: dict, path: str, entry: dict) -> None:
    *heads, leaf = path.split(".")
    for h in heads:
        doc = doc.setdefault(h, {})
    doc[leaf] = entry


def _target_year(years) -> int:
    """2030 if the run has it, else its last year."""
    years = [int(y) for y in years]
    return 2030 if 2030 in years else years[-1]


def top_drivers(target: Scenario | ScenarioSet, n: int = 6, draws: int = 4096, seed: int | None = None) -> list[str]:
    """The ``n`` parameters that drive the key margins most and that a control can move.

    Ranked by the largest absolute Spearman rank correlation with any of the key margins in
    the target year (2030, or the horizon), from a small run (``draws`` draws);
    :func:`risk.sensitivity.rank_correlations`. For a set, on the pooled run, and only
    parameters that every scenario of the set lets move.
    """
    from .sensitivity import rank_correlations
    from .simulate import simulate

    ds = simulate(target, draws=draws, seed=seed)
    year = _target_year(ds["year"].values)
    score = None
    for var in KEY_MARGINS:
        r = rank_correlations(ds, var)[year].abs()
        score = r if score is None else np.maximum(score, r.reindex(score.index).fillna(0))
    scenarios = [m.scenario for m in target.members] if isinstance(target, ScenarioSet) else [target]
    ok = [p for p in score.sort_values(ascending=False, kind="stable").index
          if all(is_shiftable(p, s.parameters[p]) and np.ptp(shift_range(p, s.parameters[p])) > 0 for s in scenarios)]
    return ok[:n]


@dataclass(frozen=True)
class Control:
    """One slider: a parameter's median (a scenario) or its shift (a set), in its units.

    ``origin`` is the value at which nothing changes; the shift is ``value - origin``.
    """

    path: str
    label: str
    units: str
    origin: float
    start: float
    end: float
    step: float
    kind: str  # "median" or "shift"

    def delta(self, value: float) -> float:
        """The shift that ``value`` asks for; 0 within a thousandth of a step of the origin."""
        d = float(value) - self.origin
        return 0.0 if abs(d) < self.step * 1e-3 else d


@dataclass(frozen=True)
class Change:
    """One changed assumption: where (scenario, parameter or weight) and from what to what."""

    scenario: str
    path: str
    before: str
    after: str

    def line(self) -> str:
        return f"{self.path}: {self.before} -> {self.after}"


@dataclass
class Results:
    """What the page shows for one setting of the controls.

    Attributes
    ----------
    p50 : dict of (str, int) to float
        P50 of each key margin by year, as fractions (the quantile of
        :func:`risk.summary.quantile_table`, as ``risk run`` prints).
    probs : dict of (str, int) to metrics.Estimate
        P(variable < threshold) by year with its Monte Carlo error, for
        :data:`risk.compare.DEFAULT_THRESHOLDS`.
    years : list of int
        The years shown.
    target_year : int
        Year of the distributions.
    draws, seed : int
    seconds : float
        Wall time of the rerun (simulation and statistics), s.
    """

    p50: dict
    probs: dict
    years: list
    target_year: int
    draws: int
    seed: int
    seconds: float
    ds: object = field(repr=False, default=None)


def _fmt_value(x: float, units: str) -> str:
    return f"{x:.4g}" + ("" if units in ("1", "") else f" {units}")


class Explorer:
    """The explorer's state and logic, without a page: controls, runs, changes, saving.

    Parameters
    ----------
    target : Scenario or ScenarioSet
        What to explore (loaded and validated).
    draws : int
        Draws of each rerun.
    seed : int, optional
        Seed of every rerun (default: the scenario's or the set's).
    drivers : list of str, optional
        Parameters to control (default: :func:`top_drivers`).
    n_drivers : int
        How many drivers when ``drivers`` is not given.
    """

    def __init__(self, target: Scenario | ScenarioSet, draws: int = 100_000, seed: int | None = None,
                 drivers: list[str] | None = None, n_drivers: int = 6):
        self.target = target
        self.is_set = isinstance(target, ScenarioSet)
        self.draws = int(draws)
        default_seed = target.seed if self.is_set else target.settings.seed
        self.seed = int(default_seed if seed is None else seed)
        self.sampling = target.sampling if self.is_set else target.settings.sampling
        self.members: list[tuple[str, Scenario, float]] = (
            [(m.name, m.scenario, m.weight) for m in target.members] if self.is_set else [(target.name, target, 1.0)])
        names = drivers if drivers is not None else top_drivers(target, n_drivers, seed=self.seed)
        self.controls = [self._control(p) for p in names]

    @property
    def name(self) -> str:
        return self.target.name

    @property
    def source(self) -> Path:
        return Path(self.target.source)

    def _control(self, path: str) -> Control:
        info = PARAMETERS[path]
        ranges = [shift_range(path, s.parameters[path]) for _, s, _ in self.members]
        lo, hi = max(r[0] for r in ranges), min(r[1] for r in ranges)
        step = _step(hi - lo)
        if self.is_set:
            return Control(path, f"shift of {path} [{info.units}]", info.units, 0.0, lo, hi, step, "shift")
        origin = _median(self.target.parameters[path])
        return Control(path, f"median of {path} [{info.units}]", info.units, origin, origin + lo, origin + hi, step, "median")

    # --- the assumptions a setting of the controls means -----------------------------------
    def deltas(self, values: dict[str, float] | None) -> dict[str, float]:
        """Non-zero shifts by parameter, from control values (median or shift) by path."""
        values = values or {}
        out = {}
        for c in self.controls:
            if c.path in values:
                d = c.delta(values[c.path])
                if d:
                    out[c.path] = d
        return out

    def weights(self, weights: dict[str, float] | None) -> dict[str, float]:
        """Relative weights by scenario of the set (the set's own where not given); 0 drops a scenario."""
        given = weights or {}
        return {name: float(given.get(name, w)) for name, _, w in self.members}

    def _shifted(self, scenario: Scenario, deltas: dict[str, float]) -> tuple[Scenario, dict[str, dict]]:
        """``scenario`` with each parameter moved; and the new entries by path."""
        if not deltas:
            return scenario, {}
        doc = _copy(scenario.raw)
        entries = {}
        for path, d in deltas.items():
            entries[path] = shift_entry(_entry(scenario.raw, path), scenario.parameters[path], d)
            _set_entry(doc, path, entries[path])
        new = scenario_from_dict(doc, source=f"{scenario.source} (what-if)", data_dir=scenario.data_dir)
        return new, entries

    def assumptions(self, values: dict[str, float] | None = None, weights: dict[str, float] | None = None
                    ) -> Scenario | ScenarioSet:
        """The scenario (or set) that the controls describe, validated.

        Raises
        ------
        ScenarioError
            If a shift leaves what the model or the base-year data allow, or a set has no
            scenario with a weight above 0.
        """
        deltas = self.deltas(values)
        if not self.is_set:
            return self._shifted(self.target, deltas)[0]
        w = self.weights(weights)
        bad = [Problem(f"scenarios.{n}.weight", "must be at least 0", v, True) for n, v in w.items() if not v >= 0]
        if bad or sum(w.values()) <= 0:
            raise ScenarioError(self.target.source, bad or [Problem("scenarios", "give at least one scenario a weight above 0")])
        kept = [(n, s, w[n]) for n, s, _ in self.members if w[n] > 0]
        total = sum(v for _, _, v in kept)
        members = [Member(n, self._shifted(s, deltas)[0], v / total) for n, s, v in kept]
        t = self.target
        return ScenarioSet(t.name, t.description, members, self.draws, self.seed, t.sampling, t.source, t.file_sha256)

    def changes(self, values: dict[str, float] | None = None, weights: dict[str, float] | None = None) -> list[Change]:
        """What differs from the original: each moved parameter (median and the fields that
        moved) and, for a set, each changed weight (as a share of the total)."""
        deltas = self.deltas(values)
        out = []
        for path, d in deltas.items():
            units = PARAMETERS[path].units
            for name, s, _ in self.members:
                dist = s.parameters[path]
                old = _entry(s.raw, path)
                new = shift_entry(old, dist, d)
                moved = "; ".join(f"{k} {_yaml_inline(old.get(k, getattr(dist, k, None)))} -> {_yaml_inline(new[k])}"
                                  for k in new if k not in ("source", "note") and new[k] != old.get(k))
                med = _median(dist)
                out.append(Change(name, path, f"median {_fmt_value(med, units)}",
                                  f"median {_fmt_value(med + d, units)} (shift {d:+.4g}; {moved})"))
        if self.is_set:
            w_old = {n: w for n, _, w in self.members}
            w_new = self.weights(None if weights is None else weights)
            total = sum(w_new.values()) or 1.0
            for n in w_old:
                if not math.isclose(w_old[n], w_new[n] / total, rel_tol=0, abs_tol=1e-4):
                    out.append(Change(n, "weight", f"{w_old[n]:.1%}", f"{w_new[n] / total:.1%}"))
        return out

    # --- running -----------------------------------------------------------------------------
    def run(self, values: dict[str, float] | None = None, weights: dict[str, float] | None = None) -> Results:
        """Rerun the model with the controls' assumptions; P50s and threshold probabilities."""
        from .simulate import simulate
        from .summary import quantile_table, summary_years

        start = time.perf_counter()
        ds = simulate(self.assumptions(values, weights), draws=self.draws, seed=self.seed, sampling=self.sampling)
        years = summary_years(ds)
        q = quantile_table(ds, KEY_MARGINS, years, probs=(0.5,))
        p50 = {(v, int(y)): float(x) for (v, y), x in q["P50"].items()}
        probs = {(v, y): metrics.prob_below(ds[v].sel(year=y).values, thr) for v, thr in DEFAULT_THRESHOLDS.items() for y in years}
        return Results(p50, probs, years, _target_year(ds["year"].values), self.draws, self.seed,
                       time.perf_counter() - start, ds)

    # --- saving --------------------------------------------------------------------------------
    def save(self, path: str | Path, values: dict[str, float] | None = None, weights: dict[str, float] | None = None
             ) -> list[Path]:
        """Write the current assumptions as a scenario file (a set: a set file) that
        reproduces the page: ``risk run PATH`` gives its numbers (same draws and seed).

        A scenario is saved as a file that ``extends`` the original, gives its ``data``
        folder, draws, seed and sampling, and only the moved parameters, each with a note of
        what moved from what to what; a header comment lists every change. A set is saved as
        a set file with the new weights; where parameters moved, each scenario of it becomes
        a file beside it (``NAME.SCENARIO.yaml``) that extends the scenario's own file. Each
        file is written whole or not at all, and only once it validates.

        Returns
        -------
        list of Path
            The files written, the one to run last.

        Raises
        ------
        OptionError
            For a path that is a file of the original scenario (or one it extends), an
            existing file the explorer did not write, or not a .yaml file.
        ScenarioError
            If the assumptions do not validate (nothing is written).
        """
        path = Path(path)
        if path.suffix not in (".yaml", ".yml"):
            raise OptionError("save as", str(path), "give a .yaml file")
        originals = ({self.source.resolve()} | {Path(s.source).resolve() for _, s, _ in self.members}
                     | {Path(f).resolve() for _, s, _ in self.members for f in s.extends})
        changes = self.changes(values, weights)
        deltas = self.deltas(values)
        self.assumptions(values, weights)  # refuse what cannot run before anything is written
        if not self.is_set:
            if path.resolve() in originals:
                raise OptionError("save as", str(path), "is a file of the original scenario; give a new file name")
            doc = self._scenario_doc(self.target, path, deltas, changes)
            _write_validated(path, doc, changes, self.name, load_scenario)
            return [path]
        written = []
        files = {}
        w = self.weights(weights)
        for name, s, _ in self.members:
            if w[name] <= 0:
                continue
            if deltas:
                member_path = path.with_name(f"{path.stem}.{name}.yaml")
                if member_path.resolve() in originals:
                    raise OptionError("save as", str(path), f"would overwrite {member_path}; give a new file name")
                mine = [c for c in changes if c.scenario == name and c.path != "weight"]
                _write_validated(member_path, self._scenario_doc(s, member_path, deltas, mine), mine, s.name, load_scenario)
                written.append(member_path)
                files[name] = member_path.name
            else:
                files[name] = _relative(Path(s.source), path.parent)
        if path.resolve() in originals:
            raise OptionError("save as", str(path), "is a file of the original scenario set; give a new file name")
        t = self.target
        doc = {"name": f"{t.name}_whatif", "description": _description(t.name, changes),
               "draws": self.draws, "seed": self.seed, "sampling": t.sampling,
               "scenarios": {n: {"file": f, "weight": w[n]} for n, f in files.items()}}
        _write_validated(path, doc, changes, t.name, load_scenario_set)
        return written + [path]

    def _scenario_doc(self, scenario: Scenario, path: Path, deltas: dict[str, float], changes: list[Change]) -> dict:
        """A scenario file extending ``scenario``'s own file with the moved parameters."""
        parent = Path(scenario.source).resolve()
        doc = {"extends": _relative(parent, path.parent),
               "name": f"{scenario.name}_whatif",
               "description": _description(scenario.name, changes),
               "draws": self.draws, "seed": self.seed, "sampling": self.sampling,
               "data": _relative(scenario.data_dir, path.parent)}
        _, entries = self._shifted(scenario, deltas)
        by_path = {c.path: c for c in changes}
        for p, entry in entries.items():
            note = f"{entry.get('note', '')}; what-if: {by_path[p].before} -> {by_path[p].after}".lstrip("; ")
            _set_entry(doc, p, {**entry, "note": note})
        return doc


def _relative(target: Path, folder: Path) -> str:
    """``target`` relative to ``folder`` where they share a folder below the root, else absolute."""
    target, folder = Path(target).resolve(), Path(folder).resolve()
    if os.path.commonpath([target, folder]) == os.path.sep:
        return str(target)
    return os.path.relpath(target, folder)


def _copy(doc):
    import copy

    return copy.deepcopy(doc)


def _yaml_inline(v) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(f"{x:.6g}" for x in v) + "]"
    return f"{v:.6g}" if isinstance(v, (int, float)) else str(v)


def _description(name: str, changes: list[Change]) -> str:
    """One line of what changed: each parameter once (its median, or its shift where it moved in
    several scenarios) and each weight."""
    if not changes:
        return f"what-if on {name}: unchanged"
    moved: dict[str, list[Change]] = {}
    for c in changes:
        if c.path != "weight":
            moved.setdefault(c.path, []).append(c)
    parts = [f"{p} {cs[0].after.split(' (')[0]}" if len(cs) == 1 else f"{p} shifted by {cs[0].after.split('shift ')[1].split(';')[0]}"
             for p, cs in moved.items()]
    weights = [f"{c.scenario} {c.after}" for c in changes if c.path == "weight"]
    if weights:
        parts.append("weights " + ", ".join(weights))
    return f"what-if on {name}: " + "; ".join(parts)


#: The first words of every file the explorer saves: only such a file is replaced.
HEADER = "# What-if on "


def _write_validated(path: Path, doc: dict, changes: list[Change], original: str, load) -> None:
    """Write ``doc`` as YAML with a header of ``changes``, atomically, once ``load`` accepts it.
    An existing file is replaced only if the explorer wrote it."""
    from .io import atomic_path

    if path.exists():
        try:
            ours = path.is_file() and path.read_text(encoding="utf-8", errors="replace").startswith(HEADER)
        except OSError:
            ours = False
        if not ours:
            raise OptionError("save as", str(path), "exists and was not saved by risk explore; give a new file name")

    head = [f"{HEADER}'{original}', saved by risk explore. Changed:"]
    head += [f"#   {c.scenario}: {c.line()}" if c.path == "weight" or len({c.scenario for c in changes}) > 1 else f"#   {c.line()}"
             for c in changes] or ["#   nothing"]
    text = "\n".join(head) + "\n" + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100,
                                                          default_flow_style=None)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
        load(tmp)


# --- the page ------------------------------------------------------------------------------

def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return buf.getvalue()


#: Draws the density curves are estimated from (evenly spaced through the run, so a set's
#: scenarios keep their shares): smooth at a fraction of the cost of all draws.
DENSITY_DRAWS = 10_000


def charts(res: Results, by_scenario: bool = False) -> tuple[bytes, bytes]:
    """Fan charts of the key margins (with each scenario's median line if ``by_scenario``) and
    their distributions in the target year (of the pooled draws: for a set, the weighted
    mixture), as PNG bytes."""
    from . import plots

    margins = res.ds[list(KEY_MARGINS)]  # only what is drawn: a set's median lines slice it by scenario
    fan = plots.fan_chart(margins, list(KEY_MARGINS), by_scenario=by_scenario)
    every = max(1, margins.sizes["draw"] // DENSITY_DRAWS)
    pooled = margins.isel(draw=slice(None, None, every))
    pooled = pooled.drop_vars("scenario") if "scenario" in pooled.coords else pooled  # a set: the mixture's density
    dist = plots.distribution(pooled, list(KEY_MARGINS), res.target_year)
    return _png(fan), _png(dist)


def p50_html(res: Results) -> str:
    """The P50s as an HTML table; each cell's id is ``p50-VARIABLE-YEAR``."""
    head = "".join(f"<th>{y}</th>" for y in res.years)
    rows = "".join(
        f"<tr><td>{OUTPUTS[v].long_name}</td>"
        + "".join(f"<td id='p50-{v}-{y}'>{numbers.value(res.p50[(v, y)], True)}</td>" for y in res.years) + "</tr>"
        for v in KEY_MARGINS)
    return f"<table class='risk-p50'><tr><th>P50</th>{head}</tr>{rows}</table>"


def probs_html(res: Results) -> str:
    """Threshold probabilities ± Monte Carlo error as an HTML table; cell ids ``prob-VARIABLE-YEAR``."""
    head = "".join(f"<th>{y}</th>" for y in res.years)
    rows = "".join(
        f"<tr><td>P({OUTPUTS[v].long_name} &lt; {numbers.value(thr, True)})</td>"
        + "".join(f"<td id='prob-{v}-{y}'>{numbers.estimate(res.probs[(v, y)].value, res.probs[(v, y)].se, True)}</td>"
                  for y in res.years) + "</tr>"
        for v, thr in DEFAULT_THRESHOLDS.items())
    return f"<table class='risk-probs'><tr><th>probability</th>{head}</tr>{rows}</table>"


def summary_text(explorer: Explorer, res: Results, chart_seconds: float | None = None) -> str:
    """The run line: scenario, draws, seed and how long the rerun took."""
    charts_part = f", charts {chart_seconds:.2f} s" if chart_seconds is not None else ""
    return (f"**{explorer.name}**: {res.draws:,} draws, seed {res.seed} "
            f"(run {res.seconds:.2f} s{charts_part})")


def control_class(path: str) -> str:
    """The CSS class of a parameter's control on the page: ``risk-control-`` and the path, dots as dashes."""
    return "risk-control-" + path.replace(".", "-")


def build_page(explorer: Explorer, save_to: str | Path, first: Results | None = None):
    """The page for one browser session: controls on the left, results on the right.

    Parameters
    ----------
    explorer : Explorer
    save_to : str or Path
        Where the save button writes by default (editable on the page).
    first : Results, optional
        The unchanged run, to show without rerunning (computed if not given).

    Returns
    -------
    panel.viewable.Viewable
        The page; its ``state`` attribute holds the widgets and the last results (for tests).
    """
    import panel as pn

    sliders = {}
    for c in explorer.controls:
        decimals = max(0, -int(math.floor(math.log10(c.step))))
        sliders[c.path] = pn.widgets.EditableFloatSlider(
            label=c.label, start=c.start, end=c.end, fixed_start=c.start, fixed_end=c.end, step=c.step, value=c.origin, format=f"0.{'0' * decimals}" if decimals else "0",
            width=320, css_classes=["risk-control", control_class(c.path)])
    weights = {}
    if explorer.is_set:
        for name, _, w in explorer.members:
            weights[name] = pn.widgets.EditableFloatSlider(label=f"weight of {name}", start=0.0, end=1.0, step=0.01,
                                                           value=round(w, 4), format="0.00", width=320, fixed_start=0.0,
                                                           css_classes=["risk-weight", f"risk-weight-{name}"])
    save_path = pn.widgets.TextInput(label="save as", value=str(save_to), width=320)
    save_button = pn.widgets.Button(label="Save scenario", color="primary", width=320)
    reset_button = pn.widgets.Button(label="Reset", width=320)
    title = pn.pane.Markdown(f"## What if? {explorer.name}", width=900)
    summary = pn.pane.Markdown("", width=900)
    p50 = pn.pane.HTML("", width=900)
    probs = pn.pane.HTML("", width=900)
    changes = pn.pane.Markdown("", width=320)
    status = pn.pane.Markdown("", width=900, css_classes=["risk-status"])
    fan = pn.pane.PNG(None, width=900)
    dist = pn.pane.PNG(None, width=900)
    state = {"sliders": sliders, "weights": weights, "results": None, "updates": 0, "drawn": 0, "save": save_button,
             "save_path": save_path, "status": status, "reset": reset_button}

    def current():
        return ({p: s.value for p, s in sliders.items()}, {n: s.value for n, s in weights.items()} or None)

    def show(res: Results):
        """The numbers at once; the charts on the next tick of the server's loop (so the
        browser gets the new P50s while the charts are drawn), inline without a server."""
        p50.object, probs.object = p50_html(res), probs_html(res)
        summary.object = summary_text(explorer, res)
        vals, ws = current()
        lines = [f"- {c.scenario + ': ' if explorer.is_set else ''}{c.path}: {c.before} -> {c.after.split(' (')[0]}"
                 for c in explorer.changes(vals, ws)]
        changes.object = "**Changed**\n\n" + ("\n".join(lines) if lines else "nothing yet")
        state["results"] = res
        state["updates"] += 1
        generation = state["updates"]

        def draw():
            if generation != state["updates"]:
                return  # a newer run is on its way
            t = time.perf_counter()
            fan.object, dist.object = charts(res, by_scenario=explorer.is_set)
            summary.object = summary_text(explorer, res, time.perf_counter() - t)
            state["drawn"] = generation

        doc = pn.state.curdoc
        if doc is not None and doc.session_context is not None:
            doc.add_next_tick_callback(draw)
        else:
            draw()

    def update(*_):
        vals, ws = current()
        try:
            res = explorer.run(vals, ws)
        except (ScenarioError, DataError) as e:
            status.object = f"**not run**: {e}".replace("\n", "  \n")
            return
        status.object = ""
        show(res)

    def save(*_):
        vals, ws = current()
        try:
            files = explorer.save(save_path.value, vals, ws)
        except (OptionError, ScenarioError, OSError) as e:
            status.object = f"**not saved**: {e}".replace("\n", "  \n")
            return
        status.object = f"saved {', '.join(str(f) for f in files)} (validated)"

    def reset(*_):
        for p, s in sliders.items():
            s.value = next(c.origin for c in explorer.controls if c.path == p)
        for name, _, w in explorer.members:
            if name in weights:
                weights[name].value = round(w, 4)
        update()

    for s in list(sliders.values()) + list(weights.values()):
        s.param.watch(update, "value_throttled")
    save_button.on_click(save)
    reset_button.on_click(reset)
    show(first if first is not None else explorer.run())

    what = "shift of the distribution in every scenario" if explorer.is_set else "median; the distribution moves whole"
    side = pn.Column(pn.pane.Markdown(f"### Drivers\n{what}", width=320), *sliders.values(),
                     *([pn.pane.Markdown("### Scenario weights\nrelative; 0 leaves a scenario out", width=320)] if weights else []),
                     *weights.values(), reset_button, save_path, save_button, changes, width=340)
    main = pn.Column(title, summary, p50, probs, status, fan, dist)
    page = pn.Row(side, main)
    page.state = state
    return page


def serve(explorer: Explorer, port: int, show: bool, save_to: str | Path, first: Results | None = None,
          threaded: bool = False):
    """Serve the page on ``localhost:port`` (one page per browser session) until stopped.

    ``first``: the unchanged run shown to every new session without rerunning. ``threaded``:
    serve from a thread and return it (``.stop()`` ends it).
    """
    import panel as pn

    def page():
        return build_page(explorer, save_to, first)

    origins = [f"localhost:{port}", f"127.0.0.1:{port}"]
    return pn.serve({"/": page}, port=port, address="127.0.0.1", websocket_origin=origins, show=show,
                    title=f"risk explore: {explorer.name}", verbose=False, threaded=threaded)


def load_target(path: str | Path) -> Scenario | ScenarioSet:
    """A scenario or scenario set from its file."""
    from .mixture import is_scenario_set

    return load_scenario_set(path) if is_scenario_set(path) else load_scenario(path)
