"""Weighted mixtures of scenarios: a scenario-set file run as one simulation.

A set file names scenarios and their weights::

    name: outlook
    draws: 200000
    seed: 2025
    sampling: lhs
    scenarios:
      base: {file: base.yaml, weight: 0.35}
      asic_insurgency: {file: asic_insurgency.yaml, weight: 0.15}

Draws are allocated to the scenarios in proportion to their weights (largest remainder, so
each gets its share to within one draw) and every scenario runs with the set's seed: the
scenarios share their random numbers (common random numbers), so their differences come
from their assumptions, and each scenario's slice is identical to a separate run of that
scenario with the same seed and its number of draws. The result has ``scenario`` as a
coordinate on ``draw``; pooled statistics over all draws are those of the weighted mixture.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import Problem, ScenarioError
from .sampling import BLOCK
from .scenario import Scenario, load_scenario, read_yaml

__all__ = ["ScenarioSet", "Member", "load_scenario_set", "is_scenario_set", "allocate", "simulate_set"]


class _MemberModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    file: str = Field(min_length=1)
    weight: float = Field(gt=0, allow_inf_nan=False)


class _SetModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    description: str = ""
    draws: int = Field(100_000, ge=1, le=10**9)
    seed: int = Field(0, ge=0, lt=2**63)
    sampling: Literal["mc", "lhs", "sobol"] = "lhs"
    scenarios: dict[str, _MemberModel] = Field(min_length=1)


@dataclass
class Member:
    """One scenario of a set, with its normalized weight."""

    name: str
    scenario: Scenario
    weight: float


@dataclass
class ScenarioSet:
    """A weighted set of scenarios, run as one simulation."""

    name: str
    description: str
    members: list[Member]
    draws: int
    seed: int
    sampling: str
    source: str = "<set>"
    file_sha256: str = ""
    overrides: dict = field(default_factory=dict)

    @property
    def weights(self) -> dict[str, float]:
        return {m.name: m.weight for m in self.members}

    @property
    def hash(self) -> str:
        """SHA-256 over the weights and every member's scenario hash."""
        blob = json.dumps({m.name: [m.weight, m.scenario.hash] for m in self.members}, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()

    def with_overrides(self, overrides: dict) -> "ScenarioSet":
        """The same set with ``overrides`` applied to every member (see Scenario.with_overrides)."""
        settings = {k: overrides[k] for k in ("draws", "seed", "sampling") if k in overrides}
        rest = {k: v for k, v in overrides.items() if k not in settings}
        members = [Member(m.name, m.scenario.with_overrides(rest) if rest else m.scenario, m.weight) for m in self.members]
        return ScenarioSet(self.name, self.description, members, settings.get("draws", self.draws), settings.get("seed", self.seed),
                           settings.get("sampling", self.sampling), self.source, self.file_sha256, {**self.overrides, **overrides})


def is_scenario_set(path: str | Path) -> bool:
    """True if the YAML file at ``path`` is a scenario set (has a ``scenarios`` key)."""
    doc, _ = read_yaml(Path(path))
    return "scenarios" in doc


def load_scenario_set(path: str | Path) -> ScenarioSet:
    """Read and validate a scenario-set file and every scenario it names.

    Raises
    ------
    ScenarioError
        Naming the set file (or the member's file) and the key path.
    """
    path = Path(path)
    doc, digest = read_yaml(path)
    try:
        model = _SetModel.model_validate(doc)
    except ValidationError as e:
        raise ScenarioError(str(path), [_set_problem(err, doc) for err in e.errors()]) from None
    members, problems = [], []
    total = sum(m.weight for m in model.scenarios.values())
    for name, m in model.scenarios.items():
        file = path.parent / m.file
        if not file.is_file():
            problems.append(Problem(f"scenarios.{name}.file", f"no scenario file {file}", m.file, True))
            continue
        if is_scenario_set(file):
            what = "this set itself" if file.resolve() == path.resolve() else "a scenario set"
            problems.append(Problem(f"scenarios.{name}.file", f"is {what}; a set's members are scenario files", m.file, True))
            continue
        members.append(Member(name, load_scenario(file), m.weight / total))
    if problems:
        raise ScenarioError(str(path), problems)
    return ScenarioSet(model.name, model.description, members, model.draws, model.seed, model.sampling, str(path), digest)


def _set_problem(err: dict, doc: dict) -> Problem:
    loc = ".".join(str(x) for x in err["loc"])
    if err["type"] == "extra_forbidden":
        allowed = list(_MemberModel.model_fields) if len(err["loc"]) == 3 else list(_SetModel.model_fields)
        key = err["loc"][-1]
        from .scenario import suggest

        return Problem(loc, f"unknown key '{key}'{suggest(key, allowed)}; allowed keys here: {', '.join(allowed)}")
    msg = err["msg"]
    return Problem(loc, msg[0].lower() + msg[1:], err.get("input"), "input" in err and not isinstance(err.get("input"), dict))


def allocate(weights: list[float], draws: int) -> list[int]:
    """Split ``draws`` in proportion to ``weights`` by the largest-remainder method."""
    w = np.asarray(weights, dtype=float)
    exact = w / w.sum() * draws
    counts = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - counts), kind="stable")[: draws - counts.sum()]:
        counts[i] += 1
    return counts.tolist()


def simulate_set(sset: ScenarioSet, draws: int | None = None, seed: int | None = None, sampling: str | None = None,
                 progress=None, lazy: bool = False, **kw):
    """Run every scenario of the set on its share of the draws and stack them along ``draw``.

    Parameters as for :func:`risk.simulate`; ``progress`` counts the draws of the whole set.
    With ``lazy``, every scenario is a dask-backed run (:func:`risk.scale.simulate_dask`) and
    the stacked run is chunked along ``draw`` in chunks of ``chunk_size`` draws (a chunk may
    take draws of two scenarios); its numbers are those of the run in memory, bit for bit.
    Attributes record the set's name, hash, weights, the draws of each scenario, and each
    scenario's own hash and assumptions.
    """
    import xarray as xr

    from .run import check_run_options, run_local

    draws = sset.draws if draws is None else draws
    seed = sset.seed if seed is None else seed
    sampling = sset.sampling if sampling is None else sampling
    check_run_options(sset.source, draws, seed, sampling, kw.get("chunk_size", 1), kw.get("dtype", "float32"))
    counts = allocate([m.weight for m in sset.members], draws)
    parts, before = [], 0
    for m, n in zip(sset.members, counts):
        if n > 0:
            done = None if progress is None else (lambda k, _, at=before: progress(at + k, draws))
            if lazy:
                from .scale import simulate_dask

                parts.append(simulate_dask(m.scenario, n, seed, sampling, chunk_size=kw.get("chunk_size", 6 * BLOCK),
                                           dtype=kw.get("dtype", "float32")))
            else:
                parts.append(run_local(m.scenario, n, seed, sampling, progress=done, **kw))
            before += n
    ds = xr.concat(parts, dim="draw", combine_attrs="drop_conflicts", data_vars="all", coords="different", compat="equals",
                   join="exact")
    ds = ds.assign_coords(draw=np.arange(ds.sizes["draw"]))
    if lazy:  # Zarr takes chunks of one size (but the last): the scenarios' last chunks are joined
        ds = ds.chunk({"draw": kw.get("chunk_size", 6 * BLOCK)})
    for name in ds.data_vars:
        if "distribution" in parts[0][name].attrs:
            ds[name].attrs = {k: v for k, v in parts[0][name].attrs.items() if k in ("units", "long_name", "symbol", "kind")}
    ds.attrs.update({
        "title": f"risk simulation of scenario set '{sset.name}'",
        "scenario": sset.name,
        "scenario_description": sset.description,
        "scenario_source": sset.source,
        "scenario_hash": sset.hash,
        "scenario_file_sha256": sset.file_sha256,
        "scenario_weights": json.dumps(sset.weights),
        "scenario_draws": json.dumps({m.name: n for m, n in zip(sset.members, counts)}),
        "scenarios_json": json.dumps({p.attrs["scenario"]: json.loads(p.attrs["scenarios_json"])[p.attrs["scenario"]] for p in parts}),
        "overrides": json.dumps(sset.overrides, default=str),
        "seed": seed, "sampling": sampling, "draws": int(ds.sizes["draw"]),
        "created": parts[0].attrs.get("created", ""),
    })
    if lazy:
        ds.attrs["chunk_size"] = kw.get("chunk_size", 6 * BLOCK)
    return ds
