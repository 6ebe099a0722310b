"""Scenario files: schema, loading and validation.

A scenario file is YAML with run settings at the top level and one distribution per model
parameter, nested by the dotted paths of :data:`risk.glossary.PARAMETERS`::

    name: base
    base_year: 2025
    horizon: 7
    draws: 100000
    seed: 20251122
    sampling: lhs
    capex:
      growth_first: {dist: pert, mode: 0.65, ci90: [0.55, 0.80], source: ..., note: ...}
      ...

Validation happens once, here: unknown keys, missing parameters, impossible distributions,
distributions whose support leaves a parameter's domain, and values the base-year data
cannot support (:func:`risk.model.assembly.check_feasible`) are all reported together, each
with the file, the dotted key path, the bad value and what is allowed (:class:`ScenarioError`).
Whatever ``risk run`` refuses about a scenario, loading it refuses, with the same message.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from .correlation import Correlations, check_correlation
from .data import BaseData, anchor_data, base_data
from .distributions import DISTRIBUTIONS, Distribution, DistributionSpec
from .errors import DataError, Problem, ScenarioError
from .glossary import PARAMETERS
from .model.assembly import check_feasible

__all__ = ["Scenario", "load_scenario", "scenario_from_dict", "SAMPLING_METHODS", "SETTINGS"]

SAMPLING_METHODS = ("mc", "lhs", "sobol")


class Settings(BaseModel):
    """Run settings at the top of a scenario file."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    description: str = ""
    base_year: int = Field(2025, ge=1990, le=2100)
    horizon: int = Field(7, ge=1, le=50)
    draws: int = Field(10_000, ge=1, le=10**9)
    seed: int = Field(0, ge=0, lt=2**63)
    sampling: Literal["mc", "lhs", "sobol"] = "lhs"
    data: str = Field("data", min_length=1, description="folder of data files, relative to the scenario file")
    extends: str | None = Field(None, description="scenario file this one builds on, relative to it")
    clock: Literal["year", "quarter"] = Field(
        "year", description="the model's step: a year from the base year (v1), or a calendar quarter from the as-of quarter (v2)")
    as_of: str | None = Field(
        None, pattern=r"^\d{4}Q[1-4]$",
        description="quarterly clock: the as-of quarter q* (such as 2026Q2); default the latest fully reported in the data")


SETTINGS = tuple(Settings.model_fields)


def _tree(paths) -> dict:
    tree: dict = {}
    for path in paths:
        node = tree
        *heads, leaf = path.split(".")
        for h in heads:
            node = node.setdefault(h, {})
        node[leaf] = None
    return tree


def _section_model(name: str, tree: dict):
    fields = {}
    for key, sub in tree.items():
        fields[key] = (DistributionSpec, ...) if sub is None else (_section_model(f"{name}_{key}", sub), ...)
    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields)


PARAMETER_TREE = _tree(PARAMETERS)
_ScenarioModel = create_model(
    "ScenarioModel",
    __base__=Settings,
    correlations=(Correlations | None, None),
    **{k: (_section_model(k, v), ...) for k, v in PARAMETER_TREE.items()},
)


@dataclass
class Scenario:
    """A validated scenario: run settings and one distribution per parameter.

    Attributes
    ----------
    settings : Settings
        name, description, base_year, horizon, draws, seed, sampling, data.
    parameters : dict of str to Distribution
        One distribution per dotted parameter path, in glossary order.
    source : str
        Where the scenario came from (a file path, or "<dict>").
    data_dir : Path
        Folder of the data files (base-year actuals and history).
    raw : dict
        The document as resolved (parents merged, overrides applied), without ``extends``.
    file_sha256 : str
        SHA-256 of the scenario file's bytes.
    extends : list of str
        The files this scenario builds on, nearest first.
    overrides : dict
        Overrides applied with :meth:`with_overrides`, by dotted path.
    """

    settings: Settings
    parameters: dict[str, Distribution]
    source: str = "<dict>"
    data_dir: Path = field(default_factory=lambda: Path("."))
    raw: dict = field(default_factory=dict)
    file_sha256: str = ""
    extends: list[str] = field(default_factory=list)
    overrides: dict = field(default_factory=dict)
    correlations: Correlations | None = None

    @property
    def name(self) -> str:
        return self.settings.name

    def canonical(self) -> dict:
        """The scenario as plain data, with every distribution's resolved parameters."""
        out = self.settings.model_dump(exclude={"data", "extends"} | ({"clock", "as_of"} if self.settings.clock == "year" else set()))
        out["parameters"] = {p: d.model_dump(exclude_none=True) | {"resolved": d.describe()} for p, d in self.parameters.items()}
        if self.correlations is not None:
            out["correlations"] = self.correlations.model_dump()
        return out

    @property
    def hash(self) -> str:
        """SHA-256 of the canonical scenario (settings and parameters, not comments or layout).

        Numbers enter with 10 significant digits, so parameters fitted to a ``ci90`` hash the
        same whichever scipy version solved the fit (they differ in the last digits).
        """
        blob = json.dumps(_rounded(self.canonical()), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()

    def base_data(self) -> BaseData:
        """The anchor's figures and history from the scenario's data folder: the base year on an
        annual clock (read once per file version), the as-of quarter on a quarterly one."""
        return _data_for(self.data_dir, self.settings)

    @property
    def steps(self) -> int:
        """Steps the model projects (years, or quarters after q*): the shocks a draw needs."""
        from .model.engine import projected_steps

        return projected_steps(self.base_data(), self.settings.horizon)

    def describe(self) -> list[tuple[str, str, str, str]]:
        """Rows of (path, distribution, source, note), one per parameter."""
        return [(p, d.describe(), d.source, d.note) for p, d in self.parameters.items()]

    def with_overrides(self, overrides: dict) -> "Scenario":
        """A new scenario with settings or distributions replaced, validated like a file.

        Parameters
        ----------
        overrides : dict
            Dotted path to value. A setting (``draws``), a parameter
            (``asic_adoption.inference.ceiling``) or one field of a parameter
            (``pricing.elasticity.mode``). For a parameter: a number makes it fixed; a
            mapping with ``dist`` replaces it; a mapping without ``dist`` changes only the
            given fields (``{ci90: [0.5, 0.8]}`` keeps the distribution and its mode).

        Raises
        ------
        ScenarioError
            For an unknown path (with the closest valid one) or an invalid result.
        """
        doc = copy.deepcopy(self.raw)
        problems = []
        for path, value in overrides.items():
            problem = _apply_override(doc, path, value)
            if problem:
                problems.append(problem)
        if problems:
            raise ScenarioError(f"{self.source} (overrides)", problems)
        new = scenario_from_dict(doc, source=f"{self.source} (overrides)", data_dir=self.data_dir)
        new.file_sha256, new.extends = self.file_sha256, list(self.extends)
        new.overrides = {**self.overrides, **overrides}
        return new


def override_paths() -> list[str]:
    """Every dotted path an override may name: settings, parameters and parameter fields."""
    fields = sorted({f for cls in DISTRIBUTIONS.values() for f in cls.model_fields})
    return [s for s in SETTINGS if s != "extends"] + list(PARAMETERS) + [f"{p}.{f}" for p in PARAMETERS for f in fields]


def _apply_override(doc: dict, path: str, value) -> Problem | None:
    """Apply one override to the document in place; a Problem if the path is unknown."""
    if (path in SETTINGS and path != "extends") or path == "correlations":
        doc[path] = value
        return None
    param, _, fld = path.rpartition(".")
    if path in PARAMETERS:
        param, fld = path, None
    elif param not in PARAMETERS or not any(fld in c.model_fields for c in DISTRIBUTIONS.values()):
        valid = override_paths()
        hint = _path_hint(path, valid)
        return Problem(path, f"unknown override path '{path}'{hint}; give a setting ({', '.join(s for s in SETTINGS if s != 'extends')}), "
                             "a parameter path or a parameter's field", value, True)
    *heads, leaf = param.split(".")
    node = doc
    for h in heads:
        node = node.setdefault(h, {})
    old = node.get(leaf) if isinstance(node.get(leaf), dict) else {}
    note = f"overridden: {path} = {value!r}"
    if fld is not None:
        value = {fld: value}
    if not isinstance(value, dict):
        node[leaf] = {"dist": "fixed", "value": value, "source": "override", "note": note}
        return None
    if "dist" in value and value["dist"] != old.get("dist"):
        node[leaf] = {"source": "override", "note": note, **value}
        return None
    new = dict(old)
    cls = DISTRIBUTIONS.get(new.get("dist"))
    natural = cls.__private_attributes__["_natural"].default if cls else ()
    needs = cls.__private_attributes__["_ci90_needs"].default if cls else ()
    if "ci90" in value:
        for k in natural:
            if k not in needs and k not in value:
                new.pop(k, None)
    elif any(k in natural and k not in needs for k in value):
        new.pop("ci90", None)
    new.update(value)
    if "note" not in value:
        new["note"] = f"{old.get('note', '')}; {note}".lstrip("; ")
    node[leaf] = new
    return None


def _path_hint(path: str, valid: list[str]) -> str:
    """A hint for a path that is not valid, found segment by segment: the closest key at each
    level, as far as one is close; where a level has none, the keys there."""
    close = difflib.get_close_matches(path, valid, n=1, cutoff=0.6)
    if close:
        return f" (did you mean '{close[0]}'?)"
    parts, prefix = path.split("."), ""
    for depth, part in enumerate(parts):
        keys = sorted({v[len(prefix):].split(".")[0] for v in valid if v.startswith(prefix)})
        if part in keys:
            prefix += part + "."
            continue
        match = difflib.get_close_matches(part, keys, n=1, cutoff=0.5)
        if not match:
            return f" (did you mean '{prefix[:-1]}'? its keys are {', '.join(keys)})" if depth else ""
        prefix += match[0] + "."
    if prefix[:-1] in valid:
        return f" (did you mean '{prefix[:-1]}'?)"
    return f" (did you mean '{prefix[:-1]}'? its keys are {', '.join(sorted({v[len(prefix):].split('.')[0] for v in valid if v.startswith(prefix)}))})"


def _rounded(obj):
    """``obj`` with every float rounded to 10 significant digits, containers walked."""
    if isinstance(obj, float):
        return float(f"{obj:.10g}")
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_rounded(v) for v in obj]
    return obj


_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml where PyYAML has it: 10 times as fast


class _UniqueKeyLoader(_SafeLoader):
    """YAML loader for scenario files: safe types only, duplicate keys refused instead of the last
    one kept, and keys that are names (not lists or mappings). :func:`parse_yaml` refuses
    anchors, aliases and deep nesting before it constructs anything."""


def _construct_mapping(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(None, None, "a key must be a name, not a list or a mapping",
                                                    key_node.start_mark)
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {seen[key] + 1})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

#: Limits on a YAML scenario file (and a ``--set`` value): its size and its nesting.
MAX_YAML_BYTES = 1_000_000
MAX_YAML_DEPTH = 32


def parse_yaml(text: str):
    """Parse YAML text with the scenario loader's limits (no anchors or aliases, whose expansion
    can make a small file unboundedly large; keys that are names; :data:`MAX_YAML_DEPTH`
    levels at most). Raises ``yaml.YAMLError`` with a readable reason and where."""
    depth = 0
    for event in yaml.parse(text, Loader=_SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            raise yaml.constructor.ConstructorError(None, None, "YAML aliases (*name) are not allowed in scenario files; "
                                                    "write the value out", event.start_mark)
        if getattr(event, "anchor", None):
            raise yaml.constructor.ConstructorError(None, None, f"YAML anchors (&{event.anchor}) are not allowed in "
                                                    "scenario files; write the value out", event.start_mark)
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise yaml.constructor.ConstructorError(None, None, f"nested more than {MAX_YAML_DEPTH} levels deep",
                                                        event.start_mark)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
    return yaml.load(text, Loader=_UniqueKeyLoader)


def read_yaml(path: Path) -> tuple[dict, str]:
    """Read a YAML mapping; return it and the SHA-256 of the file's bytes."""
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise ScenarioError(str(path), [Problem("", f"the file is {size / 1e6:.1f} MB; a scenario file is at most "
                                                        f"{MAX_YAML_BYTES / 1e6:g} MB")])
        blob = path.read_bytes()
    except OSError as e:
        raise ScenarioError(str(path), [Problem("", f"cannot read the file: {e.strerror}")]) from None
    try:
        doc = parse_yaml(blob.decode("utf-8"))
    except UnicodeDecodeError:
        raise ScenarioError(str(path), [Problem("", "the file is not UTF-8 text")]) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ScenarioError(str(path), [Problem("", f"not valid YAML: {where}{getattr(e, 'problem', None) or e}")]) from None
    except RecursionError:
        raise ScenarioError(str(path), [Problem("", f"not valid YAML: nested more than {MAX_YAML_DEPTH} levels deep")]) from None
    if not isinstance(doc, dict):
        raise ScenarioError(str(path), [Problem("", f"a scenario must be a YAML mapping of keys to values, got {type(doc).__name__}")])
    return doc, hashlib.sha256(blob).hexdigest()


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file.

    Parameters
    ----------
    path : str or Path
        A YAML scenario file.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        Naming the file, each bad key path, its value and what is allowed.
    """
    path = Path(path)
    doc, digest = read_yaml(path)
    chain: list[str] = []
    if "extends" in doc:
        doc, chain = _resolve_extends(path, doc, [path.resolve()])
    scenario = scenario_from_dict(doc, source=str(path), data_dir=_data_dir(path, doc))
    scenario.file_sha256 = digest
    scenario.extends = chain
    return scenario


def _data_dir(path: Path, doc: dict) -> Path:
    """The data folder a scenario file names (``data``, relative to the file)."""
    return path.parent / doc.get("data", "data") if isinstance(doc.get("data", "data"), str) else path.parent


def _resolve_extends(path: Path, doc: dict, seen: list[Path]) -> tuple[dict, list[str]]:
    """Merge ``doc`` over the scenario it extends (recursively); return it and the chain of files."""
    parent_ref = doc["extends"]
    if not isinstance(parent_ref, str) or not parent_ref:
        raise ScenarioError(str(path), [Problem("extends", "must be the path of a scenario file, relative to this one", parent_ref, True)])
    parent = (path.parent / parent_ref)
    if parent.resolve() in seen:
        raise ScenarioError(str(path), [Problem("extends", f"circular: {' -> '.join(str(s) for s in seen + [parent.resolve()])}")])
    if not parent.is_file():
        raise ScenarioError(str(path), [Problem("extends", f"no scenario file {parent}", parent_ref, True)])
    parent_doc, _ = read_yaml(parent)
    chain = [str(parent)]
    if "extends" in parent_doc:
        parent_doc, more = _resolve_extends(parent, parent_doc, seen + [parent.resolve()])
        chain += more
    else:  # a parent's own errors name the parent file
        scenario_from_dict(parent_doc, source=str(parent), data_dir=_data_dir(parent, parent_doc))
    child = {k: v for k, v in doc.items() if k != "extends"}
    child.setdefault("description", "")
    return _merge(parent_doc, child), chain


def _merge(parent: dict, child: dict) -> dict:
    """Child over parent: sections merge key by key; a parameter's distribution is replaced whole."""
    out = copy.deepcopy(parent)
    for key, value in child.items():
        if key in PARAMETER_TREE and isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge_section(out[key], value, PARAMETER_TREE[key])
        else:
            out[key] = copy.deepcopy(value)
    return out


def _merge_section(parent: dict, child: dict, tree: dict) -> dict:
    out = copy.deepcopy(parent)
    for key, value in child.items():
        sub = tree.get(key)
        if isinstance(sub, dict) and isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge_section(out[key], value, sub)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _data_for(data_dir, settings: Settings) -> BaseData:
    if settings.clock == "quarter":
        return anchor_data(data_dir, settings.base_year, settings.as_of)
    return base_data(data_dir, settings.base_year)


def scenario_from_dict(doc: dict, source: str = "<dict>", base_dir: str | Path = ".", data_dir: str | Path | None = None) -> Scenario:
    """Validate a scenario given as a mapping (the parsed YAML, parents merged)."""
    try:
        model = _ScenarioModel.model_validate(doc)
    except ValidationError as e:
        raise ScenarioError(source, [_problem(err, doc) for err in e.errors()]) from None
    settings = Settings.model_validate({k: getattr(model, k) for k in SETTINGS})
    params = {p: _lookup(model, p) for p in PARAMETERS}
    problems = [pr for p, d in params.items() if (pr := _domain_problem(p, d))]
    if model.correlations is not None:
        problems += _correlation_problems(model.correlations, params)
    data_dir = Path(data_dir) if data_dir is not None else Path(base_dir) / settings.data
    try:  # what the model needs of the data: a run would refuse the same
        data = _data_for(data_dir, settings)
    except DataError:
        if problems:
            raise ScenarioError(source, problems) from None
        raise
    problems += [Problem(p, msg) for p, msg in check_feasible({p: d.support() for p, d in params.items()}, data)]
    if problems:
        raise ScenarioError(source, problems)
    raw = {k: v for k, v in doc.items() if k != "extends"}
    return Scenario(settings, params, source=source, data_dir=data_dir, raw=raw, correlations=model.correlations)


def _correlation_problems(spec: Correlations, params: dict[str, Distribution]) -> list[Problem]:
    problems = []
    for i, name in enumerate(spec.parameters):
        where = f"correlations.parameters[{i}]"
        if name not in PARAMETERS:
            problems.append(Problem(where, f"unknown parameter '{name}'{suggest(name, PARAMETERS)}", name, True))
        elif params[name].is_fixed:
            problems.append(Problem(where, f"'{name}' is fixed ({params[name].describe()}); only uncertain parameters can be correlated", name, True))
    if len(set(spec.parameters)) != len(spec.parameters):
        dup = next(n for n in spec.parameters if spec.parameters.count(n) > 1)
        problems.append(Problem("correlations.parameters", f"'{dup}' is listed twice"))
    if any(len(row) != len(spec.parameters) for row in spec.spearman) or len(spec.spearman) != len(spec.parameters):
        problems.append(Problem("correlations.spearman", f"must be {len(spec.parameters)} x {len(spec.parameters)}, one row and column per parameter",
                                spec.spearman, True))
    elif not spec.repair:
        problems += [Problem("correlations.spearman", msg) for msg in check_correlation(np.asarray(spec.spearman), spec.parameters)]
    return problems


def _lookup(model, path: str):
    for part in path.split("."):
        model = getattr(model, part)
    return model


def _domain_problem(path: str, dist: Distribution) -> Problem | None:
    info = PARAMETERS[path]
    lo, hi = info.domain
    slo, shi = dist.support()
    if info.integer and not dist.is_integer_valued():
        return Problem(
            path,
            f"{info.long_name} takes whole numbers only; use dist fixed, choice or bernoulli with whole-number values, "
            f"not {dist.describe()}",
        )
    if slo < lo or shi > hi:
        allowed = f"[{lo:g}, {hi:g}]"
        bounded = "beta, pert, triangular, uniform, truncnormal (with lower/upper) or choice"
        hint = f"; {dist.dist} has unbounded support, use a bounded distribution ({bounded})" if dist.dist in ("normal", "lognormal") else ""
        return Problem(
            path,
            f"{dist.describe()} takes values in [{slo:g}, {shi:g}], outside the allowed range {allowed} of "
            f"{info.long_name} [{info.units}]{hint}",
        )
    return None


# --- error wording -------------------------------------------------------------------------

def _schema_node(loc: tuple) -> tuple[Any, list[str]]:
    """Walk the schema along ``loc``; return the node reached and the cleaned key path.

    A node is a dict (a section), a distribution class, or None (a settings field or beyond).
    Discriminator tags that pydantic inserts into ``loc`` are dropped from the path.
    """
    node: Any = {**{k: None for k in SETTINGS}, **PARAMETER_TREE}
    path: list[str] = []
    for part in loc:
        if isinstance(node, dict) and part in node:
            path.append(str(part))
            node = node[part]
            if node is None and len(path) > 0 and ".".join(path) in PARAMETERS:
                node = "distribution"
        elif node == "distribution" and part in DISTRIBUTIONS:
            node = DISTRIBUTIONS[part]
        elif isinstance(node, type) and issubclass(node, Distribution):
            path.append(str(part))
            node = None
        else:
            path.append(str(part))
            node = None
    return node, path


def _allowed_keys(node) -> list[str]:
    if isinstance(node, dict):
        return list(node)
    if isinstance(node, type) and issubclass(node, Distribution):
        return list(node.model_fields)
    return []


def _value_at(doc, loc):
    for part in loc:
        if isinstance(doc, dict) and part in doc:
            doc = doc[part]
        elif isinstance(doc, list) and isinstance(part, int) and part < len(doc):
            doc = doc[part]
        else:
            return None
    return doc


def suggest(word: str, choices) -> str:
    """' (did you mean 'x'?)' for the closest of ``choices``, or ''."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _problem(err: dict, doc: dict) -> Problem:
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        node, path = _schema_node(loc[:-1])
        key = loc[-1]
        allowed = _allowed_keys(node)
        where = ".".join(path + [str(key)])
        return Problem(where, f"unknown key '{key}'{suggest(key, allowed)}; allowed keys here: {', '.join(allowed)}")
    node, path = _schema_node(loc)
    where = ".".join(path)
    if kind == "missing":
        parent, _ = _schema_node(loc[:-1])
        if where in PARAMETERS:
            return Problem(where, f"missing parameter ({PARAMETERS[where].long_name}); every parameter needs a distribution")
        if isinstance(parent, type) and issubclass(parent, Distribution):
            return Problem(where, f"missing key '{path[-1]}'; every distribution needs a source and a note")
        return Problem(where, f"missing key '{path[-1]}'")
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        value = _value_at(doc, loc)
        tag = value.get("dist") if isinstance(value, dict) else None
        allowed = ", ".join(DISTRIBUTIONS)
        if not isinstance(value, dict):
            return Problem(where, f"expected a distribution mapping with a 'dist' key, one of: {allowed}", value, True)
        if tag is None:
            typo = next((k for k in value if k != "dist" and suggest(k, ["dist"])), None)
            hint = f" ('{typo}' is not a key: did you mean 'dist'?)" if typo else ""
            return Problem(where, f"missing 'dist'{hint}; allowed: {allowed}")
        return Problem(where + ".dist", f"unknown distribution '{tag}'{suggest(tag, DISTRIBUTIONS)}; allowed: {allowed}", tag, True)
    if kind in ("model_type", "model_attributes_type"):
        if where in PARAMETERS:
            value = err.get("input")
            return Problem(
                where,
                "expected a distribution: a mapping with 'dist', its parameters or ci90, 'source' and 'note' "
                f"(for a constant: {{dist: fixed, value: {value}, source: ..., note: ...}})",
                value,
                True,
            )
        return Problem(where, "expected a mapping of keys to values", err.get("input"), True)
    if kind == "value_error":
        msg = str(err["msg"]).removeprefix("Value error, ")
        value = _value_at(doc, loc)
        return Problem(where, msg, value, value is not None and not isinstance(value, dict))
    msg = err["msg"]
    msg = msg[0].lower() + msg[1:] if msg else msg
    return Problem(where, msg, err.get("input"), "input" in err and not isinstance(err.get("input"), dict))
